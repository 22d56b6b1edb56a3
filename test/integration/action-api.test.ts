import { Client, Connection } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { loadPolicy } from '../../src/policy/policy-loader';
import { actionTypeAttribute, agentIdAttribute, riskTierAttribute, statusAttribute } from '../../src/shared/search-attributes';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { FIXTURE_POLICY_DIR, silentLogger, uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.close());

const ping = { agent: { id: 'support-bot' }, action: { type: 'test.ping' }, resource: { type: 'svc', id: 'a' }, payload: { n: 1 } };
const refund = (amount: number) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount } });

const submit = (body: unknown, key = uniqueKey('api'), query = '') =>
  stack.request('POST', `/v1/actions${query}`, { as: 'agent', body, headers: { 'Idempotency-Key': key } });

async function countActions(): Promise<number> {
  const { rows } = await stack.db.pool.query('SELECT count(*)::int AS n FROM actions');
  return rows[0].n;
}

it('GET /healthz answers while the process is up', async () => {
  const response = await stack.request('GET', '/healthz');
  expect(response.status).toBe(200);
  expect(await readJson(response)).toEqual({ status: 'ok' });
});

it('GET /readyz is 200 with Temporal and Postgres reachable', async () => {
  const response = await stack.request('GET', '/readyz');
  expect(response.status).toBe(200);
  expect(await readJson(response)).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
});

it('GET /readyz is 503 with Retry-After when Postgres and Temporal are unreachable', async () => {
  const deadPool = new Pool({ connectionString: 'postgres://x:y@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
  deadPool.on('error', () => undefined);
  const deadConnection = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 500 }).catch(() => undefined);
  const client = deadConnection ? new Client({ connection: deadConnection }) : stack.env.client;
  const policy = loadPolicy(FIXTURE_POLICY_DIR);
  const app = createApp({
    client,
    pool: deadPool,
    logger: silentLogger,
    taskQueue: 'x',
    namespace: 'default',
    publicUrl: 'http://x',
    policy: { engine: { evaluate: () => { throw new Error('unused'); } }, current: () => policy },
  });
  const other = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => other.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/readyz`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = await readJson(response);
    expect(body.status).toBe('unavailable');
    expect(body.checks.postgres).not.toBe('ok');
  } finally {
    await new Promise((resolve) => other.close(resolve));
    await deadPool.end();
    await deadConnection?.close();
  }
});

it('POST /v1/actions starts a workflow that records the action and sets search attributes', async () => {
  const key = uniqueKey('api');
  const response = await submit(ping, key);
  expect(response.status).toBe(201);
  const view = await readJson(response);
  expect(view).toMatchObject({ id: `action-11-support-bot-${key}`, outcome: 'allow', risk: 'low', matchedRules: ['ping-allowed'] });
  expect(response.headers.get('location')).toBe(`http://api.test/v1/actions/${view.id}`);

  const handle = stack.env.client.workflow.getHandle(view.id);
  await handle.result();
  const { rows } = await stack.db.pool.query('SELECT status, action_type, agent_id, risk FROM actions WHERE id = $1', [view.id]);
  expect(rows[0]).toEqual({ status: 'executed', action_type: 'test.ping', agent_id: 'support-bot', risk: 'low' });
  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(statusAttribute)).toBe('executed');
  expect(description.typedSearchAttributes.get(riskTierAttribute)).toBe('low');
  expect(description.typedSearchAttributes.get(actionTypeAttribute)).toBe('test.ping');
  expect(description.typedSearchAttributes.get(agentIdAttribute)).toBe('support-bot');
  expect(await description.staticSummary()).toBe('test.ping for svc:a by support-bot');

  const again = await submit(ping, key);
  expect(again.status).toBe(200);
  expect((await readJson(again)).status).toBe('executed');
  const conflict = await submit({ ...ping, payload: { n: 2 } }, key);
  expect(conflict.status).toBe(409);
  expect(conflict.headers.get('content-type')).toMatch(/application\/problem\+json/);
});

it('?wait holds the response until the decision', async () => {
  const allowed = await submit(ping, uniqueKey(), '?wait=10');
  expect(allowed.status).toBe(201);
  expect((await readJson(allowed)).decision.verdict).toBe('allowed');
  const pending = await submit(refund(300), uniqueKey(), '?wait=1');
  expect(pending.status).toBe(202);
  expect(pending.headers.get('retry-after')).toBeTruthy();
  expect((await readJson(pending)).status).toBe('pending_review');
});

it('?wait&until=completed holds the response until the execution and its evidence are stored', async () => {
  const done = await submit({ ...ping, payload: { n: 7 } }, uniqueKey(), '?wait=10&until=completed');
  expect(done.status).toBe(201);
  const body = await readJson(done);
  expect(body.status).toBe('executed');
  const { rows } = await stack.db.pool.query('SELECT type FROM action_events WHERE action_id = $1 ORDER BY seq', [body.id]);
  expect(rows.map((row) => row.type)).toEqual(['action.requested', 'policy.classified', 'action.allowed', 'execution.started', 'execution.succeeded', 'action.completed']);
  // An action that waits for a reviewer cannot complete within the wait.
  const pending = await submit(refund(310), uniqueKey(), '?wait=1&until=completed');
  expect(pending.status).toBe(202);
  const pendingBody = await readJson(pending);
  expect(pendingBody.status).toBe('pending_review');
  await stack.request('POST', `/v1/actions/${pendingBody.id}/cancel`, { as: 'agent', body: { reason: 'test done' } });
});

it('20 parallel identical submits make one action', async () => {
  const key = uniqueKey('parallel');
  const responses = await Promise.all(Array.from({ length: 20 }, () => submit(refund(250), key)));
  const statuses = responses.map((r) => r.status);
  expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  const ids = new Set(await Promise.all(responses.map(async (r) => (await readJson(r)).id)));
  expect(ids.size).toBe(1);
  const { rows } = await stack.db.pool.query('SELECT count(*)::int AS n FROM actions WHERE idempotency_key = $1', [key]);
  expect(rows[0].n).toBe(1);
  const [id] = ids;
  await stack.request('POST', `/v1/actions/${id}/cancel`, { as: 'agent', body: { reason: 'test done' } });
});

it('a reviewer sees it in the inbox, approves, and a waiting agent gets the answer within 1 s', async () => {
  const created = await readJson(await submit(refund(700)));
  expect(created.status).toBe('pending_review');

  const inbox = await readJson(await stack.request('GET', '/v1/reviews', { as: 'reviewer' }));
  expect(inbox.items.map((i: { id: string }) => i.id)).toContain(created.id);
  const outsiderInbox = await readJson(await stack.request('GET', '/v1/reviews', { as: 'outsider' }));
  expect(outsiderInbox.items.map((i: { id: string }) => i.id)).not.toContain(created.id);

  const waiting = stack.request('GET', `/v1/actions/${created.id}/wait?timeout=30`, { as: 'agent' }).then(async (response) => ({ response, at: Date.now() }));
  await new Promise((r) => setTimeout(r, 300));
  const decidedAt = Date.now();
  const decision = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'reviewer', body: { verdict: 'approve', rationale: 'ok' } });
  expect(decision.status).toBe(200);
  expect((await readJson(decision)).decision).toMatchObject({ verdict: 'approved', by: ['alice'] });
  const { response, at } = await waiting;
  expect(response.status).toBe(200);
  expect(at - decidedAt).toBeLessThan(1_000);
  expect(['approved', 'executing', 'executed']).toContain((await readJson(response)).status);

  const second = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'approve' } });
  expect(second.status).toBe(409);
  await stack.env.client.workflow.getHandle(created.id).result();
  const evidence = await readJson(await stack.request('GET', `/v1/actions/${created.id}/evidence`, { as: 'reviewer' }));
  expect(evidence.chain.ok).toBe(true);
  expect(evidence.reviewerActions.map((e: { type: string }) => e.type)).toEqual(['review.approved']);
  expect(evidence.execution.map((e: { type: string }) => e.type)).toEqual(['execution.started', 'execution.succeeded']);
  expect(evidence.temporal).toMatchObject({ workflowId: created.id, namespace: 'default' });
  expect(evidence.hashes.approvedPayload).toBe(evidence.hashes.payload);
});

it('decision errors: 422 invalid edit, 403 self-approval, 409 duplicate vote', async () => {
  const created = await readJson(await submit({ ...refund(700), agent: { id: 'support-bot', onBehalfOf: 'alice' } }));
  const invalidEdit = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'approve', editedPayload: { amount: 700, extra: 1 } } });
  expect(invalidEdit.status).toBe(422);
  const policyRefusedEdit = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'approve', editedPayload: { amount: 9000 } } });
  expect(policyRefusedEdit.status).toBe(422);
  expect((await readJson(policyRefusedEdit)).type).toMatch(/edit-rejected-by-policy/);
  const selfApproval = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'reviewer', body: { verdict: 'approve' } });
  expect(selfApproval.status).toBe(403);
  const denyWithoutRationale = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'deny' } });
  expect(denyWithoutRationale.status).toBe(400);
  const cancel = await stack.request('POST', `/v1/actions/${created.id}/cancel`, { as: 'agent', body: { reason: 'done' } });
  expect(cancel.status).toBe(200);
  expect((await readJson(cancel)).status).toBe('cancelled');
  const late = await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'approve' } });
  expect(late.status).toBe(409);
});

it('agent-mode execution report and mismatch', async () => {
  const created = await readJson(await submit({ ...refund(1), action: { type: 'test.grant' }, payload: { role: 'viewer' } }));
  await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'reviewer', body: { verdict: 'approve' } });
  const approved = await readJson(await stack.request('POST', `/v1/actions/${created.id}/decision`, { as: 'secondReviewer', body: { verdict: 'approve' } }));
  expect(approved.decision.verdict).toBe('approved');
  await stack.request('GET', `/v1/actions/${created.id}/wait?timeout=5`, { as: 'agent' });
  const report = await stack.request('POST', `/v1/actions/${created.id}/execution`, { as: 'agent', body: { payload: { role: 'owner' }, succeeded: true } });
  expect(report.status).toBe(200);
  expect((await readJson(report)).status).toBe('mismatch');
});

it('lists what the caller may read, with filters and cursor pagination', async () => {
  for (let i = 0; i < 3; i++) await submit({ ...ping, payload: { n: 100 + i } }, uniqueKey('list'), '?wait=5');
  const firstPage = await readJson(await stack.request('GET', '/v1/actions?actionType=test.ping&limit=2', { as: 'agent' }));
  expect(firstPage.items).toHaveLength(2);
  expect(firstPage.nextCursor).toBeTruthy();
  const secondPage = await readJson(await stack.request('GET', `/v1/actions?actionType=test.ping&limit=2&cursor=${firstPage.nextCursor}`, { as: 'agent' }));
  const ids = [...firstPage.items, ...secondPage.items].map((i: { id: string }) => i.id);
  expect(new Set(ids).size).toBe(ids.length);
  const other = await readJson(await stack.request('GET', '/v1/actions', { as: 'otherAgent' }));
  expect(other.items).toEqual([]);
});

it('POST /v1/policy/evaluate is a dry run; GET /v1/policy shows the loaded version', async () => {
  const before = await countActions();
  const dryRun = await stack.request('POST', '/v1/policy/evaluate', { as: 'reviewer', body: refund(700) });
  expect(dryRun.status).toBe(200);
  expect(await readJson(dryRun)).toMatchObject({ outcome: 'require_approval', risk: 'high', matchedRules: ['refund-review'] });
  expect(await countActions()).toBe(before);
  const policy = await readJson(await stack.request('GET', '/v1/policy', { as: 'admin' }));
  expect(policy.policyVersion).toMatch(/^sha256:/);
  expect(policy.rules.map((r: { id: string }) => r.id)).toContain('refund-review');
});
