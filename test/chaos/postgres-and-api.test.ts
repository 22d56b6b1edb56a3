import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '../../src/db/pool';
import { migrate } from '../../src/db/migrate';
import { ManagedProcess } from '../../src/dev/managed-process';
import { ChaosStack, countTerminal, sleep, verifyAllChains } from '../support/chaos-stack';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';
import type { TestDatabase } from '../support/test-database';

/**
 * Postgres stopped mid-run (its own embedded server, not the shared one), and the API process
 * SIGKILLed under long-polling agents that retry with the same Idempotency-Key.
 */
jest.setTimeout(600_000);
const ACTIONS = Number(process.env.PG_STOP_ACTIONS ?? 40);
const AGENTS = Number(process.env.LONG_POLL_AGENTS ?? 30);

let stack: ChaosStack;
let postgres: { process: ManagedProcess; url: string };
let pgPort = 0;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-chaos-pg-'));
const figures: Record<string, unknown> = {};

async function startPostgres(): Promise<{ process: ManagedProcess; url: string }> {
  const child = new ManagedProcess('postgres', process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/postgres-child.ts'), dataDir, String(pgPort)], {
    cwd: path.join(__dirname, '../..'),
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
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
  pgPort = Number(new URL(url).port);
  return { process: child, url };
}

/** A clean stop (SIGTERM → fast shutdown), as when an operator restarts the database. */
const stopPostgres = () => postgres.process.stop(30_000);

beforeAll(async () => {
  postgres = await startPostgres();
  const pool = createPool(postgres.url, 10);
  await migrate(pool);
  const db: TestDatabase = {
    pool,
    url: postgres.url,
    schema: 'public',
    drop: async () => {
      await pool.end();
    },
  };
  stack = await ChaosStack.start(db);
});

afterAll(async () => {
  await stack?.close();
  if (postgres) await stopPostgres();
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.log(`chaos postgres/api figures ${JSON.stringify(figures)}`);
});

const refund = (i: string) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: i }, payload: { amount: 10 } });

test(`Postgres stopped while ${ACTIONS} approvals execute: activities retry, every record completes, chains verify`, async () => {
  const ids: string[] = [];
  for (let i = 0; i < ACTIONS; i += 1) {
    const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: refund(`pg-${i}`), headers: { 'Idempotency-Key': `pg-${i}` } });
    ids.push((await readJson(response)).id);
  }
  await eventually(async () => (await countTerminal(stack.db.pool)).byStatus.pending_review === ACTIONS, 60_000, 'all pending');
  await sleep(1_000);
  stack.target.setDelay(500);
  // Decisions go out; Postgres stops while the workflows record them and execute.
  const decisions = ids.map((id) => stack.request('POST', `/v1/actions/${id}/decision`, { as: 'alice', body: { verdict: 'approve' } }).then((r) => r.status, () => 0));
  await sleep(300);
  const stopped = Date.now();
  const port = pgPort;
  await stopPostgres();
  await sleep(5_000);
  postgres = await startPostgres();
  expect(pgPort).toBe(port);
  figures.postgresDownMs = Date.now() - stopped;
  const answers = await Promise.all(decisions);
  figures.decisionStatuses = answers.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
  // Every decision the API accepted (200) must take effect; refused ones are retried by the reviewer.
  for (const [i, status] of answers.entries()) {
    if (status !== 200) {
      const retry = await eventually(async () => {
        const r = await stack.request('POST', `/v1/actions/${ids[i]}/decision`, { as: 'alice', body: { verdict: 'approve' } });
        return [200, 409].includes(r.status) ? r.status : undefined;
      }, 180_000, 'a retried decision');
      expect([200, 409]).toContain(retry);
    }
  }
  await eventually(async () => (await countTerminal(stack.db.pool)).byStatus.executed === ACTIONS, 180_000, 'every action executed');
  figures.recoveredMs = Date.now() - stopped;
  expect(stack.target.effects.size).toBe(ACTIONS);
  await eventually(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(DISTINCT action_id)::int AS n FROM action_events WHERE type = 'action.completed'`);
    return rows[0]?.n === ACTIONS;
  }, 60_000, 'completion events');
  const chains = await verifyAllChains(stack.db.pool);
  expect(chains.broken).toEqual([]);
  figures.pgChains = { actions: chains.actions, events: chains.events };
});

test(`API SIGKILLed under ${AGENTS} long-polling agents: retries with the same key get the same actions`, async () => {
  const before = (await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM actions')).rows[0]?.n ?? 0;
  const firstIds: (string | undefined)[] = Array.from({ length: AGENTS });
  const finalIds: string[] = [];
  const outcomes: string[] = [];
  let retries = 0;
  // Each agent submits with ?wait (long poll) and keeps retrying the same request until decided.
  const agent = async (i: number) => {
    const key = `poll-${i}`;
    for (let attempt = 0; attempt < 60; attempt += 1) {
      try {
        const response = await stack.request('POST', '/v1/actions?wait=20', { as: 'agent', body: refund(key), headers: { 'Idempotency-Key': key } });
        const view = await readJson(response);
        firstIds[i] ??= view.id;
        if (response.status === 200 || response.status === 201) {
          finalIds[i] = view.id;
          outcomes[i] = view.status;
          return;
        }
      } catch {
        // connection reset by the killed API
      }
      retries += 1;
      await sleep(500);
    }
  };
  const polling = Promise.all(Array.from({ length: AGENTS }, (_, i) => agent(i)));
  await eventually(
    async () => (await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE idempotency_key LIKE 'poll-%' AND status = 'pending_review'`)).rows[0]?.n === AGENTS,
    120_000,
    'agents waiting',
  );
  await sleep(1_000);
  await stack.api.kill();
  await sleep(1_000);
  figures.apiRestartMs = await stack.restartApi();
  await sleep(2_000);
  const { rows } = await stack.db.pool.query<{ id: string }>(`SELECT id FROM actions WHERE idempotency_key LIKE 'poll-%' AND status = 'pending_review'`);
  for (const { id } of rows) {
    await stack.request('POST', `/v1/actions/${id}/decision`, { as: 'bob', body: { verdict: 'deny', rationale: 'chaos' } });
  }
  await polling;
  figures.longPollRetries = retries;
  expect(finalIds.filter(Boolean)).toHaveLength(AGENTS);
  expect(finalIds).toEqual(firstIds);
  expect(outcomes.every((s) => s === 'denied')).toBe(true);
  const after = (await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM actions')).rows[0]?.n ?? 0;
  expect(after - before).toBe(AGENTS);
  const chains = await verifyAllChains(stack.db.pool);
  expect(chains.broken).toEqual([]);
  figures.passed = true;
});
