import { useState } from 'preact/hooks';
import { reasonCodesFor } from '../../../shared/reason-codes';
import { ApiError, holdpoint } from '../api';
import { displayValue, sameValue } from '../format';
import type { ActionView, JsonObject } from '../types';

/** Parses what a reviewer typed into an editable field, keeping the original value's JSON type. */
function parseEdit(original: unknown, text: string): { value?: unknown; error?: string } {
  if (typeof original === 'string') return { value: text };
  if (typeof original === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? { value: n } : { error: 'Enter a number' };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: 'Enter valid JSON' };
  }
}

/** Approve or deny, with a rationale (required to deny), a reason code and edits to the allowed fields. */
export function DecisionForm({ action, onDecided }: { action: ActionView; onDecided: (view: ActionView) => void }) {
  const editable = action.review?.editableFields ?? [];
  const [verdict, setVerdict] = useState<'approve' | 'deny'>('approve');
  const [rationale, setRationale] = useState('');
  const [reasonCode, setReasonCode] = useState('');
  const [edits, setEdits] = useState<Record<string, string>>(() =>
    Object.fromEntries(editable.map((field) => [field, action.payload[field] === undefined ? '' : displayValue(action.payload[field])])),
  );
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const parsed = Object.fromEntries(editable.map((field) => [field, parseEdit(action.payload[field], edits[field] ?? '')]));
  const changed = editable.filter((field) => !parsed[field]!.error && !sameValue(parsed[field]!.value, action.payload[field]));
  const editErrors = verdict === 'approve' ? editable.filter((field) => parsed[field]!.error) : [];

  const submit = async (event: Event) => {
    event.preventDefault();
    if (verdict === 'deny' && !rationale.trim()) {
      setError('A deny needs a rationale.');
      (document.getElementById('rationale') as HTMLTextAreaElement | null)?.focus();
      return;
    }
    if (editErrors.length) {
      setError(`Fix the edited field${editErrors.length > 1 ? 's' : ''}: ${editErrors.join(', ')}.`);
      return;
    }
    setBusy(true);
    setError(undefined);
    const editedPayload: JsonObject | undefined =
      verdict === 'approve' && changed.length ? { ...action.payload, ...Object.fromEntries(changed.map((field) => [field, parsed[field]!.value])) } : undefined;
    try {
      const view = await holdpoint.decide(action.id, {
        verdict,
        ...(rationale.trim() ? { rationale: rationale.trim() } : {}),
        ...(reasonCode ? { reasonCode } : {}),
        ...(editedPayload ? { editedPayload } : {}),
      });
      onDecided(view);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.title}: ${err.message}` : 'Holdpoint could not be reached. Try again.');
      setBusy(false);
    }
  };

  return (
    <form class="card decision" onSubmit={submit} aria-labelledby="decide-title" noValidate>
      <h2 id="decide-title">Your decision</h2>
      <fieldset class="verdicts">
        <legend class="visually-hidden">Verdict</legend>
        <label class={`verdict verdict-approve ${verdict === 'approve' ? 'is-selected' : ''}`}>
          <input type="radio" name="verdict" value="approve" checked={verdict === 'approve'} onChange={() => setVerdict('approve')} />
          Approve
        </label>
        <label class={`verdict verdict-deny ${verdict === 'deny' ? 'is-selected' : ''}`}>
          <input type="radio" name="verdict" value="deny" checked={verdict === 'deny'} onChange={() => setVerdict('deny')} />
          Deny
        </label>
      </fieldset>

      {verdict === 'approve' && editable.length > 0 && (
        <fieldset class="edits">
          <legend>Edit before approving</legend>
          <p class="hint">The policy lets reviewers change these fields; the edit is re-checked by policy and the approval binds to the edited payload.</p>
          {editable.map((field) => (
            <div class="field">
              <label for={`edit-${field}`}>
                {field}
                {changed.includes(field) && <span class="tag tag-changed">edited</span>}
              </label>
              <input
                id={`edit-${field}`}
                type="text"
                inputMode={typeof action.payload[field] === 'number' ? 'decimal' : undefined}
                value={edits[field]}
                onInput={(e) => setEdits({ ...edits, [field]: (e.target as HTMLInputElement).value })}
                aria-invalid={parsed[field]!.error ? 'true' : undefined}
                aria-describedby={parsed[field]!.error ? `edit-${field}-error` : undefined}
              />
              {parsed[field]!.error && (
                <p class="field-error" id={`edit-${field}-error`}>
                  {parsed[field]!.error}
                </p>
              )}
            </div>
          ))}
        </fieldset>
      )}

      <div class="field">
        <label for="rationale">
          Rationale {verdict === 'deny' ? <span class="required">(required)</span> : <span class="muted">(optional)</span>}
        </label>
        <textarea
          id="rationale"
          rows={4}
          maxLength={2000}
          value={rationale}
          required={verdict === 'deny'}
          aria-required={verdict === 'deny' ? 'true' : 'false'}
          onInput={(e) => setRationale((e.target as HTMLTextAreaElement).value)}
          placeholder={verdict === 'deny' ? 'Why should this not run?' : 'What did you check?'}
        />
      </div>
      <div class="field">
        <label for="reason-code">Reason code</label>
        <select id="reason-code" value={reasonCode} onChange={(e) => setReasonCode((e.target as HTMLSelectElement).value)}>
          <option value="">None</option>
          {reasonCodesFor(verdict).map((reason) => (
            <option value={reason.code}>{reason.label}</option>
          ))}
        </select>
      </div>
      {error && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class={`button button-block ${verdict === 'approve' ? 'button-approve' : 'button-deny'}`} disabled={busy}>
        {busy ? 'Recording…' : verdict === 'approve' ? (changed.length ? 'Approve with edits' : 'Approve') : 'Deny'}
      </button>
    </form>
  );
}
