import { Client, Connection } from '@temporalio/client';
import { ChaosStack, verifyAllChains } from '../support/chaos-stack';
import { eventually } from '../support/eventually';

/** 2,000 actions at concurrency 100 through the API process. */
jest.setTimeout(600_000);
const TOTAL = Number(process.env.LOAD_ACTIONS ?? 2_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 100);

let stack: ChaosStack;
const figures: Record<string, unknown> = {};
beforeAll(async () => {
  stack = await ChaosStack.start(undefined, { persistTemporal: process.env.LOAD_PERSIST_TEMPORAL === '1' });
});
afterAll(async () => {
  await stack?.close();
  console.log(`chaos load figures ${JSON.stringify(figures)}`);
});

test(`${TOTAL} actions at concurrency ${CONCURRENCY}: accepted = workflows = rows, 0 5xx, every chain verifies`, async () => {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  const started = Date.now();
  const agent = async () => {
    while (next < TOTAL) {
      const i = next++;
      // Half allowed and executed by the server, half held for review.
      const type = i % 2 ? 'test.ping' : 'test.refund';
      const body = { agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: `cus_${i}` }, payload: { amount: i } };
      const t0 = Date.now();
      let status: number | string;
      try {
        const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': `load-${i}` } });
        await response.arrayBuffer();
        status = response.status;
      } catch (err) {
        status = (err as Error).name; // no answer within 90 s
      }
      latencies.push(Date.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, agent));
  const submitMs = Date.now() - started;
  latencies.sort((a, b) => a - b);
  figures.statuses = statuses;
  figures.submitMs = submitMs;
  figures.perSecond = Math.round((TOTAL / submitMs) * 1000);
  figures.p50 = latencies[Math.floor(latencies.length * 0.5)];
  figures.p99 = latencies[Math.floor(latencies.length * 0.99)];
  console.log(`load submitted ${JSON.stringify(figures)}`);
  expect(Object.keys(statuses).filter((s) => !(Number(s) < 500))).toEqual([]);
  // Every submission created its action: 201 once classified within the API's bound, 202 (with
  // Retry-After) while the classification was still queued behind the load.
  expect((statuses[201] ?? 0) + (statuses[202] ?? 0)).toBe(TOTAL);

  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection });
    const workflows = await eventually(async () => {
      const { count } = await client.workflow.count(`TaskQueue = "${stack.taskQueue}"`);
      return count >= TOTAL ? count : undefined;
    }, 60_000, 'visibility to count every workflow');
    figures.workflows = workflows;
    expect(workflows).toBe(TOTAL);
  } finally {
    await connection.close();
  }
  // A 202 answered before admission stored the action: every one is stored soon after.
  const stored = await eventually(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM actions');
    return (rows[0]?.n ?? 0) >= TOTAL ? rows[0]!.n : undefined;
  }, 120_000, 'every accepted action stored');
  expect(stored).toBe(TOTAL);
  // Allowed ones execute; refunds wait for review. Then every chain verifies.
  await eventually(async () => {
    const { rows: done } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE status IN ('executed', 'pending_review')`);
    return done[0]?.n === TOTAL;
  }, 300_000, 'every action executed or pending review');
  figures.settledMs = Date.now() - started;
  expect(stack.target.effects.size).toBe(TOTAL / 2);
  const chains = await verifyAllChains(stack.db.pool);
  figures.chains = { actions: chains.actions, events: chains.events, broken: chains.broken.length };
  expect(chains.broken).toEqual([]);
});
