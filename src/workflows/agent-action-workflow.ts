import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HoldpointActivities } from '../activities';
import type { ReviewEventKind } from '../notifications/review-notification';
import type { JsonObject } from '../shared/action';
import type { ActionState, ActionStatus, AgentActionInput, FinalDecision, ReviewProgress } from '../shared/action-state';
import { hasReached, isTerminal } from '../shared/action-state';
import { canonicalJson } from '../shared/canonical-json';
import {
  SYSTEM_ACTOR,
  decidedStep as decisionStep,
  executionStartStep as executionStart,
  policyAllowed,
  type StepRecord,
} from '../shared/evidence-steps';
import {
  awaitOutcomeUpdate,
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
} from '../shared/messages';
import { autoAllowExecutor, serverExecutor, unionChannels, type PolicyOutcome } from '../shared/policy';
import { assigneesAttribute, riskTierAttribute, statusAttribute } from '../shared/search-attributes';

// Evidence writes are local activities: one Postgres transaction each, run inside the workflow
// task instead of a round trip through the task queue (the gate's latency is mostly such hand-offs).
// They must land eventually (Postgres may be down for a while), so they retry without limit.
const evidence = proxyLocalActivities<HoldpointActivities>({
  startToCloseTimeout: '30s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1m' },
});
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

// Each local activity holds the workflow task (and so every waiting Update) open for one more
// round trip; steps that follow each other are stored in one write from these changes on.
/** The deciding vote and the decision. */
const DECIDING_VOTE_WITH_DECISION = 'deciding-vote-stored-with-decision';
/** An allowed action's decision and the start of its server-side execution. */
const ALLOWED_WITH_EXECUTION_START = 'allowed-stored-with-execution-start';
/** An auto-allowed action's decision and execution start, stored by admission itself. */
const AUTO_ALLOW_WITH_ADMISSION = 'auto-allow-stored-with-admission';
/** An approved action's deciding vote, its decision and the start of its server-side execution. */
const APPROVED_WITH_EXECUTION_START = 'approved-stored-with-execution-start';
/** A successful execution and the completion, when no notification is still being sent. */
const EXECUTED_WITH_COMPLETION = 'executed-stored-with-completion';
const DEFAULT_REPORT_WINDOW_MS = 60 * 60 * 1000;
const OUTCOME_RANK: Record<PolicyOutcome, number> = { allow: 0, require_approval: 1, deny: 2 };

/** One agent action, from classification to executed (or refused), with every step recorded. */
export async function agentActionWorkflow(input: AgentActionInput): Promise<ActionState> {
  const { actionId, request } = input;
  const state: ActionState = { actionId, submissionId: input.submissionId, requestHash: input.requestHash, request, status: 'classifying' };
  let cancellation: CancelRequest | undefined;
  let report: ExecutionReport | undefined;
  /** Reviewers whose vote is being processed, so a concurrent second vote is refused. */
  const votesInFlight = new Set<string>();
  /** Deciding votes, stored by the main flow in the same write as the decision. */
  const votesToStoreWithDecision: StepRecord[] = [];
  let completionStored = false;
  let notificationsInFlight = 0;
  const background: Promise<void>[] = [];
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay

  const setStatus = (status: ActionStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: statusAttribute, value: status }]);
    setCurrentDetails(describe(state));
  };

  /** Records a step that moves the action to `status`, then makes the status visible. */
  const advance = async (status: ActionStatus, eventKey: string, type: string, data: JsonObject, actor = SYSTEM_ACTOR) => {
    await evidence.recordStep({ event: { actionId, eventKey, type, actor, data, occurredAt: now() }, projection: { status } });
    setStatus(status);
  };

  const notify = (kind: ReviewEventKind, key: string, recipients: string[], informed: string[] = []) => {
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
      throw ApplicationFailure.nonRetryable(`action is ${state.status}, not pending review`, DecisionRejection.NotPending);
    }
    if (decision.reviewer === request.agent.id || decision.reviewer === request.agent.onBehalfOf) {
      throw ApplicationFailure.nonRetryable('the requester cannot decide on its own action', DecisionRejection.SelfApproval);
    }
    if (!decision.isAdmin && !review.assignees.includes(decision.reviewer)) {
      throw ApplicationFailure.nonRetryable(`${decision.reviewer} is not a reviewer of an active tier`, DecisionRejection.NotEligible);
    }
    if (votesInFlight.has(decision.reviewer) || review.votes.some((v) => v.reviewer === decision.reviewer)) {
      throw ApplicationFailure.nonRetryable(`${decision.reviewer} has already voted`, DecisionRejection.DuplicateVote);
    }
    if (decision.verdict !== 'approve' && decision.verdict !== 'deny') {
      throw ApplicationFailure.nonRetryable('verdict must be approve or deny', DecisionRejection.InvalidDecision);
    }
    if (decision.verdict === 'deny' && !decision.rationale?.trim()) {
      throw ApplicationFailure.nonRetryable('a deny needs a rationale', DecisionRejection.InvalidDecision);
    }
    if (decision.editedPayload) {
      if (decision.verdict !== 'approve') {
        throw ApplicationFailure.nonRetryable('only an approval can carry an edited payload', DecisionRejection.InvalidDecision);
      }
      const changed = changedFields(review.candidatePayload, decision.editedPayload);
      const forbidden = changed.filter((field) => !review.editableFields.includes(field));
      if (forbidden.length) {
        throw ApplicationFailure.nonRetryable(
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
      const edited =
        decision.editedPayload && changedFields(review.candidatePayload, decision.editedPayload).length > 0
          ? decision.editedPayload
          : undefined;
      if (edited) {
        const reclassified = await evidence.classifyEdit({ ...input, editedPayload: edited });
        if (OUTCOME_RANK[reclassified.decision.outcome] > OUTCOME_RANK[state.policy!.outcome] || reclassified.decision.outcome === 'deny') {
          throw ApplicationFailure.nonRetryable(
            `the edited payload is classified ${reclassified.decision.outcome} by ${reclassified.decision.matchedRules.join(', ') || 'the default'}: ${reclassified.decision.reason}`,
            DecisionRejection.EditRejectedByPolicy,
          );
        }
        // Another vote may have decided while the edit was being classified.
        if (state.status !== 'pending_review' || state.decision) {
          throw ApplicationFailure.nonRetryable(`action is ${state.status}, not pending review`, DecisionRejection.NotPending);
        }
        // Approvals bind to one exact payload: earlier approvals of the old payload no longer count.
        review.candidatePayload = edited;
        review.candidatePayloadHash = reclassified.payloadHash;
      }
      const at = now();
      review.votes.push({
        reviewer: decision.reviewer,
        verdict: decision.verdict,
        rationale: decision.rationale,
        reasonCode: decision.reasonCode,
        payloadHash: review.candidatePayloadHash,
        at,
      });
      const approvers = review.votes.filter((v) => v.verdict === 'approve' && v.payloadHash === review.candidatePayloadHash);
      if (decision.verdict === 'deny') {
        state.decision = { verdict: 'denied', by: [decision.reviewer], rationale: decision.rationale, reasonCode: decision.reasonCode, at };
      } else if (approvers.length >= review.approvalsNeeded) {
        state.decision = { verdict: 'approved', by: approvers.map((v) => v.reviewer), rationale: decision.rationale, at };
        state.approvedPayload = review.candidatePayload;
        state.approvedPayloadHash = review.candidatePayloadHash;
      }
      const vote: StepRecord = {
        event: {
          actionId,
          eventKey: `vote:${decision.reviewer}`,
          type: edited ? 'review.approved_with_edit' : `review.${decision.verdict === 'approve' ? 'approved' : 'denied'}`,
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
      if (state.decision && patched(DECIDING_VOTE_WITH_DECISION)) {
        // The reviewer hears back once vote and decision are both stored, with the final status.
        votesToStoreWithDecision.push(vote);
        // Statuses become visible only once stored (see finish).
        await condition(() => hasReached(state.status, 'decided'));
      } else {
        await evidence.recordStep(vote);
      }
      return state;
    } finally {
      votesInFlight.delete(decision.reviewer);
    }
  };

  setHandler(stateQuery, () => state);
  setHandler(
    awaitOutcomeUpdate,
    async ({ until }) => {
      await condition(() => hasReached(state.status, until));
      return state;
    },
    {
      validator: ({ until }) => {
        if (!['classified', 'decided', 'completed'].includes(until)) {
          throw ApplicationFailure.nonRetryable(`unknown milestone ${String(until)}`, DecisionRejection.InvalidDecision);
        }
      },
    },
  );
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
          throw ApplicationFailure.nonRetryable(`action is ${state.status}, not awaiting an execution report`, DecisionRejection.NotAwaitingReport);
        }
        if (typeof executionReport?.payload !== 'object' || executionReport.payload === null || Array.isArray(executionReport.payload)) {
          throw ApplicationFailure.nonRetryable('payload must be a JSON object', DecisionRejection.InvalidDecision);
        }
      },
    },
  );

  // ---- the action's life --------------------------------------------------------------------

  const storeAutoAllow = patched(AUTO_ALLOW_WITH_ADMISSION);
  const admittedAt = now();
  const admission = await evidence.admitAction({
    ...input,
    runId: workflowInfo().runId,
    occurredAt: admittedAt,
    ...(storeAutoAllow ? { storeAutoAllow } : {}),
  });
  const policy = admission.decision;
  state.policy = policy;
  state.payloadHash = admission.payloadHash;
  upsertSearchAttributes([{ key: riskTierAttribute, value: policy.risk }]);

  const decidedStep = (status: ActionStatus, decision: FinalDecision): StepRecord =>
    decisionStep(actionId, status, decision, { payload: state.approvedPayload, payloadHash: state.approvedPayloadHash });

  const finish = async (status: ActionStatus, decision: FinalDecision) => {
    state.decision = decision;
    const steps = [...votesToStoreWithDecision, decidedStep(status, decision)];
    const executor = status === 'approved' ? serverExecutor(policy) : undefined;
    if (executor && patched(APPROVED_WITH_EXECUTION_START)) {
      state.execution = { mode: 'server', executor };
      steps.push(executionStartStep(executor));
    }
    // Stored before it is visible: whoever sees this status through the API finds it in Postgres too.
    if (steps.length > 1) await evidence.recordSteps(steps);
    else await evidence.recordStep(steps[0]!);
    setStatus(state.execution ? 'executing' : status);
  };

  // Admission stored these in the same write (it was asked to); a cancel that raced it came too late.
  const autoAllowedWith = storeAutoAllow ? autoAllowExecutor(policy) : undefined;
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
    const decision = policyAllowed(policy.reason, now());
    const executor = serverExecutor(policy);
    if (executor && patched(ALLOWED_WITH_EXECUTION_START)) {
      state.decision = decision;
      state.execution = { mode: 'server', executor };
      await evidence.recordSteps([decidedStep('allowed', decision), executionStartStep(executor)]);
      setStatus('executing');
    } else {
      await finish('allowed', decision);
    }
  } else {
    await awaitReview();
  }

  if (state.decision?.verdict === 'approved' || state.decision?.verdict === 'allowed') await execute();

  // Notifications first, so `action.completed` is the last link of the evidence chain.
  await Promise.all(background);
  if (!completionStored) await evidence.recordStep(completionStep(state.status));
  await condition(allHandlersFinished);
  return state;

  // ---- steps ----------------------------------------------------------------------------------

  function completionStep(status: ActionStatus): StepRecord {
    return {
      event: { actionId, eventKey: 'completed', type: 'action.completed', actor: SYSTEM_ACTOR, data: { status }, occurredAt: now() },
      projection: { status, completedAt: now() },
    };
  }

  function executionStartStep(executor: string): StepRecord {
    return executionStart(actionId, executor, state.approvedPayloadHash!, now());
  }

  async function awaitReview(): Promise<void> {
    const plan = policy.review!;
    const deadlineAt = request.deadline ? Date.parse(request.deadline) : Number.POSITIVE_INFINITY;
    const review: ReviewProgress = {
      tiers: plan.tiers,
      activeTier: 0,
      assignees: [],
      approvalsNeeded: plan.approvals,
      votes: [],
      candidatePayload: request.payload,
      candidatePayloadHash: admission.payloadHash,
      editableFields: plan.editableFields,
    };
    state.review = review;
    const decided = () => state.decision !== undefined || cancellation !== undefined;

    for (let tier = 0; tier < plan.tiers.length && !decided(); tier++) {
      const tierPlan = plan.tiers[tier]!;
      const previous = review.assignees;
      review.activeTier = tier;
      review.assignees = unique([...previous, ...tierPlan.reviewers]);
      // An agent's deadline may shorten a window, never lengthen it past policy.
      const windowMs = Math.max(0, Math.min(tierPlan.durationMs, deadlineAt - Date.now()));
      review.dueAt = new Date(Date.now() + windowMs).toISOString();
      const eventKey = tier === 0 ? 'review-requested' : `escalated:${tier}`;
      await evidence.recordStep({
        event: {
          actionId,
          eventKey,
          type: tier === 0 ? 'review.requested' : 'review.escalated',
          actor: SYSTEM_ACTOR,
          data: { tier, groups: tierPlan.groups, assignees: review.assignees, dueAt: review.dueAt, approvalsNeeded: plan.approvals },
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
      setStatus('pending_review');
      notify(tier === 0 ? 'review_requested' : 'escalated', eventKey, tierPlan.reviewers, tier === 0 ? [] : previous);

      const remindBefore = tier === 0 ? plan.remindBeforeMs : undefined;
      if (remindBefore && remindBefore < windowMs) {
        if (await condition(decided, windowMs - remindBefore)) break;
        notify('reminder', 'reminder', review.assignees);
        if (await condition(decided, remindBefore)) break;
      } else if (await condition(decided, windowMs)) {
        break;
      }
      if (Date.now() >= deadlineAt) break;
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
      await applyTimeoutOutcome();
    }
    notify('final_outcome', 'final-outcome', review.assignees);
  }

  async function applyTimeoutOutcome(): Promise<void> {
    const plan = policy.review!;
    // Policy load already refuses this; checked again so high risk can never time out to allow.
    const mayAllow = plan.onTimeout === 'allow' && (policy.risk === 'low' || policy.risk === 'medium');
    const at = now();
    if (mayAllow) {
      state.approvedPayload = request.payload;
      state.approvedPayloadHash = admission.payloadHash;
      await finish('approved', { verdict: 'approved', by: ['holdpoint:timeout'], rationale: 'No decision in time; the policy allows on timeout', at });
    } else {
      await finish('expired', { verdict: 'expired', by: ['holdpoint:timeout'], rationale: 'No decision in time; the policy denies on timeout', at });
    }
  }

  async function execute(): Promise<void> {
    const plan = policy.execution;
    const payload = state.approvedPayload!;
    if (plan.mode === 'server' && plan.executor) {
      // Already started when the decision was stored with the execution start.
      if (!state.execution) {
        state.execution = { mode: 'server', executor: plan.executor };
        await evidence.recordStep(executionStartStep(plan.executor));
        setStatus('executing');
      }
      const execution = state.execution!;
      try {
        const outcome = await executors.executeAction({ actionId, actionType: request.action.type, payload, executor: plan.executor });
        execution.result = outcome.result;
        execution.executedPayloadHash = state.approvedPayloadHash;
        const executed: StepRecord = {
          event: {
            actionId,
            eventKey: 'executed',
            type: 'execution.succeeded',
            actor: plan.executor,
            data: { status: outcome.status, result: outcome.result, executedPayloadHash: state.approvedPayloadHash! },
            occurredAt: now(),
          },
          projection: { status: 'executed', executedPayloadHash: state.approvedPayloadHash, executionResult: outcome.result },
        };
        // With nothing left to notify, `action.completed` may follow in the same write and stay the last link.
        if (notificationsInFlight === 0 && patched(EXECUTED_WITH_COMPLETION)) {
          await evidence.recordSteps([executed, completionStep('executed')]);
          completionStored = true;
        } else {
          await evidence.recordStep(executed);
        }
        setStatus('executed');
      } catch (err) {
        const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
        execution.error = message;
        await evidence.recordStep({
          event: { actionId, eventKey: 'execution-failed', type: 'execution.failed', actor: plan.executor, data: { error: message }, occurredAt: now() },
          projection: { status: 'execution_failed', executionResult: { error: message } },
        });
        setStatus('execution_failed');
      }
      return;
    }

    state.execution = { mode: 'agent' };
    await advance('awaiting_report', 'awaiting-report', 'execution.awaiting_report', { approvedPayloadHash: state.approvedPayloadHash! });
    const reported = await condition(() => report !== undefined, plan.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS);
    if (!reported || !report) {
      await advance('unconfirmed', 'unconfirmed', 'execution.unconfirmed', { reportWindowMs: plan.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS });
      return;
    }
    const matches = canonicalJson(report.payload) === canonicalJson(payload);
    const status: ActionStatus = !matches ? 'mismatch' : report.succeeded ? 'executed' : 'execution_failed';
    state.execution.result = report.result ?? null;
    state.execution.error = report.error;
    state.execution.reportedAt = now();
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
      projection: { status, executionResult: report.result ?? null },
      executedPayload: report.payload,
    });
    setStatus(status);
  }
}

/** Top-level fields whose values differ between two payloads. */
function changedFields(before: JsonObject, after: JsonObject): string[] {
  const fields = unique([...Object.keys(before), ...Object.keys(after)]);
  return fields.filter((field) => canonicalJson(before[field] ?? null) !== canonicalJson(after[field] ?? null) || (field in before) !== (field in after));
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
  if (state.decision) lines.push(`${state.decision.verdict} by ${state.decision.by.join(', ')}`);
  return lines.join('\n\n');
}
