import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { startDemoTarget, type DemoTarget } from '../../src/dev/demo-target';
import { actionTypeAttribute, agentIdAttribute, riskTierAttribute, statusAttribute } from '../../src/shared/search-attributes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { connectToDevServer } from '../support/temporal';
import { readJson } from '../support/http';
import { silentLogger, startTestWorker, uniqueKey } from '../support/workflow-harness';

const TASK_QUEUE = `api-${Date.now()}`;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let target: DemoTarget;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  [env, db, target] = await Promise.all([connectToDevServer(), createTestDatabase(), startDemoTarget()]);
  ({ worker, running } = await startTestWorker({ env, pool: db.pool, taskQueue: TASK_QUEUE, executors: { target: target.url } }));
  const app = createApp({ client: env.client, pool: db.pool, logger: silentLogger, taskQueue: TASK_QUEUE, namespace: 'default', publicUrl: 'http://api.test' });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), target?.close()]);
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const ping = { agent: { id: 'support-bot' }, action: { type: 'test.ping' }, resource: { type: 'svc', id: 'a' }, payload: { n: 1 } };

async function countActions(): Promise<number> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM actions');
  return rows[0].n;
}

it('GET /healthz answers while the process is up', async () => {
  const response = await fetch(`${baseUrl}/healthz`);
  expect(response.status).toBe(200);
  expect(await readJson(response)).toEqual({ status: 'ok' });
});

it('GET /readyz is 200 with Temporal and Postgres reachable', async () => {
  const response = await fetch(`${baseUrl}/readyz`);
  expect(response.status).toBe(200);
  expect(await readJson(response)).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
});

it('GET /readyz is 503 with Retry-After when Postgres or Temporal is unreachable', async () => {
  const deadPool = new Pool({ connectionString: 'postgres://x:y@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
  deadPool.on('error', () => undefined);
  const deadConnection = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 500 }).catch(() => undefined);
  const client = deadConnection ? new Client({ connection: deadConnection }) : env.client;
  const app = createApp({ client, pool: deadPool, logger: silentLogger, taskQueue: 'x', namespace: 'default', publicUrl: 'http://x' });
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

it('POST /v1/actions starts a workflow that records the action in Postgres and sets search attributes', async () => {
  const key = uniqueKey('api');
  const response = await post('/v1/actions', ping, { 'Idempotency-Key': key });
  expect(response.status).toBe(201);
  const view = await readJson(response);
  expect(view.id).toBe(`action-support-bot-${key}`);
  expect(response.headers.get('location')).toBe(`http://api.test/v1/actions/${view.id}`);

  const handle = env.client.workflow.getHandle(view.id);
  await handle.result();
  const { rows } = await db.pool.query('SELECT status, action_type, agent_id, risk FROM actions WHERE id = $1', [view.id]);
  expect(rows[0]).toEqual({ status: 'executed', action_type: 'test.ping', agent_id: 'support-bot', risk: 'low' });
  const description = await handle.describe();
  expect(description.typedSearchAttributes.get(statusAttribute)).toBe('executed');
  expect(description.typedSearchAttributes.get(riskTierAttribute)).toBe('low');
  expect(description.typedSearchAttributes.get(actionTypeAttribute)).toBe('test.ping');
  expect(description.typedSearchAttributes.get(agentIdAttribute)).toBe('support-bot');
  expect(await description.staticSummary()).toBe('test.ping for svc:a by support-bot');

  const again = await post('/v1/actions', ping, { 'Idempotency-Key': key });
  expect(again.status).toBe(200);
  expect((await readJson(again)).status).toBe('executed');
  const conflict = await post('/v1/actions', { ...ping, payload: { n: 2 } }, { 'Idempotency-Key': key });
  expect(conflict.status).toBe(409);
  expect(conflict.headers.get('content-type')).toMatch(/application\/problem\+json/);

  const fetched = await fetch(`${baseUrl}/v1/actions/${view.id}`);
  expect(fetched.status).toBe(200);
  expect((await readJson(fetched)).decision.verdict).toBe('allowed');
});

describe('bad input gets a problem+json naming the field, and records nothing', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['missing Idempotency-Key', () => post('/v1/actions', ping), 400, 'idempotency-key-required'],
    ['malformed JSON', () => post('/v1/actions', '{"agent":', { 'Idempotency-Key': uniqueKey() }), 400, 'malformed-json'],
    ['wrong content type', () => fetch(`${baseUrl}/v1/actions`, { method: 'POST', headers: { 'content-type': 'text/plain', 'Idempotency-Key': 'x' }, body: 'hi' }), 415, 'unsupported-media-type'],
    ['unknown field', () => post('/v1/actions', { ...ping, extra: 1 }, { 'Idempotency-Key': uniqueKey() }), 400, 'validation'],
    ['wrong type', () => post('/v1/actions', { ...ping, payload: 'x' }, { 'Idempotency-Key': uniqueKey() }), 400, 'validation'],
    ['bad idempotency key', () => post('/v1/actions', ping, { 'Idempotency-Key': 'has spaces' }), 400, 'validation'],
    ['oversized body', () => post('/v1/actions', { ...ping, payload: { blob: 'x'.repeat(300 * 1024) } }, { 'Idempotency-Key': uniqueKey() }), 413, 'payload-too-large'],
    ['bad action id', () => fetch(`${baseUrl}/v1/actions/not-an-id`), 400, 'validation'],
    ['unknown action', () => fetch(`${baseUrl}/v1/actions/action-nobody-nothing`), 404, 'not-found'],
  ];
  it.each(cases)('%s', async (_name, send, status, type) => {
    const before = await countActions();
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = await readJson(response);
    expect(problem).toMatchObject({ status, type: `https://holdpoint.dev/problems/${type}` });
    expect(typeof problem.detail).toBe('string');
    expect(await countActions()).toBe(before);
  });

  it('validation problems list each issue path', async () => {
    const response = await post('/v1/actions', { ...ping, agent: { id: 'has space' }, extra: 1 }, { 'Idempotency-Key': uniqueKey() });
    const problem = await readJson(response);
    expect(problem.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body', 'body.agent.id']);
  });
});
