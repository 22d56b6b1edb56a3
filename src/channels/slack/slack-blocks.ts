import type { KnownBlock, View } from '@slack/types';
import type { ActionRequest, JsonObject, JsonValue } from '../../shared/action';
import { reasonCodesFor } from '../../shared/reason-codes';
import type { PayloadChange, ReviewEventKind } from '../review-notification';
import { actionHeadline, KIND_TITLE, outcomeText, requesterLine, riskLabel } from '../review-summary';

/** Identifiers Slack sends back to the interactivity endpoint. */
export const SLACK_ACTIONS = { approve: 'holdpoint_approve', deny: 'holdpoint_deny', open: 'holdpoint_open' } as const;
export const DENY_MODAL_CALLBACK = 'holdpoint_deny_modal';
export const DENY_MODAL_FIELDS = { rationale: 'rationale', reasonCode: 'reason_code' } as const;

/** What a Slack message about one action shows; built from a notification (worker) or live state (API). */
export interface SlackReviewCard {
  actionId: string;
  kind: ReviewEventKind;
  request: ActionRequest;
  /** The candidate payload: what the card shows, and what its Approve button approves. */
  payload: JsonObject;
  /** Hash of `payload`, carried by the buttons so a decision binds to what was shown. */
  payloadHash: string;
  /** kind payload_edited: who edited and which fields changed. */
  edit?: { by: string; changes: PayloadChange[] };
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
const KIND_EMOJI: Record<ReviewEventKind, string> = {
  review_requested: ':raised_hand:',
  reminder: ':alarm_clock:',
  escalated: ':arrow_double_up:',
  payload_edited: ':pencil2:',
  final_outcome: ':ballot_box_with_check:',
};

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks/section-block).
const SECTION_FIELDS_MAX = 10;
const SECTION_FIELD_TEXT_MAX = 2000;
const SECTION_TEXT_MAX = 3000;

/** What a decision button carries back: the action, and the hash of the payload on the card. */
export interface SlackDecisionRef {
  actionId: string;
  /** Absent only on messages posted before buttons carried it. */
  payloadHash?: string;
}

export function decisionButtonValue(card: Pick<SlackReviewCard, 'actionId' | 'payloadHash'>): string {
  return JSON.stringify({ actionId: card.actionId, payloadHash: card.payloadHash });
}

/** Reads a button value; a bare action id is a message posted before buttons carried the hash. */
export function parseDecisionButtonValue(value: string): SlackDecisionRef | undefined {
  if (!value.startsWith('{')) return value ? { actionId: value } : undefined;
  try {
    const ref = JSON.parse(value) as Partial<SlackDecisionRef>;
    if (typeof ref.actionId !== 'string' || !ref.actionId || (ref.payloadHash !== undefined && typeof ref.payloadHash !== 'string')) return undefined;
    return { actionId: ref.actionId, ...(ref.payloadHash ? { payloadHash: ref.payloadHash } : {}) };
  } catch {
    return undefined;
  }
}

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

const displayValue = (value: JsonValue | undefined): string => (value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));
const jsonBlockText = (payload: JsonObject) => `*Payload*\n\`\`\`${escapeMrkdwn(JSON.stringify(payload, null, 2))}\`\`\``;

/**
 * The payload as Slack can show it, and the fields it cannot show whole (a value or name too long
 * for a field, or fields left out of a JSON block that would exceed its limit). A card is only an
 * honest basis for an approval when that list is empty.
 */
export function payloadDisplay(payload: JsonObject): { block: KnownBlock; hidden: string[] } {
  const entries = Object.entries(payload);
  const hidden: string[] = [];
  if (entries.length > 0 && entries.length <= SECTION_FIELDS_MAX) {
    const fields = entries.map(([name, value]) => {
      const text = `*${escapeMrkdwn(name)}*\n${escapeMrkdwn(displayValue(value))}`;
      if (text.length <= SECTION_FIELD_TEXT_MAX) return text;
      hidden.push(name);
      return `${text.slice(0, SECTION_FIELD_TEXT_MAX - 20)}… _(truncated)_`;
    });
    return { block: { type: 'section', block_id: 'payload', fields: fields.map((text) => ({ type: 'mrkdwn', text })) }, hidden };
  }
  // Too many fields for a section: JSON, with every top-level field either whole or left out (and named).
  const shown: JsonObject = {};
  for (const [name, value] of entries) {
    if (jsonBlockText({ ...shown, [name]: value }).length <= SECTION_TEXT_MAX) shown[name] = value;
    else hidden.push(name);
  }
  return { block: { type: 'section', block_id: 'payload', text: { type: 'mrkdwn', text: jsonBlockText(shown) } }, hidden };
}

/** Says which fields the card does not show whole; a review card then has no Approve button. */
function hiddenNotice(hidden: readonly string[], decidable: boolean): KnownBlock {
  const names = hidden.map((name) => `\`${escapeMrkdwn(clip(name, 80))}\``).join(', ');
  const text = decidable
    ? `:warning: *This message cannot show the whole payload*, so it cannot be approved from Slack. Not shown in full: ${names}. Open it in the console to see every field and approve there; Deny works here.`
    : `:warning: Not shown in full here: ${names}. The console shows the whole payload.`;
  return { type: 'section', block_id: 'hidden', text: { type: 'mrkdwn', text: clip(text, SECTION_TEXT_MAX) } };
}

function changeLine(change: PayloadChange): string {
  const before = change.before === undefined ? '_(added)_' : escapeMrkdwn(clip(displayValue(change.before), 300));
  const after = change.after === undefined ? '_(removed)_' : escapeMrkdwn(clip(displayValue(change.after), 300));
  return `• *${escapeMrkdwn(clip(change.field, 80))}*: ${before} → ${after}`;
}

function changesBlock(edit: NonNullable<SlackReviewCard['edit']>): KnownBlock {
  const text = `*Changed by ${escapeMrkdwn(edit.by)}*\n${edit.changes.map(changeLine).join('\n')}\nEarlier approvals were for the previous payload; approve again to approve this one.`;
  return { type: 'section', block_id: 'changes', text: { type: 'mrkdwn', text: clip(text, SECTION_TEXT_MAX) } };
}

function summaryBlocks(card: SlackReviewCard, title: string, payloadBlock: KnownBlock): KnownBlock[] {
  const { request } = card;
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
    ...(card.edit ? [changesBlock(card.edit)] : []),
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

function reviewTitle(card: SlackReviewCard): string {
  const head = card.kind === 'payload_edited' && card.edit ? `Payload edited by ${card.edit.by}` : KIND_TITLE[card.kind];
  return `${KIND_EMOJI[card.kind]} ${head}: ${actionHeadline(card.request)}`;
}

/**
 * A review request (or reminder, escalation, edit) with Approve / Deny / Open buttons. The buttons
 * carry the hash of the payload shown; a card that cannot show the whole payload offers no Approve.
 */
export function reviewBlocks(card: SlackReviewCard, progress?: string): KnownBlock[] {
  const { block: payloadBlock, hidden } = payloadDisplay(card.payload);
  const escalation: KnownBlock[] = card.informed?.length
    ? [{ type: 'context', block_id: 'escalation', elements: [{ type: 'mrkdwn', text: `Escalated: no decision from ${card.informed.join(' ')} in time. They can still decide.` }] }]
    : [];
  const value = decisionButtonValue(card);
  const approve = {
    type: 'button' as const,
    action_id: SLACK_ACTIONS.approve,
    style: 'primary' as const,
    text: { type: 'plain_text' as const, text: 'Approve' },
    value,
    confirm: {
      title: { type: 'plain_text' as const, text: 'Approve this action?' },
      text: { type: 'mrkdwn' as const, text: clip(`${escapeMrkdwn(actionHeadline(card.request))} will run with exactly the payload shown.`, 300) },
      confirm: { type: 'plain_text' as const, text: 'Approve' },
      deny: { type: 'plain_text' as const, text: 'Cancel' },
    },
  };
  return [
    ...summaryBlocks(card, reviewTitle(card), payloadBlock),
    ...(hidden.length ? [hiddenNotice(hidden, true)] : []),
    ...escalation,
    {
      type: 'actions',
      block_id: 'decide',
      elements: [
        ...(hidden.length ? [] : [approve]),
        { type: 'button', action_id: SLACK_ACTIONS.deny, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value },
        {
          type: 'button',
          action_id: SLACK_ACTIONS.open,
          text: { type: 'plain_text', text: hidden.length ? 'Review in console' : 'Open in console' },
          url: card.consoleUrl,
          ...(hidden.length ? { style: 'primary' as const } : {}),
        },
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
  const { block: payloadBlock, hidden } = payloadDisplay(card.payload);
  return [
    ...summaryBlocks({ ...card, dueAt: undefined, edit: undefined }, `${KIND_EMOJI.final_outcome} ${outcomeText(verdict)}: ${actionHeadline(card.request)}`, payloadBlock),
    ...(hidden.length ? [hiddenNotice(hidden, false)] : []),
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
    // The hash of the card the Deny came from: the decision is recorded against what the reviewer saw.
    private_metadata: JSON.stringify({ actionId: card.actionId, payloadHash: card.payloadHash, ...(message ? { channel: message.channel, ts: message.ts } : {}) }),
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
