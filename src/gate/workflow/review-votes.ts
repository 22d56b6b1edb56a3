import { condition } from '@temporalio/workflow';
import type { JsonObject } from '../../shared/action';
import { currentApprovals, hasReached, hasStandingVote, type ActionState } from '../../shared/action-state';
import { canonicalJson } from '../../shared/canonical-json';
import { voteStep } from '../../shared/evidence-steps';
import { DecisionRejection, type ReviewerDecision } from '../../shared/messages';
import { planDifferences } from '../../shared/policy';
import type { PayloadChange } from '../../channels/review-notification';
import type { ActionRun } from './action-run';
import { evidence } from './activity-proxies';
import { refuseUnstorable, reject } from './rejections';
import { notifyReviewers } from './review-notifications';

/** The decide Update's validator: synchronous, so a refused vote never enters the history. */
export function validateDecision(run: ActionRun, decision: ReviewerDecision): void {
  const { state } = run;
  const review = state.review;
  // Routed reviewers may vote while the review request is still being recorded: the inbox can
  // already show it, and a vote then simply ends the wait that is about to start.
  const routed = state.status === 'pending_review' || (state.status === 'classifying' && (review?.assignees.length ?? 0) > 0);
  if (!routed || !review || state.decision || run.cancellation) {
    throw reject(`action is ${state.status}, not pending review`, DecisionRejection.NotPending);
  }
  if (decision.verdict !== 'approve' && decision.verdict !== 'deny') {
    throw reject('verdict must be approve or deny', DecisionRejection.InvalidDecision);
  }
  refuseUnstorable({ rationale: decision.rationale, reasonCode: decision.reasonCode, editedPayload: decision.editedPayload });
  if (decision.verdict === 'deny' && !decision.rationale?.trim()) {
    throw reject('a deny needs a rationale', DecisionRejection.InvalidDecision);
  }
  const assigned = review.assignees.includes(decision.reviewer);
  // A requester who was routed here (or any admin) may still deny: denying is always safe, approving never is.
  const routedRequester = review.excluded.includes(decision.reviewer);
  if (run.requesters.includes(decision.reviewer) && !(decision.verdict === 'deny' && (routedRequester || decision.isAdmin))) {
    throw reject('the requester cannot approve its own action', DecisionRejection.SelfApproval);
  }
  if (decision.breakGlass) {
    if (!decision.isAdmin) throw reject('only admins can break glass', DecisionRejection.NotEligible);
    if (decision.verdict !== 'approve') throw reject('break-glass is for approvals; any admin may deny', DecisionRejection.InvalidDecision);
    if (!decision.rationale?.trim()) throw reject('a break-glass approval needs a rationale', DecisionRejection.InvalidDecision);
    if (!state.policy!.breakGlass) {
      throw reject(`the policy forbids break-glass approval here (${state.policy!.matchedRules.join(', ') || 'default'})`, DecisionRejection.BreakGlassForbidden);
    }
  } else if (!assigned && !routedRequester && !(decision.isAdmin && decision.verdict === 'deny')) {
    if (decision.isAdmin) {
      throw reject(`${decision.reviewer} is not routed to this action: approve with breakGlass and a rationale to override`, DecisionRejection.BreakGlassRequired);
    }
    throw reject(`${decision.reviewer} is not a reviewer of an active tier`, DecisionRejection.NotEligible);
  }
  // Votes on an earlier candidate payload are void, so their reviewers may vote again.
  if (run.votesInFlight.has(decision.reviewer) || hasStandingVote(review, decision.reviewer)) {
    throw reject(`${decision.reviewer} has already voted`, DecisionRejection.DuplicateVote);
  }
  if (decision.verdict === 'approve') {
    // An approval counts only for the payload its approver was shown; no hash means the submitted one.
    const seen = decision.payloadHash ?? state.payloadHash;
    if (seen !== review.candidatePayloadHash) {
      throw reject(
        `the payload changed since you looked: approvals now apply to ${review.candidatePayloadHash}${decision.payloadHash ? '' : ' (not the submitted payload)'}; review it again`,
        DecisionRejection.PayloadChanged,
      );
    }
  }
  if (decision.editedPayload) {
    if (decision.verdict !== 'approve') throw reject('only an approval can carry an edited payload', DecisionRejection.InvalidDecision);
    const forbidden = changedFields(review.candidatePayload, decision.editedPayload).filter((field) => !review.editableFields.includes(field));
    if (forbidden.length) {
      throw reject(
        `fields not editable by reviewers: ${forbidden.join(', ')} (editable: ${review.editableFields.join(', ') || 'none'})`,
        DecisionRejection.EditNotAllowed,
      );
    }
  }
}

/**
 * Counts a validated vote. An edit is classified again first; a deciding vote is stored by the main
 * flow together with the decision, and its reviewer hears back once both are, with the final status.
 */
export async function castVote(run: ActionRun, decision: ReviewerDecision): Promise<ActionState> {
  const { state } = run;
  run.votesInFlight.add(decision.reviewer);
  try {
    const review = state.review!;
    const before = review.candidatePayload;
    const edited = decision.editedPayload && changedFields(before, decision.editedPayload).length > 0 ? decision.editedPayload : undefined;
    if (edited) {
      // Classified again in full: an edit that would be decided or run differently is refused.
      const reclassified = await evidence.classifyEdit({ ...run.input, editedPayload: edited });
      const differences = planDifferences(state.policy!, reclassified.decision);
      if (differences.length) {
        throw reject(
          `the edited payload falls under another plan (${reclassified.decision.matchedRules.join(', ') || 'the default'}: ${reclassified.decision.reason}): ${differences.join('; ')}`,
          DecisionRejection.EditRejectedByPolicy,
        );
      }
      // Another vote may have decided, a cancel arrived, or another edit landed while this one was classified.
      if (state.status !== 'pending_review' || state.decision || run.cancellation) {
        throw reject(`action is ${run.cancellation ? 'being cancelled' : state.status}, not pending review`, DecisionRejection.NotPending);
      }
      if (review.candidatePayloadHash !== (decision.payloadHash ?? state.payloadHash)) {
        throw reject('the payload changed while your edit was being checked; review it again', DecisionRejection.PayloadChanged);
      }
      // Approvals bind to one exact payload: every approval cast before this edit is void from now on.
      review.candidatePayload = edited;
      review.candidatePayloadHash = reclassified.payloadHash;
      review.candidateSince = review.votes.length;
    }
    const at = run.now();
    // A reviewer votes again only after an edit voided their vote: each vote is its own step.
    const earlierVotes = review.votes.filter((v) => v.reviewer === decision.reviewer).length;
    review.votes.push({
      reviewer: decision.reviewer,
      verdict: decision.verdict,
      rationale: decision.rationale,
      reasonCode: decision.reasonCode,
      payloadHash: review.candidatePayloadHash,
      at,
    });
    const approvers = currentApprovals(review);
    if (decision.verdict === 'deny') {
      state.decision = { verdict: 'denied', by: [decision.reviewer], rationale: decision.rationale, reasonCode: decision.reasonCode, at };
    } else if (decision.breakGlass) {
      state.decision = { verdict: 'approved', by: [decision.reviewer], rationale: decision.rationale, breakGlass: true, at };
    } else if (approvers.length >= review.approvalsNeeded) {
      state.decision = { verdict: 'approved', by: approvers.map((v) => v.reviewer), rationale: decision.rationale, at };
    }
    if (state.decision?.verdict === 'approved') {
      state.approvedPayload = review.candidatePayload;
      state.approvedPayloadHash = review.candidatePayloadHash;
    }
    const tally = { payloadHash: review.candidatePayloadHash, editedPayload: edited, approvals: approvers.length, approvalsNeeded: review.approvalsNeeded, earlierVotes };
    const vote = voteStep(run.actionId, decision, tally, at);
    if (state.decision) {
      run.votesToStoreWithDecision.push(vote);
      await condition(() => hasReached(state.status, 'decided'));
    } else {
      await run.record(vote);
      if (edited) {
        // Everyone else routed sees the payload they would now approve, and what changed.
        const others = review.assignees.filter((reviewer) => reviewer !== decision.reviewer);
        notifyReviewers(run, { kind: 'payload_edited', key: `edited:${review.votes.length}`, recipients: others, edit: { by: decision.reviewer, changes: payloadChanges(before, edited) } });
      }
    }
    return state;
  } finally {
    run.votesInFlight.delete(decision.reviewer);
  }
}

/** Top-level fields whose values differ between two payloads. */
function changedFields(before: JsonObject, after: JsonObject): string[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.filter((field) => canonicalJson(before[field] ?? null) !== canonicalJson(after[field] ?? null) || (field in before) !== (field in after));
}

/** What an edit changed, field by field, for the reviewers who did not make it. */
function payloadChanges(before: JsonObject, after: JsonObject): PayloadChange[] {
  return changedFields(before, after).map((field) => ({
    field,
    ...(field in before ? { before: before[field]! } : {}),
    ...(field in after ? { after: after[field]! } : {}),
  }));
}
