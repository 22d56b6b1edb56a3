import type { JsonObject, JsonValue } from './action';
import type { ActionState, ActionStatus, FinalDecision } from './action-state';
import type { CancelRequest, ExecutionReport, ReviewerDecision } from './messages';
import type { EvidenceEvent } from './wire-types';

export type { EvidenceEvent } from './wire-types';

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

/** The decision a deny rule makes. */
export function policyDenied(reason: string, at: string): FinalDecision {
  return { verdict: 'auto_denied', by: ['policy'], rationale: reason, at };
}

/** The decision a cancel makes: by whoever withdrew the action, for their reason. */
export function cancelled(request: CancelRequest, at: string): FinalDecision {
  return { verdict: 'cancelled', by: [request.by], rationale: request.reason, at };
}

/** A review tier opened: the first one (`review.requested`) or an escalation (`review.escalated`). */
export interface ReviewRoute {
  tier: number;
  groups: string[];
  /** Everyone routed so far: earlier tiers stay eligible. */
  assignees: string[];
  dueAt: string;
  approvalsNeeded: number;
  /** Routed reviewers left out because they requested the action (or it acts for them). */
  excludedRequesters: string[];
  /** No tier can reach its quorum without them: the escalation (or expiry) that follows at once explains itself. */
  quorumUnreachable: boolean;
  /** Groups of every tier routed so far (routing and read access accumulate across tiers). */
  reviewGroups: string[];
}

export function reviewRoutedStep(actionId: string, route: ReviewRoute, occurredAt: string): StepRecord {
  const { tier } = route;
  return {
    event: {
      actionId,
      eventKey: tier === 0 ? 'review-requested' : `escalated:${tier}`,
      type: tier === 0 ? 'review.requested' : 'review.escalated',
      actor: SYSTEM_ACTOR,
      data: {
        tier,
        groups: route.groups,
        assignees: route.assignees,
        dueAt: route.dueAt,
        approvalsNeeded: route.approvalsNeeded,
        ...(route.excludedRequesters.length ? { excludedRequesters: route.excludedRequesters } : {}),
        ...(route.quorumUnreachable ? { quorumUnreachable: true } : {}),
      },
      occurredAt,
    },
    projection: { status: 'pending_review', assignees: route.assignees, reviewGroups: route.reviewGroups, reviewDueAt: route.dueAt },
  };
}

/** How a vote counted: on which payload, and where the tally stands with it. */
export interface VoteTally {
  /** The candidate payload the vote applies to (after its own edit, if any). */
  payloadHash: string;
  /** The reviewer's edit, when it changed the payload. */
  editedPayload?: JsonObject;
  approvals: number;
  approvalsNeeded: number;
  /** Votes the reviewer cast before this one (each voided by an edit): each vote is its own step. */
  earlierVotes: number;
}

export function voteStep(actionId: string, decision: ReviewerDecision, tally: VoteTally, occurredAt: string): StepRecord {
  const { reviewer, verdict } = decision;
  const edited = tally.editedPayload;
  return {
    event: {
      actionId,
      eventKey: tally.earlierVotes === 0 ? `vote:${reviewer}` : `vote:${reviewer}:${tally.earlierVotes + 1}`,
      type: decision.breakGlass ? 'review.break_glass' : edited ? 'review.approved_with_edit' : `review.${verdict === 'approve' ? 'approved' : 'denied'}`,
      actor: reviewer,
      data: {
        verdict,
        rationale: decision.rationale ?? null,
        reasonCode: decision.reasonCode ?? null,
        payloadHash: tally.payloadHash,
        ...(edited ? { editedPayload: edited } : {}),
        approvals: tally.approvals,
        approvalsNeeded: tally.approvalsNeeded,
      },
      occurredAt,
    },
  };
}

export function executionSucceededStep(
  actionId: string,
  executor: string,
  outcome: { status: number; result: JsonValue },
  executedPayloadHash: string,
  occurredAt: string,
): StepRecord {
  return {
    event: { actionId, eventKey: 'executed', type: 'execution.succeeded', actor: executor, data: { status: outcome.status, result: outcome.result, executedPayloadHash }, occurredAt },
    projection: { status: 'executed', executedPayloadHash, executionResult: outcome.result },
  };
}

export function executionFailedStep(actionId: string, executor: string, error: string, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'execution-failed', type: 'execution.failed', actor: executor, data: { error }, occurredAt },
    projection: { status: 'execution_failed', executionResult: { error } },
  };
}

/** Agent execution mode: the approval is out, and the agent is to report what it ran. */
export function awaitingReportStep(actionId: string, approvedPayloadHash: string, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'awaiting-report', type: 'execution.awaiting_report', actor: SYSTEM_ACTOR, data: { approvedPayloadHash }, occurredAt },
    projection: { status: 'awaiting_report' },
  };
}

/** The agent did not report within its window. */
export function unconfirmedStep(actionId: string, reportWindowMs: number, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'unconfirmed', type: 'execution.unconfirmed', actor: SYSTEM_ACTOR, data: { reportWindowMs }, occurredAt },
    projection: { status: 'unconfirmed' },
  };
}

/**
 * What the agent reported it ran: `execution.reported`, or `execution.mismatch` (with the payload it
 * ran) when that is not the approved payload. The activity adds the executed payload's hash.
 */
export function executionReportedStep(
  actionId: string,
  agentId: string,
  report: ExecutionReport,
  outcome: { status: ActionStatus; matches: boolean; approvedPayloadHash: string },
  occurredAt: string,
): StepRecord {
  const { matches } = outcome;
  return {
    event: {
      actionId,
      eventKey: 'execution-reported',
      type: matches ? 'execution.reported' : 'execution.mismatch',
      actor: agentId,
      data: {
        succeeded: report.succeeded,
        result: report.result ?? null,
        error: report.error ?? null,
        approvedPayloadHash: outcome.approvedPayloadHash,
        ...(matches ? {} : { executedPayload: report.payload }),
      },
      occurredAt,
    },
    projection: { status: outcome.status, executionResult: report.result ?? null },
  };
}

/** The last link of an action's evidence chain. */
export function completedStep(actionId: string, status: ActionStatus, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'completed', type: 'action.completed', actor: SYSTEM_ACTOR, data: { status }, occurredAt },
    projection: { status, completedAt: occurredAt },
  };
}

/** A step's data was refused for good: the action ends here. */
export function failedStep(actionId: string, error: string, occurredAt: string): StepRecord {
  return {
    event: { actionId, eventKey: 'failed', type: 'action.failed', actor: SYSTEM_ACTOR, data: { error }, occurredAt },
    projection: { status: 'failed', completedAt: occurredAt },
  };
}
