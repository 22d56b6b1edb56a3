import { startApiStack, type ApiStack, type Caller } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

/** Every endpoint × every kind of caller → the status the API must answer (OWASP API1/API5). */
type Who = Exclude<Caller, 'secondReviewer'> | 'none' | 'badKey';
const CALLERS: Who[] = ['none', 'badKey', 'revoked', 'agent', 'otherAgent', 'reviewer', 'outsider', 'admin'];
const unauthenticated = { none: 401, badKey: 401, revoked: 401 } as const;

interface Endpoint {
  name: string;
  /** Mutating endpoints get a fresh pending action per caller. */
  fresh?: boolean;
  send(stack: ApiStack, actionId: string, headers: Record<string, string>): Promise<Response>;
  expected: Record<Who, number>;
}

const refund = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_9' }, payload: { amount: 400 } };

const call = (stack: ApiStack, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const readers = { agent: 200, otherAgent: 404, reviewer: 200, outsider: 404, admin: 200 } as const;
const ENDPOINTS: Endpoint[] = [
  { name: 'GET /v1/actions/{id}', send: (s, id, h) => call(s, 'GET', `/v1/actions/${id}`, h), expected: { ...unauthenticated, ...readers } },
  { name: 'GET /v1/actions/{id}/evidence', send: (s, id, h) => call(s, 'GET', `/v1/actions/${id}/evidence`, h), expected: { ...unauthenticated, ...readers } },
  {
    name: 'GET /v1/actions/{id}/wait',
    send: (s, id, h) => call(s, 'GET', `/v1/actions/${id}/wait?timeout=0`, h),
    expected: { ...unauthenticated, agent: 202, otherAgent: 404, reviewer: 202, outsider: 404, admin: 202 },
  },
  { name: 'GET /v1/actions', send: (s, _id, h) => call(s, 'GET', '/v1/actions', h), expected: { ...unauthenticated, agent: 200, otherAgent: 200, reviewer: 200, outsider: 200, admin: 200 } },
  { name: 'GET /v1/reviews', send: (s, _id, h) => call(s, 'GET', '/v1/reviews', h), expected: { ...unauthenticated, agent: 403, otherAgent: 403, reviewer: 200, outsider: 200, admin: 200 } },
  {
    name: 'POST /v1/actions',
    send: (s, _id, h) => call(s, 'POST', '/v1/actions', { ...h, 'Idempotency-Key': uniqueKey('authz') }, { ...refund, payload: { amount: 5 } }),
    expected: { ...unauthenticated, agent: 201, otherAgent: 403, reviewer: 403, outsider: 403, admin: 403 },
  },
  {
    name: 'POST /v1/actions/{id}/decision',
    fresh: true,
    send: (s, id, h) => call(s, 'POST', `/v1/actions/${id}/decision`, h, { verdict: 'approve' }),
    // An unrouted admin approves only by an explicit break-glass (gate-integrity.test.ts).
    expected: { ...unauthenticated, agent: 403, otherAgent: 403, reviewer: 200, outsider: 404, admin: 403 },
  },
  {
    name: 'POST /v1/actions/{id}/cancel',
    fresh: true,
    send: (s, id, h) => call(s, 'POST', `/v1/actions/${id}/cancel`, h, {}),
    expected: { ...unauthenticated, agent: 200, otherAgent: 404, reviewer: 403, outsider: 403, admin: 200 },
  },
  {
    name: 'POST /v1/actions/{id}/execution',
    send: (s, id, h) => call(s, 'POST', `/v1/actions/${id}/execution`, h, { payload: { amount: 400 }, succeeded: true }),
    expected: { ...unauthenticated, agent: 409, otherAgent: 404, reviewer: 403, outsider: 403, admin: 403 },
  },
  // Agents may not probe the policy for its allow boundaries; reviewers and admins may.
  { name: 'POST /v1/policy/evaluate', send: (s, _id, h) => call(s, 'POST', '/v1/policy/evaluate', h, refund), expected: { ...unauthenticated, agent: 403, otherAgent: 403, reviewer: 200, outsider: 200, admin: 200 } },
  // Prometheus metrics for the metrics token (perimeter-limits.test.ts) or an admin key.
  { name: 'GET /metrics', send: (s, _id, h) => call(s, 'GET', '/metrics', h), expected: { ...unauthenticated, agent: 403, otherAgent: 403, reviewer: 403, outsider: 403, admin: 200 } },
  { name: 'GET /v1/policy', send: (s, _id, h) => call(s, 'GET', '/v1/policy', h), expected: { ...unauthenticated, agent: 403, otherAgent: 403, reviewer: 200, outsider: 200, admin: 200 } },
  ...['/healthz', '/readyz', '/openapi.json', '/docs'].map(
    (path): Endpoint => ({
      name: `GET ${path}`,
      send: (s, _id, h) => call(s, 'GET', path, h),
      expected: { none: 200, badKey: 200, revoked: 200, agent: 200, otherAgent: 200, reviewer: 200, outsider: 200, admin: 200 },
    }),
  ),
];

let stack: ApiStack;
let sharedAction: string;

async function pendingAction(): Promise<string> {
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: refund, headers: { 'Idempotency-Key': uniqueKey('authz') } });
  const view = await readJson(response);
  expect(view.status).toBe('pending_review');
  return view.id;
}

function headersFor(who: Who): Record<string, string> {
  if (who === 'none') return {};
  if (who === 'badKey') return { authorization: 'Bearer hp_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
  return { authorization: `Bearer ${stack.keys[who]}` };
}

beforeAll(async () => {
  stack = await startApiStack();
  sharedAction = await pendingAction();
});
afterAll(() => stack?.close());

const table = ENDPOINTS.flatMap((endpoint) => CALLERS.map((who) => [endpoint.name, who, endpoint.expected[who], endpoint] as const));

it.each(table)('%s as %s → %i', async (_name, who, expected, endpoint) => {
  const actionId = endpoint.fresh ? await pendingAction() : sharedAction;
  const response = await endpoint.send(stack, actionId, headersFor(who));
  expect(response.status).toBe(expected);
  if (expected >= 400) expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  if (expected === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
});

it('a non-admin never learns whether a hidden action exists', async () => {
  const hidden = await readJson(await stack.request('GET', `/v1/actions/${sharedAction}`, { as: 'otherAgent' }));
  const unknown = await readJson(await stack.request('GET', '/v1/actions/action-11-support-bot-does-not-exist', { as: 'otherAgent' }));
  expect(hidden.status).toBe(404);
  expect(unknown.status).toBe(404);
  expect(hidden.title).toBe(unknown.title);
});
