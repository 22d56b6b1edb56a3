import type { JsonValue } from '../../shared/action';
import type { ActionStatus } from '../../shared/action-state';
import type { ActionView } from '../../shared/wire-types';

/** Why a guarded call did not run. */
export type RefusalOutcome =
  | 'denied_by_policy'
  | 'denied_by_reviewer'
  | 'expired'
  | 'cancelled'
  | 'no_decision_in_time'
  | 'not_executed';

/**
 * What a guarded tool returns instead of running: plain JSON, written for the model that called
 * the tool (and for whoever reads the transcript). `canAskAgain` says whether asking again could
 * ever lead to a different answer.
 */
export interface HoldpointRefusal {
  refused: true;
  actionId: string;
  actionType: string;
  outcome: RefusalOutcome;
  status: ActionStatus;
  /** The policy's reason for holding or denying. */
  reason: string | null;
  /** The reviewer's rationale, when a person decided. */
  rationale: string | null;
  decidedBy: string[];
  canAskAgain: boolean;
  /** What the model should do next. */
  guidance: string;
  /** One readable paragraph: outcome, reason, rationale and guidance. */
  message: string;
}

/** Holdpoint ran the action itself (server execution mode), or it had already run under this key. */
export interface HoldpointExecution {
  executed: true;
  actionId: string;
  actionType: string;
  executedBy: 'holdpoint' | 'agent';
  status: ActionStatus;
  succeeded: boolean;
  result: JsonValue | null;
  error: string | null;
  message: string;
}

const REFUSAL = Symbol.for('holdpoint.refusal');
const EXECUTION = Symbol.for('holdpoint.execution');

export function isRefusal(value: unknown): value is HoldpointRefusal {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REFUSAL] === true;
}

export function isHoldpointExecution(value: unknown): value is HoldpointExecution {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[EXECUTION] === true;
}

/** Branded by a symbol, so JSON.stringify (what a model sees) shows only the fields. */
function brand<T extends object>(value: T, tag: symbol): T {
  return Object.defineProperty(value, tag, { value: true, enumerable: false });
}

const REFUSED_STATUSES = new Set<ActionStatus>(['denied', 'auto_denied', 'expired', 'cancelled', 'mismatch', 'unconfirmed', 'failed', 'pending_review', 'classifying']);

/** True when the action, as it stands, must not be executed by the agent. */
export function isRefusedStatus(status: ActionStatus): boolean {
  return REFUSED_STATUSES.has(status);
}

export interface RefusalContext {
  /** The agent stopped waiting before a decision; `withdrawn` if it then cancelled the request. */
  waitedMs?: number;
  withdrawn?: boolean;
}

export function toRefusal(action: ActionView, context: RefusalContext = {}): HoldpointRefusal {
  const rationale = action.decision?.rationale ?? null;
  const decidedBy = action.decision?.by ?? [];
  const people = decidedBy.filter((by) => by !== 'policy' && !by.startsWith('holdpoint:'));
  const reviewerRationale = people.length > 0 ? rationale : null;
  const base = { actionId: action.id, actionType: action.action.type, status: action.status, reason: action.reason, rationale: reviewerRationale, decidedBy };
  const { outcome, canAskAgain, headline, guidance } = describe(action, people, context);
  const parts = [headline];
  if (action.reason) parts.push(sentence(`${outcome === 'denied_by_policy' ? 'Policy' : 'Held because'}: ${action.reason}`));
  if (reviewerRationale) parts.push(sentence(`Reviewer rationale (${people.join(', ')}): ${reviewerRationale}`));
  parts.push(guidance);
  const message = parts.join(' ');
  return brand({ refused: true as const, ...base, outcome, canAskAgain, guidance, message }, REFUSAL);
}

const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

function describe(action: ActionView, people: string[], context: RefusalContext) {
  const type = action.action.type;
  switch (action.status) {
    case 'auto_denied':
      return {
        outcome: 'denied_by_policy' as const,
        canAskAgain: false,
        headline: `Holdpoint denied ${type}: the policy does not allow it.`,
        guidance: 'Do not retry the same request; it will be denied again. Tell the user it is not allowed and why; only a materially different request could be decided differently.',
      };
    case 'denied':
      return {
        outcome: 'denied_by_reviewer' as const,
        canAskAgain: false,
        headline: `A reviewer (${people.join(', ') || 'unknown'}) denied ${type}.`,
        guidance: 'Do not retry it or try to achieve the same effect another way. Tell the user it was refused, with the rationale.',
      };
    case 'expired':
      return {
        outcome: 'expired' as const,
        canAskAgain: true,
        headline: `No reviewer decided on ${type} in time, so it was not done.`,
        guidance: 'You may ask again later, or tell the user the request needs a reviewer who is available.',
      };
    case 'cancelled':
      if (context.withdrawn) {
        return {
          outcome: 'no_decision_in_time' as const,
          canAskAgain: true,
          headline: `No decision on ${type} arrived within ${Math.round((context.waitedMs ?? 0) / 1000)} s; the request was withdrawn so nothing runs unseen.`,
          guidance: 'You may ask again later. Tell the user the action is waiting for a human reviewer.',
        };
      }
      return {
        outcome: 'cancelled' as const,
        canAskAgain: false,
        headline: `The request for ${type} was withdrawn (by ${action.decision?.by.join(', ') || 'unknown'}).`,
        guidance: 'Do not retry unless the user asks for it again.',
      };
    case 'pending_review':
    case 'classifying':
      return {
        outcome: 'no_decision_in_time' as const,
        canAskAgain: true,
        headline: `${type} is still waiting for a reviewer${action.review?.assignees.length ? ` (${action.review.assignees.join(', ')})` : ''}; it has not run.`,
        guidance: `Do not submit it again. Check back later on action ${action.id}, and tell the user it is awaiting approval.`,
      };
    default:
      return {
        outcome: 'not_executed' as const,
        canAskAgain: false,
        headline: `${type} is ${action.status.replace(/_/g, ' ')}; it will not be executed now.`,
        guidance: 'Do not retry; tell the user what happened.',
      };
  }
}

export function toExecution(action: ActionView): HoldpointExecution {
  const succeeded = action.status === 'executed';
  const executedBy = action.execution?.mode === 'server' ? ('holdpoint' as const) : ('agent' as const);
  const error = action.execution?.error ?? null;
  const message = executionMessage(action, executedBy, succeeded, error);
  return brand(
    {
      executed: true as const,
      actionId: action.id,
      actionType: action.action.type,
      executedBy,
      status: action.status,
      succeeded,
      result: action.execution?.result ?? null,
      error,
      message,
    },
    EXECUTION,
  );
}

function executionMessage(action: ActionView, executedBy: 'holdpoint' | 'agent', succeeded: boolean, error: string | null): string {
  const type = action.action.type;
  if (action.status === 'executing') return `Holdpoint is still executing ${type} with the approved payload; the result will be on action ${action.id}.`;
  if (executedBy === 'agent') return `${type} was already executed under this request (${action.status.replace(/_/g, ' ')}); it was not run again.`;
  return succeeded ? `Holdpoint executed ${type} with the approved payload.` : `Holdpoint tried to execute ${type} and it failed: ${error ?? 'unknown error'}.`;
}
