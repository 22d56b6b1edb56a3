import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JsonObject, JsonValue } from './action';
import type { ActionState, Verdict } from './action-state';

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
  /**
   * Hash of the candidate payload the reviewer was shown. An approval counts only for that exact
   * payload: a hash that is no longer the candidate is refused (PayloadChanged). Absent on an
   * approval: the payload as submitted, accepted only while it is still the candidate. A deny needs none.
   */
  payloadHash?: string;
  /** An admin's explicit override outside the routed tiers: needs a rationale, recorded as its own event. */
  breakGlass?: boolean;
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
  PayloadChanged: 'PayloadChanged', // 409: the payload the reviewer saw is no longer the candidate
  BreakGlassRequired: 'BreakGlassRequired', // 403: an admin outside the routed tiers must say breakGlass
  BreakGlassForbidden: 'BreakGlassForbidden', // 403: the matched rule forbids break-glass approval
} as const;
export type DecisionRejectionType = (typeof DecisionRejection)[keyof typeof DecisionRejection];

/** Non-retryable failure types of the executeAction activity. */
export const ExecutionFailure = {
  UnknownExecutor: 'UnknownExecutor',
  ExecutionRejected: 'ExecutionRejected',
} as const;
