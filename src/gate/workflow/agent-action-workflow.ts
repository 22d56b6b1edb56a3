import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HoldpointActivities } from '../activities';
import type { PayloadChange, ReviewEventKind } from '../../channels/review-notification';
import type { JsonObject } from '../../shared/action';
import type { ActionState, ActionStatus, AgentActionInput, FinalDecision, ReviewProgress } from '../../shared/action-state';
import { currentApprovals, hasReached, hasStandingVote, isTerminal } from '../../shared/action-state';
import { canonicalJson } from '../../shared/canonical-json';
import {
  SYSTEM_ACTOR,
  decidedStep as decisionStep,
  executionStartStep as executionStart,
  policyAllowed,
  type StepRecord,
} from '../../shared/evidence-steps';
import {
  cancelSignal,
  DecisionRejection,
  decideUpdate,
  decisionSignal,
  ExecutionFailure,
  reportExecutionUpdate,
  stateQuery,
  type CancelRequest,
  type ExecutionReport,
  type ReviewerDecision,
} from '../../shared/messages';
import { findUnsafeJson, jsonPath } from '../../shared/json-safety';
import { autoAllowExecutor, planDifferences, serverExecutor, unionChannels } from '../../shared/policy';
import { assigneesAttribute, riskTierAttribute, statusAttribute } from '../../shared/search-attributes';

// Evidence writes are local activities: one Postgres transaction each, run inside the workflow
// task instead of a round trip through the task queue (the gate's latency is mostly such hand-offs).
// They must land eventually (Postgres may be down for a while), so they retry without limit; a
// permanent data error (EvidenceDataError) is non-retryable and ends the action as `failed`.
// A local activity holds the workflow task while it runs and retries, and nothing else (a decision,
// a cancel) is delivered meanwhile. So during an outage: each attempt is short (the pool gives up
// connecting after 5 s), retries move to workflow timers after 2 s (the task completes and messages
// get through), and they come back at least every 10 s, which bounds convergence after the outage.
const evidence = proxyLocalActivities<HoldpointActivities>({
  startToCloseTimeout: '15s',
  localRetryThreshold: '2s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
// Recording that an action failed for good: a few tries, then only the log and the Web UI show it.
const lastWords = proxyLocalActivities<HoldpointActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });
// A notification that cannot be sent after a few tries is given up; timers go on regardless.
const notifications = proxyActivities<HoldpointActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 3 },
});
// Executors are retried on network errors and 5xx only; the activity marks 4xx non-retryable.
const executors = proxyActivities<HoldpointActivities>({
  // Just above the HTTP executor's own 15 s timeout: a call lost with a crashed worker is retried soon.
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: Object.values(ExecutionFailure),
  },
});

const DEFAULT_REPORT_WINDOW_MS = 60 * 60 * 1000;
/** The activities' failure type for data Postgres refuses for good: retrying cannot help. */
const EVIDENCE_DATA_ERROR = 'EvidenceDataError';
const reject = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/** One agent action, from classification to executed (or refused), with every step recorded. */
export async function agentActionWorkflow(input: AgentActionInput): Promise<ActionState> {
  const { actionId, request } = input;
  const state: ActionState = { actionId, submissionId: input.submissionId, requestHash: input.requestHash, request, status: 'classifying' };
  /** The requester and the principal it acts for: never approvers of their own action. */
  const requesters = [request.agent.id, ...(request.agent.onBehalfOf ? [request.agent.onBehalfOf] : [])];
  let cancellation: CancelRequest | undefined;
  let report: ExecutionReport | undefined;
  /** Reviewers whose vote is being processed, so a concurrent second vote is refused. */
  const votesInFlight = new Set<string>();
  /** Deciding votes, stored by the main flow in the same write as the decision. */
  const votesToStoreWithDecision: StepRecord[] = [];
  /** Orders the read-model snapshots: a late-committing older write never replaces a newer one. */
  let revision = 0;
  let completionStored = false;
  let notificationsInFlight = 0;
  const background: Promise<void>[] = [];
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay

  const setStatus = (status: ActionStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: statusAttribute, value: status }]);
    setCurrentDetails(describe(state));
  };

  /**
   * Stores steps in one write, with the state they lead to as the read model, then makes the new
   * status visible: whoever sees a status (API, waiters, queries) finds it in Postgres too.
   */
  const record = async (...steps: StepRecord[]) => {
    const status = [...steps].reverse().find((step) => step.projection?.status)?.projection?.status ?? state.status;
    revision += 1;
    const last = steps[steps.length - 1]!;
    const snapshot = { ...last, projection: { ...last.projection, state: { ...state, status }, stateRevision: revision } };
    const all = [...steps.slice(0, -1), snapshot];
    if (all.length > 1) await evidence.recordSteps(all);
    else await evidence.recordStep(snapshot);
    if (status !== state.status) setStatus(status);
  };

  const notify = (kind: ReviewEventKind, key: string, recipients: string[], informed: string[] = [], edit?: { by: string; changes: PayloadChange[] }) => {
    const review = state.review;
    // Everyone told has been routed through tiers 0..active, so the union of their channels reaches them all.
    const channels = review ? unionChannels(review.tiers.slice(0, review.activeTier + 1).map((t) => t.channels)) : undefined;
    const notification = {
      id: `${actionId}:${key}`,
      kind,
      actionId,
      request,
      policy: { risk: state.policy!.risk, reason: state.policy!.reason, matchedRules: state.policy!.matchedRules },
      tier: review?.activeTier ?? 0,
      recipients,
      informed,
      dueAt: review?.dueAt,
      outcome: state.decision?.verdict,
      candidate: { payload: review?.candidatePayload ?? request.payload, payloadHash: review?.candidatePayloadHash ?? state.payloadHash! },
      ...(edit ? { edit } : {}),
      // Absent (not undefined) when unrestricted, so unrestricted notifications keep their old shape.
      ...(channels === undefined ? {} : { channels }),
    };
    // Not awaited here: a slow or failing channel must never hold back the review timers.
    notificationsInFlight += 1;
    background.push(
      notifications
        .notifyReviewers({ notification, occurredAt: now() })
        .catch((err) => {
          log.warn('notification could not be recorded', { actionId, key, error: String(err) });
        })
        .finally(() => {
          notificationsInFlight -= 1;
        }),
    );
  };

  // ---- message handlers -------------------------------------------------------------------

  const validateDecision = (decision: ReviewerDecision) => {
    const review = state.review;
    // Routed reviewers may vote while the review request is still being recorded: the inbox can
    // already show it, and a vote then simply ends the wait that is about to start.
    const routed = state.status === 'pending_review' || (state.status === 'classifying' && (review?.assignees.length ?? 0) > 0);
    if (!routed || !review || state.decision || cancellation) {
      throw reject(`action is ${state.status}, not pending review`, DecisionRejection.NotPending);
    }
    if (decision.verdict !== 'approve' && decision.verdict !== 'deny') {
      throw reject('verdict must be approve or deny', DecisionRejection.InvalidDecision);
    }
    // Whatever channel it came through, a decision the evidence store would refuse must not end the action.
    refuseUnstorable({ rationale: decision.rationale, reasonCode: decision.reasonCode, editedPayload: decision.editedPayload });
    if (decision.verdict === 'deny' && !decision.rationale?.trim()) {
      throw reject('a deny needs a rationale', DecisionRejection.InvalidDecision);
    }
    const assigned = review.assignees.includes(decision.reviewer);
    // A requester who was routed here (or any admin) may still deny: denying is always safe, approving never is.
    const routedRequester = review.excluded.includes(decision.reviewer);
    if (requesters.includes(decision.reviewer) && !(decision.verdict === 'deny' && (routedRequester || decision.isAdmin))) {
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
    if (votesInFlight.has(decision.reviewer) || hasStandingVote(review, decision.reviewer)) {
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
      const changed = changedFields(review.candidatePayload, decision.editedPayload);
      const forbidden = changed.filter((field) => !review.editableFields.includes(field));
      if (forbidden.length) {
        throw reject(
          `fields not editable by reviewers: ${forbidden.join(', ')} (editable: ${review.editableFields.join(', ') || 'none'})`,
          DecisionRejection.EditNotAllowed,
        );
      }
    }
  };

  const applyDecision = async (decision: ReviewerDecision): Promise<ActionState> => {
    votesInFlight.add(decision.reviewer);
    try {
      const review = state.review!;
      const before = review.candidatePayload;
      const edited = decision.editedPayload && changedFields(before, decision.editedPayload).length > 0 ? decision.editedPayload : undefined;
      if (edited) {
        // Classified again in full: an edit that would be decided or run differently is refused.
        const reclassified = await evidence.classifyEdit({ ...input, editedPayload: edited });
        const differences = planDifferences(state.policy!, reclassified.decision);
        if (differences.length) {
          throw reject(
            `the edited payload falls under another plan (${reclassified.decision.matchedRules.join(', ') || 'the default'}: ${reclassified.decision.reason}): ${differences.join('; ')}`,
            DecisionRejection.EditRejectedByPolicy,
          );
        }
        // Another vote may have decided, a cancel arrived, or another edit landed while this one was classified.
        if (state.status !== 'pending_review' || state.decision || cancellation) {
          throw reject(`action is ${cancellation ? 'being cancelled' : state.status}, not pending review`, DecisionRejection.NotPending);
        }
        if (review.candidatePayloadHash !== (decision.payloadHash ?? state.payloadHash)) {
          throw reject('the payload changed while your edit was being checked; review it again', DecisionRejection.PayloadChanged);
        }
        // Approvals bind to one exact payload: every approval cast before this edit is void from now on.
        review.candidatePayload = edited;
        review.candidatePayloadHash = reclassified.payloadHash;
        review.candidateSince = review.votes.length;
      }
      const at = now();
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
      const vote: StepRecord = {
        event: {
          actionId,
          eventKey: earlierVotes === 0 ? `vote:${decision.reviewer}` : `vote:${decision.reviewer}:${earlierVotes + 1}`,
          type: decision.breakGlass ? 'review.break_glass' : edited ? 'review.approved_with_edit' : `review.${decision.verdict === 'approve' ? 'approved' : 'denied'}`,
          actor: decision.reviewer,
          data: {
            verdict: decision.verdict,
            rationale: decision.rationale ?? null,
            reasonCode: decision.reasonCode ?? null,
            payloadHash: review.candidatePayloadHash,
            ...(edited ? { editedPayload: edited } : {}),
            approvals: approvers.length,
            approvalsNeeded: review.approvalsNeeded,
          },
          occurredAt: at,
        },
      };
      if (state.decision) {
        // The reviewer hears back once vote and decision are both stored, with the final status.
        votesToStoreWithDecision.push(vote);
        await condition(() => hasReached(state.status, 'decided'));
      } else {
        await record(vote);
        if (edited) {
          // Everyone else routed sees the payload they would now approve, and what changed.
          const others = review.assignees.filter((reviewer) => reviewer !== decision.reviewer);
          notify('payload_edited', `edited:${review.votes.length}`, others, [], { by: decision.reviewer, changes: payloadChanges(before, edited) });
        }
      }
      return state;
    } finally {
      votesInFlight.delete(decision.reviewer);
    }
  };

  setHandler(stateQuery, () => state);
  setHandler(decideUpdate, applyDecision, { validator: validateDecision });
  setHandler(decisionSignal, async (decision) => {
    try {
      validateDecision(decision);
      await applyDecision(decision);
    } catch (err) {
      log.warn('decision signal ignored', { actionId, reviewer: decision.reviewer, error: String(err) });
    }
  });
  setHandler(cancelSignal, (request) => {
    if (state.status === 'classifying' || state.status === 'pending_review') cancellation ??= request;
    else log.info('cancel ignored: action already decided', { actionId, status: state.status });
  });
  setHandler(
    reportExecutionUpdate,
    (executionReport) => {
      report = executionReport;
      return condition(() => isTerminal(state.status)).then(() => state);
    },
    {
      validator: (executionReport) => {
        // The agent may report as soon as it sees the approval, before the workflow records that it waits.
        const approvedForAgent =
          state.policy?.execution.mode === 'agent' && (state.status === 'approved' || state.status === 'allowed' || state.status === 'awaiting_report');
        if (!approvedForAgent || report) {
          throw reject(`action is ${state.status}, not awaiting an execution report`, DecisionRejection.NotAwaitingReport);
        }
        if (typeof executionReport?.payload !== 'object' || executionReport.payload === null || Array.isArray(executionReport.payload)) {
          throw reject('payload must be a JSON object', DecisionRejection.InvalidDecision);
        }
        refuseUnstorable(executionReport);
      },
    },
  );

  // ---- the action's life --------------------------------------------------------------------

  try {
    await decideAndRun();
    // Notifications first, so `action.completed` is the last link of the evidence chain.
    await Promise.all(background);
    if (!completionStored) await record(completionStep(state.status));
  } catch (err) {
    if (!isEvidenceDataError(err)) throw err;
    await failForGood(err);
  }
  await condition(allHandlersFinished);
  return state;

  // ---- steps ----------------------------------------------------------------------------------

  async function decideAndRun(): Promise<void> {
    const admittedAt = now();
    const admission = await evidence.admitAction({ ...input, runId: workflowInfo().runId, occurredAt: admittedAt });
    const policy = admission.decision;
    state.policy = policy;
    state.payloadHash = admission.payloadHash;
    upsertSearchAttributes([{ key: riskTierAttribute, value: policy.risk }]);

    // Admission stored an auto-allow with its execution start in the same write; a cancel that raced it came too late.
    const autoAllowedWith = autoAllowExecutor(policy);
    if (autoAllowedWith) {
      state.approvedPayload = request.payload;
      state.approvedPayloadHash = admission.payloadHash;
      state.decision = policyAllowed(policy.reason, admittedAt);
      state.execution = { mode: 'server', executor: autoAllowedWith };
      setStatus('executing');
    } else if (cancellation) {
      await finish('cancelled', { verdict: 'cancelled', by: [cancellation.by], rationale: cancellation.reason, at: now() });
    } else if (policy.outcome === 'deny') {
      await finish('auto_denied', { verdict: 'auto_denied', by: ['policy'], rationale: policy.reason, at: now() });
    } else if (policy.outcome === 'allow') {
      state.approvedPayload = request.payload;
      state.approvedPayloadHash = admission.payloadHash;
      await finish('allowed', policyAllowed(policy.reason, now()));
    } else {
      await awaitReview();
    }

    if (state.decision?.verdict === 'approved' || state.decision?.verdict === 'allowed') await execute();
  }

  function decidedStep(status: ActionStatus, decision: FinalDecision): StepRecord {
    return decisionStep(actionId, status, decision, { payload: state.approvedPayload, payloadHash: state.approvedPayloadHash });
  }

  /** Stores the decision (with the votes that made it, and the execution start it leads to). */
  async function finish(status: ActionStatus, decision: FinalDecision) {
    state.decision = decision;
    const steps = [...votesToStoreWithDecision, decidedStep(status, decision)];
    const executor = status === 'approved' || status === 'allowed' ? serverExecutor(state.policy!) : undefined;
    if (executor) {
      state.execution = { mode: 'server', executor };
      steps.push(executionStartStep(executor));
    }
    await record(...steps);
  }

  function completionStep(status: ActionStatus): StepRecord {
    return {
      event: { actionId, eventKey: 'completed', type: 'action.completed', actor: SYSTEM_ACTOR, data: { status }, occurredAt: now() },
      projection: { status, completedAt: now() },
    };
  }

  function executionStartStep(executor: string): StepRecord {
    return executionStart(actionId, executor, state.approvedPayloadHash!, now());
  }

  /**
   * Postgres refused a step's data for good: nothing after it can be recorded, so nothing after it
   * runs. The action ends `failed` (visible in the Web UI, the read model where a write still
   * succeeds, the worker log and the failed-status metric) instead of retrying forever.
   */
  async function failForGood(err: unknown): Promise<void> {
    const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
    log.error('a step could not be recorded: its data is refused for good', { actionId, error: message });
    setStatus('failed');
    revision += 1;
    // Best effort, a few tries: the row this would update may be the very data that was refused.
    await lastWords
      .recordStep({
        event: { actionId, eventKey: 'failed', type: 'action.failed', actor: SYSTEM_ACTOR, data: { error: message }, occurredAt: now() },
        projection: { status: 'failed', completedAt: now(), state, stateRevision: revision },
      })
      .catch((again) => log.error('the failure could not be recorded either', { actionId, error: String(again) }));
  }

  async function awaitReview(): Promise<void> {
    const policy = state.policy!;
    const plan = policy.review!;
    const deadlineAt = request.deadline ? Date.parse(request.deadline) : Number.POSITIVE_INFINITY;
    const review: ReviewProgress = {
      tiers: plan.tiers,
      activeTier: 0,
      assignees: [],
      excluded: [],
      approvalsNeeded: plan.approvals,
      votes: [],
      candidatePayload: request.payload,
      candidatePayloadHash: state.payloadHash!,
      candidateSince: 0,
      editableFields: plan.editableFields,
    };
    state.review = review;
    const decided = () => state.decision !== undefined || cancellation !== undefined;
    let deadlinePassed = Date.now() >= deadlineAt;
    /** Set when even the last tier cannot reach its quorum without the requester. */
    let quorumUnreachable = false;

    for (let tier = 0; tier < plan.tiers.length && !decided() && !deadlinePassed; tier++) {
      const tierPlan = plan.tiers[tier]!;
      const previous = review.assignees;
      review.activeTier = tier;
      // Separation of duties: the requester and whom it acts for never approve, nor are asked to.
      review.excluded = unique([...review.excluded, ...tierPlan.reviewers.filter((r) => requesters.includes(r))]);
      const tierReviewers = tierPlan.reviewers.filter((r) => !requesters.includes(r));
      review.assignees = unique([...previous, ...tierReviewers]);
      // Only an exclusion counts here: a policy whose groups are simply too small waits as before.
      const reachable = review.assignees.length >= plan.approvals || review.excluded.length === 0;
      // An agent's deadline may shorten a window, never lengthen it past policy.
      const windowMs = reachable ? Math.max(0, Math.min(tierPlan.durationMs, deadlineAt - Date.now())) : 0;
      review.dueAt = new Date(Date.now() + windowMs).toISOString();
      const eventKey = tier === 0 ? 'review-requested' : `escalated:${tier}`;
      await record({
        event: {
          actionId,
          eventKey,
          type: tier === 0 ? 'review.requested' : 'review.escalated',
          actor: SYSTEM_ACTOR,
          data: {
            tier,
            groups: tierPlan.groups,
            assignees: review.assignees,
            dueAt: review.dueAt,
            approvalsNeeded: plan.approvals,
            ...(review.excluded.length ? { excludedRequesters: review.excluded } : {}),
            // Recorded so the immediate escalation that follows explains itself.
            ...(reachable ? {} : { quorumUnreachable: true }),
          },
          occurredAt: now(),
        },
        // Earlier tiers stay eligible, so routing (and read access) accumulates across tiers.
        projection: {
          status: 'pending_review',
          assignees: review.assignees,
          reviewGroups: unique(plan.tiers.slice(0, tier + 1).flatMap((t) => t.groups)),
          reviewDueAt: review.dueAt,
        },
      });
      upsertSearchAttributes([{ key: assigneesAttribute, value: review.assignees }]);
      if (tierReviewers.length) notify(tier === 0 ? 'review_requested' : 'escalated', eventKey, tierReviewers, tier === 0 ? [] : previous);
      if (!reachable) {
        quorumUnreachable = tier === plan.tiers.length - 1;
        continue;
      }

      const remindBefore = tier === 0 ? plan.remindBeforeMs : undefined;
      if (remindBefore && remindBefore < windowMs) {
        if (await condition(decided, windowMs - remindBefore)) break;
        notify('reminder', 'reminder', review.assignees);
        if (await condition(decided, remindBefore)) break;
      } else if (await condition(decided, windowMs)) {
        break;
      }
      deadlinePassed = Date.now() >= deadlineAt;
    }

    review.dueAt = undefined;
    // Votes still being stored go first, so the evidence chain reads in causal order; deciding
    // votes are stored with the decision (their handlers wait for it).
    await condition(() => votesInFlight.size === votesToStoreWithDecision.length);
    if (cancellation && !state.decision) {
      await finish('cancelled', { verdict: 'cancelled', by: [cancellation.by], rationale: cancellation.reason, at: now() });
    } else if (state.decision?.verdict === 'approved') {
      await finish('approved', state.decision);
    } else if (state.decision?.verdict === 'denied') {
      await finish('denied', state.decision);
    } else {
      await applyTimeoutOutcome(deadlinePassed ? 'deadline' : quorumUnreachable ? 'quorum' : 'window');
    }
    notify('final_outcome', 'final-outcome', review.assignees);
  }

  /**
   * Only the policy's own window may time out to allow, and only the payload as submitted. The
   * agent's deadline, a quorum the requester's exclusion made unreachable, or a reviewer's edit of
   * the payload expire: neither an agent nor a half-finished review may engineer an allow.
   */
  async function applyTimeoutOutcome(why: 'window' | 'deadline' | 'quorum' | 'edited'): Promise<void> {
    const policy = state.policy!;
    const plan = policy.review!;
    // Policy load already refuses this; checked again so high risk can never time out to allow. And
    // the timeout allows only the payload as submitted: once a reviewer edited it, that one was rejected.
    const edited = state.review !== undefined && state.review.candidatePayloadHash !== state.payloadHash;
    if (why === 'window' && edited) why = 'edited';
    const mayAllow = why === 'window' && plan.onTimeout === 'allow' && (policy.risk === 'low' || policy.risk === 'medium');
    const at = now();
    if (mayAllow) {
      state.approvedPayload = request.payload;
      state.approvedPayloadHash = state.payloadHash;
      await finish('approved', { verdict: 'approved', by: ['holdpoint:timeout'], rationale: 'No decision in time; the policy allows on timeout', at });
      return;
    }
    const rationale = {
      window: 'No decision in time; the policy denies on timeout',
      deadline: "The agent's deadline passed before a decision",
      quorum: 'No tier can reach its quorum without the requester',
      edited: 'No decision in time on the edited payload; the policy allows only the submitted one on timeout',
    }[why];
    await finish('expired', { verdict: 'expired', by: ['holdpoint:timeout'], rationale, at });
  }

  async function execute(): Promise<void> {
    const plan = state.policy!.execution;
    const payload = state.approvedPayload!;
    const executor = serverExecutor(state.policy!);
    if (executor) {
      // Started in the same write as the decision (see finish).
      const execution = state.execution!;
      try {
        const outcome = await executors.executeAction({ actionId, request, payload, executor });
        execution.result = outcome.result;
        execution.executedPayloadHash = state.approvedPayloadHash;
        const executed: StepRecord = {
          event: {
            actionId,
            eventKey: 'executed',
            type: 'execution.succeeded',
            actor: executor,
            data: { status: outcome.status, result: outcome.result, executedPayloadHash: state.approvedPayloadHash! },
            occurredAt: now(),
          },
          projection: { status: 'executed', executedPayloadHash: state.approvedPayloadHash, executionResult: outcome.result },
        };
        // With nothing left to notify, `action.completed` may follow in the same write and stay the last link.
        if (notificationsInFlight === 0) {
          await record(executed, completionStep('executed'));
          completionStored = true;
        } else {
          await record(executed);
        }
      } catch (err) {
        if (isEvidenceDataError(err)) throw err;
        const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
        execution.error = message;
        await record({
          event: { actionId, eventKey: 'execution-failed', type: 'execution.failed', actor: executor, data: { error: message }, occurredAt: now() },
          projection: { status: 'execution_failed', executionResult: { error: message } },
        });
      }
      return;
    }

    state.execution = { mode: 'agent' };
    await record({
      event: { actionId, eventKey: 'awaiting-report', type: 'execution.awaiting_report', actor: SYSTEM_ACTOR, data: { approvedPayloadHash: state.approvedPayloadHash! }, occurredAt: now() },
      projection: { status: 'awaiting_report' },
    });
    const reported = await condition(() => report !== undefined, plan.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS);
    if (!reported || !report) {
      await record({
        event: { actionId, eventKey: 'unconfirmed', type: 'execution.unconfirmed', actor: SYSTEM_ACTOR, data: { reportWindowMs: plan.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS }, occurredAt: now() },
        projection: { status: 'unconfirmed' },
      });
      return;
    }
    const matches = canonicalJson(report.payload) === canonicalJson(payload);
    const status: ActionStatus = !matches ? 'mismatch' : report.succeeded ? 'executed' : 'execution_failed';
    state.execution.result = report.result ?? null;
    state.execution.error = report.error;
    state.execution.reportedAt = now();
    revision += 1;
    state.execution.executedPayloadHash = await evidence.recordExecutionReport({
      event: {
        actionId,
        eventKey: 'execution-reported',
        type: matches ? 'execution.reported' : 'execution.mismatch',
        actor: request.agent.id,
        data: {
          succeeded: report.succeeded,
          result: report.result ?? null,
          error: report.error ?? null,
          approvedPayloadHash: state.approvedPayloadHash!,
          ...(matches ? {} : { executedPayload: report.payload }),
        },
        occurredAt: state.execution.reportedAt,
      },
      projection: { status, executionResult: report.result ?? null, state: { ...state, status }, stateRevision: revision },
      executedPayload: report.payload,
    });
    setStatus(status);
  }
}

function refuseUnstorable(value: unknown) {
  const issue = findUnsafeJson(value);
  if (issue) throw reject(`${jsonPath('body', issue.path)} ${issue.message}`, DecisionRejection.InvalidDecision);
}

function isEvidenceDataError(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === EVIDENCE_DATA_ERROR;
}

/** Top-level fields whose values differ between two payloads. */
function changedFields(before: JsonObject, after: JsonObject): string[] {
  const fields = unique([...Object.keys(before), ...Object.keys(after)]);
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

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Shown as the workflow's current details in the Web UI. */
function describe(state: ActionState): string {
  const { request } = state;
  const lines = [`**${state.status}** — ${request.action.type} on ${request.resource.type}:${request.resource.id}`];
  if (state.policy) lines.push(`risk ${state.policy.risk}; ${state.policy.reason}`);
  if (state.review && state.status === 'pending_review') {
    lines.push(`waiting for ${state.review.assignees.join(', ')} (tier ${state.review.activeTier + 1}) until ${state.review.dueAt}`);
  }
  if (state.decision) lines.push(`${state.decision.verdict} by ${state.decision.by.join(', ')}${state.decision.breakGlass ? ' (break-glass)' : ''}`);
  return lines.join('\n\n');
}
