import type { KnownBlock, View } from '@slack/types';
import type { ActionRequest } from '../shared/action';
import { reasonCodesFor } from '../shared/reason-codes';
import type { ReviewEventKind } from './review-notification';
import { actionHeadline, KIND_TITLE, outcomeText, payloadFields, requesterLine, riskLabel } from './review-summary';

/** Identifiers Slack sends back to the interactivity endpoint. */
export const SLACK_ACTIONS = { approve: 'holdpoint_approve', deny: 'holdpoint_deny', open: 'holdpoint_open' } as const;
export const DENY_MODAL_CALLBACK = 'holdpoint_deny_modal';
export const DENY_MODAL_FIELDS = { rationale: 'rationale', reasonCode: 'reason_code' } as const;

/** What a Slack message about one action shows; built from a notification (worker) or live state (API). */
export interface SlackReviewCard {
  actionId: string;
  kind: ReviewEventKind;
  request: ActionRequest;
  risk: string;
  reason: string;
  matchedRules: string[];
  dueAt?: string;
  /** Who must act: `<@U…>` mentions or plain names. */
  reviewers: string[];
  /** Earlier tiers, on an escalation. */
  informed?: string[];
  consoleUrl: string;
}

export interface SlackOutcome {
  verdict?: string;
  by: string[];
  rationale?: string;
  at?: string;
}

const RISK_EMOJI: Record<string, string> = { low: ':large_green_circle:', medium: ':large_yellow_circle:', high: ':large_orange_circle:', critical: ':red_circle:' };
const OUTCOME_EMOJI: Record<string, string> = { approved: ':white_check_mark:', denied: ':no_entry:', expired: ':hourglass:', cancelled: ':heavy_minus_sign:' };
const KIND_EMOJI: Record<ReviewEventKind, string> = { review_requested: ':raised_hand:', reminder: ':alarm_clock:', escalated: ':arrow_double_up:', final_outcome: ':ballot_box_with_check:' };

/** Slack mrkdwn needs only these three escaped (https://docs.slack.dev/messaging/formatting-message-text). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** `<!date^…>` renders in each reader's own time zone, with the UTC time as fallback. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(iso).toISOString().replace('T', ' ').slice(0, 16)} UTC>`;
}

export function fallbackText(card: SlackReviewCard, outcome?: SlackOutcome): string {
  const head = outcome ? `${outcomeText(outcome.verdict)}` : KIND_TITLE[card.kind];
  return clip(`${head}: ${actionHeadline(card.request)} (${card.risk} risk) — ${card.reason}`, 300);
}

function summaryBlocks(card: SlackReviewCard, title: string): KnownBlock[] {
  const { request } = card;
  const fields = payloadFields(request.payload, 300);
  const payloadBlock: KnownBlock =
    fields.length > 0 && fields.length <= 10
      ? { type: 'section', block_id: 'payload', fields: fields.map((f) => ({ type: 'mrkdwn', text: clip(`*${escapeMrkdwn(f.name)}*\n${escapeMrkdwn(f.value)}`, 2000) })) }
      : { type: 'section', block_id: 'payload', text: { type: 'mrkdwn', text: clip(`*Payload*\n\`\`\`${escapeMrkdwn(JSON.stringify(request.payload, null, 2))}\`\`\``, 2900) } };
  const facts = [
    `*Risk*\n${RISK_EMOJI[card.risk] ?? ''} ${riskLabel(card.risk)}`,
    `*Rule*\n${escapeMrkdwn(card.matchedRules.join(', ') || '(default)')}`,
    ...(card.dueAt ? [`*Decide by*\n${slackDate(card.dueAt)}`] : []),
    ...(card.reviewers.length ? [`*Reviewers*\n${card.reviewers.join(' ')}`] : []),
  ];
  return [
    { type: 'header', text: { type: 'plain_text', text: clip(title, 150), emoji: true } },
    {
      type: 'section',
      block_id: 'summary',
      text: {
        type: 'mrkdwn',
        text: `*${escapeMrkdwn(requesterLine(request))}* wants to run \`${escapeMrkdwn(request.action.type)}\` on \`${escapeMrkdwn(`${request.resource.type}:${request.resource.id}`)}\``,
      },
    },
    { type: 'section', block_id: 'reason', text: { type: 'mrkdwn', text: clip(`*Reason*\n>${escapeMrkdwn(card.reason)}`, 3000) } },
    { type: 'section', block_id: 'facts', fields: facts.map((text) => ({ type: 'mrkdwn' as const, text })) },
    payloadBlock,
  ];
}

function footer(card: SlackReviewCard, extra?: string): KnownBlock {
  return {
    type: 'context',
    block_id: 'footer',
    elements: [{ type: 'mrkdwn', text: `${extra ? `${extra} · ` : ''}Holdpoint · \`${escapeMrkdwn(card.actionId)}\`` }],
  };
}

/** A review request (or reminder, or escalation) with Approve / Deny / Open buttons. */
export function reviewBlocks(card: SlackReviewCard, progress?: string): KnownBlock[] {
  const title = `${KIND_EMOJI[card.kind]} ${KIND_TITLE[card.kind]}: ${actionHeadline(card.request)}`;
  const escalation: KnownBlock[] = card.informed?.length
    ? [{ type: 'context', block_id: 'escalation', elements: [{ type: 'mrkdwn', text: `Escalated: no decision from ${card.informed.join(' ')} in time. They can still decide.` }] }]
    : [];
  return [
    ...summaryBlocks(card, title),
    ...escalation,
    {
      type: 'actions',
      block_id: 'decide',
      elements: [
        {
          type: 'button',
          action_id: SLACK_ACTIONS.approve,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: card.actionId,
          confirm: {
            title: { type: 'plain_text', text: 'Approve this action?' },
            text: { type: 'mrkdwn', text: clip(`${escapeMrkdwn(actionHeadline(card.request))} will run with exactly the payload shown.`, 300) },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        { type: 'button', action_id: SLACK_ACTIONS.deny, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value: card.actionId },
        { type: 'button', action_id: SLACK_ACTIONS.open, text: { type: 'plain_text', text: 'Open in console' }, url: card.consoleUrl },
      ],
    },
    footer(card, progress),
  ];
}

/** The same message once decided: no buttons, the outcome instead. */
export function outcomeBlocks(card: SlackReviewCard, outcome: SlackOutcome): KnownBlock[] {
  const verdict = outcome.verdict ?? 'decided';
  const by = outcome.by.filter((who) => !who.startsWith('holdpoint:'));
  const line = [
    `${OUTCOME_EMOJI[verdict] ?? ':ballot_box_with_check:'} *${outcomeText(verdict)}*`,
    by.length ? ` by ${escapeMrkdwn(by.join(', '))}` : '',
    outcome.at ? ` · ${slackDate(outcome.at)}` : '',
    outcome.rationale ? `\n>${escapeMrkdwn(clip(outcome.rationale, 2000))}` : '',
  ].join('');
  return [
    ...summaryBlocks({ ...card, dueAt: undefined }, `${KIND_EMOJI.final_outcome} ${outcomeText(verdict)}: ${actionHeadline(card.request)}`),
    { type: 'section', block_id: 'outcome', text: { type: 'mrkdwn', text: line } },
    { type: 'actions', block_id: 'open', elements: [{ type: 'button', action_id: SLACK_ACTIONS.open, text: { type: 'plain_text', text: 'Open in console' }, url: card.consoleUrl }] },
    footer(card),
  ];
}

/** The modal a Deny click opens: a rationale is required, a reason code optional. */
export function denyModal(card: SlackReviewCard, message?: { channel: string; ts: string }): View {
  return {
    type: 'modal',
    callback_id: DENY_MODAL_CALLBACK,
    private_metadata: JSON.stringify({ actionId: card.actionId, ...(message ? { channel: message.channel, ts: message.ts } : {}) }),
    title: { type: 'plain_text', text: 'Deny action' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`*${escapeMrkdwn(actionHeadline(card.request))}*\n${RISK_EMOJI[card.risk] ?? ''} ${riskLabel(card.risk)} risk · ${escapeMrkdwn(card.reason)}`, 3000),
        },
      },
      {
        type: 'input',
        block_id: DENY_MODAL_FIELDS.rationale,
        label: { type: 'plain_text', text: 'Why are you denying it?' },
        hint: { type: 'plain_text', text: 'The agent and the audit trail receive this rationale.' },
        element: { type: 'plain_text_input', action_id: DENY_MODAL_FIELDS.rationale, multiline: true, min_length: 3, max_length: 2000 },
      },
      {
        type: 'input',
        block_id: DENY_MODAL_FIELDS.reasonCode,
        optional: true,
        label: { type: 'plain_text', text: 'Reason code' },
        element: {
          type: 'static_select',
          action_id: DENY_MODAL_FIELDS.reasonCode,
          placeholder: { type: 'plain_text', text: 'Pick a reason' },
          options: reasonCodesFor('deny').map((r) => ({ text: { type: 'plain_text' as const, text: r.label }, value: r.code })),
        },
      },
    ],
  };
}
