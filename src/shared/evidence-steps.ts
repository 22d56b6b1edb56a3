import type { JsonObject, JsonValue } from './action';
import type { ActionState, ActionStatus, FinalDecision } from './action-state';

export interface EvidenceEvent {
  actionId: string;
  /** The workflow step this event records; the same step is stored once however often it is retried. */
  eventKey: string;
  type: string;
  actor?: string;
  data: JsonObject;
  occurredAt: string;
}

/** Columns of `actions` a step may set (camelCase here, snake_case in SQL). */
export interface ActionProjection {
  runId?: string;
  status?: ActionStatus;
  outcome?: string;
  risk?: string;
  matchedRules?: string[];
  reason?: string;
  policyVersion?: string;
  reviewGroups?: string[];
  assignees?: string[];
  reviewDueAt?: string | null;
  decidedBy?: string[];
  decidedAt?: string;
  rationale?: string;
  reasonCode?: string;
  approvedPayload?: JsonObject;
  approvedPayloadHash?: string;
  executedPayloadHash?: string;
  executionResult?: JsonValue;
  completedAt?: string;
  /**
   * The workflow's state once this step is stored: the read model agents' reads and waits use.
   * Written only when `stateRevision` is newer than the stored one.
   */
  state?: ActionState;
  stateRevision?: number;
}

/** One workflow step: its evidence event and the change to the action's row. */
export interface StepRecord {
  event: EvidenceEvent;
  projection?: ActionProjection;
}

export const SYSTEM_ACTOR = 'holdpoint';

export interface ApprovedPayload {
  payload?: JsonObject;
  payloadHash?: string;
}

/**
 * The decision step. Built here rather than in the workflow because admission stores an auto-allowed
 * decision itself, and both writers must produce the same event.
 */
export function decidedStep(actionId: string, status: ActionStatus, decision: FinalDecision, approved: ApprovedPayload): StepRecord {
  return {
    event: {
      actionId,
      eventKey: 'decided',
      type: `action.${status}`,
      actor: decision.by.join(',') || SYSTEM_ACTOR,
      data: { verdict: decision.verdict, by: decision.by, rationale: decision.rationale ?? null, reasonCode: decision.reasonCode ?? null },
      occurredAt: decision.at,
    },
    projection: {
      status,
      decidedBy: decision.by,
      decidedAt: decision.at,
      rationale: decision.rationale,
      reasonCode: decision.reasonCode,
      approvedPayload: approved.payload,
      approvedPayloadHash: approved.payloadHash,
    },
  };
}

export function executionStartStep(actionId: string, executor: string, approvedPayloadHash: string, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'executing', type: 'execution.started', actor: SYSTEM_ACTOR, data: { executor, approvedPayloadHash }, occurredAt },
    projection: { status: 'executing' },
  };
}

/** The decision an allow rule makes: by the policy, for its stated reason. */
export function policyAllowed(reason: string, at: string): FinalDecision {
  return { verdict: 'allowed', by: ['policy'], rationale: reason, at };
}
