import type { Pool } from 'pg';
import type { JsonObject } from '../shared/action';

/** The recorded decision of an action, as channels report it once the workflow has settled it. */
export interface ActionOutcome {
  actionId: string;
  status: string;
  decidedBy: string[];
  decidedAt?: string;
  rationale?: string;
  reasonCode?: string;
  approvedPayload?: JsonObject;
  approvedPayloadHash?: string;
  callbackUrl?: string;
}

export async function findActionOutcome(pool: Pick<Pool, 'query'>, actionId: string): Promise<ActionOutcome | undefined> {
  const { rows } = await pool.query(
    `SELECT id, status, decided_by, decided_at, rationale, reason_code, approved_payload, approved_payload_hash, callback_url
       FROM actions WHERE id = $1`,
    [actionId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    actionId: row.id,
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at ? new Date(row.decided_at).toISOString() : undefined,
    rationale: row.rationale ?? undefined,
    reasonCode: row.reason_code ?? undefined,
    approvedPayload: row.approved_payload ?? undefined,
    approvedPayloadHash: row.approved_payload_hash ?? undefined,
    callbackUrl: row.callback_url ?? undefined,
  };
}
