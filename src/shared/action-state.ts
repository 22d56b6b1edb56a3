import type { ActionRequest, ExecutionMode, JsonObject, JsonValue } from './action';
import type { PolicyDecision, ReviewTier } from './policy';

export type ActionStatus =
  | 'classifying'
  | 'pending_review'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'allowed'
  | 'auto_denied'
  | 'executing'
  | 'executed'
  | 'execution_failed'
  | 'awaiting_report'
  | 'mismatch'
  | 'unconfirmed'
  /** A step's data was refused by the evidence store for good: nothing after it ran. */
  | 'failed';

/** Statuses after which nothing more happens to the action. */
export const TERMINAL_STATUSES: readonly ActionStatus[] = [
  'denied',
  'expired',
  'cancelled',
  'auto_denied',
  'executed',
  'execution_failed',
  'mismatch',
  'unconfirmed',
  'failed',
];

/** Statuses at which the agent has its answer (it may still have to execute and report). */
export const DECIDED_STATUSES: readonly ActionStatus[] = [...TERMINAL_STATUSES, 'approved', 'allowed', 'executing', 'awaiting_report'];

export function isTerminal(status: ActionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isDecided(status: ActionStatus): boolean {
  return DECIDED_STATUSES.includes(status);
}

export type Verdict = 'approve' | 'deny';

export interface ReviewerVote {
  reviewer: string;
  verdict: Verdict;
  rationale?: string;
  reasonCode?: string;
  /** Hash of the payload this vote approves (approvals bind to one exact payload). */
  payloadHash: string;
  at: string;
}

export interface ReviewProgress {
  tiers: ReviewTier[];
  /** Index of the newest active tier; earlier tiers stay eligible after escalation. */
  activeTier: number;
  assignees: string[];
  /** Routed reviewers left out because they requested the action (or it acts for them): they may only deny. */
  excluded: string[];
  approvalsNeeded: number;
  votes: ReviewerVote[];
  /** The payload approvals currently apply to (the original or a reviewer's edit). */
  candidatePayload: JsonObject;
  candidatePayloadHash: string;
  /** Index into `votes` of the first vote cast on this candidate: earlier approvals are void. */
  candidateSince: number;
  editableFields: string[];
  dueAt?: string;
}

export interface FinalDecision {
  verdict: 'approved' | 'denied' | 'expired' | 'cancelled' | 'allowed' | 'auto_denied';
  by: string[];
  rationale?: string;
  reasonCode?: string;
  /** An admin approved outside the routed tiers. */
  breakGlass?: boolean;
  at: string;
}

export interface ExecutionRecord {
  mode: ExecutionMode;
  executor?: string;
  result?: JsonValue;
  error?: string;
  executedPayloadHash?: string;
  reportedAt?: string;
}

/** Live state of one action, as the stateQuery returns it. */
export interface ActionState {
  actionId: string;
  /** The submission that started the workflow; lets a racing duplicate submit know it did not. */
  submissionId: string;
  requestHash: string;
  request: ActionRequest;
  status: ActionStatus;
  payloadHash?: string;
  policy?: PolicyDecision;
  review?: ReviewProgress;
  decision?: FinalDecision;
  approvedPayload?: JsonObject;
  approvedPayloadHash?: string;
  execution?: ExecutionRecord;
}

/** Input of agentActionWorkflow. */
export interface AgentActionInput {
  actionId: string;
  /** Unique per submit call (not per request): tells the creator apart from duplicate submits. */
  submissionId: string;
  idempotencyKey: string;
  request: ActionRequest;
  requestHash: string;
  submittedAt: string;
}

export { actionWorkflowId, parseActionId, type ActionIdParts } from './action-id';

/** How far along an action is: classified by policy, decided, or finished. */
export type OutcomeMilestone = 'classified' | 'decided' | 'completed';

export function hasReached(status: ActionStatus, milestone: OutcomeMilestone): boolean {
  if (milestone === 'classified') return status !== 'classifying';
  if (milestone === 'decided') return isDecided(status);
  return isTerminal(status);
}

/**
 * The approvals that count now: cast on the current candidate since it became the candidate, one per
 * reviewer. A vote from before an edit stays void even if a later edit restores the same payload.
 */
export function currentApprovals(review: ReviewProgress): ReviewerVote[] {
  const byReviewer = new Map<string, ReviewerVote>();
  for (const vote of review.votes.slice(review.candidateSince)) {
    if (vote.verdict === 'approve' && vote.payloadHash === review.candidatePayloadHash && !byReviewer.has(vote.reviewer)) byReviewer.set(vote.reviewer, vote);
  }
  return [...byReviewer.values()];
}

/** The votes of `reviewer` that still stand: a deny, or any vote on the current candidate. */
function standingVotes(review: ReviewProgress, reviewer: string): ReviewerVote[] {
  return review.votes.filter((v, i) => v.reviewer === reviewer && (v.verdict === 'deny' || i >= review.candidateSince));
}

/** Whether `reviewer` has a vote that still stands; an edit voids earlier approvals, so their reviewers may vote again. */
export function hasStandingVote(review: ReviewProgress, reviewer: string): boolean {
  return standingVotes(review, reviewer).length > 0;
}

/**
 * Whether the review already holds this very vote, still standing: the reviewer's deny, or their
 * approval of `payloadHash` (the payload the vote names: its edit, its hash, or the submitted one)
 * while that payload is the candidate. A retried decision is answered from it instead of voting twice.
 */
export function hasRecordedVote(review: ReviewProgress | undefined, vote: { reviewer: string; verdict: Verdict; payloadHash?: string }): boolean {
  if (!review) return false;
  return standingVotes(review, vote.reviewer).some(
    (v) => v.verdict === vote.verdict && (v.verdict === 'deny' || (v.payloadHash === vote.payloadHash && v.payloadHash === review.candidatePayloadHash)),
  );
}
