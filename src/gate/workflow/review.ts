import { condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { ReviewProgress } from '../../shared/action-state';
import { cancelled, reviewRoutedStep } from '../../shared/evidence-steps';
import { mayTimeOutToAllow } from '../../shared/policy';
import { assigneesAttribute } from '../../shared/search-attributes';
import type { ActionRun } from './action-run';
import { notifyReviewers } from './review-notifications';

/** Why a review ended without a decision. */
type NoDecision = 'window' | 'deadline' | 'quorum' | 'edited';

/**
 * Routes the action through its review tiers (reminder, escalation) until a decision, a cancel or
 * the last tier's end, and stores the outcome: the decision, the cancel, or the timeout outcome.
 */
export async function review(run: ActionRun): Promise<void> {
  const { state, requesters } = run;
  const plan = state.policy!.review!;
  const deadlineAt = state.request.deadline ? Date.parse(state.request.deadline) : Number.POSITIVE_INFINITY;
  const progress: ReviewProgress = {
    tiers: plan.tiers,
    activeTier: 0,
    assignees: [],
    excluded: [],
    approvalsNeeded: plan.approvals,
    votes: [],
    candidatePayload: state.request.payload,
    candidatePayloadHash: state.payloadHash!,
    candidateSince: 0,
    editableFields: plan.editableFields,
  };
  state.review = progress;
  const decided = () => state.decision !== undefined || run.cancellation !== undefined;
  let deadlinePassed = Date.now() >= deadlineAt;
  /** Set when even the last tier cannot reach its quorum without the requester. */
  let quorumUnreachable = false;

  for (let tier = 0; tier < plan.tiers.length && !decided() && !deadlinePassed; tier++) {
    const tierPlan = plan.tiers[tier]!;
    const previous = progress.assignees;
    progress.activeTier = tier;
    // Separation of duties: the requester and whom it acts for never approve, nor are asked to.
    progress.excluded = unique([...progress.excluded, ...tierPlan.reviewers.filter((r) => requesters.includes(r))]);
    const tierReviewers = tierPlan.reviewers.filter((r) => !requesters.includes(r));
    progress.assignees = unique([...previous, ...tierReviewers]);
    // Only an exclusion counts here: a policy whose groups are simply too small waits as before.
    const reachable = progress.assignees.length >= plan.approvals || progress.excluded.length === 0;
    // An agent's deadline may shorten a window, never lengthen it past policy.
    const windowMs = reachable ? Math.max(0, Math.min(tierPlan.durationMs, deadlineAt - Date.now())) : 0;
    progress.dueAt = new Date(Date.now() + windowMs).toISOString();
    const routed = reviewRoutedStep(
      run.actionId,
      {
        tier,
        groups: tierPlan.groups,
        assignees: progress.assignees,
        dueAt: progress.dueAt,
        approvalsNeeded: plan.approvals,
        excludedRequesters: progress.excluded,
        quorumUnreachable: !reachable,
        reviewGroups: unique(plan.tiers.slice(0, tier + 1).flatMap((t) => t.groups)),
      },
      run.now(),
    );
    await run.record(routed);
    upsertSearchAttributes([{ key: assigneesAttribute, value: progress.assignees }]);
    if (tierReviewers.length) {
      const kind = tier === 0 ? 'review_requested' : 'escalated';
      notifyReviewers(run, { kind, key: routed.event.eventKey, recipients: tierReviewers, informed: tier === 0 ? [] : previous });
    }
    if (!reachable) {
      quorumUnreachable = tier === plan.tiers.length - 1;
      continue;
    }

    const remindBefore = tier === 0 ? plan.remindBeforeMs : undefined;
    if (remindBefore && remindBefore < windowMs) {
      if (await condition(decided, windowMs - remindBefore)) break;
      notifyReviewers(run, { kind: 'reminder', key: 'reminder', recipients: progress.assignees });
      if (await condition(decided, remindBefore)) break;
    } else if (await condition(decided, windowMs)) {
      break;
    }
    deadlinePassed = Date.now() >= deadlineAt;
  }

  progress.dueAt = undefined;
  // Votes still being stored go first, so the evidence chain reads in causal order; deciding
  // votes are stored with the decision (their handlers wait for it).
  await condition(() => run.votesInFlight.size === run.votesToStoreWithDecision.length);
  if (run.cancellation && !state.decision) {
    await run.decide('cancelled', cancelled(run.cancellation, run.now()));
  } else if (state.decision?.verdict === 'approved') {
    await run.decide('approved', state.decision);
  } else if (state.decision?.verdict === 'denied') {
    await run.decide('denied', state.decision);
  } else {
    await decideOnTimeout(run, deadlinePassed ? 'deadline' : quorumUnreachable ? 'quorum' : 'window');
  }
  notifyReviewers(run, { kind: 'final_outcome', key: 'final-outcome', recipients: progress.assignees });
}

/**
 * Only the policy's own window may time out to allow, and only the payload as submitted. The
 * agent's deadline, a quorum the requester's exclusion made unreachable, or a reviewer's edit of
 * the payload expire: neither an agent nor a half-finished review may engineer an allow.
 */
async function decideOnTimeout(run: ActionRun, why: NoDecision): Promise<void> {
  const { state } = run;
  const policy = state.policy!;
  // Policy load already refuses this; checked again so high risk can never time out to allow. And
  // the timeout allows only the payload as submitted: once a reviewer edited it, that one was rejected.
  const edited = state.review !== undefined && state.review.candidatePayloadHash !== state.payloadHash;
  if (why === 'window' && edited) why = 'edited';
  const mayAllow = why === 'window' && policy.review!.onTimeout === 'allow' && mayTimeOutToAllow(policy.risk);
  const at = run.now();
  if (mayAllow) {
    state.approvedPayload = state.request.payload;
    state.approvedPayloadHash = state.payloadHash;
    await run.decide('approved', { verdict: 'approved', by: ['holdpoint:timeout'], rationale: 'No decision in time; the policy allows on timeout', at });
    return;
  }
  const rationale = {
    window: 'No decision in time; the policy denies on timeout',
    deadline: "The agent's deadline passed before a decision",
    quorum: 'No tier can reach its quorum without the requester',
    edited: 'No decision in time on the edited payload; the policy allows only the submitted one on timeout',
  }[why];
  await run.decide('expired', { verdict: 'expired', by: ['holdpoint:timeout'], rationale, at });
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
