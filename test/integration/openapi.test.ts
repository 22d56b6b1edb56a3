import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { operationsOf, schemaViolations, type OpenApiDocument } from '../support/openapi-fuzz';
import { uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.close());

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (method, path) the Express app actually serves, found by walking its router. */
function registeredRoutes(layers: Layer[]): string[] {
  return layers.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`);
    return layer.handle?.stack ? registeredRoutes(layer.handle.stack) : [];
  });
}

it('documents every route the app registers, and nothing else', async () => {
  const document = await readJson(await stack.request('GET', '/openapi.json'));
  expect(document.openapi).toBe('3.1.0');
  const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const served = registeredRoutes((stack.app as unknown as { router: { stack: Layer[] } }).router.stack);
  expect(served.length).toBeGreaterThan(10);
  expect([...documented].sort()).toEqual([...served].sort());
});

it('every operation documents its error responses as problem+json', async () => {
  const document = await readJson(await stack.request('GET', '/openapi.json'));
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown }>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      expect([path, method, Object.keys(operation.responses)]).toEqual([path, method, expect.arrayContaining(['400', '429', '503'])]);
      if (operation.security) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
      for (const [status, response] of Object.entries(operation.responses)) {
        // /readyz answers its 503 with the same check report as its 200, for load balancers.
        if (Number(status) >= 400 && response.content && path !== '/readyz') expect(Object.keys(response.content)).toContain('application/problem+json');
      }
    }
  }
});

it('renders a docs page listing the operations', async () => {
  const response = await stack.request('GET', '/docs');
  expect(response.headers.get('content-type')).toMatch(/text\/html/);
  const html = await response.text();
  expect(html).toContain('/v1/actions/{id}/decision');
  expect(html).not.toMatch(/<script/);
});

it('evidence bundles and metrics reports match the schemas the document gives them', async () => {
  const refund = { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount: 700 } };
  const action = await readJson(await stack.request('POST', '/v1/actions', { as: 'agent', body: refund, headers: { 'Idempotency-Key': uniqueKey('openapi') } }));
  expect(action.status).toBe('pending_review');
  const operations = operationsOf((await readJson(await stack.request('GET', '/openapi.json'))) as OpenApiDocument, [action.id]);
  const violations = (template: string, body: unknown) => {
    const operation = operations.find((o) => o.method === 'GET' && o.template === template)!;
    return schemaViolations(operation.responses['200']!.content!['application/json']!.schema!, body, operation.resolve);
  };

  const evidence = await readJson(await stack.request('GET', `/v1/actions/${action.id}/evidence`, { as: 'reviewer' }));
  // The request as submitted and a classification with its review plan are part of what is checked.
  expect(evidence.request.request).toMatchObject(refund);
  expect(evidence.policyDecision.decision.review.tiers.length).toBeGreaterThan(0);
  expect(violations('/v1/actions/{id}/evidence', evidence)).toEqual([]);

  const metrics = await readJson(await stack.request('GET', '/v1/metrics', { as: 'admin' }));
  expect(metrics.volume.rows.length).toBeGreaterThan(0);
  expect(violations('/v1/metrics', metrics)).toEqual([]);

  await stack.request('POST', `/v1/actions/${action.id}/cancel`, { as: 'agent', body: { reason: 'test done' } });
});
