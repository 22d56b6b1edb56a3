import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionRejectedError } from '../../src/gate/executors/executor';
import { HttpExecutor } from '../../src/gate/executors/http-executor';
import type { ReviewNotification } from '../../src/channels/review-notification';
import type { ActionRequest } from '../../src/shared/action';
import { verifyWebhook, type VerifyResult } from '../../src/channels/webhooks/standard-webhooks';
import { WebhookChannel } from '../../src/channels/webhooks/webhook-channel';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What the shipped verifier says about this request. */
  verified: VerifyResult;
}

/** A local receiver that verifies each request and answers with the next scripted status (last one repeats). */
interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  respondWith(...statuses: number[]): void;
  close(): Promise<void>;
}

async function startReceiver(secrets = [SECRET], responseBody: unknown = { received: true }): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let script = [200];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: req.headers, body, verified: verifyWebhook(secrets, req.headers, body) });
      const status = script.length > 1 ? script.shift()! : script[0]!;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(responseBody));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    respondWith: (...statuses) => {
      script = statuses;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on. */
async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let counter = 0;
function notification(): ReviewNotification {
  counter += 1;
  return {
    id: `action-11-support-bot-k${counter}:review-requested`,
    kind: 'review_requested',
    actionId: `action-11-support-bot-k${counter}`,
    request: { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount: 700 } },
    policy: { risk: 'high', reason: 'refunds over 500 need review', matchedRules: ['refund-review'] },
    tier: 0,
    recipients: ['alice', 'bob'],
    informed: [],
    dueAt: '2026-01-01T10:00:00.000Z',
    candidate: { payload: { amount: 700 }, payloadHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' },
  };
}

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver?.close());

describe('WebhookChannel', () => {
  const channel = (url = receiver.url, extra: { attempts?: number; timeoutMs?: number } = {}) =>
    new WebhookChannel({ url, secrets: [SECRET], initialBackoffMs: 5, ...extra });

  it('delivers a signed review notification the receiver verifies', async () => {
    const sent = notification();
    const delivery = await channel().deliver(sent);
    expect(delivery).toEqual({ channel: 'webhook', ok: true, detail: 'HTTP 200' });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.verified).toEqual({ ok: true });
    expect(request!.headers['webhook-id']).toBe(sent.id);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({ type: 'review.review_requested', data: sent });
  });

  it('a payload_edited notification carries the new candidate and the changed fields', async () => {
    const sent: ReviewNotification = {
      ...notification(),
      kind: 'payload_edited',
      candidate: { payload: { amount: 5000 }, payloadHash: 'sha256:1111111111111111111111111111111111111111111111111111111111111111' },
      edit: { by: 'alice', changes: [{ field: 'amount', before: 700, after: 5000 }] },
    };
    expect(await channel().deliver(sent)).toMatchObject({ ok: true });
    const body = JSON.parse(receiver.requests[0]!.body);
    expect(body).toMatchObject({ type: 'review.payload_edited', data: { candidate: sent.candidate, edit: sent.edit } });
  });

  it('is refused by a receiver holding a different secret', async () => {
    const strict = await startReceiver([`whsec_${randomBytes(24).toString('base64')}`]);
    try {
      await channel(strict.url).deliver(notification());
      expect(strict.requests[0]!.verified).toEqual({ ok: false, reason: 'bad-signature' });
    } finally {
      await strict.close();
    }
  });

  it('retries a 500 twice and succeeds on the third request, with the same webhook-id each time', async () => {
    receiver.respondWith(500, 500, 200);
    const sent = notification();
    const delivery = await channel().deliver(sent);
    expect(delivery).toEqual({ channel: 'webhook', ok: true, detail: 'HTTP 200' });
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([sent.id, sent.id, sent.id]);
    expect(receiver.requests.every((r) => r.verified.ok)).toBe(true);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
  });

  it('retries a 429 (rate limited)', async () => {
    receiver.respondWith(429, 200);
    expect(await channel().deliver(notification())).toMatchObject({ ok: true });
    expect(receiver.requests).toHaveLength(2);
  });

  it('gives up after the configured attempts, reporting the last status', async () => {
    receiver.respondWith(503);
    expect(await channel(receiver.url, { attempts: 2 }).deliver(notification())).toEqual({ channel: 'webhook', ok: false, detail: 'HTTP 503' });
    expect(receiver.requests).toHaveLength(2);
  });

  it('does not retry a 400: ok false after one request', async () => {
    receiver.respondWith(400);
    expect(await channel().deliver(notification())).toEqual({ channel: 'webhook', ok: false, detail: 'HTTP 400' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('reports an unreachable URL as ok false with a detail and never throws', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}/hook`;
    const delivery = await channel(url).deliver(notification());
    expect(delivery).toMatchObject({ channel: 'webhook', ok: false });
    expect(delivery.detail).toEqual(expect.any(String));
    expect(delivery.detail!.length).toBeGreaterThan(0);
  });

  it('reports a receiver that never answers as ok false once the timeout passes', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
      const delivery = await channel(url, { attempts: 2, timeoutMs: 100 }).deliver(notification());
      expect(delivery).toMatchObject({ channel: 'webhook', ok: false });
      expect(delivery.detail).toMatch(/abort|timeout/i);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('HttpExecutor', () => {
  const routed: ActionRequest = {
    agent: { id: 'support-bot' },
    action: { type: 'test.refund' },
    resource: { type: 'billing', id: 'cus_1' },
    payload: { amount: 100, currency: 'EUR' },
    callbackUrl: 'https://agent.example/callback',
  };
  const call = { actionId: 'action-11-support-bot-exec-1', request: routed, payload: { amount: 500, currency: 'EUR' } };

  it('signs its call with the executor secrets and sends the action id as idempotency-key', async () => {
    const outcome = await new HttpExecutor({ url: receiver.url, secrets: [SECRET] }).execute(call);
    expect(outcome).toEqual({ status: 200, result: { received: true } });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.verified).toEqual({ ok: true });
    expect(request!.headers['idempotency-key']).toBe(call.actionId);
    expect(request!.headers['webhook-id']).toBe(call.actionId);
    // The routed request with the approved payload; the agent's callback URL is not the target's business.
    expect(JSON.parse(request!.body)).toEqual({
      actionId: call.actionId,
      actionType: 'test.refund',
      agent: { id: 'support-bot' },
      action: { type: 'test.refund' },
      resource: { type: 'billing', id: 'cus_1' },
      payload: { amount: 500, currency: 'EUR' },
    });
  });

  it('sends idempotency-key but no signature headers without secrets', async () => {
    await new HttpExecutor({ url: receiver.url }).execute(call);
    const [request] = receiver.requests;
    expect(request!.headers['idempotency-key']).toBe(call.actionId);
    expect(request!.headers['webhook-signature']).toBeUndefined();
    expect(request!.verified).toEqual({ ok: false, reason: 'missing-headers' });
  });

  it('throws a final ExecutionRejectedError on 4xx and a retryable Error on 5xx', async () => {
    const executor = new HttpExecutor({ url: receiver.url, secrets: [SECRET] });
    receiver.respondWith(422);
    const rejected = await executor.execute(call).catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(ExecutionRejectedError);
    expect(rejected).toMatchObject({ status: 422, result: { received: true } });
    receiver.respondWith(503);
    const failed = await executor.execute(call).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(ExecutionRejectedError);
    expect((failed as Error).message).toMatch(/HTTP 503/);
  });
});
