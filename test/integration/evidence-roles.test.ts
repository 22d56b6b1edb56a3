import { ConfigError } from '../../src/platform/config';
import { prepareDatabase } from '../../src/platform/postgres/runtime-role';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { seedAction } from './helpers/evidence-seed';

/**
 * The API's and worker's database role owned `action_events` (a superuser in
 * development), so it could disable the append-only trigger and re-hash a chain. Now migrations run
 * as the owner and the processes connect as a role that can only insert and read evidence. These
 * run against real Postgres roles: `db.pool` is the connection the API and worker get.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await seedAction(db.pool, { id: 'action-11-support-bot-r1', createdAt: new Date('2026-03-01T10:00:00Z') });
});
afterAll(() => db?.drop());

const refused = (sql: string, pattern: RegExp) => expect(db.pool.query(sql)).rejects.toThrow(pattern);

describe("the API's and worker's database role", () => {
  it('is not a superuser and does not own the evidence tables', async () => {
    const { rows } = await db.pool.query<{ superuser: boolean; owner: string; me: string }>(
      `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
              (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'action_events') AS owner,
              current_user AS me`,
    );
    expect(rows[0]!.superuser).toBe(false);
    expect(rows[0]!.owner).not.toBe(rows[0]!.me);
  });

  it.each(['action_events', 'audit_checkpoints', 'audit_checkpoint_heads'])('may only insert into and read %s', async (table) => {
    const privileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES'];
    const { rows } = await db.pool.query<{ privilege: string; granted: boolean }>(
      `SELECT p AS privilege, has_table_privilege(current_user, format('%I.%I', current_schema(), $1::text), p) AS granted FROM unnest($2::text[]) p`,
      [table, privileges],
    );
    expect(Object.fromEntries(rows.map((r) => [r.privilege, r.granted]))).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
      TRIGGER: false,
      REFERENCES: false,
    });
  });

  it('inserts and reads evidence as the activities do', async () => {
    await seedAction(db.pool, { id: 'action-11-support-bot-r2', createdAt: new Date('2026-03-01T11:00:00Z') });
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM action_events WHERE action_id LIKE 'action-11-support-bot-r%'");
    expect(rows[0].n).toBe(2);
  });

  it('cannot change, remove or unprotect evidence in any way', async () => {
    await refused("UPDATE action_events SET actor = 'mallory'", /permission denied/);
    await refused('DELETE FROM action_events', /permission denied/);
    await refused('TRUNCATE action_events', /permission denied/);
    await refused('ALTER TABLE action_events DISABLE TRIGGER action_events_append_only', /must be owner/);
    await refused('ALTER TABLE action_events DISABLE TRIGGER ALL', /must be owner/);
    await refused('DROP TRIGGER action_events_append_only ON action_events', /must be owner/);
    await refused('DROP TABLE action_events', /must be owner/);
    await refused("SET session_replication_role = 'replica'", /permission denied/);
    await refused('CREATE OR REPLACE FUNCTION reject_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$', /must be owner|permission denied/);
    await refused('CREATE TABLE action_events_copy (x int)', /permission denied/);
    await refused('DELETE FROM actions', /permission denied/);
    await refused("UPDATE audit_checkpoints SET signature = 'x'", /permission denied/);
    await refused('ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL', /must be owner/);
    await refused('SELECT audit_prune_actions(1)', /permission denied/);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM action_events WHERE action_id LIKE 'action-11-support-bot-r%'");
    expect(rows[0].n).toBe(2);
  });
});

describe('start-up checks the connection it was given', () => {
  const warnings: string[] = [];
  const options = (env: string) => ({ env, warn: (message: string) => warnings.push(message) });

  it('in production, refuses a DATABASE_URL that could rewrite evidence (the owner, a superuser)', async () => {
    const prepared = prepareDatabase({ url: db.ownerUrl }, db.ownerPool, options('production'));
    await expect(prepared).rejects.toThrow(ConfigError);
    await expect(prepareDatabase({ url: db.ownerUrl }, db.ownerPool, options('production'))).rejects.toThrow(/DATABASE_URL: .*superuser.*DATABASE_MIGRATION_URL/s);
  });

  it('elsewhere, warns about it and goes on', async () => {
    await prepareDatabase({ url: db.ownerUrl }, db.ownerPool, options('development'));
    expect(warnings.join('\n')).toMatch(/could rewrite evidence/);
  });

  it('accepts the runtime role, migrating and granting as the owner', async () => {
    warnings.length = 0;
    await expect(prepareDatabase({ url: db.url, migrationUrl: db.ownerUrl }, db.pool, options('production'))).resolves.toEqual([]);
    // Without the owner the runtime role checks an up-to-date schema but changes nothing.
    await expect(prepareDatabase({ url: db.url }, db.pool, options('production'))).resolves.toEqual([]);
    expect(warnings).toEqual([]);
  });
});
