import {
  QueryRejectedError,
  WorkflowClient,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Principal } from '../../access/principal';
import { canonicalHash } from '../../evidence/payload-hash';
import type { ActionRequest } from '../../shared/action';
import { actionWorkflowId, hasReached, hasRecordedVote, type ActionState, type AgentActionInput } from '../../shared/action-state';
import {
  cancelUpdate,
  decideUpdate,
  reportExecutionUpdate,
  stateQuery,
  type CancelRequest,
  type ExecutionReport,
  type OutcomeMilestone,
  type ReviewerDecision,
} from '../../shared/messages';
import { actionTypeAttribute, agentIdAttribute, statusAttribute } from '../../shared/search-attributes';
import { HttpProblem } from '../../platform/http/problem';
import { requireReadable } from '../../access/action-access';
import { ActionChangeFeed, type StoredAction } from './action-change-feed';
import type { DecisionEligibility } from '../../access/reviewer-eligibility';
import { toHttpProblem } from './workflow-errors';

export interface ActionServiceOptions {
  client: Client;
  pool: Pool;
  taskQueue: string;
  /** Where waits learn of changes; default: one feed of this service's own over `pool`. */
  changes?: ActionChangeFeed;
  /** Checked before every decision: current identity and group membership (reviewer-eligibility.ts). */
  eligibility?: DecisionEligibility;
}

/** How long a submission without ?wait may take, start included, before answering 202 (within the API's 10 s bound). */
const CLASSIFICATION_BUDGET_MS = 8_000;
/** How long a decision waits for the workflow to settle the status it caused. */
const SETTLE_WAIT_MS = 5_000;

export interface Submission {
  state: ActionState;
  /** False when the idempotency key named an action that already existed. */
  created: boolean;
  /** False when a hold ran out before the action reached its milestone. */
  reached: boolean;
}

/** Hold the submission's answer until the action reaches a milestone, for at most `timeoutMs`. */
export interface SubmitHold {
  until: OutcomeMilestone;
  timeoutMs: number;
}

export interface WaitResult {
  state: ActionState;
  /** True when the milestone was reached before the wait ended. */
  reached: boolean;
}

function summary(request: ActionRequest): string {
  const payload = request.payload;
  const amount = typeof payload.amount === 'number' ? ` ${payload.amount}${typeof payload.currency === 'string' ? ` ${payload.currency}` : ''}` : '';
  return `${request.action.type}${amount} for ${request.resource.type}:${request.resource.id} by ${request.agent.id}`.slice(0, 200);
}

export class ActionService {
  /**
   * Queries only open runs: a query on a closed run makes a worker replay its whole history, while
   * the run's result (the final state) is one read from the server. Only for actions stored before
   * the read model existed; everything else is read from Postgres.
   */
  private readonly openRuns: WorkflowClient;
  readonly changes: ActionChangeFeed;

  constructor(private readonly options: ActionServiceOptions) {
    const { connection, namespace, dataConverter } = options.client.options;
    this.openRuns = new WorkflowClient({ connection, namespace, dataConverter, queryRejectCondition: 'NOT_OPEN' });
    this.changes = options.changes ?? new ActionChangeFeed(options.pool);
  }

  /**
   * One workflow per (agent, idempotency key). A retry with the same body returns the same action;
   * the same key with a different body is a conflict, never a second action. The answer waits on the
   * read model (never on a workflow Update), for the classification or the milestone a hold asks for.
   */
  async submit(request: ActionRequest, idempotencyKey: string, submitter?: Principal, hold?: SubmitHold): Promise<Submission> {
    // Only as itself: an admin submitting "as" an agent could then approve its own request.
    if (submitter && (submitter.role !== 'agent' || submitter.id !== request.agent.id)) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden', `${submitter.id} may only submit actions as itself (agent.id is ${request.agent.id})`);
    }
    assertDeadlineAhead(request);
    const actionId = actionWorkflowId(request.agent.id, idempotencyKey);
    const requestHash = canonicalHash(request);
    const started = Date.now();
    const until: OutcomeMilestone = hold && hold.timeoutMs > 0 ? hold.until : 'classified';
    // A stored request with another hash is answered at once (409), not after the wait.
    const answered = (row: StoredAction) => row.state !== null && (row.state.requestHash !== requestHash || hasReached(row.state.status, until));

    const known = await this.changes.read(actionId);
    let submissionId: string | undefined;
    if (!known?.state) {
      submissionId = randomUUID();
      const input: AgentActionInput = { actionId, submissionId, idempotencyKey, request, requestHash, submittedAt: new Date().toISOString() };
      try {
        await this.options.client.withDeadline(Date.now() + START_MS, () => this.options.client.workflow.start('agentActionWorkflow', {
          workflowId: actionId,
          taskQueue: this.options.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A finished action keeps its id: a late retry must not run it a second time.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: summary(request),
          typedSearchAttributes: [
            { key: statusAttribute, value: 'classifying' },
            { key: actionTypeAttribute, value: request.action.type },
            { key: agentIdAttribute, value: request.agent.id },
          ],
        }));
      } catch (err) {
        if (isDeadlineExceeded(err)) throw unavailable('Temporal did not start the action', START_MS);
        // Finished under this id already (reuse is rejected): its stored state answers.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    // Without a hold, the classification is awaited only for what is left of the request's bound.
    const timeoutMs = hold && hold.timeoutMs > 0 ? hold.timeoutMs : Math.max(0, CLASSIFICATION_BUDGET_MS - (Date.now() - started));
    const row = known?.state && answered(known) ? known : await this.changes.waitFor(actionId, answered, timeoutMs);
    // Not even classified in time (Postgres slow or down): what was asked, as far as we know it.
    const state = row?.state ?? (await this.legacyState(actionId, row)) ?? {
      actionId,
      submissionId: submissionId ?? '',
      requestHash,
      request,
      status: 'classifying' as const,
    };
    this.assertSameRequest(state.requestHash, requestHash, idempotencyKey);
    return { state, created: submissionId !== undefined && state.submissionId === submissionId, reached: hasReached(state.status, until) };
  }

  async get(principal: Principal, actionId: string): Promise<ActionState> {
    const row = await requireReadable(this.options.pool, principal, actionId);
    return row.state ?? this.liveState(actionId);
  }

  /**
   * Long-poll on the read model: resolves as soon as the stored state reaches the milestone (woken
   * by NOTIFY), or with the current state when `timeoutMs` passes first. Holds nothing in Temporal,
   * so any number of waiters cost reviewers nothing.
   */
  async wait(principal: Principal | undefined, actionId: string, until: OutcomeMilestone, timeoutMs: number): Promise<WaitResult> {
    const reached = (row: StoredAction) => row.state !== null && hasReached(row.state.status, until);
    const known = principal ? await requireReadable(this.options.pool, principal, actionId) : await this.changes.read(actionId);
    const row = known && reached(known) ? known : timeoutMs > 0 ? await this.changes.waitFor(actionId, reached, timeoutMs) : known;
    const state = row?.state ?? (await this.liveState(actionId));
    return { state, reached: hasReached(state.status, until) };
  }

  /**
   * One cancel is one Update, like a decision: its id is derived from (action, who, reason), so a
   * retry attaches to the first instead of cancelling twice, and a retry after it was recorded
   * answers with the same result. The workflow's validator refuses it (409 not-pending) once the
   * action is decided; a cancel that loses the race with an auto-allow stored by admission, too.
   */
  async cancel(principal: Principal, actionId: string, reason?: string): Promise<ActionState> {
    const row = await requireReadable(this.options.pool, principal, actionId);
    if (principal.role !== 'admin' && row.agent_id !== principal.id) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden', 'only the requesting agent or an admin may cancel an action');
    }
    const request: CancelRequest = { by: principal.id, reason };
    // Already recorded (the workflow may have finished since): the same answer as the first time.
    if (row.state && isCancelledBy(row.state, request)) return row.state;
    const state = await this.runUpdate(actionId, cancelUpdate, request, cancelUpdateId(request), 'the cancel', (stored) => isCancelledBy(stored, request));
    // Lost a race with a decision (an auto-allow stored with admission).
    if (state.status !== 'cancelled') {
      throw new HttpProblem(409, 'not-pending', 'Not pending', `the action was decided (${state.status}) before the cancel arrived`);
    }
    return state;
  }

  async reportExecution(principal: Principal, actionId: string, report: ExecutionReport): Promise<ActionState> {
    const row = await requireReadable(this.options.pool, principal, actionId);
    if (row.agent_id !== principal.id) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden', 'only the requesting agent reports what it executed');
    }
    try {
      return await this.options.client.workflow.getHandle(actionId).executeUpdate(reportExecutionUpdate, { args: [report] });
    } catch (err) {
      throw toHttpProblem(err);
    }
  }

  /**
   * One decision is one Update, whatever happens to the request: its id is derived from (action,
   * reviewer, verdict, payload hash, edit), so a retry while the first is being recorded attaches to
   * it instead of voting twice, and a retry after it was recorded answers with the same result.
   */
  async decide(principal: Principal, actionId: string, decision: Omit<ReviewerDecision, 'reviewer' | 'isAdmin'>): Promise<ActionState> {
    await this.options.eligibility?.(principal, actionId);
    const row = await requireReadable(this.options.pool, principal, actionId);
    const vote: ReviewerDecision = { ...decision, reviewer: principal.id, isAdmin: principal.role === 'admin' };
    // Already recorded (the workflow may have finished since): the same answer as the first time.
    if (row.state && isRecorded(row.state, vote)) return this.settled(row.state);
    const state = await this.runUpdate(actionId, decideUpdate, vote, decisionUpdateId(vote), 'the decision', (stored) => isRecorded(stored, vote));
    return this.settled(state);
  }

  /**
   * Runs a decision or cancel Update, bounded: not taken by Temporal and the worker within
   * DECISION_ACCEPT_MS → 503; taken but not yet recorded within DECISION_RECORD_MS (Postgres down)
   * → 202 "being recorded". A refusal maps to its HTTP status, unless the stored state shows the
   * request took effect after all (`recorded`: an Update refused because the run closed meanwhile).
   */
  private async runUpdate<Arg>(
    actionId: string,
    definition: UpdateDefinition<ActionState, [Arg]>,
    arg: Arg,
    updateId: string,
    what: string,
    recorded: (stored: ActionState) => boolean,
  ): Promise<ActionState> {
    const handle = this.options.client.workflow.getHandle(actionId);
    let update;
    try {
      update = await this.options.client.withDeadline(Date.now() + DECISION_ACCEPT_MS, () =>
        handle.startUpdate(definition, { args: [arg], updateId, waitForStage: 'ACCEPTED' }),
      );
    } catch (err) {
      if (isDeadlineExceeded(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw unavailable(`Temporal or the Holdpoint worker did not take ${what}`, DECISION_ACCEPT_MS);
      }
      const stored = (await this.changes.read(actionId).catch(() => undefined))?.state;
      if (stored && recorded(stored)) return stored;
      throw toHttpProblem(err);
    }
    try {
      return await withTimeout(update.result(), DECISION_RECORD_MS);
    } catch (err) {
      if (err instanceof TimeoutError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        throw new HttpProblem(202, 'being-recorded', 'Being recorded', `${what} was taken and is being recorded (the evidence store is slow or down); send the same request again for its outcome`, {
          retryAfterSeconds: 2,
        });
      }
      throw toHttpProblem(err);
    }
  }

  /** The deciding vote returns before the workflow settles the outcome; answer with the settled status. */
  private async settled(state: ActionState): Promise<ActionState> {
    if (state.decision && !hasReached(state.status, 'decided')) return (await this.wait(undefined, state.actionId, 'decided', SETTLE_WAIT_MS)).state;
    return state;
  }

  /** Live state from the workflow while it runs; once it has closed, the final state it returned. */
  async liveState(actionId: string): Promise<ActionState> {
    try {
      return await this.openRuns.getHandle(actionId).query(stateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'not-found', 'Not found', `no action ${actionId}`);
      if (!(err instanceof QueryRejectedError)) throw err;
    }
    return this.finalState(actionId);
  }

  /** An action stored before the read model existed has a row but no state: ask the workflow. */
  private async legacyState(actionId: string, row: StoredAction | undefined): Promise<ActionState | undefined> {
    return row && !row.state ? this.liveState(actionId) : undefined;
  }

  private async finalState(actionId: string): Promise<ActionState> {
    const handle = this.options.client.workflow.getHandle(actionId);
    try {
      const result = (await handle.result()) as ActionState | undefined;
      if (result && typeof result.status === 'string') return result;
    } catch {
      // Terminated, timed out or failed by an operator: it returned nothing, so replay it for its state.
    }
    return handle.query(stateQuery);
  }

  private assertSameRequest(storedHash: string, requestHash: string, idempotencyKey: string) {
    if (storedHash !== requestHash) {
      throw new HttpProblem(
        409,
        'idempotency-conflict',
        'Idempotency key reused',
        `Idempotency-Key ${idempotencyKey} was already used for a different request; use a new key for a new action`,
      );
    }
  }
}

/** Within this, Temporal must have started (or found) the action's workflow. */
const START_MS = 6_000;
/** Within this, Temporal must hand the decision (or cancel) to a worker and its validator accept it. */
const DECISION_ACCEPT_MS = 4_000;
/** Within this, the accepted decision (or cancel) must be stored; beyond it the caller hears 202 "being recorded". */
const DECISION_RECORD_MS = 5_000;

/** The same reviewer deciding the same way on the same payload is the same decision. */
function decisionUpdateId(vote: ReviewerDecision): string {
  const key = { reviewer: vote.reviewer, verdict: vote.verdict, payloadHash: vote.payloadHash ?? null, editedPayload: vote.editedPayload ?? null, breakGlass: vote.breakGlass ?? false };
  return `decide-${canonicalHash(key).slice('sha256:'.length, 'sha256:'.length + 32)}`;
}

/** The same principal cancelling for the same reason is the same cancel. */
function cancelUpdateId(request: CancelRequest): string {
  return `cancel-${canonicalHash({ by: request.by, reason: request.reason ?? null }).slice('sha256:'.length, 'sha256:'.length + 32)}`;
}

/** Whether the stored state already holds this very decision, still standing (see hasRecordedVote). */
function isRecorded(state: ActionState, vote: ReviewerDecision): boolean {
  // The payload the vote names: its edit, its hash, or the submitted one.
  const payloadHash = vote.editedPayload ? canonicalHash(vote.editedPayload) : (vote.payloadHash ?? state.payloadHash);
  return hasRecordedVote(state.review, { reviewer: vote.reviewer, verdict: vote.verdict, payloadHash });
}

/** Whether the stored state is this very cancel, recorded. */
function isCancelledBy(state: ActionState, request: CancelRequest): boolean {
  const decision = state.decision;
  return state.status === 'cancelled' && decision?.verdict === 'cancelled' && decision.by.length === 1 && decision.by[0] === request.by && (decision.rationale ?? undefined) === request.reason;
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isDeadlineExceeded(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string; cause?: { code?: unknown; message?: string } };
  const grpcDeadlineExceeded = 4;
  return e?.code === grpcDeadlineExceeded || e?.cause?.code === grpcDeadlineExceeded || /DEADLINE_EXCEEDED/.test(`${e?.message ?? ''} ${e?.cause?.message ?? ''}`);
}

function unavailable(what: string, withinMs: number): HttpProblem {
  return new HttpProblem(503, 'unavailable', 'Service unavailable', `${what} within ${withinMs / 1000} s; retry the same request`, { retryAfterSeconds: 5 });
}

/** An agent's deadline can only make the outcome stricter: one already past is refused outright. */
function assertDeadlineAhead(request: ActionRequest) {
  if (request.deadline === undefined || Date.parse(request.deadline) > Date.now()) return;
  throw new HttpProblem(422, 'deadline-passed', 'Deadline already passed', `deadline ${request.deadline} is in the past; nobody could review the action before it`, {
    issues: [{ path: 'body.deadline', message: 'in the past' }],
  });
}
