import { createHoldpointClient, HoldpointApiError, HoldpointConnectionError, isRefusal, toRefusal, type ActionView } from '../../src/agents/client';
import { parseRetryAfter, retryDelayMs, DEFAULT_RETRY_POLICY } from '../../src/agents/client/retry-policy';

interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body?: unknown;
}

type Reply = Response | Error | ((request: SeenRequest) => Response | Error);

/** A fetch that answers from a script and remembers what it was asked. */
function scriptedFetch(replies: Reply[]) {
  const seen: SeenRequest[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const request: SeenRequest = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(request);
    const next = replies.shift();
    if (!next) throw new Error('no scripted reply left');
    const reply = typeof next === 'function' ? next(request) : next;
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return { fetchImpl, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, type: string, detail: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: `https://holdpoint.dev/problems/${type}`, title: type, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

function view(overrides: Partial<ActionView> = {}): ActionView {
  return {
    id: 'action-11-support-bot-k1',
    status: 'pending_review',
    outcome: 'require_approval',
    risk: 'high',
    matchedRules: ['refund-large'],
    reason: 'Refund of 750 EUR is above the 100 limit',
    policyVersion: 'sha256:x',
    agent: { id: 'support-bot' },
    action: { type: 'payments.refund' },
    resource: { type: 'billing', id: 'cus_1' },
    payload: { amount: 750, currency: 'EUR' },
    payloadHash: 'sha256:a',
    review: { tier: 1, tiers: 2, assignees: ['alice', 'bob'], dueAt: '2026-01-01T00:30:00.000Z', approvals: 0, approvalsNeeded: 1, editableFields: ['amount'], candidatePayload: { amount: 750, currency: 'EUR' }, candidatePayloadHash: 'sha256:a' },
    decision: null,
    approvedPayload: null,
    approvedPayloadHash: null,
    execution: null,
    links: { self: 'http://x/v1/actions/action-11-support-bot-k1', wait: 'http://x/v1/actions/action-11-support-bot-k1/wait', evidence: 'http://x/v1/actions/action-11-support-bot-k1/evidence' },
    ...overrides,
  };
}

const request = { agent: { id: 'support-bot' }, action: { type: 'payments.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount: 750, currency: 'EUR' } };
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

describe('createHoldpointClient', () => {
  it('sends the key as a Bearer token and the Idempotency-Key, and reads 201/200/202', async () => {
    const { fetchImpl, seen } = scriptedFetch([json(202, view())]);
    const client = createHoldpointClient({ url: 'http://hp.test/', apiKey: 'hp_secret', fetch: fetchImpl });
    const result = await client.submit(request, { idempotencyKey: 'k1', waitSeconds: 5 });
    expect(result).toMatchObject({ created: true, decided: false, idempotencyKey: 'k1', action: { id: 'action-11-support-bot-k1' } });
    expect(seen[0]).toMatchObject({ method: 'POST', url: 'http://hp.test/v1/actions?wait=5', body: request });
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer hp_secret');
    expect(seen[0]!.headers.get('idempotency-key')).toBe('k1');
  });

  it('asks the API to hold the response until the milestone given', async () => {
    const { fetchImpl, seen } = scriptedFetch([json(201, view({ status: 'executed' }))]);
    const client = createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl });
    const result = await client.submit(request, { idempotencyKey: 'k2', waitSeconds: 10, until: 'completed' });
    expect(seen[0]!.url).toBe('http://hp.test/v1/actions?wait=10&until=completed');
    expect(result).toMatchObject({ created: true, decided: true, action: { status: 'executed' } });
  });

  it('generates an idempotency key when none is given', async () => {
    const { fetchImpl, seen } = scriptedFetch([json(201, view())]);
    const result = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl }).submit(request);
    expect(result.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!.headers.get('idempotency-key')).toBe(result.idempotencyKey);
  });

  it('retries network errors, 5xx and 429 with the same Idempotency-Key, honouring Retry-After', async () => {
    const { fetchImpl, seen } = scriptedFetch([
      new TypeError('fetch failed'),
      problem(503, 'unavailable', 'Temporal is unreachable', { 'retry-after': '0' }),
      problem(429, 'rate-limited', 'slow down', { 'retry-after': '0' }),
      json(200, view()),
    ]);
    const client = createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl, retry: fast });
    const result = await client.submit(request, { idempotencyKey: 'same' });
    expect(result.created).toBe(false);
    expect(seen.map((s) => s.headers.get('idempotency-key'))).toEqual(['same', 'same', 'same', 'same']);
    expect(seen.every((s) => JSON.stringify(s.body) === JSON.stringify(request))).toBe(true);
  });

  it('does not retry a 4xx; the error carries the problem details', async () => {
    const { fetchImpl, seen } = scriptedFetch([problem(409, 'idempotency-conflict', 'Idempotency-Key k1 was already used for a different request')]);
    const error = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl, retry: fast })
      .submit(request, { idempotencyKey: 'k1' })
      .catch((err: unknown) => err);
    expect(seen).toHaveLength(1);
    expect(error).toBeInstanceOf(HoldpointApiError);
    expect(error).toMatchObject({ status: 409, attempts: 1, problemType: 'idempotency-conflict', problem: { detail: expect.stringContaining('k1') } });
    expect((error as Error).message).toBe('idempotency-conflict (409): Idempotency-Key k1 was already used for a different request');
  });

  it('gives up after maxAttempts: a connection error for the network, an API error for 5xx', async () => {
    const down = scriptedFetch([new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }), new TypeError('fetch failed')]);
    const connection = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: down.fetchImpl, retry: { ...fast, maxAttempts: 2 } })
      .get('action-x')
      .catch((err: unknown) => err);
    expect(connection).toBeInstanceOf(HoldpointConnectionError);
    expect(connection).toMatchObject({ attempts: 2 });

    const proxy = scriptedFetch([new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }), new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })]);
    const gateway = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: proxy.fetchImpl, retry: { ...fast, maxAttempts: 2 } })
      .get('action-x')
      .catch((err: unknown) => err);
    expect(gateway).toMatchObject({ status: 502, attempts: 2, problem: { title: 'Bad Gateway', detail: '<html>bad gateway</html>' } });
  });

  it('stops retrying as soon as the caller aborts', async () => {
    const controller = new AbortController();
    const { fetchImpl, seen } = scriptedFetch([
      () => {
        controller.abort(new Error('user went away'));
        return new TypeError('fetch failed');
      },
    ]);
    const client = createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl, retry: { initialDelayMs: 10_000 } });
    await expect(client.get('action-x', { signal: controller.signal })).rejects.toThrow('user went away');
    expect(seen).toHaveLength(1);
  });

  it('wait re-polls /wait until the milestone', async () => {
    const early = { 'retry-after': '0' };
    const { fetchImpl, seen } = scriptedFetch([json(202, view(), early), json(202, view(), early), json(200, view({ status: 'approved' }))]);
    const polled: string[] = [];
    const client = createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl });
    const result = await client.wait('action-11-support-bot-k1', { timeoutMs: 120_000, onPoll: (action) => polled.push(action.status) });
    expect(result).toMatchObject({ reached: true, action: { status: 'approved' } });
    expect(polled).toEqual(['pending_review', 'pending_review']);
    expect(seen.map((s) => new URL(s.url).search)).toEqual(['?timeout=30&until=decided', '?timeout=30&until=decided', '?timeout=30&until=decided']);

    const once = scriptedFetch([json(202, view())]);
    const zero = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: once.fetchImpl }).wait('action-11-support-bot-k1', { timeoutMs: 0, until: 'completed' });
    expect(zero.reached).toBe(false);
    expect(new URL(once.seen[0]!.url).search).toBe('?timeout=0&until=completed');

  });

  it('wait asks for no more than the time left, and paces by Retry-After when a 202 comes back early', async () => {
    const { fetchImpl, seen } = scriptedFetch([json(202, view(), { 'retry-after': '2' })]);
    const started = Date.now();
    const result = await createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl }).wait('action-11-support-bot-k1', { timeoutMs: 900 });
    expect(result.reached).toBe(false);
    expect(seen.map((s) => new URL(s.url).search)).toEqual(['?timeout=1&until=decided']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it('treats a 409 after a lost cancel reply as success when the action shows it cancelled', async () => {
    const { fetchImpl, seen } = scriptedFetch([
      new TypeError('socket hang up'),
      problem(409, 'not-pending', 'the action is cancelled; only pending actions can be cancelled'),
      json(200, view({ status: 'cancelled' })),
    ]);
    const client = createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl, retry: fast });
    expect((await client.cancel('action-11-support-bot-k1', { reason: 'changed my mind' })).status).toBe('cancelled');
    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      'POST /v1/actions/action-11-support-bot-k1/cancel',
      'POST /v1/actions/action-11-support-bot-k1/cancel',
      'GET /v1/actions/action-11-support-bot-k1',
    ]);
    expect(seen[0]!.body).toEqual({ reason: 'changed my mind' });
  });

  it('still reports a first-attempt 409 on cancel as an error', async () => {
    const { fetchImpl } = scriptedFetch([problem(409, 'not-pending', 'the action is approved')]);
    await expect(createHoldpointClient({ url: 'http://hp.test', apiKey: 'k', fetch: fetchImpl }).cancel('action-x')).rejects.toMatchObject({ status: 409 });
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter up to the cap, or follows Retry-After up to its cap', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, undefined, () => 0)).toBe(125);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 3, undefined, () => 1)).toBe(1_000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 20, undefined, () => 1)).toBe(8_000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, 5)).toBe(5_000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, 3_600)).toBe(30_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('toRefusal', () => {
  it('a reviewer denial: rationale, who, and that asking again will not help', () => {
    const refusal = toRefusal(view({ status: 'denied', decision: { verdict: 'denied', by: ['alice'], rationale: 'Duplicate of a refund issued yesterday', at: '2026-01-01T00:00:00Z' } }));
    expect(refusal).toMatchObject({ refused: true, outcome: 'denied_by_reviewer', rationale: 'Duplicate of a refund issued yesterday', decidedBy: ['alice'], canAskAgain: false });
    expect(refusal.message).toBe(
      'A reviewer (alice) denied payments.refund. Held because: Refund of 750 EUR is above the 100 limit. ' +
        'Reviewer rationale (alice): Duplicate of a refund issued yesterday. ' +
        'Do not retry it or try to achieve the same effect another way. Tell the user it was refused, with the rationale.',
    );
    expect(isRefusal(refusal)).toBe(true);
    expect(isRefusal(JSON.parse(JSON.stringify(refusal)))).toBe(false); // the brand is not part of the JSON
  });

  it('policy denial, expiry, withdrawal and still pending', () => {
    const policy = toRefusal(view({ status: 'auto_denied', outcome: 'deny', reason: 'Exports above 100k rows are not allowed for agents', decision: { verdict: 'auto_denied', by: ['policy'], rationale: 'x', at: 'now' } }));
    expect(policy).toMatchObject({ outcome: 'denied_by_policy', canAskAgain: false, rationale: null });
    expect(policy.message).toContain('Policy: Exports above 100k rows are not allowed for agents.');

    const expired = toRefusal(view({ status: 'expired', decision: { verdict: 'expired', by: ['holdpoint:timeout'], rationale: 'No decision in time', at: 'now' } }));
    expect(expired).toMatchObject({ outcome: 'expired', canAskAgain: true, rationale: null });

    const withdrawn = toRefusal(view({ status: 'cancelled', decision: { verdict: 'cancelled', by: ['support-bot'], rationale: null, at: 'now' } }), { withdrawn: true, waitedMs: 300_000 });
    expect(withdrawn).toMatchObject({ outcome: 'no_decision_in_time', canAskAgain: true });
    expect(withdrawn.message).toContain('within 300 s');

    const pending = toRefusal(view());
    expect(pending).toMatchObject({ outcome: 'no_decision_in_time', canAskAgain: true });
    expect(pending.guidance).toContain('action-11-support-bot-k1');
  });
});
