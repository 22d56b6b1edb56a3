import { verifyEvidence } from '../../src/evidence/audit/verify-evidence';
import { createPrincipalKey } from '../../src/access/principal-repository';
import { startDemoTarget, type DemoTarget } from '../../src/ops/dev/demo-target';
import { startApiChild, startWorkerChild, type ProcessEnv, type RunningChild } from '../support/process-stack';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { FIXTURE_POLICY_DIR, uniqueKey } from '../support/workflow-harness';

/**
 * LOG_REDACT_PAYLOAD_FIELDS held for the API's log only. The worker logged
 * payload values, and rendered policy reasons ("Refund of {{payload.amount}} …") carried them into
 * every log, the evidence, Slack and email. Here the real worker and API processes run with the
 * setting and their whole output is searched.
 */
jest.setTimeout(120_000);

const AMOUNT = 4242.17;
const IBAN = 'DE89-SECRET-IBAN-0001';

let db: TestDatabase;
let target: DemoTarget;
let worker: RunningChild;
let api: RunningChild & { baseUrl: string };
const output = { worker: '', api: '' };
const keys = { agent: '', reviewer: '' };

beforeAll(async () => {
  [db, target] = await Promise.all([createTestDatabase(), startDemoTarget()]);
  const env: ProcessEnv = {
    databaseUrl: db.url,
    migrationUrl: db.ownerUrl,
    temporalAddress: process.env.HOLDPOINT_TEST_TEMPORAL_ADDRESS!,
    taskQueue: uniqueKey('redaction'),
    policyPath: FIXTURE_POLICY_DIR,
    executorUrl: target.url,
    extra: { LOG_REDACT_PAYLOAD_FIELDS: 'amount,iban', LOG_LEVEL: 'debug' },
  };
  worker = await startWorkerChild(env);
  api = await startApiChild(env);
  worker.process.child.stdout?.on('data', (chunk: Buffer) => (output.worker += chunk.toString()));
  worker.process.child.stderr?.on('data', (chunk: Buffer) => (output.worker += chunk.toString()));
  api.process.child.stdout?.on('data', (chunk: Buffer) => (output.api += chunk.toString()));
  api.process.child.stderr?.on('data', (chunk: Buffer) => (output.api += chunk.toString()));
  keys.agent = (await createPrincipalKey(db.pool, { id: 'support-bot', role: 'agent', groups: [] })).apiKey;
  keys.reviewer = (await createPrincipalKey(db.pool, { id: 'alice', role: 'reviewer', groups: ['finance'] })).apiKey;
});
afterAll(async () => {
  await Promise.all([worker?.stop(), api?.stop()]);
  await Promise.all([db?.drop(), target?.close()]);
});

const call = (method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

it('no log line of the worker or the API, and no rendered reason, carries a redacted payload field', async () => {
  const request = {
    agent: { id: 'support-bot' },
    action: { type: 'test.refund' },
    resource: { type: 'billing', id: 'cus_redact' },
    payload: { amount: AMOUNT, iban: IBAN, note: 'visible note' },
  };
  const submitted = await call('POST', '/v1/actions', keys.agent, request, { 'Idempotency-Key': uniqueKey('redact') });
  expect(submitted.status).toBe(201);
  const view = (await submitted.json()) as { id: string; status: string; reason: string };
  expect(view.status).toBe('pending_review');
  // The fixture's reason is "Refund of {{payload.amount}} needs finance".
  expect(view.reason).toBe('Refund of [redacted] needs finance');

  const dryRun = (await (await call('POST', '/v1/policy/evaluate', keys.reviewer, request)).json()) as { reason: string };
  expect(dryRun.reason).toBe('Refund of [redacted] needs finance');

  const approved = await call('POST', `/v1/actions/${view.id}/decision`, keys.reviewer, { verdict: 'approve', rationale: 'checked' });
  expect(approved.status).toBe(200);
  const done = (await (await call('GET', `/v1/actions/${view.id}/wait?until=completed&timeout=30`, keys.agent)).json()) as { status: string };
  expect(done.status).toBe('executed');
  // The payload itself is still exact where it belongs: the executor got the approved amount.
  expect(target.calls.some((c) => JSON.stringify(c).includes(IBAN))).toBe(true);

  // The evidence of a real run passes `audit verify`, payload hashes included.
  const audit = await verifyEvidence(db.pool, undefined);
  expect(audit.problems).toEqual([]);

  await new Promise((resolve) => setTimeout(resolve, 500)); // the last log lines
  expect(output.worker).toContain(view.id); // the worker did log about this action
  expect(output.worker).toMatch(/"sdk":true/); // and the Temporal SDK's own lines went through the same redacting logger
  for (const [process, text] of Object.entries(output)) {
    expect({ process, amount: text.includes(String(AMOUNT)), iban: text.includes(IBAN) }).toEqual({ process, amount: false, iban: false });
  }
});
