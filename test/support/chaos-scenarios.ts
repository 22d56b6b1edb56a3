import { ChaosStack, countTerminal, sleep, statuses, verifyAllChains } from './chaos-stack';
import { readJson } from './http';
import { eventually } from './eventually';

export interface CrashCounts {
  /** Actions pending review when the worker is killed. */
  pending: number;
  /** Server-mode executions held by the target when the worker is killed. */
  inFlight: number;
  /** Actions waiting on a 15 s review timer when the dev server is killed. */
  quick: number;
  /** Decisions sent around the moment of a 5 s timeout. */
  races: number;
  /** How long the target holds each execution (long enough for all of `inFlight` to arrive). */
  holdMs: number;
  /** Multiplies the waits, for the larger runs on a busy machine. */
  patience: number;
  /** Action type waiting on a review timer: test.quick (15 s) or test.quick-full (90 s). */
  quickType?: string;
}

let stack: ChaosStack;
let run = 0;

const body = (type: string, id: string) => ({ agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id }, payload: { amount: 10, note: id } });

/**
 * An agent's client: 201/200 (classified) or 202 (created, classification still under way) give
 * the id; 503 with Retry-After means Temporal was too busy to answer in the API's bound, so it
 * retries the same request (same key: never a second action), bounded.
 */
async function submit(type: string): Promise<string> {
  run += 1;
  const key = `${type.replace('.', '-')}-${run}`;
  for (let attempt = 0; ; attempt += 1) {
    const response = await stack.request('POST', '/v1/actions', { as: 'agent', body: body(type, key), headers: { 'Idempotency-Key': key } });
    if (response.status === 503 && attempt < 10) {
      await response.arrayBuffer();
      unavailableRetries += 1;
      await sleep(1_000);
      continue;
    }
    expect([200, 201, 202]).toContain(response.status);
    return (await readJson(response)).id as string;
  }
}

async function decide(id: string, verdict: 'approve' | 'deny', as: 'alice' | 'bob' = 'alice'): Promise<Response> {
  return stack.request('POST', `/v1/actions/${id}/decision`, { as, body: verdict === 'approve' ? { verdict } : { verdict, rationale: 'chaos test' } });
}

/** The outcome events a race may leave: a recorded denial, or the timer's expiry alone. */
const settledRace = (status: string) => (status === 'denied' ? ['review.denied', 'action.denied'] : ['action.expired']);

let unavailableRetries = 0;
/** Server errors other than 503, with their bodies, for the figures of a failed run. */
export const unexpectedAnswers: string[] = [];

/** A reviewer's client: 503 (with Retry-After) means a backing service is catching up; retry, bounded. */
async function decideUntilAnswered(id: string, verdict: 'approve' | 'deny'): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const response = await decide(id, verdict);
    const text = await response.text();
    if (response.status >= 500 && response.status !== 503) unexpectedAnswers.push(`${response.status} ${text.slice(0, 400)}`);
    if (response.status !== 503 || attempt >= 10) return response.status;
    unavailableRetries += 1;
    await sleep(2_000);
  }
}

async function status(id: string): Promise<string> {
  return (await readJson(await stack.request('GET', `/v1/actions/${id}`, { as: 'admin' }))).status as string;
}

/**
 * SIGKILL the worker with reviews pending and executions in flight, then the dev server during
 * review waits, then race decisions against timeouts; finally every action is terminal, each
 * side effect applied once, and every chain verifies. Figures are written into `figures`.
 */
export async function crashWorkerAndDevServer(chaos: ChaosStack, counts: CrashCounts, figures: Record<string, unknown>): Promise<void> {
  stack = chaos;
  const { pending: PENDING, inFlight: IN_FLIGHT, quick: QUICK, races: RACES, holdMs, patience } = counts;
  const patiently = (ms: number) => ms * patience;
  // 1. Actions pending review, and server-mode executions held by a slow target.
  const pending = await Promise.all(Array.from({ length: PENDING }, () => submit('test.refund')));
  await eventually(async () => (await Promise.all(pending.map(status))).every((s) => s === 'pending_review'), patiently(30_000), 'reviews pending');
  stack.target.setDelay(holdMs);
  const pings = await Promise.all(Array.from({ length: IN_FLIGHT }, () => submit('test.ping')));
  await eventually(() => stack.target.inFlight() >= IN_FLIGHT, patiently(30_000), 'executions in flight');
  figures.inFlightAtKill = stack.target.inFlight();

  await stack.worker.kill();
  stack.target.setDelay(0);
  figures.workerRestartMs = await stack.restartWorker();

  // Pending reviews are still decidable by the new worker: approve half, deny half.
  const verdicts = await Promise.all(pending.map((id, i) => decideUntilAnswered(id, i % 2 ? 'deny' : 'approve')));
  // 409: an earlier attempt answered 503 yet landed; the state checks below show which verdict won.
  expect(verdicts.filter((s) => s !== 200 && s !== 409)).toEqual([]);
  figures.decisionRetriesAfter503 = unavailableRetries;

  // 2. Kill the dev server while actions wait on their review timers.
  const quick = await Promise.all(Array.from({ length: QUICK }, () => submit(counts.quickType ?? 'test.quick')));
  await eventually(async () => (await Promise.all(quick.map(status))).every((s) => s === 'pending_review'), patiently(30_000), 'quick reviews pending');
  const quickSubmittedAt = Date.now();
  await stack.killTemporal();
  const down = Date.now();
  await stack.startTemporal();
  figures.devServerDownMs = Date.now() - down;
  // Approvals still land after the restart (the API and worker reconnect on their own).
  const half = quick.slice(0, QUICK / 2);
  const approvals = await eventually(
    async () => {
      const answers = await Promise.all(half.map(async (id) => (await status(id)) === 'pending_review' ? (await decide(id, 'approve')).status : 200));
      return answers.every((s) => s === 200) ? answers : undefined;
    },
    patiently(30_000),
    'approvals after the dev server restart',
  );
  expect(approvals).toHaveLength(QUICK / 2);
  // The other half time out on the timer started before the crash (sla 15s).
  await eventually(async () => (await Promise.all(quick.slice(QUICK / 2).map(status))).every((s) => s === 'expired'), patiently(45_000), 'timers firing after the restart');
  figures.quickExpiredAfterMs = Date.now() - quickSubmittedAt;

  // 3. A decision arriving at the moment of the timeout (sla 5s): exactly one outcome.
  const races = await Promise.all(Array.from({ length: RACES }, () => submit('test.race')));
  const raceStart = Date.now();
  const answers = await Promise.all(
    races.map(async (id, i) => {
      await sleep(raceStart + 4_300 + i * 120 - Date.now());
      return (await decide(id, 'deny')).status;
    }),
  );
  const raceOutcomes = await eventually(
    async () => {
      const all = await Promise.all(races.map(status));
      return all.every((s) => s === 'denied' || s === 'expired') ? all : undefined;
    },
    patiently(30_000),
    'race outcomes',
  );
  races.forEach((_, i) => {
    // The API's answer and the recorded outcome agree: a 200 deny means denied, a refusal means the timer won.
    if (answers[i] === 200) expect(raceOutcomes[i]).toBe('denied');
    else if (answers[i] === 503) figures.raceUnavailable = ((figures.raceUnavailable as number) ?? 0) + 1;
    else {
      expect(answers[i]).toBe(409);
      expect(raceOutcomes[i]).toBe('expired');
    }
  });
  // One outcome recorded per race, never both a denial and an expiry.
  const { rows: outcomeEvents } = await stack.db.pool.query<{ action_id: string; types: string[] }>(
    `SELECT action_id, array_agg(type ORDER BY seq) AS types FROM action_events
      WHERE action_id = ANY($1) AND type IN ('action.denied', 'action.expired', 'review.denied') GROUP BY action_id`,
    [races],
  );
  expect(outcomeEvents).toHaveLength(RACES);
  for (const { action_id: id, types } of outcomeEvents) {
    expect(types).toEqual(settledRace(raceOutcomes[races.indexOf(id)] ?? ''));
  }
  figures.races = { denied: raceOutcomes.filter((s) => s === 'denied').length, expired: raceOutcomes.filter((s) => s === 'expired').length };

  // 4. Everything settles: the killed executions retry after their attempt times out.
  const all = [...pending, ...pings, ...quick, ...races];
  const settled = await eventually(
    async () => {
      const current = await statuses(stack.db.pool);
      return all.every((id) => ['executed', 'denied', 'expired'].includes(current.get(id) ?? '')) ? current : undefined;
    },
    patiently(100_000),
    'every action terminal',
  );
  expect(pings.map((id) => settled.get(id))).toEqual(pings.map(() => 'executed'));
  const executed = all.filter((id) => settled.get(id) === 'executed');
  expect(executed).toHaveLength(IN_FLIGHT + PENDING / 2 + QUICK / 2);
  // Exactly one side effect per executed action, however many times the target was called.
  expect(stack.target.effects.size).toBe(executed.length);
  figures.targetCalls = [...stack.target.calls.values()].reduce((a, b) => a + b, 0);
  figures.effects = stack.target.effects.size;
  figures.retriedKeys = [...stack.target.calls.values()].filter((n) => n > 1).length;

  const chains = await verifyAllChains(stack.db.pool);
  expect(chains.broken).toEqual([]);
  expect(chains.actions).toBe(all.length);
  figures.chains = { actions: chains.actions, events: chains.events };
  figures.byStatus = (await countTerminal(stack.db.pool)).byStatus;
  // The completion event is the last link; it lands just after the status turns terminal.
  await eventually(
    async () => (await stack.db.pool.query<{ n: number }>(`SELECT count(DISTINCT action_id)::int AS n FROM action_events WHERE type = 'action.completed'`)).rows[0]?.n === all.length,
    patiently(20_000),
    'a completion event for every action',
  );
  const { rows: types } = await stack.db.pool.query<{ type: string; n: number }>('SELECT type, count(*)::int AS n FROM action_events GROUP BY type ORDER BY type');
  figures.eventTypes = Object.fromEntries(types.map((row) => [row.type, row.n]));
}
