import type { Pool } from 'pg';
import { keysAllRevokedSql } from '../access/principal-repository';

/** How a reviewer can be reached outside Holdpoint. */
export interface ReviewerContact {
  id: string;
  displayName?: string;
  email?: string;
  slackUserId?: string;
}

/**
 * Contacts of the given principals that may decide (enabled, keys not all revoked), in the order asked
 * for; unknown ids are skipped.
 */
export async function findReviewerContacts(pool: Pick<Pool, 'query'>, ids: readonly string[]): Promise<ReviewerContact[]> {
  if (ids.length === 0) return [];
  const { rows } = await pool.query<{ id: string; display_name: string | null; email: string | null; slack_user_id: string | null }>(
    `SELECT p.id, p.display_name, p.email, p.slack_user_id FROM principals p
      WHERE p.id = ANY($1::text[]) AND p.disabled_at IS NULL AND p.role IN ('reviewer', 'admin') AND NOT ${keysAllRevokedSql('p')}`,
    [ids],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row
      ? [{ id: row.id, displayName: row.display_name ?? undefined, email: row.email ?? undefined, slackUserId: row.slack_user_id ?? undefined }]
      : [];
  });
}
