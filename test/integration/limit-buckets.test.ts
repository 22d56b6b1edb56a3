import pino from 'pino';
import { updateProjection } from '../../src/evidence/evidence-repository';
import { createAdmissionActivities } from '../../src/gate/activities/admission-activities';
import { inTransaction } from '../../src/platform/postgres/transaction';
import { loadPolicyFromSources } from '../../src/policy';
import { readLimits, statusMask } from '../../src/policy/limit-ledger';
import { aggregateOf, DEFAULT_COUNTED_STATUSES, LIMIT_STATUSES, scopedLimitsFor, type ScopedLimit } from '../../src/policy/limits';
import { staticPolicyEngine } from '../../src/policy/policy-engine';
import type { ActionRequest, JsonObject } from '../../src/shared/action';
import type { ActionStatus } from '../../src/shared/action-state';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The rolling counters (limit_buckets, migration 009) are a cache of the limit ledger: whatever
 * reaches the ledger (parallel admissions, status changes, approved amounts, retention), a window
 * read through them must equal a recount of the ledger itself, at any window edge, for limits
 * that count the default statuses (read through the counters) and for those that list their own
 * (read from the ledger). An attacker who could make the two disagree could hide actions from a
 * limit.
 */

// Limits that share ledgers (per_agent and pending_per_agent: same actions, scope and field) and
// that do not; windows of every size against hourly buckets; default and listed statuses.
const POLICY = `version: 1
defaults: { unmatched: require_approval, route: { group: reviewers } }
groups: { reviewers: [rev-1] }
limits:
  per_customer: { actions: [test.refund], scope: [resource], window: 24h, sum: payload.amount }
  per_agent: { actions: [test.refund], scope: [agent], window: 6h, sum: payload.amount }
  pending_per_agent: { actions: [test.refund], scope: [agent], window: 3h, sum: payload.amount, statuses: [classifying, pending_review] }
  per_account: { actions: [test.refund], scope: [payload.account], window: 90m }
  refused_per_customer: { actions: [test.refund], scope: [resource], window: 2d, statuses: [denied, auto_denied, expired, cancelled] }
rules:
  - id: small
    when: action.type == "test.refund" && payload.amount <= 100
    outcome: allow
    risk: low
    execution: { mode: server, executor: payments-api }
`;
const policy = loadPolicyFromSources([{ name: 'limits.yaml', content: POLICY }]);
const HOUR = 3_600_000;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** mulberry32: the run is reproducible from its seed, printed when a check fails. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

const seed = Number(process.env.LIMIT_BUCKETS_SEED ?? Date.now() % 1_000_000);
const rng = random(seed);
const run = `lb${seed.toString(36)}`;
let sequence = 0;

function request(): ActionRequest {
  // Amounts: integers, decimals that do not add up exactly in binary, and a few that are not numbers.
  const amount = rng.next() < 0.1 ? 'n/a' : rng.pick([1, 5, 12.5, 0.1, 0.2, 99, 100, 150, 1000]);
  return {
    agent: { id: `${run}-agent-${rng.int(3)}` },
    action: { type: 'test.refund' },
    resource: { type: 'billing', id: `${run}-cus-${rng.int(4)}` },
    payload: { amount, account: `${run}-acc-${rng.int(3)}` } as JsonObject,
  };
}

/** A submission time within the last 30 hours; some on an hour boundary, some shared by two actions. */
function submittedAt(now: number, previous: number[]): number {
  const roll = rng.next();
  if (roll < 0.1 && previous.length > 0) return rng.pick(previous);
  const at = now - rng.int(30 * HOUR);
  return roll < 0.25 ? Math.floor(at / HOUR) * HOUR : at;
}

const admission = () => createAdmissionActivities({ pool: db.pool, policy: staticPolicyEngine(policy), logger: pino({ level: 'silent' }) });

async function admit(at: number): Promise<{ id: string; request: ActionRequest }> {
  const id = `action-${run}-${++sequence}`;
  const body = request();
  const iso = new Date(at).toISOString();
  await admission().admitAction({ actionId: id, submissionId: id, idempotencyKey: id, request: body, requestHash: `sha256:${id}`, submittedAt: iso, runId: 'test', occurredAt: iso });
  return { id, request: body };
}

/** A status change or an approved edit, the way the workflow stores them (the action's row). */
async function change(id: string): Promise<void> {
  const status = rng.pick(LIMIT_STATUSES);
  const edit = rng.next() < 0.25 ? { approvedPayload: { amount: rng.pick([3, 40.5, 250]), account: 'edited' } } : {};
  await inTransaction(db.pool, (client) => updateProjection(client, id, { status, ...edit }));
}

/** The aggregates straight from the ledger rows: what the counters must add up to. */
async function recount(scoped: readonly ScopedLimit[], at: number, excludeActionId?: string) {
  const readings = new Map();
  for (const entry of scoped) {
    const { rows } = await db.pool.query<{ count: number; sum: string }>(
      `SELECT count(*)::int AS count, coalesce(sum(amount), 0)::text AS sum FROM limit_ledger
        WHERE scope_key = $1 AND at > $2 AND status = ANY($3::text[]) AND action_id IS DISTINCT FROM $4`,
      [entry.scopeKey, new Date(at - entry.limit.windowMs).toISOString(), entry.limit.statuses, excludeActionId ?? null],
    );
    readings.set(entry.limit.id, aggregateOf(entry, { count: rows[0]!.count, sum: Number(rows[0]!.sum) }, at));
  }
  return readings;
}

/** Every bucket against its hour of the ledger: the rows that count by default, and their amounts. */
async function bucketsDisagreeingWithLedger(): Promise<unknown[]> {
  const { rows } = await db.pool.query(
    `WITH ledger AS (
       SELECT scope_key, limit_bucket_of(at) AS bucket, count(*)::int AS counted, coalesce(sum(amount), 0) AS amount
         FROM limit_ledger WHERE limit_counted(status) GROUP BY 1, 2)
     SELECT coalesce(l.scope_key, b.scope_key) AS scope_key, coalesce(l.bucket, b.bucket) AS bucket,
            l.counted AS ledger_count, b.counted AS bucket_count, l.amount AS ledger_amount, b.amount AS bucket_amount
       FROM ledger l FULL JOIN limit_buckets b ON b.scope_key = l.scope_key AND b.bucket = l.bucket
      WHERE l.scope_key IS NULL OR b.scope_key IS NULL OR l.counted <> b.counted OR l.amount <> b.amount`,
  );
  return rows;
}

describe('limit counters', () => {
  it('number the statuses as the code does, and count the same default set', async () => {
    const { rows } = await db.pool.query<{ statuses: string[]; mask: number; counted: string[] }>(
      'SELECT limit_statuses() AS statuses, limit_default_mask() AS mask, ARRAY(SELECT s FROM unnest(limit_statuses()) AS s WHERE limit_counted(s)) AS counted',
    );
    expect(rows[0]!.statuses).toEqual([...LIMIT_STATUSES]);
    expect(rows[0]!.mask).toBe(statusMask(DEFAULT_COUNTED_STATUSES));
    expect(rows[0]!.counted).toEqual([...DEFAULT_COUNTED_STATUSES]);
  });

  it('always add up to a recount of the ledger: parallel admissions, status changes, approved edits, retention, window edges', async () => {
    const failure = `(LIMIT_BUCKETS_SEED=${seed})`;
    const now = Date.now();
    const admitted: { id: string; request: ActionRequest; at: number }[] = [];
    const times: number[] = [];
    for (let round = 0; round < 6; round++) {
      // A batch of admissions at once (they share scopes: the locks and bucket upserts race)...
      const batch = Array.from({ length: 12 }, () => submittedAt(now, times));
      times.push(...batch);
      const results = await Promise.all(batch.map(async (at) => ({ ...(await admit(at)), at })));
      admitted.push(...results);
      // ...then status changes and edits of earlier ones, also at once (refusals stop counting by default).
      const changing = Array.from({ length: 15 }, () => rng.pick(admitted).id);
      await Promise.all([...new Set(changing)].map((id) => change(id)));
    }
    // Retention: the ledger rows of some actions go, as audit_prune_actions removes them.
    const pruned = admitted.filter(() => rng.next() < 0.15).map((action) => action.id);
    await db.ownerPool.query('DELETE FROM limit_ledger WHERE action_id = ANY($1)', [pruned]);

    expect({ disagreeing: await bucketsDisagreeingWithLedger(), failure }).toEqual({ disagreeing: [], failure });

    // Windows read through the counters at many edges: on and around hour boundaries, on and
    // around submission times, and with an action left out (a reviewer's edit is read so).
    const edges = new Set<number>([now]);
    for (const at of times) {
      const hour = Math.ceil(at / HOUR) * HOUR;
      for (const window of [90 * 60_000, 3 * HOUR, 6 * HOUR, 24 * HOUR, 48 * HOUR]) {
        for (const delta of [-1, 0, 1]) {
          edges.add(at + window + delta);
          edges.add(hour + window + delta);
        }
      }
    }
    const checked = [...edges].filter(() => rng.next() < 0.2);
    for (const at of checked) {
      const action = rng.pick(admitted);
      const scoped = scopedLimitsFor(policy, action.request);
      const exclude = rng.next() < 0.3 ? action.id : undefined;
      const read = await readLimits(db.pool, scoped, { at, excludeActionId: exclude });
      expect({ at, exclude, readings: Object.fromEntries(read), failure }).toEqual({
        at,
        exclude,
        readings: Object.fromEntries(await recount(scoped, at, exclude)),
        failure,
      });
    }
  });

  it('take a refused action off the default total at once', async () => {
    const at = Date.now();
    const { id, request: body } = await admit(at - 60_000);
    const scoped = scopedLimitsFor(policy, body);
    const before = await readLimits(db.pool, scoped, { at });
    for (const status of ['denied', 'cancelled', 'expired'] as ActionStatus[]) {
      await inTransaction(db.pool, (client) => updateProjection(client, id, { status }));
      const after = await readLimits(db.pool, scoped, { at });
      expect(after.get('per_customer')!.count).toBe(before.get('per_customer')!.count - 1);
      expect(after.get('refused_per_customer')!.count).toBe(before.get('refused_per_customer')!.count + 1);
      await inTransaction(db.pool, (client) => updateProjection(client, id, { status: 'executing' }));
    }
    expect(await bucketsDisagreeingWithLedger()).toEqual([]);
  });
});
