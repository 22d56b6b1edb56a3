import { useEffect, useState } from 'preact/hooks';
import { reasonCodesFor } from '../../../shared/reason-codes';
import { ApiError, holdpoint } from '../api';
import { displayValue, sameValue } from '../format';
import type { JsonObject, JsonValue } from '../../../shared/action';
import type { ActionView } from '../../../shared/wire-types';

/** Parses what a reviewer typed into an editable field, keeping the original value's JSON type. */
function parseEdit(original: unknown, text: string): { value?: JsonValue; error?: string } {
  // An editable field the payload lacks, left empty, stays absent (not an invalid edit).
  if (original === undefined && text.trim() === '') return { value: undefined };
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

/** The payload approvals apply to now (the submitted one or a reviewer's edit) and its hash. */
export function candidateOf(action: ActionView): { payload: JsonObject; hash?: string } {
  return { payload: action.review?.candidatePayload ?? action.payload, hash: action.review?.candidatePayloadHash ?? action.payloadHash ?? undefined };
}

/**
 * Approve or deny, with a rationale (required to deny), a reason code and edits to the allowed fields.
 * An approval names the hash of the payload the form was filled in against; when the candidate changes
 * meanwhile (another reviewer's edit), the form starts again from the new payload and says so.
 * An admin outside the routed reviewers (`overrideOnly`) approves only by ticking a break-glass
 * override with a rationale, so an override is never made by accident; a deny needs none.
 */
export function DecisionForm({
  action,
  overrideOnly = false,
  onDecided,
  onStale,
}: {
  action: ActionView;
  overrideOnly?: boolean;
  onDecided: (view: ActionView) => void;
  onStale?: () => void;
}) {
  const editable = action.review?.editableFields ?? [];
  const seed = (payload: JsonObject) => Object.fromEntries(editable.map((field) => [field, payload[field] === undefined ? '' : displayValue(payload[field])]));
  const current = candidateOf(action);
  const [basis, setBasis] = useState(current);
  const [verdict, setVerdict] = useState<'approve' | 'deny'>('approve');
  const [rationale, setRationale] = useState('');
  const [reasonCode, setReasonCode] = useState('');
  const [breakGlass, setBreakGlass] = useState(false);
  const [edits, setEdits] = useState<Record<string, string>>(() => seed(current.payload));
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (current.hash === basis.hash) return;
    setBasis(current);
    setEdits(seed(current.payload));
    setNotice('The payload changed while you were looking: a reviewer edited it. The form now starts from the current payload.');
  }, [current.hash]);

  const base = basis.payload;
  const parsed = Object.fromEntries(editable.map((field) => [field, parseEdit(base[field], edits[field] ?? '')]));
  const changed = editable.filter((field) => !parsed[field]!.error && !sameValue(parsed[field]!.value, base[field]));
  const editErrors = verdict === 'approve' ? editable.filter((field) => parsed[field]!.error) : [];
  const overriding = verdict === 'approve' && overrideOnly && breakGlass;
  const rationaleRequired = verdict === 'deny' || overriding;
  const approveBlocked = verdict === 'approve' && overrideOnly && !breakGlass;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (approveBlocked) return;
    if (rationaleRequired && !rationale.trim()) {
      setError(verdict === 'deny' ? 'A deny needs a rationale.' : 'A break-glass approval needs a rationale.');
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
      verdict === 'approve' && changed.length ? { ...base, ...Object.fromEntries(changed.map((field) => [field, parsed[field]!.value!])) } : undefined;
    try {
      const view = await holdpoint.decide(action.id, {
        verdict,
        ...(rationale.trim() ? { rationale: rationale.trim() } : {}),
        ...(reasonCode ? { reasonCode } : {}),
        ...(editedPayload ? { editedPayload } : {}),
        // The approval is for the payload this form showed (a deny needs no hash).
        ...(verdict === 'approve' && basis.hash ? { payloadHash: basis.hash } : {}),
        ...(overriding ? { breakGlass: true } : {}),
      });
      onDecided(view);
    } catch (err) {
      // A 403 says why in its detail (e.g. the matched rule forbids break-glass): show it as the API wrote it.
      setError(err instanceof ApiError ? (err.status === 403 ? `Refused: ${err.message}` : `${err.title}: ${err.message}`) : 'Holdpoint could not be reached. Try again.');
      setBusy(false);
      // Already decided, or the payload changed since it was shown: show what is current.
      if (err instanceof ApiError && err.status === 409) onStale?.();
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
                inputMode={typeof base[field] === 'number' ? 'decimal' : undefined}
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

      {verdict === 'approve' && overrideOnly && (
        <div class={`break-glass ${breakGlass ? 'is-armed' : ''}`}>
          <p class="hint" id="break-glass-hint">
            You are not a routed reviewer of this action. Approving it overrides the review: it decides at once, is recorded as a break-glass
            override and is counted. Denying needs no override.
          </p>
          <label class="break-glass-toggle">
            <input type="checkbox" checked={breakGlass} aria-describedby="break-glass-hint" onChange={(e) => setBreakGlass((e.target as HTMLInputElement).checked)} />
            Break-glass override
          </label>
        </div>
      )}

      <div class="field">
        <label for="rationale">
          Rationale {rationaleRequired ? <span class="required">(required)</span> : <span class="muted">(optional)</span>}
        </label>
        <textarea
          id="rationale"
          rows={4}
          maxLength={2000}
          value={rationale}
          required={rationaleRequired}
          aria-required={rationaleRequired ? 'true' : 'false'}
          onInput={(e) => setRationale((e.target as HTMLTextAreaElement).value)}
          placeholder={verdict === 'deny' ? 'Why should this not run?' : overriding ? 'Why must this run without its routed review?' : 'What did you check?'}
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
      {notice && !error && (
        <p class="notice notice-info" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class={`button button-block ${verdict === 'approve' ? 'button-approve' : 'button-deny'}`} disabled={busy || approveBlocked}>
        {busy ? 'Recording…' : verdict === 'approve' ? (changed.length ? 'Approve with edits' : 'Approve') : 'Deny'}
      </button>
    </form>
  );
}
