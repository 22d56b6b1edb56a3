import type { Pool, PoolClient } from 'pg';
import { ConfigError } from '../config';
import { migrate } from './migrate';
import { createPool } from './pool';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Tables whose rows are evidence: the runtime role may add and read them, never change them. */
const EVIDENCE_TABLES = ['action_events', 'audit_checkpoints', 'audit_checkpoint_heads'] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The role a postgres:// URL logs in as. */
export function roleOf(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  if (!user) throw new ConfigError(`Invalid configuration:\n  DATABASE_URL: names no user, so its role cannot be granted access`);
  return user;
}

/**
 * What the API and worker's role may do in the owner's schema (issue 15, defect 4): read and write
 * the operational tables, but only INSERT and SELECT evidence. It owns nothing and may create
 * nothing, so it cannot alter a table, disable or drop a trigger, replace a trigger function or
 * truncate; evidence is removed only by the owner's `audit prune`. Run by the owner after every
 * migration (idempotent), so tables added later are covered.
 */
export async function grantRuntimeAccess(owner: Queryable, role: string): Promise<void> {
  const { rows } = await owner.query<{ schema: string }>('SELECT current_schema() AS schema');
  const schema = ident(rows[0]!.schema);
  const r = ident(role);
  const evidence = EVIDENCE_TABLES.map((table) => `${schema}.${table}`).join(', ');
  await owner.query(`
    GRANT USAGE ON SCHEMA ${schema} TO ${r};
    REVOKE CREATE ON SCHEMA ${schema} FROM ${r};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${r};
    REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA ${schema} FROM ${r};
    REVOKE UPDATE, DELETE ON ${evidence} FROM ${r};
    REVOKE DELETE ON ${schema}.actions FROM ${r};
    REVOKE INSERT, UPDATE, DELETE ON ${schema}.schema_migrations FROM ${r};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${r};
    REVOKE EXECUTE ON FUNCTION ${schema}.audit_prune_actions(bigint) FROM PUBLIC, ${r};
  `);
}

/** Creates a login role for the runtime when it is missing (development and tests; production's DBA creates it). */
export async function ensureRuntimeRole(admin: Queryable, role: string, password: string): Promise<void> {
  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  await admin.query(`DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) THEN
      CREATE ROLE ${ident(role)} LOGIN PASSWORD ${literal(password)};
    END IF;
  END $$`);
}

/** Whether this connection could change evidence: a superuser, the tables' owner, or granted more than INSERT and SELECT. */
export async function evidenceWriteRights(pool: Queryable): Promise<string[]> {
  const { rows } = await pool.query<{ superuser: boolean; owner: boolean; extra: string[] }>(
    `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            pg_has_role(current_user, (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'action_events'), 'USAGE') AS owner,
            ARRAY(SELECT p FROM unnest(ARRAY['UPDATE','DELETE','TRUNCATE','TRIGGER']) p
                   WHERE has_table_privilege(current_user, format('%I.action_events', current_schema()), p)) AS extra`,
  );
  const row = rows[0]!;
  return [...(row.superuser ? ['is a superuser'] : []), ...(row.owner ? ['owns action_events'] : []), ...row.extra.map((p) => `may ${p} action_events`)];
}

export interface DatabaseSettings {
  /** DATABASE_URL: the runtime role. */
  url: string;
  /** DATABASE_MIGRATION_URL: the owner, for migrations and grants; absent: DATABASE_URL migrates (one role). */
  migrationUrl?: string;
}

/**
 * Brings the schema up to date before a process serves: as the owner when DATABASE_MIGRATION_URL
 * is set (then grants the runtime role its access), else as DATABASE_URL. Then checks the runtime
 * connection: in production one that could change evidence stops start-up.
 */
export async function prepareDatabase(
  database: DatabaseSettings,
  runtime: Pool,
  options: { env: string; warn: (message: string) => void },
): Promise<string[]> {
  let applied: string[];
  if (database.migrationUrl) {
    const owner = createPool(database.migrationUrl, 1);
    try {
      applied = await migrate(owner);
      await grantRuntimeAccess(owner, roleOf(database.url));
    } finally {
      await owner.end();
    }
  } else {
    applied = await migrate(runtime);
  }
  const rights = await evidenceWriteRights(runtime);
  if (rights.length > 0) {
    const message = `the role of DATABASE_URL (${decodeURIComponent(new URL(database.url).username) || 'default'}) ${rights.join(', ')}: it could rewrite evidence. Connect as a role that may only insert and read evidence, and run migrations as the owner with DATABASE_MIGRATION_URL`;
    if (options.env === 'production') throw new ConfigError(`Invalid configuration:\n  DATABASE_URL: ${message}`);
    options.warn(message);
  }
  return applied;
}
