/**
 * Cancel is an Update with a synchronous validator, over HTTP against the real stack: a pending
 * action is cancelled, the same cancel again answers the same (recorded once), a decided action is
 * refused with 409 not-pending, and the operators' cancel signal still cancels.
 */
import { listEvents } from '../../src/evidence/evidence-repository';
import type { ActionState } from '../../src/shared/action-state';
import { cancelSignal } from '../../src/shared/messages';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.close());

const action = (type: string, payload: Record<string, unknown>) => ({ agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: 'cus_9' }, payload });

async function submit(type: string, payload: Record<string, unknown>) {
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: action(type, payload), headers: { 'Idempotency-Key': uniqueKey('cancel') } });
  expect(response.status).toBe(201);
  return readJson(response);
}

const cancel = (id: string, reason: string) => stack.request('POST', `/v1/actions/${id}/cancel`, { as: 'agent', body: { reason } });
const decide = (id: string, as: 'reviewer' | 'secondReviewer') => stack.request('POST', `/v1/actions/${id}/decision`, { as, body: { verdict: 'approve' } });
const finished = (id: string) => stack.env.client.workflow.getHandle<() => Promise<ActionState>>(id).result();

async function eventTypes(id: string): Promise<string[]> {
  return (await listEvents(stack.db.pool, id)).map((event) => event.type);
}

it('cancels a pending action; the same cancel again, at once or later, answers the same and is recorded once', async () => {
  const created = await submit('test.refund', { amount: 120 });
  expect(created.status).toBe('pending_review');
  const concurrent = await Promise.all([cancel(created.id, 'customer withdrew'), cancel(created.id, 'customer withdrew')]);
  expect(concurrent.map((response) => response.status)).toEqual([200, 200]);
  const views = await Promise.all(concurrent.map(readJson));
  for (const view of views) expect(view).toMatchObject({ status: 'cancelled', decision: { verdict: 'cancelled', by: ['support-bot'], rationale: 'customer withdrew' } });
  await finished(created.id);
  const later = await cancel(created.id, 'customer withdrew');
  expect(later.status).toBe(200);
  expect(await readJson(later)).toMatchObject({ status: 'cancelled', decision: views[0].decision });
  expect((await eventTypes(created.id)).filter((type) => type === 'action.cancelled')).toHaveLength(1);
  // Another cancel is not this one: the action is no longer pending.
  const other = await cancel(created.id, 'a different reason');
  expect(other.status).toBe(409);
  expect((await readJson(other)).type).toMatch(/not-pending$/);
});

it('refuses to cancel a decided action with 409 not-pending, while it runs and after it finished', async () => {
  // Agent mode: approved, the workflow waits for the agent's report, so the validator answers.
  const created = await submit('test.grant', { role: 'viewer' });
  expect((await decide(created.id, 'reviewer')).status).toBe(200);
  expect((await decide(created.id, 'secondReviewer')).status).toBe(200);
  const refused = await cancel(created.id, 'too late');
  expect(refused.status).toBe(409);
  const problem = await readJson(refused);
  expect(problem.type).toMatch(/not-pending$/);
  expect(problem.detail).toMatch(/only pending actions can be cancelled/);
  const report = await stack.request('POST', `/v1/actions/${created.id}/execution`, { as: 'agent', body: { payload: { role: 'viewer' }, succeeded: true } });
  expect(report.status).toBe(200);
  expect((await finished(created.id)).status).toBe('executed');
  expect(await eventTypes(created.id)).not.toContain('action.cancelled');

  // Auto-denied: the workflow has finished.
  const denied = await submit('test.nuke', {});
  await finished(denied.id);
  const late = await cancel(denied.id, 'too late');
  expect(late.status).toBe(409);
  expect((await readJson(late)).type).toMatch(/not-pending$/);
});

it('the cancel signal still cancels (operators: Temporal CLI and Web UI)', async () => {
  const created = await submit('test.refund', { amount: 130 });
  await stack.env.client.workflow.getHandle(created.id).signal(cancelSignal, { by: 'ops-oncall', reason: 'withdrawn by operator' });
  const final = await finished(created.id);
  expect(final).toMatchObject({ status: 'cancelled', decision: { verdict: 'cancelled', by: ['ops-oncall'], rationale: 'withdrawn by operator' } });
  const view = await readJson(await stack.request('GET', `/v1/actions/${created.id}`, { as: 'agent' }));
  expect(view.status).toBe('cancelled');
});
