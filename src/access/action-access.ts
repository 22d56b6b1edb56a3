import type { Pool } from 'pg';
import type { Principal } from './principal';
import type { ActionState } from '../shared/action-state';
import { HttpProblem } from '../platform/http/problem';

export interface ActionAccessRow {
  id: string;
  agent_id: string;
  assignees: string[];
  review_groups: string[];
  decided_by: string[];
  /** Stored before the workflow shows it, so never behind the workflow's own status. */
  status: string;
  /** The read model: the workflow's state as of its last stored step (null before admission stored it). */
  state: ActionState | null;
}

/**
 * Object-level authorization (OWASP API1): agents see their own actions, reviewers what was routed
 * to them or their groups, admins everything. Kept beside its SQL twin below so they cannot drift.
 */
export function canRead(principal: Principal, row: ActionAccessRow): boolean {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'agent':
      return row.agent_id === principal.id;
    case 'reviewer':
      return (
        row.assignees.includes(principal.id) ||
        row.decided_by.includes(principal.id) ||
        row.review_groups.some((group) => principal.groups.includes(group))
      );
  }
}

/** The same rule as a SQL predicate over `actions a`, with its parameters appended to `params`. */
export function readableBy(principal: Principal, params: unknown[]): string {
  switch (principal.role) {
    case 'admin':
      return 'true';
    case 'agent':
      params.push(principal.id);
      return `a.agent_id = $${params.length}`;
    case 'reviewer':
      params.push(principal.id, principal.groups);
      return `($${params.length - 1} = ANY(a.assignees) OR $${params.length - 1} = ANY(a.decided_by) OR a.review_groups && $${params.length}::text[])`;
  }
}

/** Loads the access row, answering 404 both for unknown ids and for ids the caller may not see. */
export async function requireReadable(pool: Pool, principal: Principal, actionId: string): Promise<ActionAccessRow> {
  const { rows } = await pool.query<ActionAccessRow>(
    'SELECT id, agent_id, assignees, review_groups, decided_by, status, state FROM actions WHERE id = $1',
    [actionId],
  );
  const row = rows[0];
  if (!row || !canRead(principal, row)) throw new HttpProblem(404, 'not-found', 'Not found', `no action ${actionId}`);
  return row;
}
