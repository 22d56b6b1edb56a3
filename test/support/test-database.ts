import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createPool } from '../../src/db/pool';
import { migrate } from '../../src/db/migrate';

export interface TestDatabase {
  pool: Pool;
  url: string;
  schema: string;
  drop(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.HOLDPOINT_TEST_DATABASE_URL;
  if (!url) throw new Error('HOLDPOINT_TEST_DATABASE_URL is not set: run through jest (global set-up starts Postgres)');
  return url;
}

/** A fresh, migrated schema for one test file, so files run in parallel without sharing rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = testDatabaseUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: base, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const pool = createPool(url, 5);
  await migrate(pool);
  return {
    pool,
    url,
    schema,
    async drop() {
      await pool.end();
      const cleanup = new Pool({ connectionString: base, max: 1 });
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}
