import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { statementDigest, statementText, type CheckpointKind, type CheckpointStatement } from './checkpoint-statement';
import { verifyStatement, type AuditKey } from './signing-key';

/**
 * A witness keeps a copy of every signed checkpoint statement outside the database. Whoever owns
 * the tables can delete an action together with the checkpoints that signed it; the witness still
 * has them, and `audit verify --witness` compares. It must be append-only for that owner: a file
 * on storage they cannot rewrite (e.g. `chattr +a`, a WORM bucket mount), or an HTTP endpoint that
 * keeps what it is sent.
 *
 * Format: one JSON line per checkpoint, `{ statement, digest, signature }`. HTTP: each line is
 * POSTed (application/json) to the URL; a GET of the URL answers every line kept (NDJSON).
 */
export interface WitnessRecord {
  statement: CheckpointStatement;
  digest: string;
  signature: string;
}

export type Witness = { kind: 'file'; path: string } | { kind: 'http'; url: string; token?: string };

/** AUDIT_WITNESS: an absolute file path, a file: URL, or an http(s) URL; else a message saying what is wrong. */
export function parseWitness(text: string, token?: string): Witness | string {
  if (text.startsWith('file:')) {
    try {
      return { kind: 'file', path: new URL(text).pathname };
    } catch {
      return 'not a file: URL';
    }
  }
  if (/^https?:\/\//.test(text)) {
    try {
      return { kind: 'http', url: new URL(text).toString(), token };
    } catch {
      return 'not an http(s) URL';
    }
  }
  if (path.isAbsolute(text)) return { kind: 'file', path: text };
  return 'an absolute file path, a file: URL or an http(s) URL';
}

/** A stored checkpoint as the audit reads it back (verify and witness share it). */
export interface CheckpointRow {
  id: number;
  kind: CheckpointKind;
  created_at: string;
  prev_digest: string | null;
  heads_digest: string;
  head_count: number;
  pruned_count: number;
  key_id: string;
  digest: string;
  signature: string;
}

export const CHECKPOINT_COLUMNS = 'id::int AS id, kind, created_at, prev_digest, heads_digest, head_count, pruned_count, key_id, digest, signature';

/** The signed statement a stored checkpoint row stands for. */
export function statementOf(row: CheckpointRow): CheckpointStatement {
  return {
    type: 'holdpoint.audit.checkpoint',
    v: 1,
    id: row.id,
    kind: row.kind,
    createdAt: row.created_at,
    prevDigest: row.prev_digest,
    headsDigest: row.heads_digest,
    headCount: row.head_count,
    prunedCount: row.pruned_count,
    keyId: row.key_id,
  };
}

function recordOf(row: CheckpointRow): WitnessRecord {
  return {
    statement: statementOf(row),
    digest: row.digest,
    signature: row.signature,
  };
}

/** The stored checkpoints as witness records, by id. */
export async function checkpointRecords(pool: Pick<Pool, 'query'>, ids?: readonly number[]): Promise<WitnessRecord[]> {
  const { rows } = ids
    ? await pool.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids])
    : await pool.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id`);
  return rows.map(recordOf);
}

/** Sends checkpoints (already committed) to the witness; throws when it did not take them. */
export async function shipToWitness(witness: Witness, records: readonly WitnessRecord[]): Promise<void> {
  for (const record of records) {
    const line = JSON.stringify(record);
    if (witness.kind === 'file') {
      // O_APPEND: each statement lands after whatever the file already holds.
      fs.appendFileSync(witness.path, `${line}\n`, { flag: 'a', mode: 0o640 });
      continue;
    }
    const response = await fetch(witness.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(witness.token ? { authorization: `Bearer ${witness.token}` } : {}) },
      body: line,
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`the witness answered HTTP ${response.status} for checkpoint #${record.statement.id}`);
  }
}

/** Every statement the witness holds; a line that is not a record is returned as an error text. */
export async function readWitness(witness: Witness): Promise<{ records: WitnessRecord[]; unreadable: string[] }> {
  let text: string;
  if (witness.kind === 'file') {
    text = fs.existsSync(witness.path) ? fs.readFileSync(witness.path, 'utf8') : '';
  } else {
    const response = await fetch(witness.url, {
      headers: witness.token ? { authorization: `Bearer ${witness.token}` } : {},
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`the witness answered HTTP ${response.status}`);
    text = await response.text();
  }
  const records: WitnessRecord[] = [];
  const unreadable: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    try {
      const record = JSON.parse(line) as WitnessRecord;
      if (typeof record?.statement?.id !== 'number' || typeof record.digest !== 'string' || typeof record.signature !== 'string') throw new Error('not a record');
      records.push(record);
    } catch {
      unreadable.push(`line ${index + 1} is not a checkpoint record`);
    }
  });
  return { records, unreadable };
}

export interface WitnessComparison {
  /** Witnessed statements whose signature and digest check out and that the database still holds unchanged. */
  matched: number;
  problems: { checkpointId?: number; detail: string }[];
  /** Stored checkpoints the witness never received (shipping failed or was not configured then). */
  unwitnessed: number[];
}

/** Compares the witness with the stored checkpoints: a witnessed one missing or different in the database is a problem. */
export function compareWithWitness(witnessed: readonly WitnessRecord[], stored: readonly WitnessRecord[], key: AuditKey | undefined): WitnessComparison {
  const byId = new Map(stored.map((record) => [record.statement.id, record]));
  const seen = new Set<number>();
  const problems: WitnessComparison['problems'] = [];
  let matched = 0;
  for (const record of witnessed) {
    const id = record.statement.id;
    const issues: string[] = [];
    if (statementDigest(record.statement) !== record.digest) issues.push('its witnessed digest does not match its witnessed statement');
    if (key && (record.statement.keyId !== key.keyId || !verifyStatement(key, statementText(record.statement), record.signature))) {
      issues.push('its witnessed statement is not validly signed by the configured key');
    }
    const inDatabase = byId.get(id);
    if (!inDatabase) issues.push(`was witnessed (digest ${record.digest}) but is missing from the database`);
    else if (inDatabase.digest !== record.digest) issues.push(`differs from the witnessed one (database ${inDatabase.digest}, witnessed ${record.digest})`);
    for (const issue of issues) problems.push({ checkpointId: id, detail: `checkpoint #${id}: ${issue}` });
    if (issues.length === 0 && !seen.has(id)) matched += 1;
    seen.add(id);
  }
  const unwitnessed = stored.map((record) => record.statement.id).filter((id) => !seen.has(id));
  return { matched, problems, unwitnessed };
}
