import type { Pool, PoolClient } from 'pg';

export type TokenScope = 'email-decision' | 'slack-request';

/**
 * Marks a one-time token as used. True the first time, false ever after: the primary key makes it
 * atomic across API replicas. Expired rows are pruned on the way, as they can no longer be replayed.
 */
export async function consumeToken(db: Pick<Pool | PoolClient, 'query'>, scope: TokenScope, tokenId: string, expiresAt: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO consumed_tokens (scope, token_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (scope, token_id) DO NOTHING`,
    [scope, tokenId, expiresAt.toISOString()],
  );
  if (Math.random() < 0.01) await db.query(`DELETE FROM consumed_tokens WHERE expires_at < now() - interval '1 day'`);
  return rowCount === 1;
}

export async function isTokenConsumed(db: Pick<Pool, 'query'>, scope: TokenScope, tokenId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM consumed_tokens WHERE scope = $1 AND token_id = $2', [scope, tokenId]);
  return (rowCount ?? 0) > 0;
}
