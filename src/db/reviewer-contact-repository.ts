import type { Pool } from 'pg';

/** How a reviewer can be reached outside Holdpoint. */
export interface ReviewerContact {
  id: string;
  displayName?: string;
  email?: string;
  slackUserId?: string;
}

/** Contacts of the given principals that are enabled, in the order asked for; unknown ids are skipped. */
export async function findReviewerContacts(pool: Pick<Pool, 'query'>, ids: readonly string[]): Promise<ReviewerContact[]> {
  if (ids.length === 0) return [];
  const { rows } = await pool.query<{ id: string; display_name: string | null; email: string | null; slack_user_id: string | null }>(
    `SELECT id, display_name, email, slack_user_id FROM principals
      WHERE id = ANY($1::text[]) AND disabled_at IS NULL AND role IN ('reviewer', 'admin')`,
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
