import type { Pool } from 'pg';
import { listEventsForActions, verifyChain } from '../evidence-repository';

const BATCH = 200;

export interface ExportWindow {
  since: Date;
  until?: Date;
}

export interface ExportSummary {
  actions: number;
  events: number;
  checkpoints: number;
}

/** Receives one line (without newline) at a time; awaiting it applies the output's back-pressure. */
export type LineSink = (line: string) => Promise<void> | void;

/**
 * JSON Lines: one `action` line per action created in the window (its row, every event and the
 * chain check, so each line verifies on its own), then one `checkpoint` line per checkpoint taken
 * in the window (statement and signature, for offline verification with the public key).
 */
export async function exportEvidence(pool: Pool, window: ExportWindow, sink: LineSink): Promise<ExportSummary> {
  const until = window.until ?? new Date('9999-12-31T00:00:00Z');
  const summary: ExportSummary = { actions: 0, events: 0, checkpoints: 0 };
  let cursor: { createdAt: string; id: string } | undefined;
  for (;;) {
    const params: unknown[] = [window.since.toISOString(), until.toISOString(), BATCH];
    let after = '';
    if (cursor) {
      params.push(cursor.createdAt, cursor.id);
      after = 'AND (created_at, id) > ($4::timestamptz, $5)';
    }
    const { rows: actions } = await pool.query(
      `SELECT * FROM actions WHERE created_at >= $1 AND created_at < $2 ${after} ORDER BY created_at, id LIMIT $3`,
      params,
    );
    if (actions.length === 0) break;
    const byAction = await listEventsForActions(pool, actions.map((a) => a.id));
    for (const action of actions) {
      const events = byAction.get(action.id) ?? [];
      const chain = verifyChain(events);
      await sink(JSON.stringify({ type: 'action', action: camelCase(action), events, chain }));
      summary.actions += 1;
      summary.events += events.length;
    }
    const last = actions[actions.length - 1];
    cursor = { createdAt: last.created_at, id: last.id };
  }
  const { rows: checkpoints } = await pool.query(
    `SELECT id::int AS id, kind, created_at, prev_digest, heads_digest, head_count, pruned_count, key_id, digest, signature
       FROM audit_checkpoints WHERE created_at >= $1 AND created_at < $2 ORDER BY id`,
    [window.since.toISOString(), until.toISOString()],
  );
  for (const checkpoint of checkpoints) {
    await sink(JSON.stringify({ type: 'checkpoint', ...camelCase(checkpoint) }));
    summary.checkpoints += 1;
  }
  return summary;
}

function camelCase(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]));
}
