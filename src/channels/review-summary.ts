import type { ActionRequest, JsonValue } from '../shared/action';
import type { ReviewEventKind } from './review-notification';

/**
 * The words every channel uses for a review, so Slack, email and the console say the same thing.
 * Plain text only: each channel escapes for its own medium.
 */

export function actionHeadline(request: ActionRequest): string {
  return `${request.action.type} on ${request.resource.type}:${request.resource.id}`;
}

export function requesterLine(request: ActionRequest): string {
  return request.agent.onBehalfOf ? `${request.agent.id} (on behalf of ${request.agent.onBehalfOf})` : request.agent.id;
}

export const KIND_TITLE: Record<ReviewEventKind, string> = {
  review_requested: 'Approval needed',
  reminder: 'Reminder: approval still needed',
  escalated: 'Escalated: approval needed',
  payload_edited: 'Payload edited: approval needed',
  final_outcome: 'Decided',
};

const OUTCOME_TEXT: Record<string, string> = {
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired: no decision in time',
  cancelled: 'Cancelled by the agent',
  allowed: 'Allowed by policy',
  auto_denied: 'Denied by policy',
};

export function outcomeText(verdict: string | undefined): string {
  return verdict ? (OUTCOME_TEXT[verdict] ?? verdict) : 'Decided';
}

export function riskLabel(risk: string): string {
  return risk.charAt(0).toUpperCase() + risk.slice(1);
}

/** Top-level payload fields as display strings, in submission order; nested values as compact JSON. */
export function payloadFields(payload: Record<string, JsonValue>, maxValueLength = 200): { name: string; value: string }[] {
  return Object.entries(payload).map(([name, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return { name, value: text.length > maxValueLength ? `${text.slice(0, maxValueLength - 1)}…` : text };
  });
}

/** "in 45 min", "in 3 h 10 min", "overdue by 5 min": relative to `now`, rounded down to minutes. */
export function timeLeft(dueAt: string, now: Date = new Date()): string {
  const ms = Date.parse(dueAt) - now.getTime();
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}` : `${minutes} min`;
  return ms >= 0 ? `in ${text}` : `overdue by ${text}`;
}

/** The console page of one action. */
export function consoleActionUrl(publicUrl: string, actionId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/console/#/actions/${encodeURIComponent(actionId)}`;
}
