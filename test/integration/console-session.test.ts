import { WebClient } from '@slack/web-api';
import { revokeKeys } from '../../src/access/principal-repository';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({
    // Every optional route on, so the OpenAPI check below covers them too.
    reviewerChannels: {
      slack: { signingSecret: 'slack-signing-secret-for-tests', client: new WebClient('xoxb-unused', { slackApiUrl: 'http://127.0.0.1:9/api/' }) },
      emailTokenSecret: 'email-token-secret-for-tests-0123456789',
    },
  });
});
afterAll(() => stack?.close());

async function signIn(apiKey: string) {
  return fetch(`${stack.baseUrl}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) });
}

async function session(as: 'reviewer' | 'admin' | 'secondReviewer') {
  const response = await signIn(stack.keys[as]);
  expect(response.status).toBe(201);
  const cookie = response.headers.get('set-cookie')!;
  return { cookie: cookie.split(';')[0]!, setCookie: cookie, body: await readJson(response) };
}

const withCookie = (cookie: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function pendingRefund(): Promise<string> {
  const body = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_c' }, payload: { amount: 600 } };
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': uniqueKey('console') } });
  return (await readJson(response)).id;
}

it('signs a reviewer in with an httpOnly, SameSite=Strict cookie and returns a CSRF token', async () => {
  const { setCookie, body } = await session('reviewer');
  expect(setCookie).toMatch(/^holdpoint_session=[A-Za-z0-9_-]{43}; /);
  expect(setCookie).toMatch(/; HttpOnly/);
  expect(setCookie).toMatch(/; SameSite=Strict/);
  expect(setCookie).toMatch(/; Path=\//);
  expect(setCookie).not.toMatch(/; Secure/); // the test API is plain http
  expect(body).toEqual({ principal: { id: 'alice', role: 'reviewer', groups: ['finance'] }, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) });
  const { rows } = await stack.db.pool.query('SELECT id_hash FROM console_sessions');
  expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.id_hash))).toBe(true);
});

it('refuses agents, unknown and revoked keys', async () => {
  expect((await signIn(stack.keys.agent)).status).toBe(403);
  expect((await signIn('hp_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
  expect((await signIn('not a key')).status).toBe(401);
  expect((await signIn(stack.keys.revoked)).status).toBe(401);
});

it('the session cookie authenticates API reads; writes need the CSRF token', async () => {
  const { cookie, body } = await session('reviewer');
  const me = await readJson(await withCookie(cookie, 'GET', '/v1/console/session'));
  expect(me).toMatchObject({ principal: { id: 'alice' }, csrfToken: body.csrfToken });

  const actionId = await pendingRefund();
  const inbox = await readJson(await withCookie(cookie, 'GET', '/v1/reviews'));
  expect(inbox.items.map((item: { id: string }) => item.id)).toContain(actionId);

  const decision = { verdict: 'approve', rationale: 'checked' };
  const noToken = await withCookie(cookie, 'POST', `/v1/actions/${actionId}/decision`, decision);
  expect(noToken.status).toBe(403);
  expect((await readJson(noToken)).type).toBe('https://holdpoint.dev/problems/csrf');
  const wrongToken = await withCookie(cookie, 'POST', `/v1/actions/${actionId}/decision`, decision, { 'x-csrf-token': 'x'.repeat(43) });
  expect(wrongToken.status).toBe(403);
  const otherSession = await session('secondReviewer');
  const crossed = await withCookie(cookie, 'POST', `/v1/actions/${actionId}/decision`, decision, { 'x-csrf-token': otherSession.body.csrfToken });
  expect(crossed.status).toBe(403);

  const ok = await withCookie(cookie, 'POST', `/v1/actions/${actionId}/decision`, decision, { 'x-csrf-token': body.csrfToken });
  expect(ok.status).toBe(200);
  expect((await readJson(ok)).decision).toMatchObject({ verdict: 'approved', by: ['alice'] });
});

it('signing out, or revoking the key, ends the session', async () => {
  const first = await session('reviewer');
  expect((await withCookie(first.cookie, 'POST', '/v1/console/session/end')).status).toBe(403); // CSRF applies to sign-out too
  const ended = await withCookie(first.cookie, 'POST', '/v1/console/session/end', undefined, { 'x-csrf-token': first.body.csrfToken });
  expect(ended.status).toBe(204);
  expect(ended.headers.get('set-cookie')).toMatch(/^holdpoint_session=; /);
  const after = await withCookie(first.cookie, 'GET', '/v1/reviews');
  expect(after.status).toBe(401);
  expect((await readJson(after)).detail).toBe('the console session has ended; sign in again');

  const second = await session('admin');
  expect((await withCookie(second.cookie, 'GET', '/v1/actions')).status).toBe(200);
  await revokeKeys(stack.db.pool, { principalId: 'root' });
  expect((await withCookie(second.cookie, 'GET', '/v1/actions')).status).toBe(401);
});

it('serves the console: a small bundle under a strict content security policy', async () => {
  const redirect = await fetch(`${stack.baseUrl}/console`, { redirect: 'manual' });
  expect(redirect.status).toBe(301);
  expect(redirect.headers.get('location')).toBe('/console/');

  const index = await fetch(`${stack.baseUrl}/console/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(index.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  const html = await index.text();
  const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  expect(scripts).toEqual([expect.stringMatching(/^\/console\/app\.js\?v=[0-9a-f]{12}$/)]);
  expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script

  const js = await fetch(`${stack.baseUrl}${scripts[0]}`);
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect((await js.arrayBuffer()).byteLength).toBeLessThan(200 * 1024);
  const etag = js.headers.get('etag')!;
  expect((await fetch(`${stack.baseUrl}${scripts[0]}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  expect((await fetch(`${stack.baseUrl}/console/nope.js`)).status).toBe(404);
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}
const registeredRoutes = (layers: Layer[]): string[] =>
  layers.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`);
    return layer.handle?.stack ? registeredRoutes(layer.handle.stack) : [];
  });

it('documents the console, Slack and email routes in OpenAPI like every other route', async () => {
  const document = await readJson(await stack.request('GET', '/openapi.json'));
  const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const served = registeredRoutes((stack.app as unknown as { router: { stack: Layer[] } }).router.stack);
  expect([...documented].sort()).toEqual([...served].sort());
  expect(documented).toEqual(
    expect.arrayContaining(['POST /v1/console/session', 'GET /v1/console/session', 'POST /v1/console/session/end', 'POST /slack/interactivity', 'GET /email/decision', 'POST /email/decision']),
  );
});
