/**
 * Benchmark: /v1/metrics and the /metrics scrape queries over one million actions.
 *
 *   node --import tsx bench/metrics-1m.ts [--actions 1000000] [--keep]
 *
 * Uses DATABASE_URL when set, else starts an embedded Postgres in a temporary directory. Seeds a
 * fresh schema with generate_series (400 days of actions, half of them reviewed, ~4.7 events
 * each), then times every metrics query with EXPLAIN (ANALYZE, BUFFERS) and the whole report
 * end to end, for a 30-day and a 400-day window, as an admin and as a reviewer. Not run in tests.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { Principal } from '../src/access/principal';
import { migrate } from '../src/platform/postgres/migrate';
import { createPool } from '../src/platform/postgres/pool';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/ops/dev/embedded-postgres';
import { metricsReport, type MetricsQuery } from '../src/metrics/metrics-report';
import { createPrometheusMetrics } from '../src/metrics/prometheus-metrics';

const { values: flags } = parseArgs({ options: { actions: { type: 'string', default: '1000000' }, keep: { type: 'boolean' } } });
const ACTIONS = Number(flags.actions);
const BATCH = 100_000;
const SECTIONS = ['volume', 'volumeOverTime', 'responseTimes', 'slaBreaches', 'denialReasons', 'executionProblems', 'ruleSuggestions'];

const admin: Principal = { id: 'root', role: 'admin', groups: [], keyId: 'bench' };
const reviewer: Principal = { id: 'rev-3', role: 'reviewer', groups: ['group-3'], keyId: 'bench' };

async function main() {
  let postgres: RunningPostgres | undefined;
  let base = process.env.DATABASE_URL;
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-bench-'));
  if (!base) {
    log('starting embedded Postgres…');
    postgres = await startEmbeddedPostgres({ dataDir: path.join(tempDir, 'pg'), ephemeral: true });
    base = postgres.url;
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const setup = new Pool({ connectionString: base, max: 1 });
  await setup.query(`CREATE SCHEMA ${schema}`);
  const url = `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const pool = createPool(url, 8);
  try {
    await migrate(pool);
    await seed(pool);
    await report(pool);
  } finally {
    await pool.end();
    if (!flags.keep) await setup.query(`DROP SCHEMA ${schema} CASCADE`);
    await setup.end();
    await postgres?.stop();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

async function seed(pool: Pool) {
  const started = Date.now();
  // The roll-up trigger is what live writes pay; a bulk seed does not need it.
  await pool.query('ALTER TABLE action_events DISABLE TRIGGER action_events_metric_rollup');
  for (let from = 1; from <= ACTIONS; from += BATCH) {
    const to = Math.min(ACTIONS, from + BATCH - 1);
    await pool.query(`DROP TABLE IF EXISTS bench_plan`);
    // One row per action with everything its events and projection need. Deterministic: g drives all.
    await pool.query(
      `CREATE UNLOGGED TABLE bench_plan AS
       SELECT id, g, agent, action_type, risk, grp, r1, r2, created, kind, reviewed, escalated, voter, verdict, reason_code,
              voted_at, status, outcome, decided_at, decided_type, completed_at
         FROM (
           SELECT g, 'action-5-bench-' || g AS id, 'agent-' || (g % 50) AS agent, 'type.' || (g % 20) AS action_type,
                  (ARRAY['low','medium','high','critical'])[1 + (g / 7) % 4] AS risk, 'group-' || (g % 5) AS grp,
                  'rev-' || ((g % 5) * 2) AS r1, 'rev-' || ((g % 5) * 2 + 1) AS r2,
                  now() - ((g::bigint * 7919) % (400 * 86400)) * interval '1 second' AS created,
                  CASE WHEN g % 10 < 4 THEN 'allow' WHEN g % 10 = 4 THEN 'deny' ELSE 'review' END AS kind,
                  g % 10 >= 5 AS reviewed,
                  g % 10 >= 5 AND (g / 10) % 20 = 19 AS escalated,
                  (g / 10) % 20 AS fate,
                  ((g::bigint * 104729) % 5400) AS delay
             FROM generate_series($1::int, $2::int) g
         ) s
         CROSS JOIN LATERAL (SELECT
           CASE WHEN (g / 3) % 2 = 0 THEN r1 ELSE r2 END AS voter,
           CASE WHEN fate BETWEEN 12 AND 15 THEN 'deny' ELSE 'approve' END AS verdict,
           CASE WHEN fate BETWEEN 12 AND 15 THEN (ARRAY['amount_too_high','suspected_fraud','policy_violation'])[1 + g % 3] END AS reason_code,
           created + delay * interval '1 second' AS voted_at,
           CASE
             WHEN kind = 'allow' THEN CASE WHEN g % 50 = 0 THEN 'execution_failed' ELSE 'executed' END
             WHEN kind = 'deny' THEN 'auto_denied'
             WHEN fate <= 11 OR fate = 19 THEN CASE WHEN g % 40 = 5 THEN 'mismatch' WHEN g % 40 = 15 THEN 'unconfirmed' ELSE 'executed' END
             WHEN fate <= 15 THEN 'denied'
             WHEN fate = 16 THEN 'expired'
             WHEN fate = 17 THEN 'cancelled'
             ELSE 'pending_review' END AS status,
           CASE kind WHEN 'allow' THEN 'allow' WHEN 'deny' THEN 'deny' ELSE 'require_approval' END AS outcome,
           CASE
             WHEN kind <> 'review' THEN created
             WHEN fate = 16 THEN created + interval '1 hour'
             WHEN fate = 18 THEN NULL
             WHEN fate = 19 THEN created + interval '1 hour' + (delay % 3600) * interval '1 second'
             ELSE created + delay * interval '1 second' END AS decided_at,
           CASE
             WHEN kind = 'allow' THEN 'allowed' WHEN kind = 'deny' THEN 'auto_denied'
             WHEN fate BETWEEN 12 AND 15 THEN 'denied' WHEN fate = 16 THEN 'expired' WHEN fate = 17 THEN 'cancelled'
             ELSE 'approved' END AS decided_type,
           CASE WHEN kind = 'review' AND fate = 18 THEN NULL ELSE created + interval '3 hours' END AS completed_at
         ) d`,
      [from, to],
    );
    await pool.query(
      `INSERT INTO actions (id, agent_id, idempotency_key, request_hash, action_type, resource_type, resource_id, payload, payload_hash,
         status, outcome, risk, matched_rules, reason, policy_version, review_groups, assignees, review_due_at, decided_by, decided_at,
         reason_code, rationale, created_at, updated_at, completed_at)
       SELECT id, agent, 'k' || g, 'sha256:bench', action_type, 'billing', 'cus_' || (g % 1000), jsonb_build_object('amount', g % 5000), 'sha256:bench',
              status, outcome, risk, ARRAY['rule-' || (g % 30)], 'bench', 'sha256:bench',
              CASE WHEN reviewed THEN CASE WHEN escalated THEN ARRAY[grp, 'managers'] ELSE ARRAY[grp] END ELSE '{}' END,
              CASE WHEN reviewed THEN CASE WHEN escalated THEN ARRAY[r1, r2, 'mgr'] ELSE ARRAY[r1, r2] END ELSE '{}' END,
              CASE WHEN reviewed THEN created + interval '1 hour' END,
              CASE WHEN decided_at IS NULL THEN '{}' WHEN kind <> 'review' THEN ARRAY['policy'] WHEN decided_type = 'expired' THEN ARRAY['holdpoint:timeout']
                   WHEN decided_type = 'cancelled' THEN ARRAY[agent] WHEN escalated THEN ARRAY['mgr'] ELSE ARRAY[voter] END,
              decided_at, reason_code, CASE WHEN verdict = 'deny' AND reviewed THEN 'bench rationale ' || (g % 7) END,
              created, created, completed_at
         FROM bench_plan`,
    );
    await pool.query(
      `INSERT INTO action_events (action_id, seq, event_key, type, actor, data, occurred_at, prev_hash, hash, recorded_at)
       SELECT p.id, row_number() OVER (PARTITION BY p.id ORDER BY s.step)::int, s.key, s.type, s.actor, s.data, s.at, NULL, 'sha256:bench', s.at
         FROM bench_plan p CROSS JOIN LATERAL (VALUES
           (1, 'requested', 'action.requested', p.agent, '{}'::jsonb, p.created, true),
           (2, 'classified', 'policy.classified', 'policy', '{}'::jsonb, p.created, true),
           (3, 'review-requested', 'review.requested', 'holdpoint',
              jsonb_build_object('tier', 0, 'groups', jsonb_build_array(p.grp), 'assignees', jsonb_build_array(p.r1, p.r2), 'dueAt', p.created + interval '1 hour'),
              p.created, p.reviewed),
           (4, 'escalated:1', 'review.escalated', 'holdpoint',
              jsonb_build_object('tier', 1, 'groups', '["managers"]'::jsonb, 'assignees', jsonb_build_array(p.r1, p.r2, 'mgr'), 'dueAt', p.created + interval '2 hours'),
              p.created + interval '1 hour', p.escalated),
           (5, 'vote', CASE WHEN p.verdict = 'deny' THEN 'review.denied' ELSE 'review.approved' END, CASE WHEN p.escalated THEN 'mgr' ELSE p.voter END,
              jsonb_build_object('reasonCode', p.reason_code), COALESCE(p.decided_at, p.created), p.reviewed AND p.decided_at IS NOT NULL AND p.decided_type IN ('approved', 'denied')),
           (6, 'decided', 'action.' || p.decided_type, 'holdpoint', '{}'::jsonb, COALESCE(p.decided_at, p.created), p.decided_at IS NOT NULL),
           (7, 'completed', 'action.completed', 'holdpoint', jsonb_build_object('status', p.status), COALESCE(p.completed_at, p.created), p.completed_at IS NOT NULL)
         ) s(step, key, type, actor, data, at, include)
        WHERE s.include`,
    );
    // What the roll-up trigger projects from review.* events, set-based.
    await pool.query(
      `INSERT INTO review_tiers (action_id, tier, groups, assignees, opened_at, due_at, action_created_at)
       SELECT id, 0, ARRAY[grp], ARRAY[r1, r2], created, created + interval '1 hour', created FROM bench_plan WHERE reviewed
       UNION ALL
       SELECT id, 1, ARRAY['managers'], ARRAY[r1, r2, 'mgr'], created + interval '1 hour', created + interval '2 hours', created FROM bench_plan WHERE escalated`,
    );
    await pool.query(
      `INSERT INTO review_votes (action_id, reviewer, verdict, opened_at, voted_at, seconds, groups, action_created_at)
       SELECT id, CASE WHEN escalated THEN 'mgr' ELSE voter END, CASE WHEN verdict = 'deny' THEN 'denied' ELSE 'approved' END,
              CASE WHEN escalated THEN created + interval '1 hour' ELSE created END, decided_at,
              extract(epoch FROM decided_at - CASE WHEN escalated THEN created + interval '1 hour' ELSE created END),
              CASE WHEN escalated THEN ARRAY['managers'] ELSE ARRAY[grp] END, created
         FROM bench_plan WHERE reviewed AND decided_at IS NOT NULL AND decided_type IN ('approved', 'denied')`,
    );
    log(`seeded ${to.toLocaleString('en')} actions (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  await pool.query('DROP TABLE bench_plan');
  await pool.query('ALTER TABLE action_events ENABLE TRIGGER action_events_metric_rollup');
  await pool.query('VACUUM ANALYZE actions');
  await pool.query('VACUUM ANALYZE action_events');
  await pool.query('VACUUM ANALYZE review_tiers');
  await pool.query('VACUUM ANALYZE review_votes');
  const { rows } = await pool.query('SELECT (SELECT count(*) FROM actions) AS actions, (SELECT count(*) FROM action_events) AS events');
  log(`seeded ${rows[0].actions.toLocaleString('en')} actions and ${rows[0].events.toLocaleString('en')} events in ${Math.round((Date.now() - started) / 1000)} s`);
}

interface Timed {
  section: string;
  executionMs: number;
  plan: string;
}

/** A pool that runs EXPLAIN (ANALYZE, BUFFERS) on each query first, then the query itself. */
function explainingPool(pool: Pool, timings: Timed[]): Pool {
  let call = 0;
  // One at a time, so each figure is the query alone, not the query competing with the other six.
  let queue: Promise<unknown> = Promise.resolve();
  const query = <R extends QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> => {
    const sql = typeof text === 'string' ? text : text.text;
    const section = SECTIONS[call++] ?? `query ${call}`;
    const run = queue.then(async () => {
      const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ${sql}`, values);
      const plan = rows[0]['QUERY PLAN'][0];
      timings.push({ section, executionMs: plan['Execution Time'], plan: summarize(plan.Plan) });
      return pool.query<R>(sql, values);
    });
    queue = run.catch(() => undefined);
    return run;
  };
  return { query } as unknown as Pool;
}

/** The scan nodes of a plan, so the report shows which indexes did the work. */
function summarize(node: Record<string, unknown>, out: string[] = []): string {
  const type = String(node['Node Type']);
  if (/Scan/.test(type)) out.push(`${type}${node['Index Name'] ? ` ${node['Index Name']}` : ''} on ${node['Relation Name'] ?? node['Alias'] ?? '?'}`);
  for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) summarize(child, out);
  return [...new Set(out)].join('; ');
}

async function report(pool: Pool) {
  const now = new Date();
  const windows: [string, MetricsQuery][] = [
    ['30 days', { from: new Date(now.getTime() - 30 * 86_400_000), to: now, groupBy: ['actionType', 'risk', 'outcome'], bucket: 'day', rubberStampSeconds: 10 }],
    ['400 days', { from: new Date(now.getTime() - 401 * 86_400_000), to: now, groupBy: ['actionType', 'risk', 'outcome'], bucket: 'week', rubberStampSeconds: 10 }],
  ];
  const lines: string[] = [];
  for (const [label, query] of windows) {
    for (const principal of [admin, reviewer]) {
      await metricsReport(pool, principal, query); // warm the cache
      const startedAt = Date.now();
      const result = await metricsReport(pool, principal, query);
      const wallMs = Date.now() - startedAt;
      const timings: Timed[] = [];
      await metricsReport(explainingPool(pool, timings), principal, query);
      lines.push(`\n/v1/metrics, ${label}, ${principal.role} (${result.volume.total.toLocaleString('en')} actions in window): ${wallMs} ms end to end (7 queries in parallel); one at a time:`);
      lines.push(`  ${'total'.padEnd(18)} ${timings.reduce((sum, t) => sum + t.executionMs, 0).toFixed(1).padStart(9)} ms`);
      for (const t of timings) lines.push(`  ${t.section.padEnd(18)} ${t.executionMs.toFixed(1).padStart(9)} ms   ${t.plan}`);
    }
  }
  // The Prometheus scrape: roll-up table and status-index counts. Fill the roll-up as the trigger would have.
  await pool.query(
    `INSERT INTO metric_rollups (metric, labels, shard, value)
     SELECT 'actions_decided_total', jsonb_build_object('action_type', action_type, 'risk', risk, 'outcome', status), 0, count(*)
       FROM actions GROUP BY action_type, risk, status`,
  );
  const prometheus = createPrometheusMetrics({ pool });
  await prometheus.registry.metrics();
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const scrapeStarted = Date.now();
  const text = await prometheus.registry.metrics();
  lines.push(`\nGET /metrics scrape: ${Date.now() - scrapeStarted} ms (${text.split('\n').length} lines)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
