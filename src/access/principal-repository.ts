import type { Pool, PoolClient } from 'pg';
import { generateApiKey, hashApiKey, parseApiKey } from './api-keys';
import { isRole, isValidPrincipalId, PRINCIPAL_ID_MAX_LENGTH, type Principal, type Role } from './principal';
import { inTransaction } from '../platform/postgres/transaction';

// Same rule as group names in policy files, so a principal's groups can match the policy's.
const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const SLACK_USER_PATTERN = /^[UW][A-Z0-9]{2,}$/;
const PG_UNIQUE_VIOLATION = '23505';
const KEY_INSERT_ATTEMPTS = 5;

export interface NewPrincipalKey {
  id: string;
  role: Role;
  groups?: readonly string[];
  displayName?: string;
  email?: string;
  slackUserId?: string;
}

export interface PrincipalWriteOptions {
  /**
   * An existing principal keeps its role unless this is set: a typo in `--role` must not turn a
   * reviewer into an admin (or an agent into a reviewer of its own actions).
   */
  allowRoleChange?: boolean;
}

export interface PrincipalRecord {
  id: string;
  role: Role;
  groups: string[];
  displayName?: string;
  email?: string;
  slackUserId?: string;
  createdAt: string;
  disabledAt?: string;
  /**
   * Every API key the principal was issued is revoked (`keys revoke --id`): it may not decide through
   * any channel until it is issued a new key. Set by the lookups a decision makes (findPrincipal,
   * findPrincipalBySlackUser); a principal that never had a key (Slack or email only) is not revoked.
   */
  keysRevoked?: boolean;
}

/** An API key as listings show it: never the key or its hash. */
export interface ApiKeySummary {
  keyId: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

export interface PrincipalListing extends PrincipalRecord {
  keys: ApiKeySummary[];
}

export type AuthFailureReason = 'malformed' | 'unknown' | 'revoked' | 'disabled';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

export type PrincipalErrorCode = 'invalid' | 'role_change' | 'disabled' | 'slack_user_taken';

/** A refused principal write; `code` tells callers (CLI, API) how to report it. */
export class PrincipalError extends Error {
  override name = 'PrincipalError';
  constructor(
    readonly code: PrincipalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Queryable = Pick<Pool | PoolClient, 'query'>;

interface PrincipalRow {
  id: string;
  role: Role;
  groups: string[];
  display_name: string | null;
  email: string | null;
  slack_user_id: string | null;
  created_at: string;
  disabled_at: string | null;
}

const PRINCIPAL_COLUMNS = 'id, role, groups, display_name, email, slack_user_id, created_at, disabled_at';

/** SQL: the principal `alias` had API keys and every one of them is revoked. */
export function keysAllRevokedSql(alias: string): string {
  return `(EXISTS (SELECT 1 FROM api_keys k WHERE k.principal_id = ${alias}.id)
           AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.principal_id = ${alias}.id AND k.revoked_at IS NULL))`;
}

const DECIDING_PRINCIPAL_COLUMNS = `p.id, p.role, p.groups, p.display_name, p.email, p.slack_user_id, p.created_at, p.disabled_at,
       ${keysAllRevokedSql('p')} AS keys_revoked`;

function toRecord(row: PrincipalRow & { keys_revoked?: boolean }): PrincipalRecord {
  return {
    id: row.id,
    role: row.role,
    groups: row.groups,
    displayName: row.display_name ?? undefined,
    email: row.email ?? undefined,
    slackUserId: row.slack_user_id ?? undefined,
    createdAt: row.created_at,
    disabledAt: row.disabled_at ?? undefined,
    ...(row.keys_revoked !== undefined ? { keysRevoked: row.keys_revoked } : {}),
  };
}

function validate(input: NewPrincipalKey): { id: string; role: Role; groups: string[] } {
  const problems: string[] = [];
  if (!isValidPrincipalId(input.id)) {
    problems.push(`id "${input.id}": letters, digits and . _ : @ - only, starting with a letter or digit, at most ${PRINCIPAL_ID_MAX_LENGTH} characters`);
  }
  if (!isRole(input.role)) problems.push(`role "${String(input.role)}": expected agent, reviewer or admin`);
  const groups = [...new Set(input.groups ?? [])];
  for (const group of groups) {
    if (!GROUP_NAME_PATTERN.test(group)) problems.push(`group "${group}": letters, digits and . _ : - only, starting with a letter or digit`);
  }
  if (input.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(input.email)) problems.push(`email "${input.email}" is not an email address`);
  if (input.slackUserId !== undefined && !SLACK_USER_PATTERN.test(input.slackUserId)) {
    problems.push(`slack user "${input.slackUserId}": expected a Slack user id such as U012AB3CD`);
  }
  if (problems.length > 0) throw new PrincipalError('invalid', `invalid principal: ${problems.join('; ')}`);
  return { id: input.id, role: input.role, groups };
}

/**
 * Creates the principal or updates it: role and groups become the given ones; display name, email
 * and Slack id only when given. The conditional upsert makes the role check atomic with the write,
 * so two concurrent calls cannot race past it. A disabled principal is refused: a new key would
 * be unusable, and re-enabling is a deliberate act, not a side effect of issuing a key.
 */
async function writePrincipal(db: Queryable, input: NewPrincipalKey, options: PrincipalWriteOptions): Promise<PrincipalRecord> {
  const { id, role, groups } = validate(input);
  let rows: PrincipalRow[];
  try {
    ({ rows } = await db.query<PrincipalRow>(
      `INSERT INTO principals (id, role, groups, display_name, email, slack_user_id)
            VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET
              role = EXCLUDED.role,
              groups = EXCLUDED.groups,
              display_name = COALESCE(EXCLUDED.display_name, principals.display_name),
              email = COALESCE(EXCLUDED.email, principals.email),
              slack_user_id = COALESCE(EXCLUDED.slack_user_id, principals.slack_user_id)
            WHERE principals.disabled_at IS NULL AND (principals.role = EXCLUDED.role OR $7)
       RETURNING ${PRINCIPAL_COLUMNS}`,
      [id, role, groups, input.displayName ?? null, input.email ?? null, input.slackUserId ?? null, options.allowRoleChange === true],
    ));
  } catch (err) {
    if (isUniqueViolation(err, 'principals_slack_user_id_key')) {
      throw new PrincipalError('slack_user_taken', `Slack user ${input.slackUserId} already belongs to another principal`);
    }
    throw err;
  }
  if (rows[0]) return toRecord(rows[0]);

  // The upsert's WHERE refused the update: say why.
  const existing = await findPrincipal(db, id);
  if (existing?.disabledAt) throw new PrincipalError('disabled', `principal ${id} is disabled (since ${existing.disabledAt})`);
  throw new PrincipalError(
    'role_change',
    `principal ${id} is a ${existing?.role ?? 'different role'}; changing it to ${role} needs allowRoleChange (--allow-role-change)`,
  );
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const pgError = err as { code?: string; constraint?: string };
  return pgError?.code === PG_UNIQUE_VIOLATION && pgError.constraint === constraint;
}

/** Creates or updates a principal without issuing a key (see `createPrincipalKey` for the rules). */
export async function upsertPrincipal(pool: Pool, input: NewPrincipalKey, options: PrincipalWriteOptions = {}): Promise<PrincipalRecord> {
  return writePrincipal(pool, input, options);
}

/**
 * Upserts the principal and issues it a new API key, in one transaction. Only the key's hash is
 * stored; the returned `apiKey` is the one chance to see it. Earlier keys stay valid (rotate by
 * creating, then revoking the old key id).
 */
export async function createPrincipalKey(
  pool: Pool,
  input: NewPrincipalKey,
  options: PrincipalWriteOptions = {},
): Promise<{ principal: Principal; apiKey: string }> {
  return inTransaction(pool, async (client) => {
    const record = await writePrincipal(client, input, options);
    // A 32-bit key id can collide; ON CONFLICT keeps the transaction usable so we can draw again.
    for (let attempt = 1; attempt <= KEY_INSERT_ATTEMPTS; attempt++) {
      const { keyId, apiKey } = generateApiKey();
      const { rowCount } = await client.query(
        'INSERT INTO api_keys (id, principal_id, key_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [keyId, record.id, hashApiKey(apiKey)],
      );
      if (rowCount === 1) return { principal: { id: record.id, role: record.role, groups: record.groups, keyId }, apiKey };
    }
    throw new Error(`could not allocate an unused API key id after ${KEY_INSERT_ATTEMPTS} attempts`);
  });
}

/**
 * One statement: the lookup by the indexed hash, and (for a key that is accepted) the
 * last_used_at refresh, throttled to once a minute so busy agents do not write on every request.
 * A data-modifying CTE always runs to completion, so the refresh is never lost or left pending.
 */
export async function authenticate(pool: Pool, apiKey: string): Promise<AuthResult> {
  if (!parseApiKey(apiKey)) return { ok: false, reason: 'malformed' };
  const { rows } = await pool.query<{
    key_id: string;
    revoked_at: string | null;
    id: string;
    role: Role;
    groups: string[];
    disabled_at: string | null;
  }>(
    `WITH found AS (
       SELECT k.id AS key_id, k.revoked_at, p.id, p.role, p.groups, p.disabled_at
         FROM api_keys k JOIN principals p ON p.id = k.principal_id
        WHERE k.key_hash = $1
     ), touched AS (
       UPDATE api_keys SET last_used_at = now()
        WHERE key_hash = $1
          AND revoked_at IS NULL
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
          AND EXISTS (SELECT 1 FROM found WHERE found.disabled_at IS NULL)
       RETURNING id
     )
     SELECT key_id, revoked_at, id, role, groups, disabled_at FROM found`,
    [hashApiKey(apiKey)],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.revoked_at) return { ok: false, reason: 'revoked' };
  if (row.disabled_at) return { ok: false, reason: 'disabled' };
  return { ok: true, principal: { id: row.id, role: row.role, groups: row.groups, keyId: row.key_id } };
}

/** Every principal with its keys (ids and timestamps only), by id; keys oldest first. */
export async function listPrincipals(pool: Pool): Promise<PrincipalListing[]> {
  const { rows } = await pool.query<
    PrincipalRow & { key_id: string | null; key_created_at: string | null; revoked_at: string | null; last_used_at: string | null }
  >(
    `SELECT p.id, p.role, p.groups, p.display_name, p.email, p.slack_user_id, p.created_at, p.disabled_at,
            k.id AS key_id, k.created_at AS key_created_at, k.revoked_at, k.last_used_at
       FROM principals p LEFT JOIN api_keys k ON k.principal_id = p.id
      ORDER BY p.id, k.created_at, k.id`,
  );
  const listings = new Map<string, PrincipalListing>();
  for (const row of rows) {
    let listing = listings.get(row.id);
    if (!listing) {
      listing = { ...toRecord(row), keys: [] };
      listings.set(row.id, listing);
    }
    if (row.key_id && row.key_created_at) {
      listing.keys.push({
        keyId: row.key_id,
        createdAt: row.key_created_at,
        revokedAt: row.revoked_at ?? undefined,
        lastUsedAt: row.last_used_at ?? undefined,
      });
    }
  }
  return [...listings.values()];
}

export type RevokeTarget = { principalId: string } | { keyId: string };

/**
 * Revokes the principal's active keys, or one key; returns how many were active and are now revoked.
 * A principal left with no active key has lost every channel (console, Slack, email links): its
 * console sessions end here, and Slack and email refuse it at the next decision (`keysRevoked`).
 */
export async function revokeKeys(pool: Pool, target: RevokeTarget): Promise<number> {
  const [column, value] = 'principalId' in target ? ['principal_id', target.principalId] : ['id', target.keyId];
  const { rows } = await pool.query<{ revoked: number }>(
    `WITH revoked AS (
       UPDATE api_keys SET revoked_at = now() WHERE ${column} = $1 AND revoked_at IS NULL RETURNING id
     ), ended AS (
       UPDATE console_sessions SET ended_at = now() WHERE key_id IN (SELECT id FROM revoked) AND ended_at IS NULL RETURNING 1
     )
     SELECT count(*)::int AS revoked FROM revoked`,
    [value],
  );
  return rows[0]?.revoked ?? 0;
}

/**
 * Disables a principal (all its keys, Slack and email links are refused, and its console sessions
 * end, so enabling it again does not revive them) or enables it again. Returns false if unknown.
 */
export async function setPrincipalDisabled(pool: Pool, id: string, disabled: boolean): Promise<boolean> {
  const { rows } = await pool.query<{ changed: number }>(
    `WITH changed AS (
       UPDATE principals SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, now()) ELSE NULL END WHERE id = $1 RETURNING id
     ), ended AS (
       UPDATE console_sessions SET ended_at = now()
        WHERE $2 AND principal_id IN (SELECT id FROM changed) AND ended_at IS NULL RETURNING 1
     )
     SELECT count(*)::int AS changed FROM changed`,
    [id, disabled],
  );
  return rows[0]?.changed === 1;
}

/** The principal as a decision sees it now, with `keysRevoked`. */
export async function findPrincipal(pool: Queryable, id: string): Promise<PrincipalRecord | undefined> {
  const { rows } = await pool.query<PrincipalRow>(`SELECT ${DECIDING_PRINCIPAL_COLUMNS} FROM principals p WHERE p.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function findPrincipalBySlackUser(pool: Queryable, slackUserId: string): Promise<PrincipalRecord | undefined> {
  const { rows } = await pool.query<PrincipalRow>(`SELECT ${DECIDING_PRINCIPAL_COLUMNS} FROM principals p WHERE p.slack_user_id = $1`, [slackUserId]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}
