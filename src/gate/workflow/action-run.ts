import { log, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ActionState, ActionStatus, AgentActionInput, FinalDecision } from '../../shared/action-state';
import {
  completedStep,
  decidedStep,
  executionStartStep,
  failedStep,
  policyAllowed,
  type ActionProjection,
  type StepRecord,
} from '../../shared/evidence-steps';
import type { CancelRequest, ExecutionReport } from '../../shared/messages';
import { autoAllowExecutor, serverExecutor, type PolicyDecision } from '../../shared/policy';
import { riskTierAttribute, statusAttribute } from '../../shared/search-attributes';
import { activityErrorMessage, evidence, lastWords } from './activity-proxies';

/** What a step stores besides its event: the state it leads to (the read model), and that state's revision. */
export type ReadModel = Required<Pick<ActionProjection, 'state' | 'stateRevision'>>;

/**
 * One run of an action: its state, what its messages brought, and the one way it moves on
 * (`advance`): a status is stored in Postgres, with the state it belongs to, before anyone sees it.
 */
export class ActionRun {
  readonly state: ActionState;
  /** The requester and the principal it acts for: never approvers of their own action. */
  readonly requesters: string[];
  cancellation?: CancelRequest;
  report?: ExecutionReport;
  /** Reviewers whose vote is being processed, so a concurrent second vote is refused. */
  readonly votesInFlight = new Set<string>();
  /** Deciding votes, stored by the main flow in the same write as the decision. */
  readonly votesToStoreWithDecision: StepRecord[] = [];
  /** Orders the read-model snapshots: a late-committing older write never replaces a newer one. Admission wrote 0. */
  private revision = 0;
  private completionStored = false;
  private readonly background: Promise<void>[] = [];
  private backgroundInFlight = 0;

  constructor(readonly input: AgentActionInput) {
    const { actionId, request } = input;
    this.state = { actionId, submissionId: input.submissionId, requestHash: input.requestHash, request, status: 'classifying' };
    this.requesters = [request.agent.id, ...(request.agent.onBehalfOf ? [request.agent.onBehalfOf] : [])];
  }

  get actionId(): string {
    return this.state.actionId;
  }

  /** Workflow time: deterministic on replay. */
  now(): string {
    return new Date().toISOString();
  }

  /**
   * The one way the action moves on: `write` stores the steps that lead to `status` in one
   * transaction, with the read model it is given; then the status becomes visible (search attribute,
   * Web UI details), so whoever sees a status (API, waiters, queries) finds it in Postgres too.
   * Without `write`, the steps are stored already (admission stores an auto-allow with the request).
   */
  async advance<T>(status: ActionStatus, write?: (readModel: ReadModel) => Promise<T>): Promise<T | undefined> {
    let written: T | undefined;
    if (write) {
      this.revision += 1;
      written = await write({ state: { ...this.state, status }, stateRevision: this.revision });
    }
    if (status !== this.state.status) {
      this.state.status = status;
      upsertSearchAttributes([{ key: statusAttribute, value: status }]);
      setCurrentDetails(describe(this.state));
    }
    return written;
  }

  /** Stores steps in one write and moves to the status the last of them sets. */
  async record(...steps: StepRecord[]): Promise<void> {
    const status = [...steps].reverse().find((step) => step.projection?.status)?.projection?.status ?? this.state.status;
    await this.advance(status, (readModel) => {
      const last = steps[steps.length - 1]!;
      const all = [...steps.slice(0, -1), { ...last, projection: { ...last.projection, ...readModel } }];
      return all.length > 1 ? evidence.recordSteps(all) : evidence.recordStep(all[0]!);
    });
  }

  /** Stores the request and its classification; an auto-allow comes back decided and executing. */
  async admit(): Promise<PolicyDecision> {
    const { state } = this;
    const admittedAt = this.now();
    const admission = await evidence.admitAction({ ...this.input, runId: workflowInfo().runId, occurredAt: admittedAt });
    const policy = admission.decision;
    state.policy = policy;
    state.payloadHash = admission.payloadHash;
    upsertSearchAttributes([{ key: riskTierAttribute, value: policy.risk }]);
    // Admission stored an auto-allow with its execution start in the same write; a cancel that raced it came too late.
    const executor = autoAllowExecutor(policy);
    if (executor) {
      state.approvedPayload = state.request.payload;
      state.approvedPayloadHash = admission.payloadHash;
      state.decision = policyAllowed(policy.reason, admittedAt);
      state.execution = { mode: 'server', executor };
      await this.advance('executing');
    }
    return policy;
  }

  /** Stores the decision, with the votes that made it and the execution start it leads to. */
  async decide(status: ActionStatus, decision: FinalDecision): Promise<void> {
    const { state } = this;
    state.decision = decision;
    const steps = [...this.votesToStoreWithDecision, decidedStep(this.actionId, status, decision, { payload: state.approvedPayload, payloadHash: state.approvedPayloadHash })];
    const executor = status === 'approved' || status === 'allowed' ? serverExecutor(state.policy!) : undefined;
    if (executor) {
      state.execution = { mode: 'server', executor };
      steps.push(executionStartStep(this.actionId, executor, state.approvedPayloadHash!, this.now()));
    }
    await this.record(...steps);
  }

  /** Work that must not hold back the review timers (notifications); the action completes after it. */
  inBackground(work: Promise<void>): void {
    this.backgroundInFlight += 1;
    this.background.push(
      work.finally(() => {
        this.backgroundInFlight -= 1;
      }),
    );
  }

  /** Stores the step that ends the action; with nothing left in the background, `action.completed` joins its write. */
  async recordLast(step: StepRecord): Promise<void> {
    if (this.backgroundInFlight > 0) return this.record(step);
    await this.record(step, completedStep(this.actionId, step.projection!.status!, this.now()));
    this.completionStored = true;
  }

  /** `action.completed` last, after every notification, so it stays the last link of the evidence chain. */
  async complete(): Promise<void> {
    await Promise.all(this.background);
    if (!this.completionStored) await this.record(completedStep(this.actionId, this.state.status, this.now()));
  }

  /**
   * Postgres refused a step's data for good: nothing after it can be recorded, so nothing after it
   * runs. The action ends `failed` (visible in the Web UI, the read model where a write still
   * succeeds, the worker log and the failed-status metric) instead of retrying forever.
   */
  async failForGood(err: unknown): Promise<void> {
    const { actionId } = this;
    const message = activityErrorMessage(err);
    log.error('a step could not be recorded: its data is refused for good', { actionId, error: message });
    const step = failedStep(actionId, message, this.now());
    // Best effort, a few tries: the row this would update may be the very data that was refused.
    await this.advance('failed', (readModel) =>
      lastWords
        .recordStep({ ...step, projection: { ...step.projection, ...readModel } })
        .catch((again) => log.error('the failure could not be recorded either', { actionId, error: String(again) })),
    );
  }
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
