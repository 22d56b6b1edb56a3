import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { createPrincipalKey } from '../../src/access/principal-repository';
import { listEvents, verifyChain } from '../../src/evidence/evidence-repository';
import { startTemporalDevServer, type RunningDevServer } from '../../src/ops/dev/temporal-dev-server';
import { isTerminal, type ActionStatus } from '../../src/shared/action-state';
import { startApiChild, startWorkerChild, type ProcessEnv, type RunningChild } from './process-stack';
import { startSlowTarget, type SlowTarget } from './slow-target';
import { createTestDatabase, type TestDatabase } from './test-database';

export const CHAOS_POLICY_DIR = path.join(__dirname, '../fixtures/policies-chaos');

export type ChaosCaller = 'agent' | 'alice' | 'bob' | 'admin';

/**
 * Everything a chaos test kills and restarts, each its own process: a Temporal dev server with a
 * persistence file (not the shared one from global set-up), the worker and the API; plus its own
 * Postgres schema and a slow executor target.
 */
export class ChaosStack {
  worker!: RunningChild;
  api!: RunningChild & { baseUrl: string };
  temporal!: RunningDevServer;
  temporalPort!: number;
  readonly keys = {} as Record<ChaosCaller, string>;
  /** false: an in-memory dev server (load runs; nothing to restart from). */
  persistTemporal = true;
  private constructor(
    readonly db: TestDatabase,
    readonly target: SlowTarget,
    readonly dir: string,
    readonly taskQueue: string,
  ) {}

  /** `database`: a schema elsewhere than the shared Postgres (the Postgres-stop scenario owns its server). */
  static async start(database?: TestDatabase, options: { persistTemporal?: boolean } = {}): Promise<ChaosStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-chaos-'));
    const [db, target] = await Promise.all([database ?? createTestDatabase(), startSlowTarget()]);
    const stack = new ChaosStack(db, target, dir, `chaos-${Date.now().toString(36)}`);
    stack.persistTemporal = options.persistTemporal ?? true;
    const principals: [ChaosCaller, string, 'agent' | 'reviewer' | 'admin', string[]][] = [
      ['agent', 'support-bot', 'agent', []],
      ['alice', 'alice', 'reviewer', ['finance']],
      ['bob', 'bob', 'reviewer', ['finance']],
      ['admin', 'root', 'admin', []],
    ];
    for (const [caller, id, role, groups] of principals) stack.keys[caller] = (await createPrincipalKey(db.pool, { id, role, groups })).apiKey;
    await stack.startTemporal();
    [stack.worker, stack.api] = await Promise.all([startWorkerChild(stack.env()), startApiChild(stack.env())]);
    return stack;
  }

  env(): ProcessEnv {
    return { databaseUrl: this.db.url, temporalAddress: this.temporal.address, taskQueue: this.taskQueue, policyPath: CHAOS_POLICY_DIR, executorUrl: this.target.url };
  }

  /** Starts (or restarts, on the same port and file) the dev server. */
  async startTemporal(): Promise<void> {
    const dbFile = this.persistTemporal ? path.join(this.dir, 'temporal.sqlite') : undefined;
    this.temporal = await startTemporalDevServer({ dbFile, headless: true, port: this.temporalPort });
    const port = Number(this.temporal.address.split(':')[1]);
    if (this.temporalPort && port !== this.temporalPort) throw new Error(`dev server came back on ${port}, not ${this.temporalPort}`);
    this.temporalPort = port;
  }

  /** SIGKILL the dev server's process group: no shutdown, SQLite file as the crash left it. */
  killTemporal(): Promise<void> {
    return this.temporal.kill();
  }

  async restartWorker(): Promise<number> {
    const started = Date.now();
    this.worker = await startWorkerChild(this.env());
    return Date.now() - started;
  }

  async restartApi(): Promise<number> {
    const started = Date.now();
    const port = Number(new URL(this.api.baseUrl).port);
    this.api = await startApiChild(this.env(), port);
    return Date.now() - started;
  }

  request(method: string, pathname: string, { as, body, headers = {} }: { as?: ChaosCaller; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    return fetch(`${this.api.baseUrl}${pathname}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(as ? { authorization: `Bearer ${this.keys[as]}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.api?.stop(), this.worker?.stop()]);
    await Promise.allSettled([this.temporal?.stop(), this.target.close()]);
    await this.db.drop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function statuses(pool: Pool): Promise<Map<string, ActionStatus>> {
  const { rows } = await pool.query<{ id: string; status: ActionStatus }>('SELECT id, status FROM actions');
  return new Map(rows.map((row) => [row.id, row.status]));
}

export interface ChainReport {
  actions: number;
  events: number;
  broken: string[];
}

/** Every action's events, re-hashed. */
export async function verifyAllChains(pool: Pool): Promise<ChainReport> {
  const ids = [...(await statuses(pool)).keys()];
  const report: ChainReport = { actions: ids.length, events: 0, broken: [] };
  for (const id of ids) {
    const verification = verifyChain(await listEvents(pool, id));
    report.events += verification.events;
    if (!verification.ok || verification.events === 0) report.broken.push(id);
  }
  return report;
}

export async function countTerminal(pool: Pool): Promise<{ terminal: number; byStatus: Record<string, number> }> {
  const byStatus: Record<string, number> = {};
  let terminal = 0;
  for (const status of (await statuses(pool)).values()) {
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (isTerminal(status)) terminal += 1;
  }
  return { terminal, byStatus };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
