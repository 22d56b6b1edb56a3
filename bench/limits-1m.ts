/**
 * Benchmark: what cumulative limits add to admission, with one million stored actions.
 *
 *   node --import tsx bench/limits-1m.ts [--actions 1000000] [--days 30] [--agents 50] [--customers 20000]
 *        [--accounts 1000] [--rounds 5] [--samples 400] [--seconds 10] [--concurrency 1,4,8,16]
 *        [--schema NAME] [--postgres-data-dir DIR] [--out FILE]
 *
 * Uses DATABASE_URL (the owner's) when set, else starts an embedded Postgres in a temporary
 * directory. Seeds a fresh schema: `--actions` actions over `--days` days, half of them
 * `bench.refund` with their three limit_ledger rows (appended in submission order, as admission
 * appends them), by `--agents` agents, to `--customers` customers and `--accounts` payment
 * accounts; 10% denied, 10% pending, the rest executed, whoever the agent and customer. The seed
 * is written against the schema before the limit counters (migration 009), then the remaining
 * migrations run over it, timed, as they would over an existing database. `--schema NAME` keeps that schema and reuses it when run
 * again with the same seed (the measurements then start at once).
 *
 * Then runs the shipped admission activity (`admitAction`: limit locks, aggregates, ledger insert,
 * evaluation, the action's row and evidence, one transaction) under two policies that differ only
 * in three limits (per customer, per agent, per payload.account, all over 24h) and a rule reading
 * them:
 *   1. latency: `--rounds` rounds of `--samples` pairs, one admission at a time, each pair one of
 *      each policy in alternating order; the figure is the p50 with limits minus the p50 without,
 *      over all samples, with each round's difference for the spread;
 *   2. throughput at each `--concurrency`, alternating slices of the two policies (ABBA), scopes
 *      picked at random as in real traffic; CPU per admission of this process and of Postgres
 *      (Postgres only when we know its data directory: embedded, or `--postgres-data-dir`).
 * Writes JSON to stdout (and to bench/`--out` when given). Not run in tests.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import pino from 'pino';
import { createAdmissionActivities } from '../src/gate/activities/admission-activities';
import { migrate, readMigrations } from '../src/platform/postgres/migrate';
import { createPool } from '../src/platform/postgres/pool';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/ops/dev/embedded-postgres';
import { loadPolicyFromSources } from '../src/policy';
import { scopedLimitsFor } from '../src/policy/limits';
import type { LoadedPolicy } from '../src/policy/loaded-policy';
import { staticPolicyEngine } from '../src/policy/policy-engine';
import type { ActionRequest } from '../src/shared/action';
import { postgresPids } from './figures/pending';
import { cpuDelta, cpuSeconds } from './processes';
import { elapsedMs, percentile, round, summarize } from './stats';

const { values: flags } = parseArgs({
  options: {
    actions: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '30' },
    agents: { type: 'string', default: '50' },
    customers: { type: 'string', default: '20000' },
    accounts: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    samples: { type: 'string', default: '400' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1,4,8,16' },
    schema: { type: 'string' },
    'postgres-data-dir': { type: 'string' },
    out: { type: 'string' },
  },
});
const SEED = {
  // Bumped when the seed changes, so that --schema never reuses a schema seeded differently.
  version: 2,
  actions: Number(flags.actions),
  days: Number(flags.days),
  agents: Number(flags.agents),
  customers: Number(flags.customers),
  accounts: Number(flags.accounts),
};
const ROUNDS = Number(flags.rounds);
const SAMPLES = Number(flags.samples);
const SECONDS = Number(flags.seconds);
const CONCURRENCY = flags.concurrency!.split(',').map(Number);
const BATCH = 100_000;
// The seed is written against the schema before this migration, which then runs over it.
const COUNTERS_MIGRATION = 9;

const BASE = `version: 1
defaults: { unmatched: require_approval, route: { group: reviewers } }
groups: { reviewers: [rev-1] }
`;
// As refund-small in the shipped policy: allowed refunds run on a server executor, so admission
// also stores the allow and the execution start (and, with limits, moves the ledger rows along).
const SMALL_REFUND = `  - id: small
    when: action.type == "bench.refund" && payload.amount <= 100
    outcome: allow
    risk: low
    execution: { mode: server, executor: payments-api }
`;
const WITHOUT_LIMITS = `${BASE}rules:\n${SMALL_REFUND}`;
const WITH_LIMITS = `${BASE}limits:
  per_customer: { actions: [bench.refund], scope: [resource], window: 24h, sum: payload.amount }
  per_agent: { actions: [bench.refund], scope: [agent], window: 24h, sum: payload.amount }
  per_account: { actions: [bench.refund], scope: [payload.account], window: 24h }
rules:
${SMALL_REFUND}  - id: cumulative
    when: >-
      action.type == "bench.refund" && (
        (limits.per_customer.count > 1 && limits.per_customer.sum > 500) || limits.per_agent.sum > 1000000 || limits.per_account.count > 1000)
    outcome: require_approval
    risk: high
`;

type Variant = 'plain' | 'limited';
const VARIANTS: readonly Variant[] = ['plain', 'limited'];

const log = (message: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${os.loadavg()[0]!.toFixed(2)}] ${message}\n`);
const load1 = () => round(os.loadavg()[0]!);

const loadAverageAtStart = os.loadavg().map((x) => round(x));

async function main() {
  let postgres: RunningPostgres | undefined;
  let base = process.env.DATABASE_URL;
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-bench-'));
  // CPU per admission is measured for a Postgres whose processes we can find by its data directory.
  let postgresDataDir = flags['postgres-data-dir'];
  if (!base) {
    log('starting embedded Postgres…');
    postgresDataDir = path.join(tempDir, 'pg');
    postgres = await startEmbeddedPostgres({ dataDir: postgresDataDir, ephemeral: true });
    base = postgres.url;
  }
  const keep = flags.schema !== undefined;
  const schema = flags.schema ?? `bench_${randomBytes(4).toString('hex')}`;
  const setup = new Pool({ connectionString: base, max: 1 });
  await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const pool = createPool(`${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, Math.max(...CONCURRENCY) + 2);
  const limited = loadPolicyFromSources([{ name: 'bench.yaml', content: WITH_LIMITS }]);
  const plain = loadPolicyFromSources([{ name: 'bench.yaml', content: WITHOUT_LIMITS }]);
  try {
    const prepared = await prepareSchema(pool, limited);
    await checkLedgerKeys(pool, limited);
    const result = { ...(await measure(pool, { plain, limited }, postgresDataDir)), schema: { name: schema, ...prepared } };
    const json = `${JSON.stringify(result, null, 2)}\n`;
    process.stdout.write(json);
    if (flags.out) fs.writeFileSync(path.join(__dirname, path.basename(flags.out)), json);
  } finally {
    await pool.end();
    if (!keep) await setup.query(`DROP SCHEMA ${schema} CASCADE`);
    await setup.end();
    await postgres?.stop();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Seeds the schema unless it already holds this seed; returns what was done and how long it took. */
async function prepareSchema(pool: Pool, policy: LoadedPolicy) {
  const { rows: found } = await pool.query<{ seeded: boolean }>(`SELECT to_regclass('bench_seed') IS NOT NULL AS seeded`);
  const stored = found[0]?.seeded ? (await pool.query<{ seed: typeof SEED }>('SELECT seed FROM bench_seed')).rows[0]?.seed : undefined;
  if (stored && Object.entries(SEED).every(([key, value]) => stored[key as keyof typeof SEED] === value)) {
    const applied = await migrate(pool);
    log(`reusing the seeded schema${applied.length ? `; applied ${applied.join(', ')}` : ''}`);
    return { reused: true, appliedAfterSeed: applied };
  }
  const migrations = readMigrations();
  await migrate(pool, migrations.filter((m) => m.version < COUNTERS_MIGRATION));
  const seedSeconds = await seed(pool, policy);
  const started = Date.now();
  const applied = await migrate(pool, migrations);
  const migrationSeconds = round((Date.now() - started) / 1000, 1);
  log(`applied ${applied.join(', ')} over the seed in ${migrationSeconds} s`);
  await layOutBucketsInTimeOrder(pool);
  await pool.query('VACUUM ANALYZE');
  await pool.query('CREATE TABLE bench_seed (seed jsonb NOT NULL)');
  await pool.query('INSERT INTO bench_seed VALUES ($1)', [JSON.stringify(SEED)]);
  return { reused: false, seedSeconds, appliedAfterSeed: applied, migrationSeconds };
}

const agentOf = (n: number) => `agent-${n % SEED.agents}`;
const customerOf = (n: number) => `cus_${n % SEED.customers}`;
const accountOf = (n: number) => `acc-${n % SEED.accounts}`;

/** The SQL twin of scopeKeyOf for one string value: sha256(ledger, NUL, canonical JSON of [value]). */
const scopeKeySql = (ledgerParam: string, value: string) =>
  `left(encode(sha256(convert_to(${ledgerParam}, 'UTF8') || '\\x00'::bytea || convert_to(json_build_array(${value})::text, 'UTF8')), 'hex'), 32)`;

async function seed(pool: Pool, policy: LoadedPolicy): Promise<number> {
  const started = Date.now();
  const ledgers = Object.fromEntries(policy.limits.map((limit) => [limit.id, limit.ledger]));
  for (let from = 1; from <= SEED.actions; from += BATCH) {
    const to = Math.min(SEED.actions, from + BATCH - 1);
    // Deterministic: g drives everything. Even g are refunds; g / 2 spreads them over every agent,
    // customer and account, and submission times spread evenly (a prime stride) over the days.
    // The status follows g / 100, which the agent (g / 2 mod agents) does not determine.
    await pool.query(
      `INSERT INTO actions (id, agent_id, idempotency_key, request_hash, action_type, resource_type, resource_id, payload, payload_hash,
         status, outcome, risk, policy_version, created_at, updated_at)
       SELECT 'bench-' || g, 'agent-' || ((g / 2) % $3), 'k' || g, 'sha256:bench', CASE WHEN g % 2 = 0 THEN 'bench.refund' ELSE 'bench.other' END,
              'billing', 'cus_' || (((g / 2)::bigint * 7919) % $4), jsonb_build_object('amount', 1 + g % 100, 'account', 'acc-' || (((g / 2)::bigint * 104729) % $5)),
              'sha256:bench', CASE (g / 100) % 10 WHEN 0 THEN 'denied' WHEN 1 THEN 'pending_review' ELSE 'executed' END,
              CASE (g / 100) % 10 WHEN 0 THEN 'require_approval' WHEN 1 THEN 'require_approval' ELSE 'allow' END, 'low', 'sha256:bench',
              now() - ((g::bigint * 7919) % ($6 * 86400)) * interval '1 second', now()
         FROM generate_series($1::int, $2::int) g`,
      [from, to, SEED.agents, SEED.customers, SEED.accounts, SEED.days],
    );
    log(`seeded ${to.toLocaleString('en')} actions (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  // What admission records for each refund: one ledger row per limit scope. Inserted in submission
  // order, as admissions append them, so a window's rows sit together at the end of the table.
  await pool.query(
    `INSERT INTO limit_ledger (scope_key, at, action_id, status, amount, amount_path)
     SELECT k.key, a.created_at, a.id, a.status, k.amount, k.path
       FROM actions a CROSS JOIN LATERAL (VALUES
         (${scopeKeySql('$1::text', "a.resource_type || ':' || a.resource_id")}, (a.payload->>'amount')::numeric, '{amount}'::text[]),
         (${scopeKeySql('$2::text', 'a.agent_id')}, (a.payload->>'amount')::numeric, '{amount}'::text[]),
         (${scopeKeySql('$3::text', "a.payload->>'account'")}, NULL::numeric, NULL::text[])
       ) AS k(key, amount, path)
      WHERE a.action_type = 'bench.refund'
      ORDER BY a.created_at`,
    [ledgers.per_customer, ledgers.per_agent, ledgers.per_account],
  );
  await pool.query('VACUUM ANALYZE actions');
  await pool.query('VACUUM ANALYZE limit_ledger');
  const { rows } = await pool.query('SELECT (SELECT count(*) FROM actions) AS actions, (SELECT count(*) FROM limit_ledger) AS ledger');
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`seeded ${rows[0].actions.toLocaleString('en')} actions, ${rows[0].ledger.toLocaleString('en')} ledger rows in ${seconds} s`);
  return seconds;
}

/**
 * The migration fills the counters scope by scope, so a scope's hours sit side by side; a live
 * database adds them hour by hour, each scope's next to other scopes'. Rewritten in time order
 * so a window's buckets cost what they would there (a page each), not less.
 */
async function layOutBucketsInTimeOrder(pool: Pool) {
  await pool.query('CREATE TEMPORARY TABLE bench_buckets AS SELECT * FROM limit_buckets');
  await pool.query('TRUNCATE limit_buckets');
  await pool.query('INSERT INTO limit_buckets SELECT * FROM bench_buckets ORDER BY bucket, md5(scope_key)');
  await pool.query('DROP TABLE bench_buckets');
}

function refundRequest(n: number): ActionRequest {
  return {
    agent: { id: agentOf(n) },
    action: { type: 'bench.refund' },
    resource: { type: 'billing', id: customerOf(Math.floor(n / 7)) },
    payload: { amount: 1 + (n % 100), account: accountOf(Math.floor(n / 13)) },
  };
}

/** The seeded keys must be the ones admission computes, or the figure would read empty scopes. */
async function checkLedgerKeys(pool: Pool, policy: LoadedPolicy) {
  const { rows } = await pool.query(`SELECT agent_id, resource_id, payload FROM actions WHERE id = 'bench-2'`);
  const row = rows[0];
  const request: ActionRequest = { agent: { id: row.agent_id }, action: { type: 'bench.refund' }, resource: { type: 'billing', id: row.resource_id }, payload: row.payload };
  const keys = scopedLimitsFor(policy, request).map((scoped) => scoped.scopeKey);
  const found = await pool.query(`SELECT count(*)::int AS n FROM limit_ledger WHERE action_id = 'bench-2' AND scope_key = ANY($1::text[])`, [keys]);
  if (found.rows[0].n !== 3) throw new Error(`seeded ledger keys differ from admission's (${found.rows[0].n} of 3 found)`);
}

async function measure(pool: Pool, policies: { plain: LoadedPolicy; limited: LoadedPolicy }, postgresDataDir: string | undefined) {
  const logger = pino({ level: 'silent' });
  const admit: Record<Variant, ReturnType<typeof createAdmissionActivities>['admitAction']> = {
    plain: createAdmissionActivities({ pool, policy: staticPolicyEngine(policies.plain), logger }).admitAction,
    limited: createAdmissionActivities({ pool, policy: staticPolicyEngine(policies.limited), logger }).admitAction,
  };
  const run = randomBytes(3).toString('hex');
  let sequence = 0;
  const admitOne = async (variant: Variant): Promise<number> => {
    const n = Math.floor(Math.random() * 1e9);
    const id = `bench-new-${run}-${variant}-${++sequence}`;
    const now = new Date().toISOString();
    const start = process.hrtime.bigint();
    await admit[variant]({
      actionId: id,
      submissionId: id,
      idempotencyKey: id,
      request: refundRequest(n),
      requestHash: 'sha256:bench',
      submittedAt: now,
      runId: 'bench',
      occurredAt: now,
    });
    return elapsedMs(start);
  };

  const windows = await probeWindows(pool, policies.limited);
  log(`window rows: ${JSON.stringify(windows)}`);

  log('warming up…');
  for (let i = 0; i < 200; i++) await admitOne(VARIANTS[i % 2]!);

  log(`latency: ${ROUNDS} rounds of ${SAMPLES} admissions per policy, interleaved, one at a time…`);
  const samples: Record<Variant, number[]> = { plain: [], limited: [] };
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const loadBefore = load1();
    const own: Record<Variant, number[]> = { plain: [], limited: [] };
    for (let i = 0; i < SAMPLES; i++) {
      // Each pair in alternating order, so neither policy always follows the other.
      for (const variant of i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) own[variant].push(await admitOne(variant));
    }
    for (const variant of VARIANTS) samples[variant].push(...own[variant]);
    const p50 = { plain: percentile(own.plain, 50), limited: percentile(own.limited, 50) };
    rounds.push({ load1: [loadBefore, load1()], plainP50: round(p50.plain, 3), limitedP50: round(p50.limited, 3), extraP50Ms: round(p50.limited - p50.plain, 3) });
    log(`round ${r + 1}: p50 ${round(p50.plain, 3)} → ${round(p50.limited, 3)} ms (${signed(p50.limited - p50.plain)} ms)`);
  }
  const latency = { plain: rounded(summarize(samples.plain)), limited: rounded(summarize(samples.limited)) };
  const extraP50 = round(latency.limited.p50 - latency.plain.p50, 3);
  const perRound = rounds.map((r) => r.extraP50Ms).sort((a, b) => a - b);
  log(`all rounds: p50 ${latency.plain.p50} → ${latency.limited.p50} ms (${signed(extraP50)} ms); per round median ${signed(percentile(perRound, 50))}, ${perRound[0]}…${perRound.at(-1)}`);

  // ABBA slices at each concurrency, so a shared machine's load drifting during the run weighs on
  // both alike. CPU per admission (this process and Postgres) depends on that load much less.
  const throughput: Record<Variant, { concurrency: number; perSecond: number; load1: number }[]> = { plain: [], limited: [] };
  const cpu = { plain: { done: 0, node: 0, postgres: 0 }, limited: { done: 0, node: 0, postgres: 0 } };
  const postgresCpu = () => (postgresDataDir ? cpuSeconds(postgresPids(postgresDataDir)) : new Map<number, number>());
  const SLICES = 4;
  for (const concurrency of CONCURRENCY) {
    const loadBefore = load1();
    const totals = { plain: { done: 0, ms: 0 }, limited: { done: 0, ms: 0 } };
    for (let slice = 0; slice < SLICES * 2; slice++) {
      const variant = VARIANTS[((slice + 1) >> 1) % 2]!;
      const deadline = Date.now() + (SECONDS * 1000) / SLICES;
      const before = { node: process.cpuUsage(), postgres: postgresCpu(), done: totals[variant].done };
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < deadline) {
            await admitOne(variant);
            totals[variant].done += 1;
          }
        }),
      );
      totals[variant].ms += elapsedMs(started);
      const node = process.cpuUsage(before.node);
      cpu[variant].node += (node.user + node.system) / 1000;
      cpu[variant].postgres += cpuDelta(before.postgres, postgresCpu()) * 1000;
      cpu[variant].done += totals[variant].done - before.done;
    }
    for (const variant of VARIANTS) {
      const perSecond = round(totals[variant].done / (totals[variant].ms / 1000), 1);
      throughput[variant].push({ concurrency, perSecond, load1: loadBefore });
      log(`throughput ${variant} at concurrency ${concurrency}: ${perSecond} admissions/s`);
    }
  }
  const best = (variant: Variant) => Math.max(...throughput[variant].map((point) => point.perSecond));
  const ratio = round(best('limited') / best('plain'), 3);
  return {
    figure: 'admission with three aggregate conditions, 1M stored actions',
    finishedAt: new Date().toISOString(),
    seeded: SEED,
    machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverageAtStart, loadAverageAtEnd: os.loadavg().map((x) => round(x)) },
    windows,
    latencyMs: latency,
    extraP50Ms: extraP50,
    extraP50PerRound: { median: round(percentile(perRound, 50), 3), min: perRound[0], max: perRound.at(-1) },
    extraP50Target: '≤ 2 ms',
    rounds,
    throughput,
    cpuMsPerAdmission: cpuPerAdmission(cpu, postgresDataDir !== undefined),
    bestPoint: { plain: best('plain'), limited: best('limited'), ratio, dropPercent: round((1 - ratio) * 100, 1), target: '≤ 10 %' },
  };
}

/** What one limited admission reads: rows per scope in the window, and the aggregates statement alone. */
async function probeWindows(pool: Pool, policy: LoadedPolicy) {
  const probe = refundRequest(12345);
  const windows = [];
  for (const scoped of scopedLimitsFor(policy, probe)) {
    const spec = JSON.stringify([{ key: scoped.scopeKey, since: new Date(Date.now() - scoped.limit.windowMs).toISOString(), statuses: scoped.limit.statuses }]);
    const explain = async () => (await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM limit_aggregates($1::jsonb, NULL)`, [spec])).rows[0]['QUERY PLAN'][0];
    const cold = await explain();
    const warm = await explain();
    const { rows } = await pool.query(
      `SELECT (SELECT count(*)::int FROM limit_ledger WHERE scope_key = $1 AND at > now() - interval '24 hours') AS ledger,
              (SELECT count(*)::int FROM limit_buckets WHERE scope_key = $1 AND bucket >= limit_bucket_of(now() - interval '24 hours') + interval '1 hour') AS buckets`,
      [scoped.scopeKey],
    );
    windows.push({
      limit: scoped.limit.id,
      scope: scoped.scope,
      ledgerRowsInWindow: rows[0].ledger,
      bucketRowsRead: rows[0].buckets,
      buffers: warm.Plan['Shared Hit Blocks'] + warm.Plan['Shared Read Blocks'],
      aggregateMs: { cold: round(cold['Execution Time'], 3), warm: round(warm['Execution Time'], 3) },
    });
  }
  return windows;
}

function cpuPerAdmission(cpu: Record<Variant, { done: number; node: number; postgres: number }>, withPostgres: boolean) {
  const per = (variant: Variant) => ({
    node: round(cpu[variant].node / cpu[variant].done, 3),
    postgres: withPostgres ? round(cpu[variant].postgres / cpu[variant].done, 3) : null,
  });
  const plain = per('plain');
  const limited = per('limited');
  const total = (x: typeof plain) => x.node + (x.postgres ?? 0);
  return { plain, limited, extra: round(total(limited) - total(plain), 3) };
}

const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${round(ms, 3)}`;

function rounded(summary: ReturnType<typeof summarize>) {
  return { n: summary.n, p50: round(summary.p50, 3), p95: round(summary.p95, 3), p99: round(summary.p99, 3), mean: round(summary.mean, 3) };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
