import { ChaosPostgres, stopPostgresDuringDecisions } from '../support/chaos-postgres';
import { ChaosStack, sleep, verifyAllChains } from '../support/chaos-stack';
import { eventually } from '../support/eventually';
import { readJson } from '../support/http';

/**
 * Postgres stopped mid-run (its own embedded server, not the shared one), and the API process
 * SIGKILLed under long-polling agents that retry with the same Idempotency-Key.
 */
jest.setTimeout(600_000);
const ACTIONS = Number(process.env.PG_STOP_ACTIONS ?? 40);
const AGENTS = Number(process.env.LONG_POLL_AGENTS ?? 30);

let stack: ChaosStack;
let postgres: ChaosPostgres;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  postgres = await ChaosPostgres.start();
  stack = await ChaosStack.start(await postgres.database());
});

afterAll(async () => {
  await stack?.close();
  await postgres?.close();
  // Printed whatever happened above: a failed run's figures say how far it got.
  console.log(`chaos postgres/api figures ${JSON.stringify(figures)}`);
});

const refund = (i: string) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: i }, payload: { amount: 10 } });

test(`Postgres stopped while ${ACTIONS} approvals are recorded and executed: bounded answers, idempotent retries, every record completes`, async () => {
  await stopPostgresDuringDecisions(stack, postgres, { actions: ACTIONS, downMs: 5_000, prefix: 'pg' }, figures);
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
