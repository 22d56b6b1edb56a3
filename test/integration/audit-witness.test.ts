import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startCheckpointSchedule } from '../../src/evidence/audit/checkpoint-schedule';
import { generateAuditKey } from '../../src/evidence/audit/signing-key';
import { auditCommand } from '../../src/ops/cli/audit-command';
import { inTransaction } from '../../src/platform/postgres/transaction';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { seedAction } from './helpers/evidence-seed';

/**
 * Whoever owns the tables (and so can switch the append-only triggers off)
 * could delete an action together with the checkpoints that signed it, and `audit verify` said OK.
 * Checkpoints now also go to a witness outside the database, which `audit verify --witness` checks.
 * The HTTP witness is a server on loopback.
 */
const key = generateAuditKey();
const NOW = new Date('2026-03-01T12:00:00.000Z');

let db: TestDatabase;
let dir: string;
beforeEach(async () => {
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-witness-'));
});
afterEach(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], extra: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = {
    HOLDPOINT_ENV: 'test',
    DATABASE_URL: db.url,
    DATABASE_MIGRATION_URL: db.ownerUrl,
    AUDIT_SIGNING_KEY: key.privateKey!.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...extra,
  };
  const code = await auditCommand(argv, { env, now: NOW, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

async function seedTwo(): Promise<[string, string]> {
  const at = new Date(NOW.getTime() - 3_600_000);
  const ids: [string, string] = ['action-11-support-bot-w1', 'action-11-support-bot-w2'];
  for (const id of ids) await seedAction(db.pool, { id, createdAt: at });
  return ids;
}

/** The owner's cover-up: the action, its events and every checkpoint that signed them, triggers off. */
async function deleteWithItsCheckpoints(actionId: string): Promise<void> {
  await inTransaction(db.ownerPool, async (client) => {
    for (const table of ['action_events', 'audit_checkpoints', 'audit_checkpoint_heads']) await client.query(`ALTER TABLE ${table} DISABLE TRIGGER ALL`);
    await client.query('DELETE FROM audit_checkpoint_heads');
    await client.query('DELETE FROM audit_checkpoints');
    await client.query('DELETE FROM action_events WHERE action_id = $1', [actionId]);
    await client.query('DELETE FROM actions WHERE id = $1', [actionId]);
    for (const table of ['action_events', 'audit_checkpoints', 'audit_checkpoint_heads']) await client.query(`ALTER TABLE ${table} ENABLE TRIGGER ALL`);
  });
}

describe('a file witness', () => {
  it('receives every checkpoint as a signed statement, and catches a cover-up that verify alone misses', async () => {
    const witness = path.join(dir, 'witness.jsonl');
    const [, second] = await seedTwo();
    expect((await cli(['checkpoint'], { AUDIT_WITNESS: witness })).code).toBe(0);
    expect((await cli(['checkpoint', '--full'], { AUDIT_WITNESS: witness })).code).toBe(0);
    const lines = fs.readFileSync(witness, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ statement: { type: 'holdpoint.audit.checkpoint', id: 1, headCount: 2 }, digest: expect.stringMatching(/^sha256:/), signature: expect.any(String) });

    await deleteWithItsCheckpoints(second);
    // The database alone no longer shows it: no checkpoint is left to compare with.
    expect((await cli(['verify'])).code).toBe(0);

    const verified = await cli(['verify', '--witness'], { AUDIT_WITNESS: witness });
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/checkpoint #1\s+was witnessed .* but is missing from the database/i);
    expect(verified.out).toMatch(/checkpoint #2\s+was witnessed .* but is missing from the database/i);
  });

  it('reports a witnessed statement that differs from the one in the database, and one that is not validly signed', async () => {
    const witness = path.join(dir, 'witness.jsonl');
    await seedTwo();
    await cli(['checkpoint'], { AUDIT_WITNESS: witness });
    const [record] = fs.readFileSync(witness, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    fs.appendFileSync(witness, `${JSON.stringify({ ...record, statement: { ...record.statement, id: 2, headCount: 7 } })}\n`);
    const verified = await cli(['verify', '--witness', witness]);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/checkpoint #2/);
    expect(verified.out).toMatch(/not validly signed/);
  });

  it('passes when the witness and the database agree', async () => {
    const witness = path.join(dir, 'witness.jsonl');
    await seedTwo();
    await cli(['checkpoint'], { AUDIT_WITNESS: witness });
    const verified = await cli(['verify', '--witness'], { AUDIT_WITNESS: witness });
    expect(verified.out).toMatch(/witness/i);
    expect(verified.code).toBe(0);
  });
});

describe('an HTTP witness (on loopback)', () => {
  let server: http.Server;
  let url: string;
  const stored: string[] = [];
  const auth: (string | undefined)[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      auth.push(req.headers.authorization);
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          stored.push(body.trim());
          res.writeHead(201).end();
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(stored.map((line) => `${line}\n`).join(''));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/witness/holdpoint`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is POSTed each checkpoint with the token, and read back by verify --witness', async () => {
    const [first] = await seedTwo();
    const env = { AUDIT_WITNESS: url, AUDIT_WITNESS_TOKEN: 'witness-token-0123456789' };
    expect((await cli(['checkpoint'], env)).code).toBe(0);
    expect(stored).toHaveLength(1);
    expect(auth).toContain('Bearer witness-token-0123456789');
    expect((await cli(['verify', '--witness'], env)).code).toBe(0);

    await deleteWithItsCheckpoints(first);
    const verified = await cli(['verify', '--witness'], env);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/checkpoint #1\s+was witnessed .* but is missing from the database/i);
  });
});

describe("the worker's checkpoint schedule", () => {
  it('sends each checkpoint it signs to the witness, as the runtime role', async () => {
    const witness = path.join(dir, 'worker-witness.jsonl');
    await seedTwo();
    const logger = { info: jest.fn(), warn: jest.fn() };
    const schedule = startCheckpointSchedule({ pool: db.pool, key, intervalMs: 200, logger, witness: { kind: 'file', path: witness } });
    try {
      await eventually(() => fs.existsSync(witness) && fs.readFileSync(witness, 'utf8').trim().length > 0, 10_000, 'a witnessed checkpoint');
    } finally {
      await schedule.stop();
    }
    expect(logger.warn).not.toHaveBeenCalled();
    const [record] = fs.readFileSync(witness, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(record).toMatchObject({ statement: { id: 1, kind: 'scheduled', headCount: 2 } });
    expect((await cli(['verify', '--witness', witness])).code).toBe(0);
  });
});
