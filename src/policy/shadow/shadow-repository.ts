import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Principal } from '../../access/principal';
import { readableBy } from '../../access/action-access';
import type { LoadedPolicy } from '../loaded-policy';
import type { LimitReadings } from '../limits';
import type { ActionRequest } from '../../shared/action';
import type { PolicyDecision } from '../../shared/policy';
import { compareWithCandidate, type ShadowComparison } from './shadow-comparison';
import { DEFAULT_RULE, sortGroups, type ShadowReport, type ShadowRuleGroup } from './shadow-report';

/** Where the candidate policy comes from (a PolicyStore over SHADOW_POLICY_PATH). */
export interface ShadowPolicySource {
  current(): LoadedPolicy;
}

/** Shadow evaluation never fails an admission: a candidate that throws is logged and skipped. */
export function shadowCompare(
  source: ShadowPolicySource,
  request: ActionRequest,
  live: PolicyDecision,
  logger: Pick<Logger, 'warn'>,
  limits?: LimitReadings,
): ShadowComparison | undefined {
  try {
    return compareWithCandidate(source.current(), request, live, limits);
  } catch (err) {
    logger.warn({ err, actionType: request.action.type }, 'shadow policy evaluation failed; nothing recorded');
    return undefined;
  }
}

/**
 * Records one comparison inside the admission transaction, behind a savepoint: if the write fails
 * the admission still commits — shadow results are information, never a reason to hold an action.
 */
export async function recordShadowComparison(
  client: PoolClient,
  actionId: string,
  comparison: ShadowComparison,
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  await client.query('SAVEPOINT shadow_result');
  try {
    await client.query(
      `INSERT INTO policy_shadow_results (action_id, candidate_version, live_version, action_type, live_outcome, live_risk, live_rules,
         candidate_outcome, candidate_risk, candidate_rules, candidate_rule, candidate_reason, differs)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
       ON CONFLICT (action_id, candidate_version) DO NOTHING`,
      [
        actionId,
        comparison.candidateVersion,
        comparison.liveVersion,
        comparison.actionType,
        comparison.live.outcome,
        comparison.live.risk,
        comparison.live.rules,
        comparison.candidate.outcome,
        comparison.candidate.risk,
        comparison.candidate.rules,
        comparison.candidate.rule,
        comparison.candidate.reason,
        comparison.differs,
      ],
    );
    await client.query('RELEASE SAVEPOINT shadow_result');
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT shadow_result');
    logger.warn({ err, actionId }, 'shadow result not recorded');
  }
}

export interface ShadowReportQuery {
  since: Date;
  until: Date;
  /** Defaults to the candidate evaluated most recently. */
  candidateVersion?: string;
  examplesPerGroup: number;
}

export interface ShadowCandidate {
  version: string;
  evaluated: number;
  lastEvaluatedAt: string;
}

/** The shadow-mode report over actions the principal may read, aggregated in SQL. */
export async function shadowReport(pool: Pool, principal: Principal, query: ShadowReportQuery): Promise<ShadowReport & { candidates: ShadowCandidate[] }> {
  const params: unknown[] = [query.since.toISOString(), query.until.toISOString()];
  const scope = `s.evaluated_at >= $1 AND s.evaluated_at < $2 AND ${readableBy(principal, params)}`;
  const { rows: candidates } = await pool.query<{ version: string; evaluated: number; last_evaluated_at: string }>(
    `SELECT s.candidate_version AS version, count(*)::int AS evaluated, max(s.evaluated_at) AS last_evaluated_at
       FROM policy_shadow_results s JOIN actions a ON a.id = s.action_id
      WHERE ${scope} GROUP BY s.candidate_version ORDER BY max(s.evaluated_at) DESC`,
    params,
  );
  const candidateVersion = query.candidateVersion ?? candidates[0]?.version ?? null;
  const base = {
    source: 'shadow' as const,
    candidateVersion,
    since: query.since.toISOString(),
    until: query.until.toISOString(),
    candidates: candidates.map((c) => ({ version: c.version, evaluated: c.evaluated, lastEvaluatedAt: c.last_evaluated_at })),
  };
  if (candidateVersion === null) return { ...base, evaluated: 0, differing: 0, byRule: [] };

  params.push(candidateVersion, query.examplesPerGroup);
  const versionParam = `$${params.length - 1}`;
  const examplesParam = `$${params.length}`;
  const { rows } = await pool.query<{
    evaluated: number;
    differing: number;
    groups: { rule: string | null; live_outcome: string; candidate_outcome: string; count: number; examples: ShadowExampleRow[] }[] | null;
  }>(
    `WITH scoped AS (
       SELECT s.*, a.resource_type, a.resource_id, a.created_at
         FROM policy_shadow_results s JOIN actions a ON a.id = s.action_id
        WHERE ${scope} AND s.candidate_version = ${versionParam}
     ), ranked AS (
       SELECT d.*, row_number() OVER (PARTITION BY d.candidate_rule, d.live_outcome, d.candidate_outcome ORDER BY d.created_at DESC, d.action_id DESC) AS n
         FROM scoped d WHERE d.differs
     ), grouped AS (
       SELECT candidate_rule AS rule, live_outcome, candidate_outcome, count(*)::int AS count,
              json_agg(json_build_object(
                'actionId', action_id, 'actionType', action_type, 'resource', resource_type || ':' || resource_id, 'createdAt', created_at,
                'liveOutcome', live_outcome, 'liveRisk', live_risk, 'liveRules', live_rules,
                'candidateOutcome', candidate_outcome, 'candidateRisk', candidate_risk, 'candidateRules', candidate_rules, 'candidateReason', candidate_reason
              ) ORDER BY n) FILTER (WHERE n <= ${examplesParam}) AS examples
         FROM ranked GROUP BY candidate_rule, live_outcome, candidate_outcome
     )
     SELECT (SELECT count(*)::int FROM scoped) AS evaluated,
            (SELECT count(*)::int FROM scoped WHERE differs) AS differing,
            (SELECT json_agg(grouped) FROM grouped) AS groups`,
    params,
  );
  const row = rows[0]!;
  const byRule: ShadowRuleGroup[] = (row.groups ?? []).map((group) => ({
    rule: group.rule ?? DEFAULT_RULE,
    liveOutcome: group.live_outcome,
    candidateOutcome: group.candidate_outcome,
    count: group.count,
    examples: (group.examples ?? []).map((e) => ({
      actionId: e.actionId,
      actionType: e.actionType,
      resource: e.resource,
      createdAt: new Date(e.createdAt).toISOString(),
      live: { outcome: e.liveOutcome, risk: e.liveRisk, rules: e.liveRules },
      candidate: { outcome: e.candidateOutcome, risk: e.candidateRisk, rules: e.candidateRules, reason: e.candidateReason },
    })),
  }));
  return { ...base, evaluated: row.evaluated, differing: row.differing, byRule: sortGroups(byRule) };
}

interface ShadowExampleRow {
  actionId: string;
  actionType: string;
  resource: string;
  createdAt: string;
  liveOutcome: string;
  liveRisk: string;
  liveRules: string[];
  candidateOutcome: string;
  candidateRisk: string;
  candidateRules: string[];
  candidateReason: string;
}
