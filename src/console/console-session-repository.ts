import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Principal, Role } from '../access/principal';

/** A console sign-in: the cookie value is the bearer secret; only its hash is stored. */
export interface NewConsoleSession {
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

export interface ActiveConsoleSession {
  principal: Principal;
  csrfToken: string;
  expiresAt: string;
}

const hashOf = (sessionId: string) => createHash('sha256').update(sessionId, 'utf8').digest('hex');

export async function createConsoleSession(pool: Pick<Pool, 'query'>, principal: Principal, hours: number): Promise<NewConsoleSession> {
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const { rows } = await pool.query<{ expires_at: string }>(
    `INSERT INTO console_sessions (id_hash, principal_id, key_id, csrf_token, expires_at)
     VALUES ($1, $2, $3, $4, now() + $5::integer * interval '1 second') RETURNING expires_at`,
    [hashOf(sessionId), principal.id, principal.keyId, csrfToken, Math.round(hours * 3600)],
  );
  return { sessionId, csrfToken, expiresAt: new Date(rows[0]!.expires_at).toISOString() };
}

/**
 * The session behind a cookie value, if it is still good: not ended or expired, and its API key
 * and principal still active (revoking the key signs the console out too).
 */
export async function findConsoleSession(pool: Pick<Pool, 'query'>, sessionId: string): Promise<ActiveConsoleSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
  const { rows } = await pool.query<{ id: string; role: Role; groups: string[]; key_id: string; csrf_token: string; expires_at: string }>(
    `SELECT p.id, p.role, p.groups, s.key_id, s.csrf_token, s.expires_at
       FROM console_sessions s
       JOIN principals p ON p.id = s.principal_id
       JOIN api_keys k ON k.id = s.key_id
      WHERE s.id_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
        AND k.revoked_at IS NULL AND p.disabled_at IS NULL`,
    [hashOf(sessionId)],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { principal: { id: row.id, role: row.role, groups: row.groups, keyId: row.key_id }, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at).toISOString() };
}

export async function endConsoleSession(pool: Pick<Pool, 'query'>, sessionId: string): Promise<void> {
  await pool.query('UPDATE console_sessions SET ended_at = now() WHERE id_hash = $1 AND ended_at IS NULL', [hashOf(sessionId)]);
}
