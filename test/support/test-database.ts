import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createPool } from '../../src/platform/postgres/pool';
import { migrate } from '../../src/platform/postgres/migrate';
import { grantRuntimeAccess, roleOf } from '../../src/platform/postgres/runtime-role';

export interface TestDatabase {
  /** The runtime role, as the API and worker connect: it may only insert and read evidence. */
  pool: Pool;
  /** DATABASE_URL of that role, with this schema on its search path. */
  url: string;
  /** The schema's owner (migrations, grants, and what only an owner can do: tampering, `audit prune`). */
  ownerPool: Pool;
  /** DATABASE_MIGRATION_URL of the owner, with this schema on its search path. */
  ownerUrl: string;
  schema: string;
  drop(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.HOLDPOINT_TEST_DATABASE_URL;
  if (!url) throw new Error('HOLDPOINT_TEST_DATABASE_URL is not set: run through jest (global set-up starts Postgres)');
  return url;
}

function runtimeDatabaseUrl(): string {
  const url = process.env.HOLDPOINT_TEST_RUNTIME_DATABASE_URL;
  if (!url) throw new Error('HOLDPOINT_TEST_RUNTIME_DATABASE_URL is not set: run through jest (global set-up creates the runtime role)');
  return url;
}

const onSchema = (url: string, schema: string) => `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

/**
 * A fresh schema for one test file, so files run in parallel without sharing rows: migrated by
 * the owner, then used through the runtime role as `npm start` and production do.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = testDatabaseUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: base, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const ownerUrl = onSchema(base, schema);
  const ownerPool = createPool(ownerUrl, 2);
  await migrate(ownerPool);
  const url = onSchema(runtimeDatabaseUrl(), schema);
  await grantRuntimeAccess(ownerPool, roleOf(url));
  const pool = createPool(url, 5);
  return {
    pool,
    url,
    ownerPool,
    ownerUrl,
    schema,
    async drop() {
      await Promise.all([pool.end(), ownerPool.end()]);
      const cleanup = new Pool({ connectionString: base, max: 1 });
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}
