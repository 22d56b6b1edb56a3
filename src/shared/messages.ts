import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActionState } from './action-state';
import type { DecisionRequest, ExecutionReport } from './wire-types';

export type { ExecutionReport } from './wire-types';

/** A decision as the workflow takes it: the API's DecisionRequest, and who decides. */
export interface ReviewerDecision extends DecisionRequest {
  /** Principal id of the reviewer, as authenticated by the API. */
  reviewer: string;
  /** Admins may decide at any tier; still never on their own request. */
  isAdmin?: boolean;
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
/**
 * Withdraws a pending action; answers with the state once the outcome is settled (cancelled, or the
 * decision that won a race with it). Refused (NotPending) once the action is decided.
 */
export const cancelUpdate = defineUpdate<ActionState, [CancelRequest]>('cancel');
/** Operators' variant (Temporal CLI / Web UI): a cancel that is not possible is logged, not thrown. */
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const stateQuery = defineQuery<ActionState>('state');

/** ApplicationFailure types the workflow throws; the API maps them to HTTP statuses. */
export const DecisionRejection = {
  NotPending: 'NotPending', // 409: decided (or being decided) already: no vote, edit or cancel any more
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
