import path from 'node:path';
import type { Pool } from 'pg';
import { compareWithCandidate } from '../../policy/shadow/shadow-comparison';
import { formatShadowReport, ShadowReportBuilder, type ShadowReport } from '../../policy/shadow/shadow-report';
import { PolicyLoadError } from '../../policy/policy-load-error';
import { loadPolicy } from '../../policy/policy-loader';
import type { LoadedPolicy } from '../../policy/loaded-policy';
import { LimitHistory, type PastAction } from '../../policy/limit-history';
import type { ActionRequest, JsonObject } from '../../shared/action';
import type { ActionStatus } from '../../shared/action-state';
import type { PolicyOutcome, RiskTier } from '../../shared/policy';
import { instantFlag, withDatabase } from './command-io';
import { parseFlags, runCommand, UsageError, type Command, type CommandIo } from './dispatch';

const USAGE = `usage: holdpoint policy replay --candidate <dir> [--since 30d] [--examples 5] [--json]

  Replays the actions recorded since --since (a duration back from now, or an ISO-8601 time)
  against the candidate policy and reports every action it would have decided differently
  (outcome or risk), by the candidate rule that decided it. The candidate's limits are
  evaluated as of each request's own time. Nothing is written.
`;

const BATCH = 500;

interface RecordedAction {
  id: string;
  created_at: string;
  outcome: PolicyOutcome;
  risk: RiskTier;
  matched_rules: string[];
  policy_version: string | null;
  resource_type: string;
  resource_id: string;
  request: ActionRequest;
  status: ActionStatus;
  decided_at: string | null;
  approved_payload: JsonObject | null;
}

/** What the candidate's limits need of a recorded action to count it as of a later request's time. */
function pastAction(row: RecordedAction, at: number): PastAction {
  return {
    id: row.id,
    request: row.request,
    at,
    status: row.status,
    decidedAt: row.decided_at === null ? undefined : Date.parse(row.decided_at),
    held: row.outcome === 'require_approval',
    approvedPayload: row.approved_payload ?? undefined,
  };
}

/**
 * Replays recorded requests against `candidate`, comparing with the decisions recorded at the time.
 * The candidate's limits are evaluated as of each request's own time: over the actions submitted
 * before it within the window (read from a window's length before `since`), each with the status
 * it had then (held until its recorded decision, the recorded status after).
 */
export async function replayPolicy(pool: Pool, candidate: LoadedPolicy, window: { since: Date; until: Date }, examplesPerGroup = 5): Promise<ShadowReport> {
  const report = new ShadowReportBuilder(examplesPerGroup);
  const history = candidate.limits.length > 0 ? new LimitHistory(candidate) : undefined;
  const lookbackMs = Math.max(0, ...candidate.limits.map((limit) => limit.windowMs));
  const from = new Date(window.since.getTime() - lookbackMs);
  let cursor: [string, string] = ['-infinity', ''];
  for (;;) {
    const { rows } = await pool.query<RecordedAction>(
      `SELECT a.id, a.created_at, a.outcome, a.risk, a.matched_rules, a.policy_version, a.resource_type, a.resource_id, e.data->'request' AS request,
              a.status, a.decided_at, a.approved_payload
         FROM actions a JOIN action_events e ON e.action_id = a.id AND e.event_key = 'requested'
        WHERE a.outcome IS NOT NULL AND a.created_at >= $1 AND a.created_at < $2 AND (a.created_at, a.id) > ($3::timestamptz, $4)
        ORDER BY a.created_at, a.id LIMIT $5`,
      [from.toISOString(), window.until.toISOString(), cursor[0], cursor[1], BATCH],
    );
    for (const row of rows) {
      const at = Date.parse(row.created_at);
      if (at >= window.since.getTime()) {
        const limits = history?.read(row.request, at);
        const comparison = compareWithCandidate(
          candidate,
          row.request,
          { outcome: row.outcome, risk: row.risk, matchedRules: row.matched_rules, policyVersion: row.policy_version ?? 'unknown' },
          limits,
        );
        report.add(comparison, { actionId: row.id, resource: `${row.resource_type}:${row.resource_id}`, createdAt: row.created_at });
      }
      history?.add(pastAction(row, at));
    }
    history?.prune(Date.parse(rows[rows.length - 1]?.created_at ?? window.until.toISOString()));
    if (rows.length < BATCH) break;
    const last = rows[rows.length - 1]!;
    cursor = [last.created_at, last.id];
  }
  return report.build({ candidateVersion: candidate.policyVersion, since: window.since.toISOString(), until: window.until.toISOString() });
}

export const policyReplay: Command = {
  usage: USAGE,
  run(argv, io) {
    const now = io.now ?? new Date();
    const flags = parseFlags(argv, { candidate: { type: 'string' }, since: { type: 'string' }, examples: { type: 'string' }, json: { type: 'boolean' } });
    if (!flags.candidate) throw new UsageError('--candidate <dir> is required');
    if (flags.examples !== undefined && !/^\d{1,2}$/.test(flags.examples)) throw new UsageError(`--examples must be a number from 0 to 99, not ${flags.examples}`);
    const since = instantFlag(flags.since ?? '30d', now, '--since');
    let candidate: LoadedPolicy;
    try {
      candidate = loadPolicy(path.resolve(flags.candidate));
    } catch (err) {
      if (!(err instanceof PolicyLoadError)) throw err;
      (io.stderr ?? process.stderr).write(`holdpoint policy replay: the candidate policy does not load:\n${err.message}\n`);
      return 2;
    }
    return withDatabase('policy replay', io, async (pool) => {
      const report = await replayPolicy(pool, candidate, { since, until: now }, flags.examples !== undefined ? Number(flags.examples) : 5);
      (io.stdout ?? process.stdout).write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatShadowReport(report));
      return 0;
    });
  },
};

/** `holdpoint policy replay`: 0 done, 2 bad usage, configuration or candidate policy. */
export function policyReplayCommand(argv: string[], io: CommandIo = {}): Promise<number> {
  return runCommand('holdpoint policy replay', policyReplay, argv, io);
}
