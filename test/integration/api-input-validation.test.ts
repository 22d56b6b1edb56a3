import { startApiStack, type ApiStack, type Caller } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
let pendingId: string;
beforeAll(async () => {
  stack = await startApiStack();
  const view = await readJson(
    await stack.request('POST', '/v1/actions', {
      as: 'agent',
      body: { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'b', id: 'c' }, payload: { amount: 300 } },
      headers: { 'Idempotency-Key': uniqueKey() },
    }),
  );
  pendingId = view.id;
});
afterAll(() => stack?.close());

const action = { agent: { id: 'support-bot' }, action: { type: 'test.ping' }, resource: { type: 'svc', id: 'a' }, payload: { n: 1 } };

interface BadInput {
  name: string;
  as: Caller;
  method: string;
  path: () => string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
}

const submit = (body: unknown, extra: Partial<BadInput> = {}): Omit<BadInput, 'name'> => ({
  as: 'agent',
  method: 'POST',
  path: () => '/v1/actions',
  body,
  headers: { 'Idempotency-Key': uniqueKey('bad'), ...extra.headers },
  status: 400,
  type: 'validation',
  ...extra,
});

const CASES: BadInput[] = [
  { name: 'submit: invalid JSON', ...submit('{"agent":', { type: 'malformed-json' }) },
  { name: 'submit: missing field', ...submit({ ...action, payload: undefined }) },
  { name: 'submit: extra field', ...submit({ ...action, admin: true }) },
  { name: 'submit: wrong type', ...submit({ ...action, payload: [1, 2] }) },
  { name: 'submit: bad deadline', ...submit({ ...action, deadline: 'tomorrow' }) },
  { name: 'submit: bad callback URL', ...submit({ ...action, callbackUrl: 'ftp://x' }) },
  // This stack sends no callbacks (no CALLBACK_ALLOWED_ORIGINS): a callback URL is refused, never stored.
  { name: 'submit: callback URL, callbacks off', ...submit({ ...action, callbackUrl: 'http://127.0.0.1:9/x' }, { status: 422, type: 'callback-url-not-allowed' }) },
  { name: 'submit: bad execution mode', ...submit({ ...action, executionMode: 'yolo' }) },
  { name: 'submit: oversized body', ...submit({ ...action, payload: { blob: 'x'.repeat(300 * 1024) } }, { status: 413, type: 'payload-too-large' }) },
  { name: 'submit: wrong content type', ...submit('agent=1', { status: 415, type: 'unsupported-media-type', headers: { 'content-type': 'text/plain' } }) },
  { name: 'submit: no Idempotency-Key', as: 'agent', method: 'POST', path: () => '/v1/actions', body: action, headers: {}, status: 400, type: 'idempotency-key-required' },
  { name: 'submit: bad Idempotency-Key', ...submit(action, { headers: { 'Idempotency-Key': 'two words' } }) },
  { name: 'submit: wait too long', ...submit(action, { path: () => '/v1/actions?wait=600' }) },
  { name: 'submit: unknown milestone', ...submit(action, { path: () => '/v1/actions?wait=5&until=forever' }) },
  { name: 'get: bad id', as: 'agent', method: 'GET', path: () => '/v1/actions/%20drop', status: 400, type: 'validation' },
  { name: 'wait: bad timeout', as: 'agent', method: 'GET', path: () => `/v1/actions/${pendingId}/wait?timeout=-1`, status: 400, type: 'validation' },
  { name: 'wait: unknown query', as: 'agent', method: 'GET', path: () => `/v1/actions/${pendingId}/wait?foo=1`, status: 400, type: 'validation' },
  { name: 'list: bad status', as: 'admin', method: 'GET', path: () => '/v1/actions?status=sleeping', status: 400, type: 'validation' },
  { name: 'list: limit too big', as: 'admin', method: 'GET', path: () => '/v1/actions?limit=1000', status: 400, type: 'validation' },
  { name: 'list: forged cursor', as: 'admin', method: 'GET', path: () => '/v1/actions?cursor=bm90LWEtY3Vyc29y', status: 400, type: 'validation' },
  { name: 'reviews: bad risk', as: 'reviewer', method: 'GET', path: () => '/v1/reviews?risk=extreme', status: 400, type: 'validation' },
  { name: 'decision: missing verdict', as: 'reviewer', method: 'POST', path: () => `/v1/actions/${pendingId}/decision`, body: {}, status: 400, type: 'validation' },
  { name: 'decision: deny without rationale', as: 'reviewer', method: 'POST', path: () => `/v1/actions/${pendingId}/decision`, body: { verdict: 'deny' }, status: 400, type: 'validation' },
  { name: 'decision: extra field', as: 'reviewer', method: 'POST', path: () => `/v1/actions/${pendingId}/decision`, body: { verdict: 'approve', reviewer: 'bob' }, status: 400, type: 'validation' },
  { name: 'decision: edit not an object', as: 'reviewer', method: 'POST', path: () => `/v1/actions/${pendingId}/decision`, body: { verdict: 'approve', editedPayload: 5 }, status: 400, type: 'validation' },
  { name: 'cancel: wrong type', as: 'agent', method: 'POST', path: () => `/v1/actions/${pendingId}/cancel`, body: { reason: 42 }, status: 400, type: 'validation' },
  { name: 'execution: missing succeeded', as: 'agent', method: 'POST', path: () => `/v1/actions/${pendingId}/execution`, body: { payload: {} }, status: 400, type: 'validation' },
  { name: 'evaluate: extra field', as: 'reviewer', method: 'POST', path: () => '/v1/policy/evaluate', body: { ...action, x: 1 }, status: 400, type: 'validation' },
  { name: 'unknown route', as: 'agent', method: 'GET', path: () => '/v1/nothing', status: 404, type: 'not-found' },
];

// The pending action from beforeAll keeps recording notifications in the background, so of its
// events only votes and decisions count: those are what a rejected decision request could leak.
async function counts() {
  const { rows } = await stack.db.pool.query(
    `SELECT (SELECT count(*) FROM actions)::int AS actions,
            (SELECT count(*) FROM action_events WHERE action_id <> $1)::int AS events,
            (SELECT count(*) FROM action_events WHERE action_id = $1 AND (event_key LIKE 'vote:%' OR event_key = 'decided'))::int AS decisions`,
    [pendingId],
  );
  return rows[0] as { actions: number; events: number; decisions: number };
}

it.each(CASES.map((c) => [c.name, c] as const))('%s → problem+json, nothing recorded', async (_name, bad) => {
  const before = await counts();
  const response = await stack.request(bad.method, bad.path(), { as: bad.as, body: bad.body, headers: bad.headers });
  expect(response.status).toBe(bad.status);
  expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const problem = await readJson(response);
  expect(problem).toMatchObject({ status: bad.status, type: `https://holdpoint.dev/problems/${bad.type}` });
  expect(problem.detail.length).toBeGreaterThan(0);
  if (bad.type === 'validation') expect(problem.issues.length).toBeGreaterThan(0);
  expect(await counts()).toEqual(before);
});

it('no workflow is started for rejected submissions', async () => {
  const agentWorkflows = () => stack.env.client.workflow.count(`HoldpointAgentId = "support-bot" AND TaskQueue != "none"`);
  const before = (await agentWorkflows()).count;
  for (const bad of CASES.filter((c) => c.name.startsWith('submit'))) {
    await stack.request(bad.method, bad.path(), { as: bad.as, body: bad.body, headers: bad.headers });
  }
  await new Promise((r) => setTimeout(r, 1_500)); // visibility is eventually consistent
  expect((await agentWorkflows()).count).toBe(before);
});

it('validation problems name every bad field', async () => {
  const response = await stack.request('POST', '/v1/actions', {
    as: 'agent',
    body: { ...action, agent: { id: 'has space' }, resource: { type: '' }, extra: 1 },
    headers: { 'Idempotency-Key': uniqueKey() },
  });
  const paths = (await readJson(response)).issues.map((i: { path: string }) => i.path).sort();
  expect(paths).toEqual(['body', 'body.agent.id', 'body.resource.id', 'body.resource.type']);
});

// Values JSON.parse accepts but Postgres or a JS number cannot keep exactly.
// A lone surrogate made the evidence write fail on every retry (the action hung, invisible);
// 9007199254740993 was stored as …992; 1e400 answered 500.
describe('values that cannot be stored exactly are refused, naming the field', () => {
  let awaitingReportId: string;
  beforeAll(async () => {
    const notify = await readJson(
      await stack.request('POST', '/v1/actions', {
        as: 'agent',
        body: { ...action, action: { type: 'test.notify' }, payload: { text: 'hello' } },
        headers: { 'Idempotency-Key': uniqueKey('report') },
      }),
    );
    awaitingReportId = notify.id;
    const approved = await stack.request('POST', `/v1/actions/${awaitingReportId}/decision`, { as: 'outsider', body: { verdict: 'approve' } });
    expect(approved.status).toBe(200);
    await stack.request('GET', `/v1/actions/${awaitingReportId}/wait?timeout=10`, { as: 'agent' });
  });

  /** The body as JSON text, with each `"@name"` placeholder replaced by raw JSON (numbers JSON.stringify cannot write). */
  const raw = (body: unknown, replacements: Record<string, string> = {}) =>
    Object.entries(replacements).reduce((text, [name, json]) => text.replace(`"@${name}"`, json), JSON.stringify(body));

  const UNSAFE: { name: string; as: Caller; path: () => string; body: () => string; field: string }[] = [
    { name: 'lone surrogate in a payload string', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, payload: { note: 'a\ud800b' } }), field: 'body.payload.note' },
    { name: 'lone surrogate in a payload key', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, payload: { n: 1, inner: { ['\udc00k']: 1 } } }), field: 'body.payload.inner' },
    { name: 'lone surrogate in context', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, context: { ticket: '\udfff' } }), field: 'body.context.ticket' },
    {
      name: 'lone surrogate in resource.attributes (in an array)',
      as: 'agent',
      path: () => '/v1/actions',
      body: () => raw({ ...action, resource: { type: 'svc', id: 'a', attributes: { tags: ['ok', 'x\ud83d'] } } }),
      field: 'body.resource.attributes.tags.1',
    },
    { name: 'NUL in a payload string', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, payload: { note: 'a\u0000b' } }), field: 'body.payload.note' },
    { name: 'integer beyond 2^53 - 1', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, payload: { n: '@big' } }, { big: '9007199254740993' }), field: 'body.payload.n' },
    { name: 'negative integer beyond -(2^53 - 1)', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, context: { n: '@big' } }, { big: '-9007199254740993' }), field: 'body.context.n' },
    { name: 'number overflowing to Infinity', as: 'agent', path: () => '/v1/actions', body: () => raw({ ...action, payload: { n: '@inf' } }, { inf: '1e400' }), field: 'body.payload.n' },
    {
      name: 'decision: edited payload with an unsafe integer',
      as: 'reviewer',
      path: () => `/v1/actions/${pendingId}/decision`,
      body: () => raw({ verdict: 'approve', editedPayload: { amount: 300, note: '@big' } }, { big: '12345678901234567890' }),
      field: 'body.editedPayload.note',
    },
    {
      name: 'decision: rationale with a lone surrogate',
      as: 'reviewer',
      path: () => `/v1/actions/${pendingId}/decision`,
      body: () => raw({ verdict: 'deny', rationale: 'no \ud800' }),
      field: 'body.rationale',
    },
    { name: 'cancel: reason with a lone surrogate', as: 'agent', path: () => `/v1/actions/${pendingId}/cancel`, body: () => raw({ reason: '\udbff' }), field: 'body.reason' },
    {
      name: 'execution report: lone surrogate in the executed payload',
      as: 'agent',
      path: () => `/v1/actions/${awaitingReportId}/execution`,
      body: () => raw({ payload: { text: 'hello\ud800' }, succeeded: true }),
      field: 'body.payload.text',
    },
    {
      name: 'execution report: Infinity in the result',
      as: 'agent',
      path: () => `/v1/actions/${awaitingReportId}/execution`,
      body: () => raw({ payload: { text: 'hello' }, succeeded: true, result: { sent: ['@inf'] } }, { inf: '-1e400' }),
      field: 'body.result.sent.0',
    },
    { name: 'policy evaluate: lone surrogate', as: 'reviewer', path: () => '/v1/policy/evaluate', body: () => raw({ ...action, payload: { note: '\ud800' } }), field: 'body.payload.note' },
  ];

  // Notifications of the two open actions may still land; anything else would be a leak.
  const recorded = async () =>
    (await stack.db.pool.query(`SELECT (SELECT count(*) FROM actions)::int AS actions, (SELECT count(*) FROM action_events WHERE event_key NOT LIKE 'notified:%')::int AS events`)).rows[0];

  it.each(UNSAFE.map((c) => [c.name, c] as const))('%s → 400 naming the field, at once, nothing recorded', async (_name, bad) => {
    const before = await recorded();
    const response = await fetch(`${stack.baseUrl}${bad.path()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.keys[bad.as]}`, 'Idempotency-Key': uniqueKey('unsafe') },
      body: bad.body(),
      // Before the fix some of these never answered: fail fast instead of at the test timeout.
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = await readJson(response);
    expect(problem).toMatchObject({ status: 400, type: 'https://holdpoint.dev/problems/validation' });
    expect(problem.issues).toEqual([{ path: bad.field, message: expect.any(String) }]);
    expect(await recorded()).toEqual(before);
  });

  it('accepts the extremes that are still exact: ±(2^53 - 1), fractions, paired surrogates', async () => {
    const body = raw({ ...action, payload: { max: '@max', min: '@min', fraction: 0.1, tiny: 2.5e-300, emoji: '😀', key: { '😀': true } } }, { max: '9007199254740991', min: '-9007199254740991' });
    const response = await fetch(`${stack.baseUrl}/v1/policy/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.keys.reviewer}` },
      body,
    });
    expect(response.status).toBe(200);
  });
});
