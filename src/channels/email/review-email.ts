import type { ReviewerContact } from '../reviewer-contact-repository';
import type { ActionOutcome } from '../../evidence/action-outcome-repository';
import { candidateOf } from '../notification-candidate';
import type { PayloadChange, ReviewNotification } from '../review-notification';
import { actionHeadline, KIND_TITLE, outcomeText, payloadFields, requesterLine, riskLabel } from '../review-summary';
import { html, SafeHtml } from './html';
import { fieldName, inline, jsonLiteral, quoted } from './plain-text';

export interface ReviewEmailLinks {
  consoleUrl: string;
  /** Present when the recipient may decide from the mail. */
  approveUrl?: string;
  denyUrl?: string;
}

export interface ReviewEmail {
  subject: string;
  text: string;
  html: string;
}

const RISK_COLOURS: Record<string, { fg: string; bg: string }> = {
  low: { fg: '#14532d', bg: '#dcfce7' },
  medium: { fg: '#713f12', bg: '#fef3c7' },
  high: { fg: '#7c2d12', bg: '#ffedd5' },
  critical: { fg: '#7f1d1d', bg: '#fee2e2' },
};

function dueText(dueAt: string | undefined): string | undefined {
  return dueAt ? new Date(dueAt).toUTCString().replace('GMT', 'UTC') : undefined;
}

function changeText(change: PayloadChange): string {
  const before = change.before === undefined ? '(added)' : jsonLiteral(change.before, 200);
  const after = change.after === undefined ? '(removed)' : jsonLiteral(change.after, 200);
  return `  ${fieldName(change.field)}: ${before} → ${after}`;
}

const displayed = (value: unknown) => (value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The mail for one recipient. `role` says why they get it: to decide (links), to be told the request
 * moved on to another tier, or to learn the outcome. It shows the candidate payload (what the links
 * approve) and, after an edit, what changed. In the plain-text part every piece of agent text is
 * escaped or quoted (see plain-text.ts), so only the mail's own lines start a line.
 */
export function renderReviewEmail(
  notification: ReviewNotification,
  recipient: ReviewerContact,
  role: 'decide' | 'informed' | 'outcome',
  links: ReviewEmailLinks,
  outcome?: ActionOutcome,
): ReviewEmail {
  const { request, policy } = notification;
  const candidate = candidateOf(notification);
  const edit = notification.kind === 'payload_edited' ? notification.edit : undefined;
  const headline = actionHeadline(request);
  const kindTitle = edit ? `Payload edited by ${edit.by}` : KIND_TITLE[notification.kind];
  const title =
    role === 'outcome'
      ? `${outcomeText(notification.outcome)}: ${headline}`
      : role === 'informed'
        ? `Escalated to the next tier: ${headline}`
        : `${kindTitle}: ${headline}`;
  const subject = `[Holdpoint] ${inline(title)}`;
  const fields = payloadFields(candidate.payload, 500);
  const due = dueText(notification.dueAt);
  const decidedBy = outcome?.decidedBy.length ? outcome.decidedBy.join(', ') : undefined;

  const lines = [
    inline(title),
    '',
    `Requested by: ${inline(requesterLine(request))}`,
    `Risk:         ${riskLabel(policy.risk)}`,
    `Reason:       ${quoted(policy.reason)}`,
    `Rule:         ${inline(policy.matchedRules.join(', ') || '(default)')}`,
    ...(due && role !== 'outcome' ? [`Decide by:    ${due}`] : []),
    ...(role === 'outcome' && decidedBy ? [`Decided by:   ${inline(decidedBy)}`] : []),
    ...(role === 'outcome' && outcome?.rationale ? [`Rationale:    ${quoted(outcome.rationale)}`] : []),
    '',
    ...(edit
      ? [
          `Changed by ${inline(edit.by)}:`,
          ...edit.changes.map(changeText),
          'Approvals given before the edit were for the previous payload; the links below approve the payload as it is now.',
          '',
        ]
      : []),
    'Payload (each value as JSON):',
    ...Object.entries(candidate.payload).map(([name, value]) => `  ${fieldName(name)}: ${jsonLiteral(value)}`),
    '',
    ...(role === 'informed' ? ['The request was escalated to the next tier of reviewers. You can still decide while it is pending.', ''] : []),
    ...(links.approveUrl ? [`Approve: ${links.approveUrl}`] : []),
    ...(links.denyUrl ? [`Deny:    ${links.denyUrl}`] : []),
    ...(links.approveUrl ? ['(Each link opens a confirmation page; the links work once, only for you, until the deadline.)'] : []),
    `Open in the console: ${links.consoleUrl}`,
    '',
    `Action ${inline(notification.actionId)}`,
  ];

  const risk = RISK_COLOURS[policy.risk] ?? RISK_COLOURS.medium!;
  const row = (label: string, value: SafeHtml | string) =>
    html`<tr><th align="left" style="padding:6px 12px 6px 0;color:#475569;font-weight:600;vertical-align:top;white-space:nowrap">${label}</th><td style="padding:6px 0;color:#0f172a">${value}</td></tr>`;
  const button = (href: string, label: string, colour: string) =>
    html`<a href="${href}" style="display:inline-block;padding:10px 18px;margin-right:8px;border-radius:6px;background:${colour};color:#ffffff;text-decoration:none;font-weight:600">${label}</a>`;

  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${subject}</title></head>
<body style="margin:0;padding:24px;background:#f1f5f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5">
<table role="presentation" width="100%" style="max-width:640px;margin:0 auto;background:#ffffff;border-radius:8px;border:1px solid #e2e8f0">
<tr><td style="padding:24px">
<p style="margin:0 0 4px;color:#475569;font-size:13px;text-transform:uppercase;letter-spacing:.05em">Holdpoint</p>
<h1 style="margin:0 0 16px;font-size:20px;color:#0f172a">${title}</h1>
<p style="margin:0 0 16px"><span style="display:inline-block;padding:2px 10px;border-radius:999px;background:${risk.bg};color:${risk.fg};font-weight:600">${riskLabel(policy.risk)} risk</span></p>
<table role="presentation" style="border-collapse:collapse;margin-bottom:16px">
${row('Requested by', requesterLine(request))}
${row('Reason', policy.reason)}
${row('Rule', policy.matchedRules.join(', ') || '(default)')}
${due && role !== 'outcome' ? row('Decide by', due) : ''}
${role === 'outcome' && decidedBy ? row('Decided by', decidedBy) : ''}
${role === 'outcome' && outcome?.rationale ? row('Rationale', outcome.rationale) : ''}
</table>
${edit
  ? html`<h2 style="margin:0 0 8px;font-size:15px;color:#0f172a">Changed by ${edit.by}</h2>
<table role="presentation" style="border-collapse:collapse;width:100%;margin-bottom:8px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px">
<tr><th align="left" style="padding:4px 12px 4px 0;color:#475569">Field</th><th align="left" style="padding:4px 12px 4px 0;color:#475569">Before</th><th align="left" style="padding:4px 0;color:#475569">Now</th></tr>
${edit.changes.map((c) => html`<tr><td style="padding:4px 12px 4px 0;border-bottom:1px solid #e2e8f0;color:#475569;vertical-align:top">${c.field}</td><td style="padding:4px 12px 4px 0;border-bottom:1px solid #e2e8f0;background:#fee2e2;color:#7f1d1d;word-break:break-all;vertical-align:top">${displayed(c.before)}</td><td style="padding:4px 0;border-bottom:1px solid #e2e8f0;background:#dcfce7;color:#14532d;word-break:break-all;vertical-align:top">${displayed(c.after)}</td></tr>`)}
</table>
<p style="margin:0 0 16px;color:#475569;font-size:13px">Approvals given before the edit were for the previous payload; the buttons below approve the payload as it is now.</p>`
  : ''}
<h2 style="margin:0 0 8px;font-size:15px;color:#0f172a">Payload</h2>
<table role="presentation" style="border-collapse:collapse;width:100%;margin-bottom:20px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px">
${fields.map((f) => html`<tr><td style="padding:4px 12px 4px 0;border-bottom:1px solid #e2e8f0;color:#475569;white-space:nowrap;vertical-align:top">${f.name}</td><td style="padding:4px 0;border-bottom:1px solid #e2e8f0;color:#0f172a;word-break:break-all">${f.value}</td></tr>`)}
</table>
${role === 'informed' ? html`<p style="margin:0 0 16px;color:#334155">The request was escalated to the next tier of reviewers. You can still decide while it is pending.</p>` : ''}
${links.approveUrl && links.denyUrl
  ? html`<p style="margin:0 0 8px">${button(links.approveUrl, 'Approve…', '#15803d')}${button(links.denyUrl, 'Deny…', '#b91c1c')}</p>
<p style="margin:0 0 16px;color:#475569;font-size:13px">Each button opens a confirmation page. The links work once, only for you, until the deadline.</p>`
  : ''}
<p style="margin:0"><a href="${links.consoleUrl}" style="color:#1d4ed8">Open in the Holdpoint console</a></p>
<p style="margin:16px 0 0;color:#64748b;font-size:12px">Action ${notification.actionId}</p>
</td></tr></table></body></html>`;

  return { subject, text: lines.join('\n'), html: body.value };
}
