import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACTED_PATHS } from '../../src/platform/logger';
import { signWebhook, verifyWebhook } from '../../src/channels/webhooks/standard-webhooks';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

/**
 * Abuse cases against the real in-process stack: each is refused, nothing is
 * recorded for it, and the action it aimed at is unchanged. Slack signatures and email tokens are
 * covered by the channel suites (slack-channel, email-channel), not here.
 */
jest.setTimeout(120_000);

const logLines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});
// The production redaction list, at the most verbose level, into memory.
const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, logStream);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ logger });
});
afterAll(() => stack?.close());

const refund = (amount = 400, extra: Record<string, unknown> = {}) => ({
  agent: { id: 'support-bot' },
  action: { type: 'test.refund' },
  resource: { type: 'billing', id: 'cus_abuse' },
  payload: { amount, ...extra },
});

async function submit(body: unknown, as: 'agent' | 'admin' = 'agent'): Promise<{ id: string; status: string }> {
  const response = await stack.request('POST', '/v1/actions', { as, body, headers: { 'Idempotency-Key': uniqueKey('abuse') } });
  expect(response.status).toBe(201);
  return readJson(response);
}

async function readCounts(): Promise<{ actions: number; events: number }> {
  const { rows } = await stack.db.pool.query<{ actions: number; events: number }>(
    // Notifications of earlier tests' reviews land in the background and are no request's doing.
    "SELECT (SELECT count(*)::int FROM actions) AS actions, (SELECT count(*)::int FROM action_events WHERE event_key NOT LIKE 'notified:%') AS events",
  );
  return rows[0]!;
}

/** Row counts once earlier tests' workflows stop appending (notifications land after the review request). */
async function counts(): Promise<{ actions: number; events: number }> {
  let previous = await readCounts();
  for (let i = 0; i < 20; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await readCounts();
    if (current.actions === previous.actions && current.events === previous.events) return current;
    previous = current;
  }
  return previous;
}

/** The action's events once its workflow stops appending (review notifications land just after pending_review). */
async function settledEvents(id: string): Promise<string[]> {
  let previous = await eventsOf(id);
  for (let i = 0; i < 20; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await eventsOf(id);
    if (current.length === previous.length) return current;
    previous = current;
  }
  return previous;
}

async function eventsOf(id: string): Promise<string[]> {
  const { rows } = await stack.db.pool.query<{ type: string }>('SELECT type FROM action_events WHERE action_id = $1 ORDER BY seq', [id]);
  return rows.map((row) => row.type);
}

async function expectProblem(response: Response, status: number): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await readJson(response);
  expect(problem.status).toBe(status);
}

async function pendingRefund(): Promise<string> {
  const view = await submit(refund());
  const id = view.id;
  await eventually(async () => (await readJson(await stack.request('GET', `/v1/actions/${id}`, { as: 'admin' }))).status === 'pending_review', 20_000, 'pending review');
  return id;
}

test('self-approval: the requester cannot approve its own action, whatever its role', async () => {
  const byAgent = await pendingRefund();
  const before = await settledEvents(byAgent);
  await expectProblem(await stack.request('POST', `/v1/actions/${byAgent}/decision`, { as: 'agent', body: { verdict: 'approve' } }), 403);
  // Admins cannot submit actions at all (not as an agent, not as themselves), so an admin can never
  // be the unrecognised requester of an action it then approves.
  for (const agentId of ['support-bot', 'root']) {
    const response = await stack.request('POST', '/v1/actions', { as: 'admin', body: { ...refund(), agent: { id: agentId } }, headers: { 'Idempotency-Key': uniqueKey('abuse') } });
    await expectProblem(response, 403);
  }
  expect(await eventsOf(byAgent)).toEqual(before);
});

test("an agent cannot read, wait on, cancel or see the evidence of another agent's action", async () => {
  const id = await pendingRefund();
  const before = await settledEvents(id);
  for (const [method, path] of [
    ['GET', `/v1/actions/${id}`],
    ['GET', `/v1/actions/${id}/evidence`],
    ['GET', `/v1/actions/${id}/wait?timeout=0`],
    ['POST', `/v1/actions/${id}/cancel`],
  ] as const) {
    await expectProblem(await stack.request(method, path, { as: 'otherAgent', body: method === 'POST' ? {} : undefined }), 404);
  }
  const list = await readJson(await stack.request('GET', '/v1/actions?agentId=support-bot', { as: 'otherAgent' }));
  expect(list.items.map((item: { id: string }) => item.id)).not.toContain(id);
  expect(await eventsOf(id)).toEqual(before);
});

test('a reviewer outside the routed group cannot decide', async () => {
  const id = await pendingRefund();
  const before = await settledEvents(id);
  const response = await stack.request('POST', `/v1/actions/${id}/decision`, { as: 'outsider', body: { verdict: 'approve' } });
  expect([403, 404]).toContain(response.status);
  await expectProblem(response, response.status);
  expect(await eventsOf(id)).toEqual(before);
  expect((await readJson(await stack.request('GET', `/v1/actions/${id}`, { as: 'admin' }))).status).toBe('pending_review');
});

test('a revoked key and a forged key are refused on every route and record nothing', async () => {
  const id = await pendingRefund();
  const before = await counts();
  const forged = stack.keys.agent.slice(0, -4) + 'AAAA';
  for (const authorization of [`Bearer ${stack.keys.revoked}`, `Bearer ${forged}`, 'Bearer hp_00000000_x', 'Basic abc']) {
    const headers = { authorization, 'Idempotency-Key': uniqueKey('revoked') };
    await expectProblem(await stack.request('POST', '/v1/actions', { body: { ...refund(), agent: { id: 'former-bot' } }, headers }), 401);
    await expectProblem(await stack.request('GET', `/v1/actions/${id}`, { headers }), 401);
    await expectProblem(await stack.request('POST', `/v1/actions/${id}/decision`, { body: { verdict: 'approve' }, headers }), 401);
  }
  expect(await counts()).toEqual(before);
});

test('an oversized payload is refused with 413 before anything is recorded', async () => {
  const before = await counts();
  const huge = refund(400, { note: 'x'.repeat(300 * 1024) });
  await expectProblem(await stack.request('POST', '/v1/actions', { as: 'agent', body: huge, headers: { 'Idempotency-Key': uniqueKey('big') } }), 413);
  // Deeply nested JSON within the size limit is refused by the schema, not by a stack overflow.
  const deep = JSON.stringify(refund(400, { nested: 'HOLE' })).replace('"HOLE"', '['.repeat(20_000) + ']'.repeat(20_000));
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: deep, headers: { 'Idempotency-Key': uniqueKey('deep') } });
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) await expectProblem(response, response.status);
  const after = await counts();
  if (response.status >= 400) expect(after).toEqual(before);
});

test('a payload crafted to look like CEL or SQL stays data: stored and read back byte-identical, policy unaffected', async () => {
  const crafted = {
    amount: 400,
    note: "'); DROP TABLE actions; --",
    cel: 'payload.amount > 0 || true',
    override: '"} || action.type == "test.ping" || {"',
    template: '{{payload.amount}} ${process.env.HOME} `id`',
    unicode: '\u202e\ud83d\ude00 \\u0000 \u2028',
    nested: { sql: "1' OR '1'='1", cel: 'has(payload.x) ? true : false' },
  };
  const body = { ...refund(400, crafted), resource: { type: 'billing', id: "cus_1' OR '1'='1" } };
  const view = await submit(body);
  await eventually(async () => (await readJson(await stack.request('GET', `/v1/actions/${view.id}`, { as: 'admin' }))).status === 'pending_review', 20_000);
  const read = await readJson(await stack.request('GET', `/v1/actions/${view.id}`, { as: 'agent' }));
  // Same rule as a plain refund: routed to finance for review, not allowed.
  expect(read.status).toBe('pending_review');
  expect(JSON.stringify(read.request?.payload ?? read.payload)).toBe(JSON.stringify({ ...crafted, amount: 400 }));
  const { rows } = await stack.db.pool.query<{ payload: unknown; resource_id: string; matched_rules: string[] }>('SELECT payload, resource_id, matched_rules FROM actions WHERE id = $1', [view.id]);
  expect(rows[0]?.payload).toEqual({ ...crafted, amount: 400 });
  expect(rows[0]?.resource_id).toBe("cus_1' OR '1'='1");
  expect(rows[0]?.matched_rules).toEqual(['refund-review']);
  const evaluated = await readJson(await stack.request('POST', '/v1/policy/evaluate', { as: 'admin', body }));
  expect(JSON.stringify(evaluated)).toContain('require_approval');
  expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM actions')).rows[0].n).toBeGreaterThan(0);
});

test('a NUL character (which Postgres cannot store) is refused with 400, not left hanging', async () => {
  const before = await counts();
  const started = Date.now();
  for (const payload of [{ note: 'a\u0000b' }, { ['k\u0000']: 1 }]) {
    const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: refund(400, payload), headers: { 'Idempotency-Key': uniqueKey('nul') } });
    await expectProblem(response, 400);
  }
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(await counts()).toEqual(before);
});

test('webhook signatures: a replayed delivery and a stale timestamp are refused by verifyWebhook', () => {
  const secrets = ['whsec_' + Buffer.from('a-webhook-secret-of-some-length').toString('base64')];
  const body = JSON.stringify({ type: 'review.requested', actionId: 'action-x' });
  const headers = signWebhook(secrets, 'msg_1', body);
  const seenIds = new Set<string>();
  const seen = (id: string) => seenIds.has(id) || (seenIds.add(id), false);
  expect(verifyWebhook(secrets, { ...headers }, body, { seen })).toEqual({ ok: true });
  expect(verifyWebhook(secrets, { ...headers }, body, { seen })).toEqual({ ok: false, reason: 'replayed' });
  const old = signWebhook(secrets, 'msg_2', body, new Date(Date.now() - 600_000));
  expect(verifyWebhook(secrets, { ...old }, body, { seen })).toEqual({ ok: false, reason: 'stale-timestamp' });
  expect(verifyWebhook(secrets, { ...headers, 'webhook-id': 'msg_3' }, body, { seen })).toEqual({ ok: false, reason: 'bad-signature' });
});

test('a flood beyond the rate limit is answered 429 (problem+json), never 5xx, and records nothing extra', async () => {
  const limited = await startApiStack({ rateLimitPerMinute: 20 });
  try {
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        limited.request('POST', '/v1/actions', { as: 'agent', body: refund(10 + i), headers: { 'Idempotency-Key': `flood-${i}` } }).then(async (r) => {
          if (r.status === 429) await expectProblem(r, 429);
          else await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const { rows } = await limited.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM actions');
    expect(rows[0]?.n).toBe(20);
    // Per principal: another agent still gets through.
    const other = await limited.request('GET', '/v1/actions', { as: 'otherAgent' });
    expect(other.status).toBe(200);
  } finally {
    await limited.close();
  }
});

test('no issued API key, nor its secret part, appears in the logs of a full flow', async () => {
  const id = await pendingRefund();
  await stack.request('GET', `/v1/actions/${id}/wait?timeout=0`, { as: 'agent' });
  expect((await stack.request('POST', `/v1/actions/${id}/decision`, { as: 'reviewer', body: { verdict: 'approve', rationale: 'ok' } })).status).toBe(200);
  await stack.request('GET', `/v1/actions/${id}/wait?timeout=20&until=completed`, { as: 'agent' });
  await stack.request('GET', `/v1/actions/${id}/evidence`, { as: 'admin' });
  await stack.request('GET', `/v1/actions/${id}`, { as: 'revoked' });
  await stack.request('GET', `/v1/actions/${id}`, { headers: { authorization: `Bearer ${stack.keys.agent}x` } });
  await stack.request('GET', `/v1/reviews`, { as: 'outsider' });
  const text = logLines.join('');
  expect(logLines.length).toBeGreaterThan(20);
  const leaks: string[] = [];
  for (const [caller, key] of Object.entries(stack.keys)) {
    const secret = key.split('_').slice(2).join('_');
    if (text.includes(key) || text.includes(secret)) leaks.push(caller);
  }
  expect(leaks).toEqual([]);
  expect(text).toContain('[redacted]');
});
