import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { canonicalHash } from '../../evidence/payload-hash';
import type { ActionRequest } from '../../shared/action';
import { actionWorkflowId, type ActionState, type AgentActionInput } from '../../shared/action-state';
import { awaitOutcomeUpdate, stateQuery } from '../../shared/messages';
import { actionTypeAttribute, agentIdAttribute, statusAttribute } from '../../shared/search-attributes';
import { HttpProblem } from '../problem';

export interface ActionServiceOptions {
  client: Client;
  pool: Pool;
  taskQueue: string;
}

export interface Submission {
  state: ActionState;
  /** False when the idempotency key named an action that already existed. */
  created: boolean;
}

function summary(request: ActionRequest): string {
  const payload = request.payload;
  const amount = typeof payload.amount === 'number' ? ` ${payload.amount}${typeof payload.currency === 'string' ? ` ${payload.currency}` : ''}` : '';
  return `${request.action.type}${amount} for ${request.resource.type}:${request.resource.id} by ${request.agent.id}`.slice(0, 200);
}

export class ActionService {
  constructor(private readonly options: ActionServiceOptions) {}

  /**
   * One workflow per (agent, idempotency key). A retry with the same body returns the same action;
   * the same key with a different body is a conflict, never a second action.
   */
  async submit(request: ActionRequest, idempotencyKey: string): Promise<Submission> {
    const actionId = actionWorkflowId(request.agent.id, idempotencyKey);
    const requestHash = canonicalHash(request);
    const known = await this.options.pool.query<{ request_hash: string }>('SELECT request_hash FROM actions WHERE id = $1', [actionId]);
    if (known.rows[0]) {
      this.assertSameRequest(known.rows[0].request_hash, requestHash, idempotencyKey);
      return { state: await this.get(actionId), created: false };
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
    try {
      // Start and wait for the policy's classification in one round trip.
      state = await this.options.client.workflow.executeUpdateWithStart(awaitOutcomeUpdate, {
        args: [{ until: 'classified' }],
        startWorkflowOperation,
      });
    } catch (err) {
      // Already finished under this id (reuse is rejected): answer with what it recorded.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      state = await this.get(actionId);
    }
    this.assertSameRequest(state.requestHash, requestHash, idempotencyKey);
    return { state, created: state.submissionId === submissionId };
  }

  /** Live state from the workflow (authoritative while it runs; replayed once it has closed). */
  async get(actionId: string): Promise<ActionState> {
    try {
      return await this.options.client.workflow.getHandle(actionId).query(stateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'not-found', 'Not found', `no action ${actionId}`);
      throw err;
    }
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
