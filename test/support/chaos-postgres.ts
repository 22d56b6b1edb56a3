import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '../../src/platform/postgres/pool';
import { migrate } from '../../src/platform/postgres/migrate';
import { ManagedProcess } from '../../src/ops/dev/managed-process';
import { ChaosStack, sleep, verifyAllChains } from './chaos-stack';
import { eventually } from './eventually';
import { readJson } from './http';
import type { TestDatabase } from './test-database';

/** A Postgres of the chaos stack's own, in its own process, that a test may stop and start again. */
export class ChaosPostgres {
  private process!: ManagedProcess;
  url = '';
  private port = 0;
  private readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-chaos-pg-'));

  static async start(): Promise<ChaosPostgres> {
    const postgres = new ChaosPostgres();
    await postgres.startAgain();
    return postgres;
  }

  /** A migrated database over this server, for ChaosStack.start. */
  async database(): Promise<TestDatabase> {
    const pool = createPool(this.url, 10);
    await migrate(pool);
    // One role here (this server's superuser): chaos tests are about outages, not database roles.
    return { pool, url: this.url, ownerPool: pool, ownerUrl: this.url, schema: 'public', drop: () => pool.end() };
  }

  /** Starts the server (again, on the same port and data). */
  async startAgain(): Promise<void> {
    const child = new ManagedProcess('postgres', process.execPath, ['--import', 'tsx', path.join(__dirname, 'postgres-child.ts'), this.dataDir, String(this.port)], {
      cwd: path.join(__dirname, '../..'),
    });
    let output = '';
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`postgres did not start:\n${output}`)), 60_000);
      child.child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /READY (\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      void child.exited.then((code) => reject(new Error(`postgres exited (${code}):\n${output}`)));
    });
    const port = Number(new URL(this.url).port);
    if (this.port && port !== this.port) throw new Error(`postgres came back on port ${port}, not ${this.port}`);
    this.port = port;
    this.process = child;
  }

  /** A clean stop (SIGTERM → fast shutdown), as when an operator restarts the database. */
  stop(): Promise<unknown> {
    return this.process.stop(30_000);
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const refund = (id: string) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id }, payload: { amount: 10 } });

/** The request every chaos client sends: bounded by the API's own deadline plus a margin, never hanging. */
async function timedDecision(stack: ChaosStack, id: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  try {
    const response = await stack.request('POST', `/v1/actions/${id}/decision`, { as: 'alice', body: { verdict: 'approve' } });
    await response.arrayBuffer();
    return { status: response.status, ms: Date.now() - started };
  } catch {
    return { status: 0, ms: Date.now() - started };
  }
}

/**
 * Postgres stops (clean shutdown) while `actions` approvals are being recorded and executed, and
 * comes back after `downMs`; the stop begins `leadMs` after the first decision is sent. Every decision request answers within the API's bound (200, 202 "being
 * recorded" or 503, never a hang); the reviewer then retries the same request until it answers 200 —
 * never 409, since a decision is idempotent — and every action executes exactly once with its chain
 * intact and one vote by the reviewer. Figures go into `figures` as they are measured.
 */
export async function stopPostgresDuringDecisions(
  stack: ChaosStack,
  postgres: ChaosPostgres,
  { actions, downMs, prefix, leadMs = 150, spreadMs = 10 }: { actions: number; downMs: number; prefix: string; leadMs?: number; spreadMs?: number },
  figures: Record<string, unknown>,
): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < actions; i += 1) {
    const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: refund(`${prefix}-${i}`), headers: { 'Idempotency-Key': `${prefix}-${i}` } });
    ids.push((await readJson(response)).id);
  }
  const pendingAll = async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE id = ANY($1) AND status = 'pending_review'`, [ids]);
    return rows[0]?.n === actions;
  };
  await eventually(pendingAll, 60_000, 'all pending');
  stack.target.setDelay(500);
  // Decisions go out; Postgres stops while the workflows record them and execute.
  // Sent `spreadMs` apart across the moment the stop begins, so some are taken before it, some
  // are being recorded during it, and some arrive while Postgres is gone.
  const decisions = ids.map((id, i) => sleep(i * spreadMs).then(() => timedDecision(stack, id)));
  await sleep(leadMs);
  const stopped = Date.now();
  await postgres.stop();
  await sleep(downMs);
  await postgres.startAgain();
  figures.postgresDownMs = Date.now() - stopped;
  const answers = await Promise.all(decisions);
  figures.decisionStatuses = answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
  figures.slowestDecisionAnswerMs = Math.max(...answers.map((a) => a.ms));
  // Answered, not hung: the API's bound is 10 s; three times that separates an answer from a hang.
  expect(answers.filter((a) => a.status === 0 || a.ms > 30_000)).toEqual([]);
  // The reviewer's client retries anything but a 200 with the same request: it must come back 200.
  const retryStatuses: Record<string, number> = {};
  figures.retryStatuses = retryStatuses;
  const retried = await Promise.all(
    answers.map(async (answer, i) => {
      if (answer.status === 200) return 0;
      let retries = 0;
      let last = '';
      await eventually(async () => {
        retries += 1;
        const again = await stack.request('POST', `/v1/actions/${ids[i]}/decision`, { as: 'alice', body: { verdict: 'approve' } });
        const text = await again.text();
        retryStatuses[again.status] = (retryStatuses[again.status] ?? 0) + 1;
        last = `${again.status} ${text.slice(0, 300)}`;
        if (again.status >= 500 && again.status !== 503) figures.last5xx = last;
        if (again.status === 409) throw new Error(`retry of ${ids[i]} answered 409: a decision must be idempotent (${last})`);
        if (again.status !== 200) await sleep(1_000);
        return again.status === 200;
      }, 180_000, `a retried decision on ${ids[i]}`).catch((err: Error) => {
        throw new Error(`${err.message}; last answer ${last}\n--- worker ---\n${stack.worker.output().slice(-3000)}\n--- api ---\n${stack.api.output().slice(-3000)}`);
      });
      return retries;
    }),
  );
  figures.decisionRetries = retried.reduce((a, b) => a + b, 0);
  await eventually(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE id = ANY($1) AND status = 'executed'`, [ids]);
    return rows[0]?.n === actions;
  }, 180_000, 'every action executed');
  figures.recoveredMs = Date.now() - stopped;
  expect(ids.filter((id) => stack.target.effects.has(id))).toHaveLength(actions);
  await eventually(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(DISTINCT action_id)::int AS n FROM action_events WHERE type = 'action.completed' AND action_id = ANY($1)`, [ids]);
    return rows[0]?.n === actions;
  }, 60_000, 'completion events');
  const { rows: votes } = await stack.db.pool.query<{ action_id: string; n: number }>(
    `SELECT action_id, count(*)::int AS n FROM action_events WHERE action_id = ANY($1) AND type LIKE 'review.%' AND type <> 'review.requested' GROUP BY action_id`,
    [ids],
  );
  expect(votes.filter((row) => row.n !== 1)).toEqual([]);
  const chains = await verifyAllChains(stack.db.pool);
  expect(chains.broken).toEqual([]);
  figures.chains = { actions: chains.actions, events: chains.events };
}
