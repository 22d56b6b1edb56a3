import type { Pool } from 'pg';
import { actionWorkflowId } from '../../shared/action-id';
import { HttpProblem } from '../../platform/http/problem';

/**
 * MAX_OPEN_ACTIONS_PER_AGENT: one agent may not keep more than `cap` actions open (not yet
 * Finished), so it cannot bury reviewers in requests. A retry of an action
 * that already exists is never refused. The count is not locked against parallel submissions, so
 * a burst can pass the cap by the submissions in flight at the same moment.
 */
export function openActionCap(pool: Pool, cap: number) {
  return async (agentId: string, idempotencyKey: string): Promise<void> => {
    // The status list is the index predicate of migration 008, written out so the planner uses it.
    const { rows } = await pool.query<{ known: boolean; open: number }>(
      `SELECT EXISTS (SELECT 1 FROM actions WHERE id = $1) AS known,
              (SELECT count(*)::int FROM (SELECT 1 FROM actions
                 WHERE agent_id = $2
                   AND status IN ('classifying', 'pending_review', 'approved', 'allowed', 'executing', 'awaiting_report')
                 LIMIT $3) open) AS open`,
      [actionWorkflowId(agentId, idempotencyKey), agentId, cap],
    );
    const { known, open } = rows[0] ?? { known: false, open: 0 };
    if (known || open < cap) return;
    throw new HttpProblem(
      429,
      'too-many-open-actions',
      'Too many open actions',
      `${agentId} has ${open} open actions; at most ${cap} may be open at once (MAX_OPEN_ACTIONS_PER_AGENT). Submit again once some are decided or finished`,
      { retryAfterSeconds: 30 },
    );
  };
}

export type OpenActionCap = ReturnType<typeof openActionCap>;
