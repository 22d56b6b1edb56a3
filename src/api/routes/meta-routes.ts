import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { z } from 'zod';
import { DocumentedRouter } from '../../platform/http/documented-router';
import { generateDocument } from '../../platform/http/openapi-registry';
import { renderApiDocs } from './api-docs-page';

async function check(name: string, probe: () => Promise<unknown>, timeoutMs = 2_000): Promise<[string, string]> {
  try {
    await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref())]);
    return [name, 'ok'];
  } catch (err) {
    return [name, (err as Error).message || 'unreachable'];
  }
}

const statusSchema = z.object({ status: z.string(), checks: z.record(z.string(), z.string()).optional() });

/** Health, readiness and the API's own documentation; all public. */
export function metaRoutes(registry: OpenAPIRegistry, options: { client: Client; pool: Pool; publicUrl: string }) {
  const api = new DocumentedRouter(registry);
  let document: ReturnType<typeof generateDocument> | undefined;
  // Generated on first use: every route is registered by then.
  const openApi = () => (document ??= generateDocument(registry, options.publicUrl));

  api.get(
    { path: '/healthz', summary: 'Liveness: the process answers', tags: ['operations'], responses: { 200: { description: 'Up', content: { 'application/json': { schema: statusSchema } } } } },
    // Never depends on backing services, or an outage would restart every replica.
    (_req, res) => {
      res.json({ status: 'ok' });
    },
  );

  api.get(
    {
      path: '/readyz',
      summary: 'Readiness: Temporal and Postgres reachable',
      tags: ['operations'],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: statusSchema } } },
        503: { description: 'A dependency is unreachable', content: { 'application/json': { schema: statusSchema } } },
      },
    },
    async (_req, res) => {
      const results = Object.fromEntries(
        await Promise.all([
          check('postgres', () => options.pool.query('SELECT 1')),
          check('temporal', () => options.client.connection.workflowService.getSystemInfo({})),
        ]),
      );
      const ready = Object.values(results).every((r) => r === 'ok');
      if (!ready) res.setHeader('Retry-After', '5');
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: results });
    },
  );

  api.get(
    { path: '/openapi.json', summary: 'This API as OpenAPI 3.1', tags: ['operations'], responses: { 200: { description: 'The document' } } },
    (_req, res) => {
      res.json(openApi());
    },
  );

  api.get(
    { path: '/docs', summary: 'This API, rendered for people', tags: ['operations'], responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } } },
    (_req, res) => {
      res.type('html').send(renderApiDocs(openApi()));
    },
  );

  return api.router;
}
