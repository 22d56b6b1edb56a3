import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { policyReplayCommand, replayPolicy } from '../../src/ops/cli/policy-replay-command';
import { createPrincipalKey } from '../../src/access/principal-repository';
import { PolicyStore } from '../../src/policy/policy-store';
import { loadPolicy } from '../../src/policy/policy-loader';
import { evaluate } from '../../src/policy/policy-evaluator';
import type { ShadowReport } from '../../src/policy/shadow/shadow-report';
import { createHoldpointWorker } from '../../src/gate/worker-runtime';
import { readJson } from '../support/http';
import { connectToDevServer } from '../support/temporal';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { FIXTURE_POLICY_DIR, silentLogger, uniqueKey, workflowBundle } from '../support/workflow-harness';

// The candidate: today's fixture policy plus a rule that denies refunds above 1000.
const CANDIDATE_RULE = `
  - id: refund-large-denied
    when: action.type == "test.refund" && payload.amount > 1000
    outcome: deny
    risk: critical
    reason: "Refunds above 1000 are denied"
`;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let baseUrl: string;
let candidateDir: string;
const keys: Record<string, string> = {};
const ids: Record<string, string> = {};

const request = (method: string, url: string, as: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${keys[as]}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });

const action = (type: string, payload: Record<string, number>) => ({ agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: 'cus_9' }, payload });

beforeAll(async () => {
  candidateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-candidate-'));
  fs.writeFileSync(path.join(candidateDir, 'policy.yaml'), fs.readFileSync(path.join(FIXTURE_POLICY_DIR, 'workflow-test.yaml'), 'utf8') + CANDIDATE_RULE);
  const shadowPolicy = new PolicyStore(candidateDir);

  [env, db] = await Promise.all([connectToDevServer(), createTestDatabase()]);
  const taskQueue = `shadow-${uniqueKey()}`;
  const live = loadPolicy(FIXTURE_POLICY_DIR);
  worker = await createHoldpointWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    deps: {
      pool: db.pool,
      policy: { evaluate: (r) => evaluate(live, r) },
      channels: [],
      executors: new Map([['target', { execute: async () => ({ status: 200, result: null }) }]]),
      logger: silentLogger,
      shadowPolicy,
    },
  });
  running = worker.run();
  for (const [id, role, groups] of [
    ['support-bot', 'agent', []],
    ['alice', 'reviewer', ['finance']],
    ['olivia', 'reviewer', ['ops']],
    ['root', 'admin', []],
  ] as const) {
    keys[id] = (await createPrincipalKey(db.pool, { id, role, groups: [...groups] })).apiKey;
  }
  const app = createApp({
    client: env.client,
    pool: db.pool,
    logger: silentLogger,
    taskQueue,
    namespace: 'default',
    publicUrl: 'http://api.test',
    policy: { engine: { evaluate: (r) => evaluate(live, r) }, current: () => live },
    rateLimitPerMinute: 100_000,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const submissions: [string, ReturnType<typeof action>][] = [
    ['refund500', action('test.refund', { amount: 500 })],
    ['refund1500', action('test.refund', { amount: 1500 })],
    ['refund3000', action('test.refund', { amount: 3000 })],
    ['refund6000', action('test.refund', { amount: 6000 })], // denied by both (refund-too-big decides)
    ['ping', action('test.ping', { n: 1 })],
    ['nuke', action('test.nuke', { n: 1 })],
  ];
  for (const [name, body] of submissions) {
    const response = await request('POST', '/v1/actions', 'support-bot', body, { 'Idempotency-Key': uniqueKey(name) });
    expect(response.status).toBe(201);
    ids[name] = (await readJson(response)).id;
  }
  // Shadow results are written in the admission transaction: wait until every action is admitted.
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM policy_shadow_results');
    if (rows[0].n === submissions.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  worker?.shutdown();
  await running;
  // The pending reviews would otherwise wait an hour on the shared dev server.
  await Promise.all(Object.values(ids).map((id) => env.client.workflow.getHandle(id).terminate('test over').catch(() => undefined)));
  await Promise.all([env?.teardown(), db?.drop()]);
  fs.rmSync(candidateDir, { recursive: true, force: true });
});

describe('shadow mode', () => {
  let report: ShadowReport & { candidates: { version: string; evaluated: number }[] };
  beforeAll(async () => {
    const response = await request('GET', '/v1/policy/shadow', 'root');
    expect(response.status).toBe(200);
    report = await readJson(response);
  });

  it('reports exactly the actions the candidate would decide differently, by rule', () => {
    const candidateVersion = loadPolicy(candidateDir).policyVersion;
    expect(report).toMatchObject({ source: 'shadow', candidateVersion, evaluated: 6, differing: 2 });
    expect(report.candidates).toEqual([{ version: candidateVersion, evaluated: 6, lastEvaluatedAt: expect.any(String) }]);
    expect(report.byRule).toEqual([
      {
        rule: 'refund-large-denied',
        liveOutcome: 'require_approval',
        candidateOutcome: 'deny',
        count: 2,
        examples: [
          expect.objectContaining({ actionId: ids.refund3000, live: { outcome: 'require_approval', risk: 'high', rules: ['refund-review'] } }),
          expect.objectContaining({
            actionId: ids.refund1500,
            actionType: 'test.refund',
            resource: 'billing:cus_9',
            candidate: { outcome: 'deny', risk: 'critical', rules: ['refund-review', 'refund-large-denied'], reason: 'Refunds above 1000 are denied' },
          }),
        ],
      },
    ]);
  });

  it('never enforces the candidate: the live decisions stand', async () => {
    const { rows } = await db.pool.query('SELECT id, outcome FROM actions WHERE id = ANY($1)', [[ids.refund1500, ids.refund3000]]);
    expect(rows.map((r) => r.outcome)).toEqual(['require_approval', 'require_approval']);
  });

  it('shows reviewers only the shadow results of actions they may read', async () => {
    const alice = await readJson(await request('GET', '/v1/policy/shadow', 'alice'));
    expect(alice).toMatchObject({ evaluated: 3, differing: 2 }); // the refunds routed to finance
    const olivia = await readJson(await request('GET', '/v1/policy/shadow', 'olivia'));
    expect(olivia).toMatchObject({ evaluated: 0, differing: 0, candidateVersion: null });
    expect((await request('GET', '/v1/policy/shadow', 'support-bot')).status).toBe(403);
    expect((await request('GET', '/v1/policy/shadow?since=yesterday', 'root')).status).toBe(400);
  });

  it('policy replay gives the same report from the recorded actions', async () => {
    const replayed = await replayPolicy(db.pool, loadPolicy(candidateDir), { since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 1_000) });
    expect({ ...replayed, source: 'shadow', since: undefined, until: undefined }).toEqual({
      ...report,
      candidates: undefined,
      since: undefined,
      until: undefined,
    });
    expect(replayed.source).toBe('replay');
  });

  it('policy replay prints the report from the CLI', async () => {
    let out = '';
    const code = await policyReplayCommand(['--candidate', candidateDir, '--since', '1d'], {
      env: { HOLDPOINT_ENV: 'test', DATABASE_URL: db.url },
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: () => undefined },
    });
    expect(code).toBe(0);
    expect(out).toContain('6 evaluated, 2 would be decided differently (33.3%).');
    expect(out).toContain('refund-large-denied: require_approval → deny, 2 actions');
    expect(out).toContain(`${ids.refund1500}  test.refund billing:cus_9  risk high → critical`);
  });
});
