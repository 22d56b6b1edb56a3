import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { findActionOutcome } from '../../src/evidence/action-outcome-repository';
import { AgentCallbackChannel, type AgentCallbackEvent } from '../../src/channels/callbacks/agent-callback';
import { verifyWebhook } from '../../src/channels/webhooks/standard-webhooks';
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
let receiverPort: number;
let receiverUrl: string;
let closedPort: number;
const deliveries: Delivery[] = [];
let answers: number[] = [];
let stack: ApiStack;
const apiResolved: string[] = [];
const workerResolved: string[] = [];

// Host names the tests invent, answered without DNS. The API (submission check) and the worker
// (delivery check) each have their own resolver, so a name can change its answer in between, as a
// rebinding DNS server would. Only loopback addresses are ever connected to; the public address
// below is only classified at submission, never contacted.
const PUBLIC_LOOKING = '93.184.215.14';
const fakeDns = (log: string[], answersByHost: () => Record<string, string>) => async (host: string) => {
  log.push(host);
  const address = answersByHost()[host];
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return [{ address, family: 4 as const }];
};

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
  receiverPort = (receiver.address() as AddressInfo).port;
  receiverUrl = `http://127.0.0.1:${receiverPort}/agent/callback?session=s-1`;
  // A loopback port nothing listens on (bound, then released).
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  // Loopback is reachable only through the origins listed exactly; `*` reaches public addresses only.
  const allowedOrigins = [`http://127.0.0.1:${receiverPort}`, `http://pinned.test:${receiverPort}`, '*'];
  const hosts = { api: { 'pinned.test': '127.0.0.1', 'rebind.test': PUBLIC_LOOKING }, worker: { 'pinned.test': '127.0.0.1', 'rebind.test': '127.0.0.1' } };
  stack = await startApiStack({
    callbacks: { allowedOrigins, resolve: fakeDns(apiResolved, () => hosts.api) },
    channels: (db) => [
      new AgentCallbackChannel({
        secrets: [SECRET],
        allowedOrigins,
        resolve: fakeDns(workerResolved, () => hosts.worker),
        publicUrl: 'http://api.test',
        outcome: (id) => findActionOutcome(db.pool, id),
        initialBackoffMs: 10,
      }),
    ],
  });
});
afterAll(async () => {
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function submit(amount: number, callbackUrl?: string): Promise<string> {
  const response = await submitResponse(amount, callbackUrl);
  expect(response.status).toBe(201);
  return (await readJson(response)).id;
}

function submitResponse(amount: number, callbackUrl?: string): Promise<Response> {
  const body = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_cb' }, payload: { amount }, ...(callbackUrl ? { callbackUrl } : {}) };
  return stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey('cb') } });
}

/** What the agent itself can read about its action: the view and the evidence bundle. */
async function agentVisible(actionId: string): Promise<string> {
  const view = await (await stack.request('GET', `/v1/actions/${actionId}`, { as: 'agent' })).text();
  const evidence = await (await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'agent' })).text();
  return `${view}\n${evidence}`;
}

async function finalOutcomeNotification(actionId: string) {
  return eventually(async () => {
    const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'agent' }));
    return evidence.notifications.find((n: { data: { kind: string } }) => n.data.kind === 'final_outcome');
  }, 15_000, 'the final-outcome notification');
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
  // Delivered or not, nothing more: no status code, no address, no error text.
  expect(final.data.deliveries).toEqual([{ channel: 'agent-callback', ok: true, detail: 'delivered' }]);
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
  const final = await finalOutcomeNotification(refused);
  expect(final.type).toBe('notification.partially_failed');
  // The agent learns that its callback was not delivered, not why (no status oracle).
  expect(final.data.deliveries).toEqual([{ channel: 'agent-callback', ok: false, detail: 'not delivered' }]);
  expect(await agentVisible(refused)).not.toMatch(/HTTP|410|fetch failed|ECONNREFUSED/);
  expect(deliveriesFor(refused)).toHaveLength(1);
});

it('sends nothing for an action without a callback URL', async () => {
  const before = deliveries.length;
  const actionId = await submit(930);
  await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'approve' } });
  await stack.request('GET', `/v1/actions/${actionId}/wait?until=completed&timeout=10`, { as: 'agent' });
  expect(deliveries.length).toBe(before);
});

describe('callbackUrl is not a way into the network (SSRF)', () => {
  const refusedAtSubmission = async (callbackUrl: string, reason: RegExp) => {
    const before = deliveries.length;
    const response = await submitResponse(940, callbackUrl);
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await readJson(response);
    expect(problem).toMatchObject({ type: 'https://holdpoint.dev/problems/callback-url-not-allowed', status: 422 });
    expect(problem.issues).toEqual([{ path: 'body.callbackUrl', message: expect.stringMatching(reason) }]);
    expect(deliveries.length).toBe(before);
  };

  it('refuses at submission a loopback port that is not listed, the API itself and localhost (422 naming body.callbackUrl)', async () => {
    const refused: [string, RegExp][] = [
      [`http://127.0.0.1:${closedPort}/probe`, /only to public addresses/],
      [`${stack.baseUrl}/v1/actions`, /only to public addresses/],
      [`http://localhost:${receiverPort}/agent/callback`, /only to public addresses/],
      [`http://[::1]:${receiverPort}/agent/callback`, /only to public addresses/],
      [`http://2130706433:${closedPort}/agent/callback`, /only to public addresses/],
      ['https://nowhere.test/cb', /must resolve/],
    ];
    for (const [url, reason] of refused) await refusedAtSubmission(url, reason);
    const { rows } = await stack.db.pool.query('SELECT count(*)::int AS n FROM actions WHERE callback_url = ANY($1::text[])', [refused.map(([url]) => url)]);
    expect(rows[0].n).toBe(0);
  });

  it('checks again at delivery against the address it connects to: a name that rebinds to loopback after submission gets nothing', async () => {
    const actionId = await submit(950, `http://rebind.test:${receiverPort}/agent/callback`);
    await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'no' } });
    const final = await finalOutcomeNotification(actionId);
    expect(final.data.deliveries).toEqual([{ channel: 'agent-callback', ok: false, detail: 'not delivered' }]);
    expect(deliveriesFor(actionId)).toHaveLength(0);
    expect(apiResolved).toContain('rebind.test');
    expect(workerResolved).toContain('rebind.test');
    expect(await agentVisible(actionId)).not.toMatch(/loopback|127\.0\.0\.1|rebind\.test:\d+:/);
  });

  it('connects to the address it checked (pinned), with the name the agent gave as Host', async () => {
    const actionId = await submit(960, `http://pinned.test:${receiverPort}/agent/callback`);
    await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'no' } });
    const [delivery] = await eventually(() => (deliveriesFor(actionId).length ? deliveriesFor(actionId) : undefined), 15_000, 'the pinned callback');
    expect(delivery!.headers.host).toBe(`pinned.test:${receiverPort}`);
    expect((await finalOutcomeNotification(actionId)).data.deliveries).toEqual([{ channel: 'agent-callback', ok: true, detail: 'delivered' }]);
  });
});
