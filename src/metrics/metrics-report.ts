import type { Pool } from 'pg';
import type { Principal } from '../access/principal';
import { readableBy } from '../access/action-access';
import type {
  MetricsBucket,
  MetricsDimension,
  MetricsExecutionCounts,
  MetricsGroupResponseStats,
  MetricsReport,
  MetricsResponseStats,
  MetricsReviewerResponseStats,
  MetricsVolumeRow,
} from '../shared/wire-types';
import { REVIEW_RESPONSE_BUCKETS } from './prometheus-metrics';

/**
 * How an action ended up, for volume: the policy's verdict for auto paths, the review's otherwise.
 * Approvals include timeouts that the policy allows; execution results are reported separately.
 */
const VERDICT_SQL = `CASE
  WHEN a.status = 'cancelled' THEN 'cancelled'
  WHEN a.outcome = 'deny' THEN 'auto_denied'
  WHEN a.outcome = 'allow' THEN 'allowed'
  WHEN a.status IN ('denied', 'expired') THEN a.status
  WHEN a.decided_at IS NULL THEN 'pending'
  ELSE 'approved' END`;

/** The SQL of each dimension `volume` can be grouped by. */
export const VOLUME_DIMENSIONS = {
  actionType: 'a.action_type',
  risk: "COALESCE(a.risk, 'unclassified')",
  outcome: VERDICT_SQL,
  agentId: 'a.agent_id',
} as const satisfies Record<MetricsDimension, string>;

export const TIME_BUCKETS = ['hour', 'day', 'week'] as const satisfies readonly MetricsBucket[];

/** Rule suggestions need this many human decisions, this one-sided. */
export const SUGGESTION_MIN_DECISIONS = 20;
export const SUGGESTION_SHARE = 0.95;


export interface MetricsQuery {
  /** Actions created in [from, to) are counted; every section uses the same cohort. */
  from: Date;
  to: Date;
  groupBy: MetricsDimension[];
  bucket: MetricsBucket;
  rubberStampSeconds: number;
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

/**
 * `/v1/metrics`: every section is one SQL statement over `actions` (its created_at indexes) and,
 * for review timing, the review_tiers / review_votes projections the roll-up trigger keeps.
 */
export async function metricsReport(pool: Pool, principal: Principal, query: MetricsQuery): Promise<MetricsReport> {
  const params: unknown[] = [query.from.toISOString(), query.to.toISOString()];
  const scope = `a.created_at >= $1 AND a.created_at < $2 AND ${readableBy(principal, params)}`;
  const base = params.length;
  const run = <R extends object>(sql: string, extra: unknown[] = []) => pool.query<R>(sql, [...params, ...extra]).then((r) => r.rows);
  const p = (n: number) => `$${base + n}`;

  const dims = query.groupBy;
  // Admins read every vote: no need to touch actions at all (the projection carries the creation time).
  const votesScope =
    principal.role === 'admin'
      ? 'WHERE v.action_created_at >= $1 AND v.action_created_at < $2'
      : `JOIN actions a ON a.id = v.action_id WHERE v.action_created_at >= $1 AND v.action_created_at < $2 AND ${scope}`;
  const [volumeRows, seriesRows, responseRows, slaRows, denialRows, executionRows, suggestionRows] = await Promise.all([
    run<MetricsVolumeRow>(
      dims.length
        ? `SELECT ${dims.map((d) => `${VOLUME_DIMENSIONS[d]} AS "${d}"`).join(', ')}, count(*)::int AS count
             FROM actions a WHERE ${scope}
            GROUP BY ${dims.map((_, i) => i + 1).join(', ')} ORDER BY count DESC, ${dims.map((_, i) => i + 1).join(', ')}`
        : `SELECT count(*)::int AS count FROM actions a WHERE ${scope}`,
    ),
    run<{ start: string; outcome: string; count: number }>(
      `SELECT date_trunc(${p(1)}, a.created_at, 'UTC') AS start, ${VERDICT_SQL} AS outcome, count(*)::int AS count
         FROM actions a WHERE ${scope} GROUP BY 1, 2 ORDER BY 1, 2`,
      [query.bucket],
    ),
    run<{ overall: MetricsResponseStats; histogram: { up_to: number | null; count: number }[] | null; by_reviewer: ReviewerRow[] | null; by_group: MetricsGroupResponseStats[] | null }>(
      // review_votes is projected from the vote events by the roll-up trigger (migration 004).
      `WITH timed AS (
         SELECT v.reviewer, v.verdict <> 'denied' AS approval, v.groups, v.seconds
           FROM review_votes v ${votesScope}
       ), bucketed AS (
         SELECT t.*, (SELECT min(b) FROM unnest(${p(1)}::float8[]) b WHERE t.seconds <= b) AS up_to FROM timed t
       )
       SELECT
         (SELECT json_build_object('decisions', count(*), 'medianSeconds', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 1),
                                   'p90Seconds', round(percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::numeric, 1)) FROM timed) AS overall,
         (SELECT json_agg(h ORDER BY h.up_to NULLS LAST) FROM (SELECT up_to, count(*)::int AS count FROM bucketed GROUP BY up_to) h) AS histogram,
         (SELECT json_agg(r ORDER BY r.reviewer) FROM (
            SELECT reviewer, count(*)::int AS decisions,
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 1) AS "medianSeconds",
                   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::numeric, 1) AS "p90Seconds",
                   count(*) FILTER (WHERE approval)::int AS approvals,
                   count(*) FILTER (WHERE approval AND seconds <= ${p(2)})::int AS fast
              FROM timed GROUP BY reviewer) r) AS by_reviewer,
         (SELECT json_agg(g ORDER BY g."group") FROM (
            SELECT grp AS "group", count(*)::int AS decisions,
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 1) AS "medianSeconds",
                   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::numeric, 1) AS "p90Seconds"
              FROM timed CROSS JOIN LATERAL unnest(groups) grp GROUP BY grp) g) AS by_group`,
      [[...REVIEW_RESPONSE_BUCKETS], query.rubberStampSeconds],
    ),
    run<{ by_tier: { tier: number; reached: number; breached: number }[] | null; by_risk: { risk: string; reviewed: number; breached: number }[] | null }>(
      `WITH judged AS (
         -- A tier is breached when it escalated, timed out, or was decided after its deadline.
         SELECT t.action_id, t.tier, COALESCE(a.risk, 'unclassified') AS risk,
                (t.tier < max(t.tier) OVER (PARTITION BY t.action_id)
                  OR 'holdpoint:timeout' = ANY(a.decided_by)
                  OR a.decided_at > t.due_at) AS breached
           FROM review_tiers t JOIN actions a ON a.id = t.action_id
          WHERE t.action_created_at >= $1 AND t.action_created_at < $2
            AND a.outcome = 'require_approval' AND a.decided_at IS NOT NULL AND ${scope}
       )
       SELECT
         (SELECT json_agg(x ORDER BY x.tier) FROM (
            SELECT tier, count(*)::int AS reached, count(*) FILTER (WHERE breached)::int AS breached FROM judged GROUP BY tier) x) AS by_tier,
         (SELECT json_agg(y ORDER BY y.risk) FROM (
            SELECT risk, count(*)::int AS reviewed, count(*) FILTER (WHERE breached)::int AS breached
              FROM (SELECT action_id, risk, bool_or(breached) AS breached FROM judged GROUP BY action_id, risk) per_action
             GROUP BY risk) y) AS by_risk`,
    ),
    run<{ action_type: string; reason_code: string; count: number; rationales: string[] | null; type_total: number }>(
      `WITH counted AS (
         SELECT a.action_type, COALESCE(a.reason_code, 'unspecified') AS reason_code, count(*)::int AS count,
                (array_agg(a.rationale ORDER BY a.decided_at DESC) FILTER (WHERE a.rationale IS NOT NULL))[1:3] AS rationales,
                row_number() OVER (PARTITION BY a.action_type ORDER BY count(*) DESC, COALESCE(a.reason_code, 'unspecified')) AS rank,
                (sum(count(*)) OVER (PARTITION BY a.action_type))::int AS type_total
           FROM actions a WHERE a.status = 'denied' AND ${scope}
          GROUP BY a.action_type, COALESCE(a.reason_code, 'unspecified')
       )
       SELECT action_type, reason_code, count, rationales, type_total FROM counted WHERE rank <= 5
        ORDER BY type_total DESC, action_type, rank`,
    ),
    run<{ action_type: string; executions: number; executed: number; failed: number; mismatched: number; unconfirmed: number; in_progress: number }>(
      `SELECT a.action_type, count(*)::int AS executions,
              count(*) FILTER (WHERE a.status = 'executed')::int AS executed,
              count(*) FILTER (WHERE a.status = 'execution_failed')::int AS failed,
              count(*) FILTER (WHERE a.status = 'mismatch')::int AS mismatched,
              count(*) FILTER (WHERE a.status = 'unconfirmed')::int AS unconfirmed,
              count(*) FILTER (WHERE a.status IN ('executing', 'awaiting_report'))::int AS in_progress
         FROM actions a
        WHERE a.status IN ('executing', 'awaiting_report', 'executed', 'execution_failed', 'mismatch', 'unconfirmed') AND ${scope}
        GROUP BY a.action_type ORDER BY a.action_type`,
    ),
    run<{ rule: string; decisions: number; approved: number; denied: number }>(
      // Human decisions only: timeouts and cancellations say nothing about what reviewers think.
      `SELECT rule, count(*)::int AS decisions,
              count(*) FILTER (WHERE a.status <> 'denied')::int AS approved,
              count(*) FILTER (WHERE a.status = 'denied')::int AS denied
         FROM actions a CROSS JOIN LATERAL unnest(a.matched_rules) rule
        WHERE a.outcome = 'require_approval' AND a.decided_at IS NOT NULL
          AND a.status NOT IN ('expired', 'cancelled') AND NOT ('holdpoint:timeout' = ANY(a.decided_by)) AND ${scope}
        GROUP BY rule
       HAVING count(*) >= ${p(1)}
          AND (count(*) FILTER (WHERE a.status <> 'denied') >= ${p(2)}::numeric * count(*) OR count(*) FILTER (WHERE a.status = 'denied') >= ${p(2)}::numeric * count(*))
        ORDER BY decisions DESC, rule`,
      [SUGGESTION_MIN_DECISIONS, SUGGESTION_SHARE],
    ),
  ]);

  const volumeTotal = dims.length ? volumeRows.reduce((sum, row) => sum + Number(row.count), 0) : Number(volumeRows[0]?.count ?? 0);
  const series = new Map<string, Record<string, number>>();
  for (const row of seriesRows) {
    const counts = series.get(row.start) ?? {};
    counts[row.outcome] = row.count;
    series.set(row.start, counts);
  }
  const responses = responseRows[0]!;
  const sla = slaRows[0]!;
  const denialTypes = new Map<string, MetricsReport['denialReasons'][number]>();
  for (const row of denialRows) {
    const entry = denialTypes.get(row.action_type) ?? { actionType: row.action_type, denials: row.type_total, reasons: [] };
    entry.reasons.push({ reasonCode: row.reason_code, count: row.count, rationales: row.rationales ?? [] });
    denialTypes.set(row.action_type, entry);
  }
  const executions = executionRows.map((row) => executionCounts(row, { actionType: row.action_type }));
  const totals = executionRows.reduce(
    (sum, row) => ({
      executions: sum.executions + row.executions,
      executed: sum.executed + row.executed,
      failed: sum.failed + row.failed,
      mismatched: sum.mismatched + row.mismatched,
      unconfirmed: sum.unconfirmed + row.unconfirmed,
      in_progress: sum.in_progress + row.in_progress,
    }),
    { executions: 0, executed: 0, failed: 0, mismatched: 0, unconfirmed: 0, in_progress: 0 },
  );

  return {
    window: { from: query.from.toISOString(), to: query.to.toISOString(), bucket: query.bucket, groupBy: dims },
    scope: principal.role === 'admin' ? 'all' : 'readable',
    volume: {
      total: volumeTotal,
      rows: dims.length ? volumeRows.map((row) => ({ ...row, count: Number(row.count) })) : [],
    },
    volumeOverTime: [...series].map(([start, counts]) => ({ start, counts })),
    responseTimes: {
      ...responses.overall,
      histogram: (responses.histogram ?? []).map((h) => ({ upToSeconds: h.up_to, count: h.count })),
      byGroup: responses.by_group ?? [],
      byReviewer: (responses.by_reviewer ?? []).map(({ reviewer, decisions, medianSeconds, p90Seconds }) => ({ reviewer, decisions, medianSeconds, p90Seconds })),
    },
    slaBreaches: {
      byTier: (sla.by_tier ?? []).map((t) => ({ ...t, rate: ratio(t.breached, t.reached) })),
      byRisk: (sla.by_risk ?? []).map((r) => ({ ...r, rate: ratio(r.breached, r.reviewed) })),
    },
    denialReasons: [...denialTypes.values()],
    executionProblems: { total: executionCounts(totals, {}), byActionType: executions },
    rubberStamp: {
      thresholdSeconds: query.rubberStampSeconds,
      byReviewer: (responses.by_reviewer ?? [])
        .filter((r) => r.approvals > 0)
        .map((r) => ({ reviewer: r.reviewer, approvals: r.approvals, fast: r.fast, share: ratio(r.fast, r.approvals) }))
        .sort((a, b) => b.share - a.share || (a.reviewer < b.reviewer ? -1 : 1)),
    },
    ruleSuggestions: suggestionRows.map((row) => {
      const suggestion = row.approved >= row.denied ? ('allow' as const) : ('deny' as const);
      return { rule: row.rule, suggestion, decisions: row.decisions, approved: row.approved, denied: row.denied, share: ratio(suggestion === 'allow' ? row.approved : row.denied, row.decisions) };
    }),
  };
}

interface ReviewerRow extends MetricsReviewerResponseStats {
  approvals: number;
  fast: number;
}

function executionCounts<T extends object>(
  row: { executions: number; executed: number; failed: number; mismatched: number; unconfirmed: number; in_progress: number },
  extra: T,
): MetricsExecutionCounts & T {
  const problems = row.failed + row.mismatched + row.unconfirmed;
  return {
    ...extra,
    executions: row.executions,
    executed: row.executed,
    failed: row.failed,
    mismatched: row.mismatched,
    unconfirmed: row.unconfirmed,
    inProgress: row.in_progress,
    problemRate: ratio(problems, row.executed + problems),
  };
}
