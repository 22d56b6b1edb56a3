import { MockActivityEnvironment } from '@temporalio/testing';
import { createExecutionActivities } from '../../src/gate/activities/execution-activities';
import { startDemoTarget, type DemoTarget } from '../../src/ops/dev/demo-target';
import type { ExecutionOutcome } from '../../src/gate/executors/executor';
import { HttpExecutor } from '../../src/gate/executors/http-executor';
import type { ActionRequest } from '../../src/shared/action';

// The executor saw only the action type and the payload, so the resource the
// policy routed on was not the resource the target acted on.

let target: DemoTarget;
beforeAll(async () => {
  target = await startDemoTarget();
});
afterAll(() => target.close());

const request: ActionRequest = {
  agent: { id: 'support-bot', onBehalfOf: 'customer-42' },
  action: { type: 'payments.refund', tool: 'refund_tool' },
  resource: { type: 'billing', id: 'cus_123', attributes: { region: 'eu' } },
  payload: { amount: 750, currency: 'EUR' },
  context: { ticket: 'T-1' },
  deadline: '2999-01-01T00:00:00Z',
  callbackUrl: 'https://agent.example/callback',
};

describe('executeAction', () => {
  it('sends the executor the routed request with the approved payload', async () => {
    const { executeAction } = createExecutionActivities({ executors: new Map([['payments-api', new HttpExecutor({ url: target.url })]]) });
    const approved = { amount: 500, currency: 'EUR' };
    const outcome = (await new MockActivityEnvironment().run(executeAction, { actionId: 'action-exec-1', request, payload: approved, executor: 'payments-api' })) as ExecutionOutcome;

    expect(outcome).toMatchObject({ status: 200, result: { applied: true, resource: 'billing:cus_123' } });
    const call = target.calls.find((c) => c.idempotencyKey === 'action-exec-1');
    expect(call?.body).toEqual({
      actionId: 'action-exec-1',
      actionType: 'payments.refund',
      agent: { id: 'support-bot', onBehalfOf: 'customer-42' },
      action: { type: 'payments.refund', tool: 'refund_tool' },
      resource: { type: 'billing', id: 'cus_123', attributes: { region: 'eu' } },
      // The approved payload, never the submitted one.
      payload: { amount: 500, currency: 'EUR' },
      context: { ticket: 'T-1' },
    });
  });

  it('omits context when the agent sent none', async () => {
    const { executeAction } = createExecutionActivities({ executors: new Map([['payments-api', new HttpExecutor({ url: target.url })]]) });
    const bare: ActionRequest = { agent: { id: 'a' }, action: { type: 'billing.credit' }, resource: { type: 'billing', id: 'cus_9' }, payload: { amount: 60 } };
    await new MockActivityEnvironment().run(executeAction, { actionId: 'action-exec-2', request: bare, payload: bare.payload, executor: 'payments-api' });
    expect(target.calls.find((c) => c.idempotencyKey === 'action-exec-2')?.body).toEqual({
      actionId: 'action-exec-2',
      actionType: 'billing.credit',
      agent: { id: 'a' },
      action: { type: 'billing.credit' },
      resource: { type: 'billing', id: 'cus_9' },
      payload: { amount: 60 },
    });
  });

  it('reaches a demo target that refuses a call naming no resource, as the old body did', async () => {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'action-exec-old' },
      body: JSON.stringify({ actionId: 'action-exec-old', actionType: 'payments.refund', payload: { amount: 500 } }),
    });
    expect(response.status).toBe(422);
    expect(target.effects.has('action-exec-old')).toBe(false);
  });

  it('refuses an unknown executor without calling anything', async () => {
    const { executeAction } = createExecutionActivities({ executors: new Map() });
    await expect(
      new MockActivityEnvironment().run(executeAction, { actionId: 'action-exec-3', request, payload: request.payload, executor: 'missing' }),
    ).rejects.toMatchObject({ type: 'UnknownExecutor', nonRetryable: true });
  });
});
