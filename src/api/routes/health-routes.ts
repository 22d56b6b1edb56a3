import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';

async function check(name: string, probe: () => Promise<unknown>, timeoutMs = 2_000): Promise<[string, string]> {
  try {
    await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref())]);
    return [name, 'ok'];
  } catch (err) {
    return [name, (err as Error).message || 'unreachable'];
  }
}

export function healthRoutes({ client, pool }: { client: Client; pool: Pool }): Router {
  const router = Router();
  // Liveness: the process answers. Never depends on backing services, or restarts would cascade.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Readiness: Temporal and Postgres both reachable.
  router.get('/readyz', async (_req, res) => {
    const results = Object.fromEntries(
      await Promise.all([
        check('postgres', () => pool.query('SELECT 1')),
        check('temporal', () => client.connection.workflowService.getSystemInfo({})),
      ]),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: results });
  });
  return router;
}
