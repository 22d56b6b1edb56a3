import { ActionChangeFeed } from '../src/gate/service/action-change-feed';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { migrate } from '../src/platform/postgres/migrate';
import { createPool } from '../src/platform/postgres/pool';
import { createPrincipalKey } from '../src/access/principal-repository';
import { startDemoTarget, type DemoTarget } from '../src/ops/dev/demo-target';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/ops/dev/embedded-postgres';
import { startTemporalDevServer, type RunningDevServer } from '../src/ops/dev/temporal-dev-server';
import { loadBenchPolicy } from './bench-policy';
import { pidsMatching } from './processes';
import { postgresPids } from './figures/pending';
import { startWorkerChild, type WorkerChild } from './worker-child';

export interface BenchStack {
  baseUrl: string;
  client: Client;
  pool: Pool;
  taskQueue: string;
  floorTaskQueue: string;
  keys: { agent: string; reviewer: string; admin: string };
  /** The embedded Postgres data directory, when we started one (to find the postmaster pid). */
  postgresDataDir?: string;
  external: { temporal: boolean; postgres: boolean };
  /** Long-polls the API holds right now (its change feed's waiters). */
  waiting(): number;
  /** The Holdpoint and floor workers' own process. */
  worker: Pick<WorkerChild, 'pid' | 'maxCachedWorkflows' | 'memory' | 'usePolicy'>;
  /** Pids of the processes we started (for CPU, RSS and the check that nothing is left running). */
  childPids(): { temporal: number[]; postgres: number[]; worker: number[] };
  request(method: string, urlPath: string, options: { key: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  maxCachedWorkflows: number;
}

/**
 * Dev server, embedded Postgres and the worker process (Holdpoint worker + floor worker) as
 * children; the demo executor target and the API in this process, next to the load generator.
 * TEMPORAL_ADDRESS / DATABASE_URL reuse configured servers.
 */
export async function startBenchStack(log: (line: string) => void, options: BenchStackOptions): Promise<BenchStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log(`stop failed: ${err.message}`));
  };
  try {
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-gate-bench-'));
    stops.push(async () => fs.rmSync(tempDir, { recursive: true, force: true }));

    let temporal: RunningDevServer | undefined;
    let postgres: RunningPostgres | undefined;
    const postgresDataDir = process.env.DATABASE_URL ? undefined : path.join(tempDir, 'pg');
    log('starting Temporal dev server and Postgres…');
    const [address, databaseUrl] = await Promise.all([
      process.env.TEMPORAL_ADDRESS ?? startTemporalDevServer({ headless: true }).then((server) => ((temporal = server), server.address)),
      process.env.DATABASE_URL ?? startEmbeddedPostgres({ dataDir: postgresDataDir!, ephemeral: true }).then((pg) => ((postgres = pg), pg.url)),
    ]);
    if (temporal) stops.push(temporal.stop);
    if (postgres) stops.push(postgres.stop);

    const apiPool = createPool(databaseUrl, 20);
    stops.push(() => apiPool.end());
    await migrate(apiPool);

    const target: DemoTarget = await startDemoTarget();
    stops.push(target.close);
    // The demo target keeps every call for tests; the bench would grow it without bound.
    const trim = setInterval(() => {
      target.calls.length = 0;
      target.effects.clear();
    }, 1_000);
    stops.push(async () => clearInterval(trim));

    const run = Date.now().toString(36);
    const taskQueue = `bench-${run}`;
    const floorTaskQueue = `bench-floor-${run}`;
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    const { policy, engine: policyEngine } = loadBenchPolicy();

    log(`starting the worker process (maxCachedWorkflows ${options.maxCachedWorkflows})…`);
    const worker = await startWorkerChild(
      { temporalAddress: address, namespace, taskQueue, floorTaskQueue, databaseUrl, targetUrl: target.url, maxCachedWorkflows: options.maxCachedWorkflows },
      log,
    );
    stops.push(worker.stop);

    const connection = await Connection.connect({ address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace });

    const keys = {
      agent: (await createPrincipalKey(apiPool, { id: 'bench-agent', role: 'agent', groups: [] })).apiKey,
      reviewer: (await createPrincipalKey(apiPool, { id: 'bench-reviewer', role: 'reviewer', groups: ['bench-reviewers'] })).apiKey,
      admin: (await createPrincipalKey(apiPool, { id: 'bench-admin', role: 'admin', groups: [] })).apiKey,
    };
    const changes = new ActionChangeFeed(apiPool);
    stops.push(() => changes.close());
    const app = createApp({
      client,
      changes,
      pool: apiPool,
      logger: pino({ level: 'silent' }),
      taskQueue,
      namespace,
      publicUrl: 'http://bench.local',
      policy: { engine: policyEngine, current: () => policy },
      rateLimitPerMinute: 100_000_000,
    });
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // Keep-alive sockets from the load generator would otherwise hold close() open.
    stops.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    return {
      baseUrl,
      client,
      pool: apiPool,
      taskQueue,
      floorTaskQueue,
      keys,
      postgresDataDir,
      external: { temporal: !temporal, postgres: !postgres },
      worker,
      waiting: () => changes.waiting,
      childPids: () => ({
        temporal: temporal ? pidsMatching(`temporal server start-dev --ip 127.0.0.1 --port ${address.split(':')[1]} `) : [],
        postgres: postgresDataDir && fs.existsSync(path.join(postgresDataDir, 'postmaster.pid')) ? postgresPids(postgresDataDir) : [],
        worker: [worker.pid],
      }),
      request(method, urlPath, { key, body, headers = {} }) {
        return fetch(`${baseUrl}${urlPath}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
