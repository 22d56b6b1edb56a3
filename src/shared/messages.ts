import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JsonObject, JsonValue } from './action';
import type { ActionState, OutcomeMilestone, Verdict } from './action-state';

export interface ReviewerDecision {
  /** Principal id of the reviewer, as authenticated by the API. */
  reviewer: string;
  /** Admins may decide at any tier; still never on their own request. */
  isAdmin?: boolean;
  verdict: Verdict;
  rationale?: string;
  reasonCode?: string;
  /** Approve with an edited payload: only the fields the policy lets reviewers edit. */
  editedPayload?: JsonObject;
}

export interface ExecutionReport {
  /** The payload the agent actually executed. */
  payload: JsonObject;
  succeeded: boolean;
  result?: JsonValue;
  error?: string;
}

export interface CancelRequest {
  by: string;
  reason?: string;
}

export type { OutcomeMilestone } from './action-state';

export const decideUpdate = defineUpdate<ActionState, [ReviewerDecision]>('decide');
/** Operators' variant (Temporal CLI / Web UI): same handler, invalid input is logged, not thrown. */
export const decisionSignal = defineSignal<[ReviewerDecision]>('decision');
export const reportExecutionUpdate = defineUpdate<ActionState, [ExecutionReport]>('reportExecution');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const stateQuery = defineQuery<ActionState>('state');
/**
 * Returns the state once the milestone is reached: the API's push-based wait (no polling). Read-only;
 * callers bound the wait on their side.
 */
export const awaitOutcomeUpdate = defineUpdate<ActionState, [{ until: OutcomeMilestone }]>('awaitOutcome');

/** ApplicationFailure types the workflow throws; the API maps them to HTTP statuses. */
export const DecisionRejection = {
  NotPending: 'NotPending', // 409
  DuplicateVote: 'DuplicateVote', // 409
  NotEligible: 'NotEligible', // 403
  SelfApproval: 'SelfApproval', // 403
  InvalidDecision: 'InvalidDecision', // 422
  EditNotAllowed: 'EditNotAllowed', // 422
  EditRejectedByPolicy: 'EditRejectedByPolicy', // 422
  NotAwaitingReport: 'NotAwaitingReport', // 409
} as const;
export type DecisionRejectionType = (typeof DecisionRejection)[keyof typeof DecisionRejection];

/** Non-retryable failure types of the executeAction activity. */
export const ExecutionFailure = {
  UnknownExecutor: 'UnknownExecutor',
  ExecutionRejected: 'ExecutionRejected',
} as const;
