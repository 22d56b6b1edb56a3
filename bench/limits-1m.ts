/**
 * Benchmark (issue 17): what cumulative limits add to admission, with one million stored actions.
 *
 *   node --import tsx bench/limits-1m.ts [--actions 1000000] [--days 30] [--agents 50] [--customers 20000]
 *                                        [--accounts 1000] [--samples 2000] [--seconds 10] [--keep]
 *
 * Uses DATABASE_URL when set, else starts an embedded Postgres in a temporary directory. Seeds a
 * fresh schema with generate_series: `--actions` actions over `--days` days, half of them
 * `bench.refund` (each with its three limit_ledger rows, appended in submission order as admission
 * appends them), by `--agents` agents, to `--customers`
 * customers and `--accounts` payment accounts; 10% denied, 10% pending, the rest executed. Then
 * runs the shipped admission activity (`admitAction`: locks, ledger read and insert, evaluation,
 * the action's row and evidence, in one transaction) under two policies that differ only in three
 * limits (per customer, per agent, per payload.account, all over 24h) and a rule reading them:
 *   1. latency, one admission at a time, the two policies interleaved;
 *   2. throughput at several concurrencies, each scope picked at random as in real traffic.
 * The figure of issue 17: the p50 difference (target ≤ 2 ms) and the drop at the best point
 * (target ≤ 10 %), with the CPU each admission costs this process and Postgres (which a loaded,
 * shared machine does not inflate the way it inflates latencies). Not run in tests.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import pino from 'pino';
import { createAdmissionActivities } from '../src/gate/activities/admission-activities';
import { migrate } from '../src/platform/postgres/migrate';
import { createPool } from '../src/platform/postgres/pool';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/ops/dev/embedded-postgres';
import { loadPolicyFromSources } from '../src/policy';
import { scopedLimitsFor } from '../src/policy/limits';
import type { LoadedPolicy } from '../src/policy/loaded-policy';
import { staticPolicyEngine } from '../src/policy/policy-engine';
import type { ActionRequest } from '../src/shared/action';
import { postgresPids } from './figures/pending';
import { cpuDelta, cpuSeconds } from './processes';
import { elapsedMs, round, summarize } from './stats';

const { values: flags } = parseArgs({
  options: {
    actions: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '30' },
    agents: { type: 'string', default: '50' },
    customers: { type: 'string', default: '20000' },
    accounts: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    keep: { type: 'boolean' },
  },
});
const ACTIONS = Number(flags.actions);
const DAYS = Number(flags.days);
const AGENTS = Number(flags.agents);
const CUSTOMERS = Number(flags.customers);
const ACCOUNTS = Number(flags.accounts);
const SAMPLES = Number(flags.samples);
const SECONDS = Number(flags.seconds);
const BATCH = 100_000;
const CONCURRENCY = [1, 4, 8, 16];

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

const log = (message: string) => process.stderr.write(`${message}\n`);

async function main() {
  let postgres: RunningPostgres | undefined;
  let base = process.env.DATABASE_URL;
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-bench-'));
  // CPU per admission is measured for an embedded Postgres only (its processes are ours to read).
  let postgresDataDir: string | undefined;
  if (!base) {
    log('starting embedded Postgres…');
    postgresDataDir = path.join(tempDir, 'pg');
    postgres = await startEmbeddedPostgres({ dataDir: postgresDataDir, ephemeral: true });
    base = postgres.url;
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const setup = new Pool({ connectionString: base, max: 1 });
  await setup.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool(`${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, Math.max(...CONCURRENCY) + 2);
  const limited = loadPolicyFromSources([{ name: 'bench.yaml', content: WITH_LIMITS }]);
  const plain = loadPolicyFromSources([{ name: 'bench.yaml', content: WITHOUT_LIMITS }]);
  try {
    await migrate(pool);
    await seed(pool, limited);
    await checkLedgerKeys(pool, limited);
    const result = await measure(pool, { plain, limited }, postgresDataDir);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await pool.end();
    if (!flags.keep) await setup.query(`DROP SCHEMA ${schema} CASCADE`);
    await setup.end();
    await postgres?.stop();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

const agentOf = (n: number) => `agent-${n % AGENTS}`;
const customerOf = (n: number) => `cus_${n % CUSTOMERS}`;
const accountOf = (n: number) => `acc-${n % ACCOUNTS}`;

/** The SQL twin of scopeKeyOf for one string value: sha256(ledger, NUL, canonical JSON of [value]). */
const scopeKeySql = (ledgerParam: string, value: string) =>
  `left(encode(sha256(convert_to(${ledgerParam}, 'UTF8') || '\\x00'::bytea || convert_to(json_build_array(${value})::text, 'UTF8')), 'hex'), 32)`;

async function seed(pool: Pool, policy: LoadedPolicy) {
  const started = Date.now();
  const ledgers = Object.fromEntries(policy.limits.map((limit) => [limit.id, limit.ledger]));
  for (let from = 1; from <= ACTIONS; from += BATCH) {
    const to = Math.min(ACTIONS, from + BATCH - 1);
    // Deterministic: g drives everything. Even g are refunds; g / 2 spreads them over every agent,
    // customer and account, and submission times spread evenly (a prime stride) over the days.
    await pool.query(
      `INSERT INTO actions (id, agent_id, idempotency_key, request_hash, action_type, resource_type, resource_id, payload, payload_hash,
         status, outcome, risk, policy_version, created_at, updated_at)
       SELECT 'bench-' || g, 'agent-' || ((g / 2) % $3), 'k' || g, 'sha256:bench', CASE WHEN g % 2 = 0 THEN 'bench.refund' ELSE 'bench.other' END,
              'billing', 'cus_' || (((g / 2)::bigint * 7919) % $4), jsonb_build_object('amount', 1 + g % 100, 'account', 'acc-' || (((g / 2)::bigint * 104729) % $5)),
              'sha256:bench', CASE g % 10 WHEN 0 THEN 'denied' WHEN 1 THEN 'pending_review' ELSE 'executed' END,
              CASE g % 10 WHEN 0 THEN 'require_approval' WHEN 1 THEN 'require_approval' ELSE 'allow' END, 'low', 'sha256:bench',
              now() - ((g::bigint * 7919) % ($6 * 86400)) * interval '1 second', now()
         FROM generate_series($1::int, $2::int) g`,
      [from, to, AGENTS, CUSTOMERS, ACCOUNTS, DAYS],
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
  log(`seeded ${rows[0].actions.toLocaleString('en')} actions, ${rows[0].ledger.toLocaleString('en')} ledger rows in ${Math.round((Date.now() - started) / 1000)} s`);
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
  const admit = {
    plain: createAdmissionActivities({ pool, policy: staticPolicyEngine(policies.plain), logger }).admitAction,
    limited: createAdmissionActivities({ pool, policy: staticPolicyEngine(policies.limited), logger }).admitAction,
  };
  let sequence = 0;
  const admitOne = async (variant: keyof typeof admit): Promise<number> => {
    const n = Math.floor(Math.random() * 1e9);
    const id = `bench-new-${variant}-${++sequence}`;
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

  // What one limited admission reads: rows per scope in the window, and the aggregate statement alone.
  const probe = refundRequest(12345);
  const windows = [];
  for (const scoped of scopedLimitsFor(policies.limited, probe)) {
    const { rows } = await pool.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*), sum(amount) FROM limit_ledger
        WHERE scope_key = $1 AND at > now() - interval '24 hours' AND status = ANY($2::text[])`,
      [scoped.scopeKey, scoped.limit.statuses],
    );
    const plan = rows[0]['QUERY PLAN'][0];
    windows.push({ limit: scoped.limit.id, scope: scoped.scope, rowsInWindow: await countWindow(pool, scoped.scopeKey), aggregateMs: round(plan['Execution Time'], 3) });
  }
  log(`window rows: ${JSON.stringify(windows)}`);

  log('warming up…');
  for (let i = 0; i < 200; i++) await admitOne(i % 2 === 0 ? 'plain' : 'limited');
  log(`latency: ${SAMPLES} admissions per policy, interleaved, one at a time…`);
  const samples = { plain: [] as number[], limited: [] as number[] };
  for (let i = 0; i < SAMPLES * 2; i++) {
    const variant = i % 2 === 0 ? 'plain' : 'limited';
    samples[variant].push(await admitOne(variant));
  }
  const latency = { plain: rounded(summarize(samples.plain)), limited: rounded(summarize(samples.limited)) };
  const extraP50 = round(latency.limited.p50 - latency.plain.p50, 3);
  log(`p50 ${latency.plain.p50} → ${latency.limited.p50} ms (+${extraP50} ms)`);

  // Alternating slices, so a shared machine's load drifting during the run weighs on both alike.
  // CPU per admission (this process and Postgres) does not depend on that load.
  const throughput: Record<string, { concurrency: number; perSecond: number }[]> = { plain: [], limited: [] };
  const cpu = { plain: { done: 0, node: 0, postgres: 0 }, limited: { done: 0, node: 0, postgres: 0 } };
  const postgresCpu = () => (postgresDataDir ? cpuSeconds(postgresPids(postgresDataDir)) : new Map<number, number>());
  const SLICES = 5;
  for (const concurrency of CONCURRENCY) {
    const totals = { plain: { done: 0, ms: 0 }, limited: { done: 0, ms: 0 } };
    for (let slice = 0; slice < SLICES * 2; slice++) {
      const variant = slice % 2 === 0 ? 'plain' : 'limited';
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
    for (const variant of ['plain', 'limited'] as const) {
      const perSecond = round(totals[variant].done / (totals[variant].ms / 1000), 1);
      throughput[variant]!.push({ concurrency, perSecond });
      log(`throughput ${variant} at concurrency ${concurrency}: ${perSecond} admissions/s`);
    }
  }
  const best = (variant: string) => Math.max(...throughput[variant]!.map((point) => point.perSecond));
  const drop = round((100 * (best('plain') - best('limited'))) / best('plain'), 1);
  return {
    figure: 'admission with three aggregate conditions, 1M stored actions',
    seeded: { actions: ACTIONS, days: DAYS, agents: AGENTS, customers: CUSTOMERS, accounts: ACCOUNTS },
    machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    windows,
    latencyMs: latency,
    extraP50Ms: extraP50,
    extraP50Target: '≤ 2 ms',
    throughput,
    cpuMsPerAdmission: cpuPerAdmission(cpu, postgresDataDir !== undefined),
    bestPoint: { plain: best('plain'), limited: best('limited'), dropPercent: drop, target: '≤ 10 %' },
  };
}

function cpuPerAdmission(cpu: Record<'plain' | 'limited', { done: number; node: number; postgres: number }>, withPostgres: boolean) {
  const per = (variant: 'plain' | 'limited') => ({
    node: round(cpu[variant].node / cpu[variant].done, 3),
    postgres: withPostgres ? round(cpu[variant].postgres / cpu[variant].done, 3) : null,
  });
  const plain = per('plain');
  const limited = per('limited');
  const total = (x: typeof plain) => x.node + (x.postgres ?? 0);
  return { plain, limited, extra: round(total(limited) - total(plain), 3) };
}

async function countWindow(pool: Pool, scopeKey: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM limit_ledger WHERE scope_key = $1 AND at > now() - interval '24 hours'`, [scopeKey]);
  return rows[0].n;
}

function rounded(summary: ReturnType<typeof summarize>) {
  return { n: summary.n, p50: round(summary.p50, 3), p95: round(summary.p95, 3), p99: round(summary.p99, 3), mean: round(summary.mean, 3) };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
