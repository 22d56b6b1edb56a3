import { createCheckpoint, pruneExpired } from '../../src/evidence/audit/checkpoints';
import { exportEvidence } from '../../src/evidence/audit/export-evidence';
import { generateAuditKey } from '../../src/evidence/audit/signing-key';
import { verifyEvidence, type AuditProblemKind } from '../../src/evidence/audit/verify-evidence';
import { auditCommand } from '../../src/ops/cli/audit-command';
import { eventHash, listEvents } from '../../src/evidence/evidence-repository';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { seedAction, tamper } from './helpers/evidence-seed';

const key = generateAuditKey();
const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');

// Tampering takes what only the tables' owner has (the runtime role may only insert and read
// evidence: evidence-roles.test.ts), so these tests act as the owner, and `audit` runs as it too.
let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(() => db?.drop());

/** A complete approval: requested → classified → review → vote → decided → completed (6 events). */
async function completedAction(id: string, createdAt = new Date(NOW.getTime() - DAY)): Promise<string> {
  const at = (minutes: number) => new Date(createdAt.getTime() + minutes * 60_000);
  return seedAction(db.ownerPool, {
    id,
    createdAt,
    events: [
      { key: 'requested', type: 'action.requested', actor: 'support-bot', at: at(0) },
      { key: 'classified', type: 'policy.classified', actor: 'policy', data: { decision: { outcome: 'require_approval' } }, at: at(0) },
      { key: 'review-requested', type: 'review.requested', data: { tier: 0, groups: ['finance'], assignees: ['alice'] }, at: at(1) },
      { key: 'vote:alice', type: 'review.approved', actor: 'alice', data: { verdict: 'approve' }, at: at(5) },
      { key: 'decided', type: 'action.approved', actor: 'alice', data: { verdict: 'approved' }, at: at(5) },
      { key: 'completed', type: 'action.completed', data: { status: 'executed' }, at: at(6) },
    ],
    projection: { status: 'executed', outcome: 'require_approval', decidedAt: at(5).toISOString(), completedAt: at(6).toISOString() },
  });
}

async function seedFive(): Promise<string[]> {
  const ids: string[] = [];
  for (const n of [1, 2, 3, 4, 5]) ids.push(await completedAction(`action-11-support-bot-a${n}`));
  return ids;
}

const verify = () => verifyEvidence(db.ownerPool, key);
const problems = async () => (await verify()).problems.map((p) => [p.actionId ?? `#${p.checkpointId}`, p.kind] as [string, AuditProblemKind]);

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = { HOLDPOINT_ENV: 'test', DATABASE_URL: db.url, DATABASE_MIGRATION_URL: db.ownerUrl, AUDIT_SIGNING_KEY: key.privateKey!.export({ type: 'pkcs8', format: 'pem' }).toString() };
  const code = await auditCommand(argv, { env, now: NOW, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

describe('audit verify', () => {
  it('accepts intact chains and a valid checkpoint chain', async () => {
    await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    const result = await verify();
    expect(result).toMatchObject({ ok: true, actions: 5, events: 30, checkpoints: { total: 2, verified: 2, signaturesChecked: true }, eventsAfterLatestCheckpoint: 0 });
    expect(result.problems).toEqual([]);
    const { code, out } = await cli(['verify']);
    expect(code).toBe(0);
    expect(out).toContain('OK: every chain is intact');
  });

  it('detects an edited event, at that action and seq only', async () => {
    const [, second] = await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await tamper(db.ownerPool, `UPDATE action_events SET data = '{"verdict":"deny"}' WHERE action_id = $1 AND seq = 4`, [second]);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ kind: 'chain-break', actionId: second, detail: 'seq 4: hash does not match the event' }]);
  });

  it('detects a deleted event in the middle of a chain', async () => {
    const [, , third] = await seedFive();
    await tamper(db.ownerPool, 'DELETE FROM action_events WHERE action_id = $1 AND seq = 3', [third]);
    const result = await verify();
    expect(new Set(result.problems.map((p) => p.actionId))).toEqual(new Set([third]));
    expect(result.problems.map((p) => p.detail)).toEqual([
      'seq 4: expected seq 3',
      'seq 4: prev_hash does not match the previous event',
      'seq 5: expected seq 4',
      'seq 6: expected seq 5',
    ]);
  });

  it('detects a reordered chain', async () => {
    const [first] = await seedFive();
    // Swap events 3 and 4 (through a free seq, the primary key forbids a direct swap).
    await tamper(
      db.ownerPool,
      `UPDATE action_events SET seq = 100 WHERE action_id = $1 AND seq = 3;
       UPDATE action_events SET seq = 3 WHERE action_id = $1 AND seq = 4;
       UPDATE action_events SET seq = 4 WHERE action_id = $1 AND seq = 100;`.replace(/\$1/g, `'${first}'`),
    );
    const found = await problems();
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map(([id, kind]) => `${id} ${kind}`))).toEqual(new Set([`${first} chain-break`]));
  });

  it('detects a deleted action, through the checkpoint that signed it', async () => {
    const [, , , fourth] = await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await tamper(db.ownerPool, 'DELETE FROM action_events WHERE action_id = $1; DELETE FROM actions WHERE id = $1'.replace(/\$1/g, `'${fourth}'`));
    const result = await verify();
    expect(result.actions).toBe(4);
    expect(result.problems).toEqual([
      {
        kind: 'deleted',
        actionId: fourth,
        checkpointId: 1,
        detail: expect.stringMatching(/^checkpoint #1 signed its chain at seq 6 \(sha256:[0-9a-f]{12}…\); the action and all its events are gone$/),
      },
    ]);
  });

  it('detects a truncated tail, through the checkpoint that signed the head', async () => {
    const [, , , , fifth] = await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await tamper(db.ownerPool, 'DELETE FROM action_events WHERE action_id = $1 AND seq > 4', [fifth]);
    const result = await verify();
    expect(result.problems.map((p) => [p.actionId, p.kind, p.detail])).toEqual([
      [fifth, 'truncated', expect.stringMatching(/signed its chain at seq 6 .*; the chain now ends at seq 4$/)],
      [fifth, 'incomplete', expect.stringMatching(/has no action.completed event/)],
    ]);
  });

  it('detects a truncated tail of an unfinished action (no completed event to miss)', async () => {
    const id = await seedAction(db.ownerPool, {
      id: 'action-11-support-bot-open',
      createdAt: NOW,
      events: [
        { key: 'requested', type: 'action.requested', at: NOW },
        { key: 'classified', type: 'policy.classified', at: NOW },
        { key: 'review-requested', type: 'review.requested', at: NOW },
      ],
    });
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await tamper(db.ownerPool, 'DELETE FROM action_events WHERE action_id = $1 AND seq = 3', [id]);
    expect(await problems()).toEqual([[id, 'truncated']]);
  });

  it('detects a chain rewritten with valid hashes after the checkpoint', async () => {
    const [first] = await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    // The forger edits the vote and recomputes every hash from there: the chain itself is consistent again.
    const events = await listEvents(db.ownerPool, first!);
    let prevHash = events[2]!.hash;
    const forged = events.slice(3).map((event) => {
      const edited = { ...event, actor: event.seq === 4 ? 'mallory' : event.actor, prevHash };
      const hash = eventHash(edited, event.seq, prevHash);
      prevHash = hash;
      return { ...edited, hash };
    });
    for (const event of forged) {
      await tamper(db.ownerPool, 'UPDATE action_events SET actor = $3, prev_hash = $4, hash = $5 WHERE action_id = $1 AND seq = $2', [
        first,
        event.seq,
        event.actor ?? null,
        event.prevHash,
        event.hash,
      ]);
    }
    expect(await problems()).toEqual([[first, 'rewritten']]);
  });

  it('refuses a forged prune checkpoint, and still reports the action it was used to delete', async () => {
    const [first] = await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    // Without the signing key, a forger can add rows but not a valid signature.
    await db.ownerPool.query(
      `INSERT INTO audit_checkpoints (id, kind, created_at, prev_digest, heads_digest, head_count, pruned_count, key_id, digest, signature)
       SELECT 2, 'prune', now(), digest, 'sha256:forged', 1, 1, key_id, 'sha256:forged', 'AAAA' FROM audit_checkpoints WHERE id = 1`,
    );
    await db.ownerPool.query('INSERT INTO audit_checkpoint_heads (checkpoint_id, action_id, seq, hash, pruned) VALUES (2, $1, 6, $2, true)', [first, 'x']);
    await db.ownerPool.query('SELECT audit_prune_actions(2)');
    expect(await problems()).toEqual([
      ['#2', 'checkpoint'],
      ['#2', 'checkpoint'],
      ['#2', 'checkpoint'],
      [first, 'deleted'],
    ]);
    expect((await verify()).checkpoints).toMatchObject({ total: 2, verified: 1 });
  });

  it('refuses an edited checkpoint and a checkpoint whose signed heads changed', async () => {
    await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await db.ownerPool.query('ALTER TABLE audit_checkpoint_heads DISABLE TRIGGER audit_checkpoint_heads_append_only');
    await db.ownerPool.query("UPDATE audit_checkpoint_heads SET hash = 'sha256:other' WHERE checkpoint_id = 1 AND action_id = 'action-11-support-bot-a1'");
    await db.ownerPool.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only');
    await db.ownerPool.query('UPDATE audit_checkpoints SET pruned_count = 0, head_count = 7 WHERE id = 2');
    const details = (await verify()).problems.map((p) => p.detail);
    expect(details).toEqual([
      'checkpoint #1: its signed heads were changed (5 rows now, 5 signed)',
      'checkpoint #2: its digest does not match its contents (edited)',
      'checkpoint #2: its signed heads were changed (0 rows now, 7 signed)',
      'checkpoint #2: its signature is invalid',
    ]);
  });

  it('reports a checkpoint signed by another key', async () => {
    await seedFive();
    await createCheckpoint(db.ownerPool, generateAuditKey(), { kind: 'manual' });
    const result = await verify();
    expect(result.problems).toEqual([{ kind: 'checkpoint', checkpointId: 1, detail: expect.stringMatching(/^checkpoint #1: signed by key ed25519:\w+, not the configured/) }]);
  });

  it('prints problems by action from the CLI and exits 1', async () => {
    const [first, second] = await seedFive();
    await cli(['checkpoint']);
    await tamper(db.ownerPool, `UPDATE action_events SET actor = 'mallory' WHERE action_id = $1 AND seq = 4`, [first]);
    await tamper(db.ownerPool, 'DELETE FROM action_events WHERE action_id = $1; DELETE FROM actions WHERE id = $1'.replace(/\$1/g, `'${second}'`));
    const { code, out } = await cli(['verify']);
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`BROKEN\\s+${first}\\n\\s+seq 4: hash does not match the event`));
    expect(out).toMatch(new RegExp(`DELETED\\s+${second}\\n\\s+checkpoint #1 signed its chain at seq 6`));
    expect(out).toContain('FAILED: 2 problems in 2 actions.');
  });
});

describe('checkpoints', () => {
  it('sign only the heads that changed since the previous checkpoint', async () => {
    await seedFive();
    const first = await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    expect(first).toMatchObject({ id: 1, headCount: 5, prunedCount: 0 });
    await completedAction('action-11-support-bot-a6');
    const second = await createCheckpoint(db.ownerPool, key, { kind: 'scheduled' });
    expect(second).toMatchObject({ id: 2, headCount: 1 });
    const full = await createCheckpoint(db.ownerPool, key, { kind: 'manual', full: true });
    expect(full).toMatchObject({ id: 3, headCount: 0 });
  });

  it('skip a scheduled run when a recent checkpoint exists (replicas share one schedule)', async () => {
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    expect(await createCheckpoint(db.ownerPool, key, { kind: 'scheduled', minIntervalMs: 60_000 })).toBeUndefined();
  });

  it('are append-only', async () => {
    await seedFive();
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    await expect(db.ownerPool.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
    await expect(db.ownerPool.query('UPDATE audit_checkpoint_heads SET seq = 1')).rejects.toThrow(/append-only/);
  });
});

describe('retention', () => {
  it('prunes completed actions past retention after signing them, and verify stays clean', async () => {
    const old = [await completedAction('action-11-support-bot-old1', new Date(NOW.getTime() - 500 * DAY)), await completedAction('action-11-support-bot-old2', new Date(NOW.getTime() - 401 * DAY))];
    const recent = await completedAction('action-11-support-bot-new', new Date(NOW.getTime() - 399 * DAY));
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    const dryRun = await cli(['prune', '--dry-run']);
    expect(dryRun.out).toContain('2 completed actions older than 400 days');

    const summary = await pruneExpired(db.ownerPool, key, { retentionDays: 400, now: NOW, batchSize: 1 });
    expect(summary.removedActions).toBe(2);
    expect(summary.checkpoints.map((c) => c.prunedCount)).toEqual([1, 1, 0]);
    const { rows } = await db.ownerPool.query('SELECT id FROM actions ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([recent]);
    const { rows: left } = await db.ownerPool.query('SELECT count(*)::int AS n FROM action_events WHERE action_id = ANY($1)', [old]);
    expect(left[0].n).toBe(0);
    expect(await verify()).toMatchObject({ ok: true, problems: [], checkpoints: { total: 4, verified: 4 } });
  });

  it('still refuses to delete evidence of an action that was not pruned', async () => {
    const [first] = await seedFive();
    await expect(db.ownerPool.query('DELETE FROM action_events WHERE action_id = $1', [first])).rejects.toThrow(/append-only/);
    await expect(db.ownerPool.query('SELECT audit_prune_actions(1)')).rejects.toThrow(/not a prune checkpoint/);
  });
});

// A chain re-hashed after its payload was changed verified as OK.
describe('audit verify recomputes payload hashes', () => {
  const request = (amount: number) => ({ agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount } });

  async function requestedAction(id: string, amount: number): Promise<void> {
    const at = new Date(NOW.getTime() - DAY);
    const edited = { amount: amount + 1 };
    await seedAction(db.ownerPool, {
      id,
      createdAt: at,
      payload: { amount },
      events: [
        { key: 'requested', type: 'action.requested', actor: 'support-bot', data: { requestHash: canonicalHash(request(amount)), payloadHash: canonicalHash({ amount }) }, at },
        { key: 'classified', type: 'policy.classified', actor: 'policy', data: { decision: { outcome: 'require_approval' }, payloadHash: canonicalHash({ amount }) }, at },
        { key: 'vote:alice', type: 'review.approved_with_edit', actor: 'alice', data: { verdict: 'approve', payloadHash: canonicalHash(edited), editedPayload: edited }, at },
      ],
    });
  }

  /** What a table owner can do: change an event's data and re-hash the chain from there on, so the chain itself verifies. */
  async function rewriteAndRehash(id: string, seq: number, change: (data: Record<string, unknown>) => void): Promise<void> {
    const events = await listEvents(db.ownerPool, id);
    let prevHash = events[seq - 2]?.hash ?? null;
    for (const event of events.slice(seq - 1)) {
      const data = structuredClone(event.data) as Record<string, unknown>;
      if (event.seq === seq) change(data);
      const forged = { ...event, data: data as typeof event.data, prevHash };
      const hash = eventHash(forged, event.seq, prevHash);
      await tamper(db.ownerPool, 'UPDATE action_events SET data = $3, prev_hash = $4, hash = $5 WHERE action_id = $1 AND seq = $2', [id, event.seq, data, prevHash, hash]);
      prevHash = hash;
    }
  }

  it('accepts payloads that match their hashes', async () => {
    await requestedAction('action-11-support-bot-ph0', 100);
    expect(await problems()).toEqual([]);
  });

  it('reports a submitted payload changed under a re-hashed chain', async () => {
    const id = 'action-11-support-bot-ph1';
    await requestedAction(id, 100);
    await rewriteAndRehash(id, 1, (data) => {
      (data.request as { payload: { amount: number } }).payload.amount = 10;
    });
    // Both the request hash and the payload hash recorded with it no longer match.
    expect(await problems()).toEqual([
      [id, 'payload-hash'],
      [id, 'payload-hash'],
    ]);
    const { code, out } = await cli(['verify']);
    expect(code).toBe(1);
    expect(out).toMatch(/payload/i);
  });

  it('reports an edited payload changed under a re-hashed chain', async () => {
    const id = 'action-11-support-bot-ph2';
    await requestedAction(id, 100);
    await rewriteAndRehash(id, 3, (data) => {
      (data.editedPayload as { amount: number }).amount = 5;
    });
    expect(await problems()).toEqual([[id, 'payload-hash']]);
  });
});

describe('audit export', () => {
  it('writes one JSON line per action in the window, then the checkpoints', async () => {
    await completedAction('action-11-support-bot-e1', new Date(NOW.getTime() - 40 * DAY));
    await completedAction('action-11-support-bot-e2', new Date(NOW.getTime() - 2 * DAY));
    await completedAction('action-11-support-bot-e3', new Date(NOW.getTime() - 1 * DAY));
    await createCheckpoint(db.ownerPool, key, { kind: 'manual' });
    const lines: string[] = [];
    const summary = await exportEvidence(db.ownerPool, { since: new Date(NOW.getTime() - 30 * DAY) }, (line) => {
      lines.push(line);
    });
    expect(summary).toEqual({ actions: 2, events: 12, checkpoints: 1 });
    const records = lines.map((line) => JSON.parse(line));
    expect(records.map((r) => r.type)).toEqual(['action', 'action', 'checkpoint']);
    expect(records[0]).toMatchObject({ action: { id: 'action-11-support-bot-e2', status: 'executed' }, chain: { ok: true, events: 6 } });
    expect(records[0].events[5]).toMatchObject({ seq: 6, type: 'action.completed', hash: expect.stringMatching(/^sha256:/) });
    expect(records[2]).toMatchObject({ type: 'checkpoint', id: 1, headCount: 3, signature: expect.any(String) });

    const { code, out, err } = await cli(['export', '--since', '30d']);
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(3);
    expect(err).toContain('Exported 2 actions, 12 events and 1 checkpoints');
  });
});
