import type { ActionState } from '../../shared/action-state';
import { reasonCodesFor } from '../../shared/reason-codes';
import { actionHeadline, outcomeText, payloadFields, requesterLine, riskLabel } from '../review-summary';
import { html, SafeHtml } from './html';

/**
 * The pages an email link opens: a confirmation form (a GET never decides) and the result. Plain
 * server-rendered HTML without scripts, readable on a phone, labelled for screen readers.
 */

const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:#0f172a;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:640px;margin:32px auto;padding:0 16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:24px}
.brand{margin:0 0 4px;color:#475569;font-size:13px;font-weight:600;letter-spacing:.06em;text-transform:uppercase}
h1{margin:0 0 12px;font-size:22px;line-height:1.3}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0 0 16px}
dt{color:#475569;font-weight:600}dd{margin:0;word-break:break-word}
table{width:100%;border-collapse:collapse;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:0 0 16px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}th{color:#475569;font-weight:600;white-space:nowrap}
td{word-break:break-all}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-size:13px;font-weight:600}
.risk-low{background:#dcfce7;color:#14532d}.risk-medium{background:#fef3c7;color:#713f12}.risk-high{background:#ffedd5;color:#7c2d12}.risk-critical{background:#fee2e2;color:#7f1d1d}
label{display:block;font-weight:600;margin:12px 0 4px}
textarea,select{width:100%;font:inherit;padding:8px;border:1px solid #64748b;border-radius:6px;background:#fff;color:#0f172a}
textarea{min-height:96px}
.hint{color:#475569;font-size:14px;margin:4px 0 0}
button{margin-top:16px;font:inherit;font-weight:600;padding:10px 20px;border-radius:6px;border:0;color:#fff;cursor:pointer}
.approve{background:#15803d}.deny{background:#b91c1c}
button:focus-visible,a:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.notice{padding:12px 16px;border-radius:8px;margin:0 0 16px}
.notice-ok{background:#dcfce7;color:#14532d}.notice-error{background:#fee2e2;color:#7f1d1d}.notice-info{background:#e0f2fe;color:#0c4a6e}
a{color:#1d4ed8}
`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Holdpoint</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main><div class="card"><p class="brand">Holdpoint</p>${body}</div></main></body></html>`.value;
}

function actionFacts(state: ActionState): SafeHtml {
  const { request } = state;
  const risk = state.policy?.risk ?? 'medium';
  return html`<p><span class="badge risk-${risk}">${riskLabel(risk)} risk</span></p>
<dl>
<dt>Action</dt><dd>${actionHeadline(request)}</dd>
<dt>Requested by</dt><dd>${requesterLine(request)}</dd>
<dt>Reason</dt><dd>${state.policy?.reason ?? ''}</dd>
<dt>Rule</dt><dd>${state.policy?.matchedRules.join(', ') || '(default)'}</dd>
${state.review?.dueAt ? html`<dt>Decide by</dt><dd>${new Date(state.review.dueAt).toUTCString().replace('GMT', 'UTC')}</dd>` : ''}
</dl>
<table><caption class="brand" style="text-align:left">Payload (in full: an approval is for exactly this)</caption><tbody>
${payloadFields((state.review?.candidatePayload ?? request.payload) as Record<string, never>, Number.POSITIVE_INFINITY).map((f) => html`<tr><th scope="row">${f.name}</th><td>${f.value}</td></tr>`)}
</tbody></table>`;
}

export interface ConfirmationPageInput {
  state: ActionState;
  reviewer: string;
  verdict: 'approve' | 'deny';
  token: string;
  consoleUrl: string;
  error?: string;
  rationale?: string;
}

export function confirmationPage(input: ConfirmationPageInput): string {
  const { verdict } = input;
  const verb = verdict === 'approve' ? 'Approve' : 'Deny';
  const title = `${verb} ${actionHeadline(input.state.request)}?`;
  return layout(
    title,
    html`<h1>${title}</h1>
<p>Signed in by email link as <strong>${input.reviewer}</strong>. Nothing is decided until you confirm below.</p>
${input.error ? html`<p class="notice notice-error" role="alert">${input.error}</p>` : ''}
${actionFacts(input.state)}
<form method="post" action="/email/decision">
<input type="hidden" name="token" value="${input.token}">
<label for="rationale">Rationale${verdict === 'deny' ? ' (required)' : ' (optional)'}</label>
<textarea id="rationale" name="rationale" maxlength="2000" ${verdict === 'deny' ? html`required aria-required="true"` : ''} aria-describedby="rationale-hint">${input.rationale ?? ''}</textarea>
<p class="hint" id="rationale-hint">Recorded with your decision and sent to the agent.</p>
<label for="reasonCode">Reason code (optional)</label>
<select id="reasonCode" name="reasonCode"><option value="">—</option>${reasonCodesFor(verdict).map((r) => html`<option value="${r.code}">${r.label}</option>`)}</select>
<button type="submit" class="${verdict}">Confirm: ${verb}</button>
</form>
<p class="hint">Prefer the full picture? <a href="${input.consoleUrl}">Open the action in the console</a>.</p>`,
  );
}

export function resultPage(input: { title: string; message: string; tone: 'ok' | 'error' | 'info'; state?: ActionState; consoleUrl?: string }): string {
  return layout(
    input.title,
    html`<h1>${input.title}</h1>
<p class="notice notice-${input.tone}" role="${input.tone === 'error' ? 'alert' : 'status'}">${input.message}</p>
${input.state ? actionFacts(input.state) : ''}
${input.consoleUrl ? html`<p><a href="${input.consoleUrl}">Open the action in the console</a></p>` : ''}`,
  );
}

export function decidedMessage(state: ActionState): string {
  const decision = state.decision;
  if (!decision) return `The action is ${state.status.replace(/_/g, ' ')}.`;
  const by = decision.by.filter((who) => !who.startsWith('holdpoint:'));
  return `${outcomeText(decision.verdict)}${by.length ? ` by ${by.join(', ')}` : ''}.`;
}
