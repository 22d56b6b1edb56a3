import type { Pool } from 'pg';
import type { Principal, Role } from './principal';
import { findPrincipal } from './principal-repository';
import type { LoadedPolicy } from '../policy/loaded-policy';
import { HttpProblem } from '../platform/http/problem';
import { readableBy, type ActionAccessRow } from './action-access';

/** The deciding principal as the database knows it now (not as its session or Slack mapping saw it). */
export interface CurrentIdentity {
  id: string;
  role: Role;
  disabledAt?: string;
  /** Every API key it was issued is revoked (`keys revoke --id`). */
  keysRevoked: boolean;
}

export interface EligibilityInput {
  principal: Principal;
  /** Undefined: the principal no longer exists. */
  current: CurrentIdentity | undefined;
  /** The action's routed groups so far (`actions.review_groups`: every tier reached). */
  action: Pick<ActionAccessRow, 'review_groups'>;
  /** The policy loaded now: group membership is read from it, not from the plan made at submission. */
  policy: Pick<LoadedPolicy, 'groups'>;
}

/**
 * Eligibility at decision time, against current identity and group membership, whatever the
 * channel: a disabled or revoked principal decides nothing; a reviewer decides only while the current
 * policy still has it in a group of a tier the action was routed to. Admins are left to the
 * workflow (break-glass rules), agents to its own refusals. Throws HttpProblem 403.
 */
export function assertCurrentlyEligible({ principal, current, action, policy }: EligibilityInput): void {
  if (!current || current.disabledAt || current.keysRevoked || current.role !== principal.role) {
    const why = !current
      ? 'no longer exists'
      : current.disabledAt
        ? 'is disabled'
        : current.keysRevoked
          ? 'was revoked (every API key withdrawn)'
          : `is now a ${current.role}; sign in again`;
    throw new HttpProblem(403, 'principal-inactive', 'Not allowed to decide', `${principal.id} ${why}`);
  }
  if (principal.role !== 'reviewer') return;
  const member = action.review_groups.some((group) => policy.groups.get(group)?.includes(principal.id));
  if (!member) {
    throw new HttpProblem(
      403,
      'not-eligible',
      'Not eligible',
      `${principal.id} is not a member of ${action.review_groups.length ? action.review_groups.join(', ') : 'any group'} (the groups this action was routed to) in the current policy`,
    );
  }
}

/** Checks a decision before it reaches the workflow; see assertCurrentlyEligible. */
export type DecisionEligibility = (principal: Principal, actionId: string) => Promise<void>;

/** assertCurrentlyEligible over the database and the policy loaded at the time of each decision. */
export function reviewerEligibility(pool: Pool, currentPolicy: () => Pick<LoadedPolicy, 'groups'>): DecisionEligibility {
  return async (principal, actionId) => {
    const params: unknown[] = [actionId];
    const readable = readableBy(principal, params);
    const [record, action] = await Promise.all([
      findPrincipal(pool, principal.id),
      pool.query<{ review_groups: string[]; readable: boolean }>(`SELECT a.review_groups, ${readable} AS readable FROM actions a WHERE a.id = $1`, params),
    ]);
    const row = action.rows[0];
    // Unknown or unreadable: the decision answers 404 itself, without telling the action exists.
    if (!row?.readable) return;
    const current = record && { id: record.id, role: record.role, disabledAt: record.disabledAt, keysRevoked: record.keysRevoked === true };
    assertCurrentlyEligible({ principal, current, action: row, policy: currentPolicy() });
  };
}
