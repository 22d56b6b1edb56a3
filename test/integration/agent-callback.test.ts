import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { findActionOutcome } from '../../src/db/action-outcome-repository';
import { AgentCallbackChannel, type AgentCallbackEvent } from '../../src/notifications/agent-callback';
import { verifyWebhook } from '../../src/notifications/standard-webhooks';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * The spec's algorithm, written out independently of our helper: HMAC-SHA256 keyed with the
 * base64-decoded secret over `id.timestamp.body`, base64, compared with each `v1,` entry.
 */
function specVerifies(secret: string, delivery: Delivery): boolean {
  const id = String(delivery.headers['webhook-id']);
  const timestamp = String(delivery.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${delivery.body}`).digest('base64');
  return String(delivery.headers['webhook-signature'])
    .split(' ')
    .some((entry) => entry === `v1,${expected}`);
}

let receiver: http.Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];
let answers: number[] = [];
let stack: ApiStack;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/agent/callback?session=s-1`;
  stack = await startApiStack({
    channels: (db) => [new AgentCallbackChannel({ secrets: [SECRET], publicUrl: 'http://api.test', outcome: (id) => findActionOutcome(db.pool, id), initialBackoffMs: 10 })],
  });
});
afterAll(async () => {
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function submit(amount: number, callbackUrl?: string): Promise<string> {
  const body = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_cb' }, payload: { amount }, ...(callbackUrl ? { callbackUrl } : {}) };
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey('cb') } });
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

const deliveriesFor = (actionId: string) => deliveries.filter((d) => d.headers['webhook-id'] === `${actionId}:final-outcome`);

it("POSTs the final outcome to the action's callback URL as a signed webhook the spec's algorithm verifies", async () => {
  const actionId = await submit(900, receiverUrl);
  const decided = await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'approve', rationale: 'fine', reasonCode: 'verified' } });
  expect(decided.status).toBe(200);

  const [delivery] = await eventually(() => (deliveriesFor(actionId).length ? deliveriesFor(actionId) : undefined), 10_000, 'the callback');
  expect(delivery!.headers['content-type']).toBe('application/json');
  expect(specVerifies(SECRET, delivery!)).toBe(true);
  expect(verifyWebhook([SECRET], delivery!.headers, delivery!.body)).toEqual({ ok: true });
  const event = JSON.parse(delivery!.body) as AgentCallbackEvent;
  expect(event).toMatchObject({
    type: 'action.decided',
    data: {
      actionId,
      verdict: 'approved',
      decidedBy: ['alice'],
      rationale: 'fine',
      approvedPayload: { amount: 900 },
      approvedPayloadHash: expect.stringMatching(/^sha256:/),
      links: { self: `http://api.test/v1/actions/${actionId}`, wait: `http://api.test/v1/actions/${actionId}/wait` },
    },
  });
  expect(['approved', 'executing', 'executed']).toContain(event.data.status);

  // Our verifier (shipped for agents) rejects the same delivery under a wrong secret, later, or twice.
  expect(verifyWebhook([`whsec_${randomBytes(24).toString('base64')}`], delivery!.headers, delivery!.body)).toEqual({ ok: false, reason: 'bad-signature' });
  expect(verifyWebhook([SECRET], delivery!.headers, delivery!.body, { now: new Date(Date.now() + 10 * 60_000) })).toEqual({ ok: false, reason: 'stale-timestamp' });
  const seen = new Set<string>();
  const once = (id: string) => (seen.has(id) ? true : (seen.add(id), false));
  expect(verifyWebhook([SECRET], delivery!.headers, delivery!.body, { seen: once })).toEqual({ ok: true });
  expect(verifyWebhook([SECRET], delivery!.headers, delivery!.body, { seen: once })).toEqual({ ok: false, reason: 'replayed' });

  const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
  const final = evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'final_outcome');
  expect(final.data.deliveries).toEqual([{ channel: 'agent-callback', ok: true, detail: `${new URL(receiverUrl).origin}: HTTP 204` }]);
  // Only the final outcome goes to the agent; review notifications do not.
  const requested = evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'review_requested');
  expect(requested.data.deliveries).toEqual([]);
});

it('retries a failing callback with the same webhook-id, and records a callback that never succeeds', async () => {
  answers = [503, 200];
  const retried = await submit(910, receiverUrl);
  await stack.request('POST', `/v1/actions/${retried}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'no' } });
  const attempts = await eventually(() => (deliveriesFor(retried).length >= 2 ? deliveriesFor(retried) : undefined), 10_000, 'two attempts');
  expect(attempts).toHaveLength(2);
  expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
  expect(JSON.parse(attempts[1]!.body).data).toMatchObject({ verdict: 'denied', rationale: 'no' });

  answers = [410];
  const refused = await submit(920, receiverUrl);
  await stack.request('POST', `/v1/actions/${refused}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'no' } });
  const final = await eventually(async () => {
    const evidence = await readJson(await stack.request('GET', `/v1/actions/${refused}/evidence`, { as: 'admin' }));
    return evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'final_outcome');
  });
  expect(final.type).toBe('notification.partially_failed');
  expect(final.data.deliveries).toEqual([expect.objectContaining({ channel: 'agent-callback', ok: false, detail: expect.stringContaining('HTTP 410') })]);
  expect(deliveriesFor(refused)).toHaveLength(1);
});

it('sends nothing for an action without a callback URL', async () => {
  const before = deliveries.length;
  const actionId = await submit(930);
  await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'approve' } });
  await stack.request('GET', `/v1/actions/${actionId}/wait?until=completed&timeout=10`, { as: 'agent' });
  expect(deliveries.length).toBe(before);
});
