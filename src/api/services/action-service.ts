import {
  QueryRejectedError,
  WithStartWorkflowOperation,
  WorkflowClient,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Principal } from '../../auth/principal';
import { canonicalHash } from '../../evidence/payload-hash';
import type { ActionRequest } from '../../shared/action';
import { actionWorkflowId, hasReached, type ActionState, type ActionStatus, type AgentActionInput } from '../../shared/action-state';
import {
  awaitOutcomeUpdate,
  cancelSignal,
  decideUpdate,
  reportExecutionUpdate,
  stateQuery,
  type ExecutionReport,
  type OutcomeMilestone,
  type ReviewerDecision,
} from '../../shared/messages';
import { actionTypeAttribute, agentIdAttribute, statusAttribute } from '../../shared/search-attributes';
import { HttpProblem } from '../problem';
import { requireReadable } from './action-access';
import { toHttpProblem } from './workflow-errors';

export interface ActionServiceOptions {
  client: Client;
  pool: Pool;
  taskQueue: string;
}

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
   * the run's result (the final state) is one read from the server.
   */
  private readonly openRuns: WorkflowClient;

  constructor(private readonly options: ActionServiceOptions) {
    const { connection, namespace, dataConverter } = options.client.options;
    this.openRuns = new WorkflowClient({ connection, namespace, dataConverter, queryRejectCondition: 'NOT_OPEN' });
  }

  /**
   * One workflow per (agent, idempotency key). A retry with the same body returns the same action;
   * the same key with a different body is a conflict, never a second action.
   */
  async submit(request: ActionRequest, idempotencyKey: string, submitter?: Principal, hold?: SubmitHold): Promise<Submission> {
    // Only as itself: an admin submitting "as" an agent could then approve its own request.
    if (submitter && (submitter.role !== 'agent' || submitter.id !== request.agent.id)) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden', `${submitter.id} may only submit actions as itself (agent.id is ${request.agent.id})`);
    }
    const actionId = actionWorkflowId(request.agent.id, idempotencyKey);
    const requestHash = canonicalHash(request);
    const known = await this.options.pool.query<{ request_hash: string }>('SELECT request_hash FROM actions WHERE id = $1', [actionId]);
    if (known.rows[0]) {
      this.assertSameRequest(known.rows[0].request_hash, requestHash, idempotencyKey);
      const existing = await this.liveState(actionId);
      if (!hold || hasReached(existing.status, hold.until)) return { state: existing, created: false, reached: true };
      return { ...(await this.wait(undefined, actionId, hold.until, hold.timeoutMs, existing.status)), created: false };
    }
    const submissionId = randomUUID();
    const input: AgentActionInput = { actionId, submissionId, idempotencyKey, request, requestHash, submittedAt: new Date().toISOString() };
    const startWorkflowOperation = new WithStartWorkflowOperation('agentActionWorkflow', {
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
    });
    let state: ActionState;
    // Start and wait in one round trip: for the classification, or for the milestone a hold asks for
    // (one Update accepted in the first workflow task, instead of a second Update arriving later).
    const held = hold !== undefined && hold.timeoutMs > 0;
    const abort = new AbortController();
    const timer = held ? setTimeout(() => abort.abort(), hold.timeoutMs) : undefined;
    try {
      state = await this.options.client.withAbortSignal(abort.signal, () =>
        this.options.client.workflow.executeUpdateWithStart(awaitOutcomeUpdate, { args: [{ until: held ? hold.until : 'classified' }], startWorkflowOperation }),
      );
    } catch (err) {
      // The hold ran out (the workflow was started long before), or the action already finished
      // under this id (reuse is rejected): answer with its state.
      if (!abort.signal.aborted && !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      state = await this.liveState(actionId).catch((readErr: unknown) => {
        // Not even started within the hold (Temporal unreachable): the start's own error says why.
        throw readErr instanceof HttpProblem && readErr.status === 404 ? err : readErr;
      });
    } finally {
      clearTimeout(timer);
    }
    this.assertSameRequest(state.requestHash, requestHash, idempotencyKey);
    return { state, created: state.submissionId === submissionId, reached: !held || hasReached(state.status, hold.until) };
  }

  async get(principal: Principal, actionId: string): Promise<ActionState> {
    await requireReadable(this.options.pool, principal, actionId);
    return this.liveState(actionId);
  }

  /**
   * Long-poll: resolves as soon as the workflow reaches the milestone (pushed by an Update, not
   * polled), or with the current state when `timeoutMs` passes first.
   */
  async wait(principal: Principal | undefined, actionId: string, until: OutcomeMilestone, timeoutMs: number, knownStatus?: ActionStatus): Promise<WaitResult> {
    const row = principal ? await requireReadable(this.options.pool, principal, actionId) : undefined;
    const handle = this.options.client.workflow.getHandle(actionId);
    // The workflow shows a status only once it is stored, so a stored (or just returned) status short
    // of the milestone means the workflow is short of it too: go straight to the Update.
    const status = knownStatus ?? (row?.status as ActionStatus | undefined);
    const knownShort = status !== undefined && !hasReached(status, until);
    if (!knownShort || timeoutMs <= 0) {
      // A query first: an Update on an action that already got there would only add history events.
      const current = await this.liveState(actionId);
      if (hasReached(current.status, until) || timeoutMs <= 0) return { state: current, reached: hasReached(current.status, until) };
    }
    // Aborting on timeout matters: an abandoned Update call would keep long-polling Temporal.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const reached = await this.options.client.withAbortSignal(abort.signal, () =>
        handle.executeUpdate(awaitOutcomeUpdate, { args: [{ until }] }),
      );
      return { state: reached, reached: true };
    } catch (err) {
      // Timed out, or the workflow finished while we waited: the current state answers the wait.
      const state = await this.liveState(actionId);
      if (abort.signal.aborted || hasReached(state.status, until)) return { state, reached: hasReached(state.status, until) };
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async cancel(principal: Principal, actionId: string, reason?: string): Promise<ActionState> {
    const row = await requireReadable(this.options.pool, principal, actionId);
    if (principal.role !== 'admin' && row.agent_id !== principal.id) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden', 'only the requesting agent or an admin may cancel an action');
    }
    const before = await this.liveState(actionId);
    if (before.status !== 'pending_review' && before.status !== 'classifying') {
      throw new HttpProblem(409, 'not-pending', 'Not pending', `the action is ${before.status}; only pending actions can be cancelled`);
    }
    await this.options.client.workflow.getHandle(actionId).signal(cancelSignal, { by: principal.id, reason });
    const after = (await this.wait(undefined, actionId, 'decided', 5_000)).state;
    // Lost a race with a decision (a reviewer's, or an auto-allow stored with admission).
    if (after.decision && after.status !== 'cancelled') {
      throw new HttpProblem(409, 'not-pending', 'Not pending', `the action was decided (${after.status}) before the cancel arrived`);
    }
    return after;
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

  async decide(principal: Principal, actionId: string, decision: Omit<ReviewerDecision, 'reviewer' | 'isAdmin'>): Promise<ActionState> {
    await requireReadable(this.options.pool, principal, actionId);
    let state: ActionState;
    try {
      state = await this.options.client.workflow
        .getHandle(actionId)
        .executeUpdate(decideUpdate, { args: [{ ...decision, reviewer: principal.id, isAdmin: principal.role === 'admin' }] });
    } catch (err) {
      throw toHttpProblem(err);
    }
    // The deciding vote returns before the workflow settles the outcome; answer with the settled status.
    if (state.decision && !hasReached(state.status, 'decided')) return (await this.wait(undefined, actionId, 'decided', 5_000)).state;
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
