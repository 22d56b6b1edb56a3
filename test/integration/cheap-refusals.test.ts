import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { evaluate } from '../../src/policy/policy-evaluator';
import { loadPolicy } from '../../src/policy/policy-loader';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { FIXTURE_POLICY_DIR, silentLogger } from '../support/workflow-harness';

/**
 * Refusals must be cheap. Authentication and rate limiting run before any
 * body is read; the public endpoints that authenticate by their own means (Slack interactivity,
 * email decision links, console sign-in) each have their own bucket; TRUST_PROXY decides whose
 * address a bucket is keyed on. Everything here talks to loopback only.
 */
jest.setTimeout(60_000);

const LIMIT = 15;
let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({
    rateLimitPerMinute: LIMIT,
    reviewerChannels: {
      slack: { signingSecret: 'slack-signing-secret-for-tests', client: { chat: {}, views: {} } as never },
      emailTokenSecret: 'e'.repeat(32),
    },
  });
});
afterAll(() => stack?.close());

/**
 * Sends the head of a request whose body never finishes, and returns the status line the server
 * answers within `ms` (undefined: it waited for the body).
 */
function answerBeforeBody(baseUrl: string, head: string[], firstBytes: string, ms = 3_000): Promise<{ status?: number; text: string }> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    const done = () => {
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text });
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (text.includes('\r\n\r\n') && /"status":\d+/.test(text)) {
        clearTimeout(timer);
        done();
      }
    });
    socket.on('error', () => undefined);
    socket.write(`${head.join('\r\n')}\r\n\r\n${firstBytes}`);
  });
}

describe('an unauthenticated request is refused before its body is read', () => {
  const head = (path: string, extra: string[] = []) => [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${256 * 1024}`, ...extra];

  it('answers 401 problem+json while the 256 KB body is still on its way', async () => {
    const answer = await answerBeforeBody(stack.baseUrl, head('/v1/actions'), '{"agent":{"id":"x"},"payload":{"blob":"');
    expect(answer.status).toBe(401);
    expect(answer.text).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.text).toMatch(/"type":"https:\/\/holdpoint\.dev\/problems\/unauthorized"/);
    // And the connection is closed rather than the rest of the body read and thrown away.
    expect(answer.text).toMatch(/connection: close/i);
  });

  it('does the same with a key that is not valid, and for every protected POST', async () => {
    for (const path of ['/v1/actions', '/v1/actions/action-1-x-y/decision', '/v1/policy/evaluate', '/v1/actions/action-1-x-y/cancel']) {
      const answer = await answerBeforeBody(stack.baseUrl, head(path, ['Authorization: Bearer hp_00000000_' + 'y'.repeat(43)]), '{"a":');
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
    }
  });

  it('says 401, not 400 or 415, to a caller without a key whatever the body', async () => {
    const malformed = await stack.request('POST', '/v1/actions', { body: '{"agent":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(401);
    const text = await stack.request('POST', '/v1/actions', { body: 'agent=1', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(401);
  });

  it('still parses and validates the body of an authenticated caller', async () => {
    const malformed = await stack.request('POST', '/v1/actions', { as: 'agent', body: '{"agent":', headers: { 'Idempotency-Key': 'cheap-1' } });
    expect(malformed.status).toBe(400);
    expect((await readJson(malformed)).type).toBe('https://holdpoint.dev/problems/malformed-json');
  });
});

describe('Slack interactivity, email decisions and console sign-in each have their own bucket', () => {
  const slack = () => stack.request('POST', '/slack/interactivity', { body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const email = () => stack.request('GET', '/email/decision?token=not-a-token');
  const signIn = (apiKey: string) => stack.request('POST', '/v1/console/session', { body: { apiKey } });

  it('a flood of /healthz from one address leaves Slack, email and sign-in answering', async () => {
    const flood = await Promise.all(Array.from({ length: LIMIT + 10 }, () => stack.request('GET', '/healthz').then((r) => r.status)));
    expect(flood.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    expect((await stack.request('GET', '/healthz')).status).toBe(429);

    expect((await slack()).status).toBe(401); // refused for its signature, not for the flood
    expect((await email()).status).toBe(400); // an invalid link, not a rate limit
    expect((await signIn(stack.keys.reviewer)).status).toBe(201);
    // Authenticated callers are counted per principal, whatever their address did.
    expect((await stack.request('GET', '/v1/reviews', { as: 'reviewer' })).status).toBe(200);
  });

  it('a flood of sign-ins exhausts only the sign-in bucket', async () => {
    const flood = await Promise.all(Array.from({ length: LIMIT + 5 }, () => signIn('hp_live_wrong').then((r) => r.status)));
    expect(flood).toContain(429);
    expect((await signIn(stack.keys.reviewer)).status).toBe(429);
    expect((await slack()).status).toBe(401);
    expect((await email()).status).toBe(400);
  });
});

describe('TRUST_PROXY decides whose address a bucket counts', () => {
  let proxied: { server: Server; baseUrl: string; keyLookups: () => number };

  /** A second API over the same database and Temporal, behind a (pretend) proxy on loopback. */
  async function startProxiedApp(limit: number): Promise<typeof proxied> {
    let lookups = 0;
    const counting = new Proxy(stack.db.pool, {
      get(target, property) {
        if (property === 'query') {
          return (...args: unknown[]) => {
            // A lookup of an offered key by its hash (the refresh of issued key ids is not one).
            if (/key_hash = \$1/.test(String((args[0] as { text?: string })?.text ?? args[0]))) lookups += 1;
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Pool;
    const policy = loadPolicy(FIXTURE_POLICY_DIR);
    const app = createApp({
      client: stack.env.client,
      pool: counting,
      logger: silentLogger,
      taskQueue: 'cheap-refusals-none',
      namespace: 'default',
      publicUrl: 'http://api.test',
      policy: { engine: { evaluate: (request) => evaluate(policy, request) }, current: () => policy },
      rateLimitPerMinute: limit,
      trustProxy: ['loopback'],
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, keyLookups: () => lookups };
  }

  beforeAll(async () => {
    proxied = await startProxiedApp(5);
  });
  afterAll(async () => {
    proxied?.server.closeAllConnections();
    await new Promise((resolve) => proxied?.server.close(resolve));
  });

  const from = (client: string, path = '/healthz', headers: Record<string, string> = {}) =>
    fetch(`${proxied.baseUrl}${path}`, { headers: { 'x-forwarded-for': client, ...headers } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('behind a trusted proxy, each client has its own bucket', async () => {
    const first = [];
    for (let i = 0; i < 7; i += 1) first.push(await from('198.51.100.7'));
    expect(first.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(first.slice(5)).toEqual([429, 429]);
    expect(await from('198.51.100.8')).toBe(200);
  });

  it('without TRUST_PROXY a forwarded-for header changes nothing: the flood shares one bucket', async () => {
    const flood = await Promise.all(Array.from({ length: LIMIT + 5 }, (_, i) => stack.request('GET', '/openapi.json', { headers: { 'x-forwarded-for': `198.51.100.${i + 20}` } }).then((r) => r.status)));
    expect(flood).toContain(429);
  });

  it('a client that keeps failing authentication is refused without a key lookup', async () => {
    const before = proxied.keyLookups();
    const statuses = [];
    for (let i = 0; i < 8; i += 1) statuses.push(await from('198.51.100.9', '/v1/actions', { authorization: `Bearer hp_0000000${i}_${'x'.repeat(43)}` }));
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(proxied.keyLookups() - before).toBeLessThanOrEqual(5);
  });
});
