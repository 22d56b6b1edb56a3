import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../../platform/postgres/transaction';
import { HeadsDigest, statementDigest, statementText, type CheckpointKind, type CheckpointStatement } from './checkpoint-statement';
import { signStatement, type AuditKey } from './signing-key';

// Any constant works; it only has to be the same for every Holdpoint process sharing a database.
const CHECKPOINT_LOCK_ID = 7_484_212;
/**
 * Chains changed since the previous checkpoint are found by `recorded_at` (the storing
 * transaction's start). Evidence transactions last milliseconds; looking this far back covers one
 * that started before the previous checkpoint and committed after it. Heads already signed are
 * skipped, so the overlap costs nothing but the scan. `full` compares every chain instead.
 */
const RECORDING_OVERLAP = '10 minutes';
const HEADS_PAGE = 5_000;

export interface CheckpointOptions {
  kind: CheckpointKind;
  /** Compare every chain's head, not only recently recorded ones. */
  full?: boolean;
  /** Skip (return undefined) when the newest checkpoint is younger than this: replicas share one schedule. */
  minIntervalMs?: number;
  /** Prune checkpoints: sign these completed actions as pruned, then delete them in the same transaction. */
  prune?: { completedBefore: Date; limit: number };
}

export interface CheckpointSummary {
  id: number;
  kind: CheckpointKind;
  createdAt: string;
  headCount: number;
  prunedCount: number;
  digest: string;
  keyId: string;
  /** Prune checkpoints: actions deleted. */
  removedActions?: number;
}

interface LatestCheckpoint {
  id: number;
  digest: string;
  created_at: string;
  age_ms: number;
}

/**
 * Signs the heads of every chain that changed since the previous checkpoint, linked to it by
 * digest. One transaction under an advisory lock, so concurrent checkpointers take turns and ids
 * stay gap-free.
 */
export async function createCheckpoint(pool: Pool, key: AuditKey, options: CheckpointOptions): Promise<CheckpointSummary | undefined> {
  if (!key.privateKey) throw new Error('checkpoints need the private signing key');
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHECKPOINT_LOCK_ID]);
    const { rows: latestRows } = await client.query<LatestCheckpoint>(
      `SELECT id::int AS id, digest, created_at, (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms
         FROM audit_checkpoints ORDER BY id DESC LIMIT 1`,
    );
    const previous = latestRows[0];
    if (previous && options.minIntervalMs && previous.age_ms < options.minIntervalMs) return undefined;
    const id = (previous?.id ?? 0) + 1;
    const { rows: nowRows } = await client.query<{ now: string }>('SELECT now() AS now');
    const createdAt = nowRows[0]!.now;

    if (options.prune) {
      await client.query(
        `INSERT INTO audit_checkpoint_heads (checkpoint_id, action_id, seq, hash, pruned)
         SELECT $1, a.id, COALESCE(h.seq, 0), COALESCE(h.hash, 'none'), true
           FROM actions a
           LEFT JOIN LATERAL (SELECT e.seq, e.hash FROM action_events e WHERE e.action_id = a.id ORDER BY e.seq DESC LIMIT 1) h ON true
          WHERE a.completed_at < $2
          ORDER BY a.completed_at, a.id
          LIMIT $3`,
        [id, options.prune.completedBefore.toISOString(), options.prune.limit],
      );
    }
    const since = options.full || !previous ? '-infinity' : previous.created_at;
    await client.query(
      `WITH touched AS (
         SELECT DISTINCT action_id FROM action_events WHERE recorded_at >= $2::timestamptz - $3::interval
       ), current_heads AS (
         SELECT t.action_id, h.seq, h.hash
           FROM touched t
           CROSS JOIN LATERAL (SELECT e.seq, e.hash FROM action_events e WHERE e.action_id = t.action_id ORDER BY e.seq DESC LIMIT 1) h
       )
       INSERT INTO audit_checkpoint_heads (checkpoint_id, action_id, seq, hash, pruned)
       SELECT $1, c.action_id, c.seq, c.hash, false
         FROM current_heads c
         LEFT JOIN LATERAL (
           SELECT s.seq, s.hash, s.pruned FROM audit_checkpoint_heads s
            WHERE s.action_id = c.action_id ORDER BY s.checkpoint_id DESC LIMIT 1
         ) signed ON true
        WHERE signed.hash IS DISTINCT FROM c.hash OR signed.seq IS DISTINCT FROM c.seq OR signed.pruned
       ON CONFLICT (checkpoint_id, action_id) DO NOTHING`,
      [id, since, RECORDING_OVERLAP],
    );

    const heads = await digestHeads(client, id);
    const statement: CheckpointStatement = {
      type: 'holdpoint.audit.checkpoint',
      v: 1,
      id,
      kind: options.kind,
      createdAt,
      prevDigest: previous?.digest ?? null,
      headsDigest: heads.digest(),
      headCount: heads.count,
      prunedCount: heads.pruned,
      keyId: key.keyId,
    };
    const digest = statementDigest(statement);
    await client.query(
      `INSERT INTO audit_checkpoints (id, kind, created_at, prev_digest, heads_digest, head_count, pruned_count, key_id, digest, signature)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
      [id, statement.kind, createdAt, statement.prevDigest, statement.headsDigest, statement.headCount, statement.prunedCount, key.keyId, digest, signStatement(key, statementText(statement))],
    );
    const summary: CheckpointSummary = { id, kind: options.kind, createdAt, headCount: heads.count, prunedCount: heads.pruned, digest, keyId: key.keyId };
    if (options.prune && heads.pruned > 0) {
      const { rows } = await client.query<{ removed: number }>('SELECT audit_prune_actions($1) AS removed', [id]);
      summary.removedActions = rows[0]!.removed;
    } else if (options.prune) {
      summary.removedActions = 0;
    }
    return summary;
  });
}

async function digestHeads(client: PoolClient, checkpointId: number): Promise<HeadsDigest> {
  const digest = new HeadsDigest();
  let after = '';
  for (;;) {
    const { rows } = await client.query<{ action_id: string; seq: number; hash: string; pruned: boolean }>(
      `SELECT action_id, seq, hash, pruned FROM audit_checkpoint_heads
        WHERE checkpoint_id = $1 AND action_id > $2 ORDER BY action_id LIMIT $3`,
      [checkpointId, after, HEADS_PAGE],
    );
    for (const row of rows) digest.add({ actionId: row.action_id, seq: row.seq, hash: row.hash, pruned: row.pruned });
    if (rows.length < HEADS_PAGE) return digest;
    after = rows[rows.length - 1]!.action_id;
  }
}

export interface PruneSummary {
  cutoff: string;
  removedActions: number;
  checkpoints: CheckpointSummary[];
}

/**
 * Retention: removes completed actions older than `retentionDays`, in batches. Each batch is a
 * prune checkpoint that first signs every changed head and the final heads of the actions it
 * removes, then deletes them (audit_prune_actions) in the same transaction.
 */
export async function pruneExpired(
  pool: Pool,
  key: AuditKey,
  options: { retentionDays: number; batchSize?: number; now?: Date },
): Promise<PruneSummary> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const batchSize = options.batchSize ?? 2_000;
  const checkpoints: CheckpointSummary[] = [];
  let removedActions = 0;
  for (;;) {
    const summary = (await createCheckpoint(pool, key, { kind: 'prune', prune: { completedBefore: cutoff, limit: batchSize } }))!;
    checkpoints.push(summary);
    removedActions += summary.removedActions ?? 0;
    if (summary.prunedCount < batchSize) break;
  }
  return { cutoff: cutoff.toISOString(), removedActions, checkpoints };
}

/** Actions `pruneExpired` would remove now. */
export async function countExpired(pool: Pool, retentionDays: number, now = new Date()): Promise<{ cutoff: string; actions: number }> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM actions WHERE completed_at < $1', [cutoff.toISOString()]);
  return { cutoff: cutoff.toISOString(), actions: rows[0]!.n };
}
