import type { Pool } from 'pg';
import { listEventsForActions, verifyChain } from '../evidence-repository';
import { HeadsDigest, statementDigest, statementText, type CheckpointKind } from './checkpoint-statement';
import { payloadHashIssues } from './payload-hashes';
import { CHECKPOINT_COLUMNS, checkpointRecords, compareWithWitness, statementOf, type CheckpointRow, type WitnessRecord } from './witness';
import { verifyStatement, type AuditKey } from './signing-key';

export type AuditProblemKind =
  | 'chain-break' // an event was edited, removed from the middle, or reordered
  | 'payload-hash' // a payload (or request) no longer matches the hash recorded with it
  | 'no-evidence' // an action row without a single event
  | 'incomplete' // the action is completed but its chain lacks action.completed
  | 'deleted' // a signed action is gone
  | 'truncated' // a signed chain now ends before its signed head
  | 'rewritten' // the event at the signed head differs from what was signed
  | 'orphan-events' // events whose action row is gone
  | 'checkpoint'; // a checkpoint is missing, edited, unlinked or not validly signed

export interface AuditProblem {
  kind: AuditProblemKind;
  actionId?: string;
  checkpointId?: number;
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  actions: number;
  events: number;
  checkpoints: {
    total: number;
    /** Checkpoints whose statement, link, heads and signature all check out; only these are trusted. */
    verified: number;
    signaturesChecked: boolean;
    latest?: { id: number; kind: CheckpointKind; createdAt: string; digest: string; keyId: string };
  };
  /** Events stored after the latest checkpoint: protected by their hash chain only, until the next one. */
  eventsAfterLatestCheckpoint: number;
  /** With `--witness`: the statements the witness holds and how many match the database. */
  witness?: { statements: number; matched: number };
  problems: AuditProblem[];
  warnings: string[];
}


const ACTION_BATCH = 500;
const HEADS_PAGE = 10_000;

/**
 * Walks every hash chain and checks it against the signed checkpoints: edited, reordered or
 * removed events break a chain; a deleted action or a cut-off tail no longer reaches the head a
 * trusted checkpoint signed. Streams in batches, so memory stays flat however large the store.
 */
export async function verifyEvidence(pool: Pool, key: AuditKey | undefined, options: { witness?: readonly WitnessRecord[] } = {}): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  const warnings: string[] = [];

  const checkpoints = await verifyCheckpoints(pool, key, problems);
  let witness: AuditVerification['witness'];
  if (options.witness) {
    // The witness holds statements the owner of these tables cannot take back.
    const comparison = compareWithWitness(options.witness, await checkpointRecords(pool), key);
    for (const problem of comparison.problems) problems.push({ kind: 'checkpoint', checkpointId: problem.checkpointId, detail: problem.detail });
    if (comparison.unwitnessed.length) warnings.push(`${comparison.unwitnessed.length} stored checkpoints were never witnessed (#${comparison.unwitnessed.join(', #')})`);
    if (!key) warnings.push('no audit key configured: witnessed signatures were not checked');
    witness = { statements: options.witness.length, matched: comparison.matched };
  }
  const trusted = checkpoints.trusted;
  if (!key) warnings.push('no audit key configured (AUDIT_SIGNING_KEY_PATH, AUDIT_SIGNING_KEY or AUDIT_PUBLIC_KEY_PATH): checkpoint signatures were not checked');
  if (checkpoints.rows.length === 0) warnings.push('no checkpoints yet: deleted actions and truncated tails cannot be detected (run `audit checkpoint`)');

  await compareSignedHeads(pool, trusted, problems);
  const walked = await walkChains(pool, problems);

  const { rows: orphans } = await pool.query<{ action_id: string; n: number }>(
    `SELECT e.action_id, count(*)::int AS n FROM action_events e
      WHERE NOT EXISTS (SELECT 1 FROM actions a WHERE a.id = e.action_id) GROUP BY e.action_id ORDER BY e.action_id`,
  );
  for (const orphan of orphans) {
    problems.push({ kind: 'orphan-events', actionId: orphan.action_id, detail: `${orphan.n} events remain but the action row is gone` });
  }

  const latestRow = checkpoints.rows[checkpoints.rows.length - 1];
  let eventsAfterLatestCheckpoint = walked.events;
  if (latestRow) {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM action_events WHERE recorded_at > $1', [latestRow.created_at]);
    eventsAfterLatestCheckpoint = rows[0]!.n;
  }

  return {
    ok: problems.length === 0,
    actions: walked.actions,
    events: walked.events,
    checkpoints: {
      total: checkpoints.rows.length,
      verified: trusted.length,
      signaturesChecked: key !== undefined,
      latest: latestRow
        ? { id: latestRow.id, kind: latestRow.kind, createdAt: latestRow.created_at, digest: latestRow.digest, keyId: latestRow.key_id }
        : undefined,
    },
    eventsAfterLatestCheckpoint,
    ...(witness ? { witness } : {}),
    problems,
    warnings,
  };
}

async function verifyCheckpoints(pool: Pool, key: AuditKey | undefined, problems: AuditProblem[]) {
  const { rows } = await pool.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS}
       FROM audit_checkpoints ORDER BY id`,
  );
  const headDigests = await recomputeHeadDigests(pool);
  const trusted: number[] = [];
  let previous: CheckpointRow | undefined;
  for (const row of rows) {
    const issues: string[] = [];
    const expectedId = (previous?.id ?? 0) + 1;
    if (row.id !== expectedId) issues.push(`checkpoints ${expectedId}–${row.id - 1} are missing`);
    if (row.prev_digest !== (previous?.digest ?? null)) issues.push(`does not link to checkpoint #${previous?.id ?? 'none'} (prev_digest differs)`);
    const statement = statementOf(row);
    if (statementDigest(statement) !== row.digest) issues.push('its digest does not match its contents (edited)');
    const heads = headDigests.get(row.id) ?? new HeadsDigest();
    const recomputed = { digest: heads.digest(), count: heads.count, pruned: heads.pruned };
    if (recomputed.digest !== row.heads_digest || recomputed.count !== row.head_count || recomputed.pruned !== row.pruned_count) {
      issues.push(`its signed heads were changed (${recomputed.count} rows now, ${row.head_count} signed)`);
    }
    if (key) {
      if (row.key_id !== key.keyId) issues.push(`signed by key ${row.key_id}, not the configured ${key.keyId}`);
      else if (!verifyStatement(key, statementText(statement), row.signature)) issues.push('its signature is invalid');
    }
    for (const issue of issues) problems.push({ kind: 'checkpoint', checkpointId: row.id, detail: `checkpoint #${row.id}: ${issue}` });
    if (issues.length === 0) trusted.push(row.id);
    previous = row;
  }
  return { rows, trusted };
}

/** One pass over every head row, in (checkpoint, action id) order: the order each digest was signed in. */
async function recomputeHeadDigests(pool: Pool): Promise<Map<number, HeadsDigest>> {
  const digests = new Map<number, HeadsDigest>();
  let after: [number, string] = [0, ''];
  for (;;) {
    const { rows } = await pool.query<{ checkpoint_id: number; action_id: string; seq: number; hash: string; pruned: boolean }>(
      `SELECT checkpoint_id::int AS checkpoint_id, action_id, seq, hash, pruned FROM audit_checkpoint_heads
        WHERE (checkpoint_id, action_id) > ($1, $2) ORDER BY checkpoint_id, action_id LIMIT $3`,
      [after[0], after[1], HEADS_PAGE],
    );
    for (const row of rows) {
      let digest = digests.get(row.checkpoint_id);
      if (!digest) digests.set(row.checkpoint_id, (digest = new HeadsDigest()));
      digest.add({ actionId: row.action_id, seq: row.seq, hash: row.hash, pruned: row.pruned });
    }
    if (rows.length < HEADS_PAGE) return digests;
    const last = rows[rows.length - 1]!;
    after = [last.checkpoint_id, last.action_id];
  }
}

/** The last head each trusted checkpoint signed, per action, against what is stored now. */
async function compareSignedHeads(pool: Pool, trusted: number[], problems: AuditProblem[]): Promise<void> {
  if (trusted.length === 0) return;
  const { rows } = await pool.query<{
    action_id: string;
    checkpoint_id: number;
    seq: number;
    hash: string;
    action_exists: boolean;
    stored_hash: string | null;
    stored_head: number | null;
  }>(
    `WITH signed AS (
       SELECT DISTINCT ON (h.action_id) h.action_id, h.checkpoint_id::int AS checkpoint_id, h.seq, h.hash, h.pruned
         FROM audit_checkpoint_heads h WHERE h.checkpoint_id = ANY($1::bigint[])
        ORDER BY h.action_id, h.checkpoint_id DESC)
     SELECT s.action_id, s.checkpoint_id, s.seq, s.hash,
            EXISTS (SELECT 1 FROM actions a WHERE a.id = s.action_id) AS action_exists,
            e.hash AS stored_hash,
            (SELECT max(x.seq) FROM action_events x WHERE x.action_id = s.action_id) AS stored_head
       FROM signed s
       LEFT JOIN action_events e ON e.action_id = s.action_id AND e.seq = s.seq
      WHERE NOT s.pruned
        AND (e.hash IS DISTINCT FROM s.hash OR NOT EXISTS (SELECT 1 FROM actions a WHERE a.id = s.action_id))
      ORDER BY s.action_id`,
    [trusted],
  );
  for (const row of rows) {
    const signed = `checkpoint #${row.checkpoint_id} signed its chain at seq ${row.seq} (${short(row.hash)})`;
    if (!row.action_exists && row.stored_head === null) {
      problems.push({ kind: 'deleted', actionId: row.action_id, checkpointId: row.checkpoint_id, detail: `${signed}; the action and all its events are gone` });
    } else if (!row.action_exists) {
      problems.push({ kind: 'deleted', actionId: row.action_id, checkpointId: row.checkpoint_id, detail: `${signed}; the action row is gone` });
    } else if (row.stored_hash === null && (row.stored_head ?? 0) < row.seq) {
      const now = row.stored_head === null ? 'no events remain' : `the chain now ends at seq ${row.stored_head}`;
      problems.push({ kind: 'truncated', actionId: row.action_id, checkpointId: row.checkpoint_id, detail: `${signed}; ${now}` });
    } else {
      const now = row.stored_hash === null ? 'that event is missing' : `the event there is now ${short(row.stored_hash)}`;
      problems.push({ kind: 'rewritten', actionId: row.action_id, checkpointId: row.checkpoint_id, detail: `${signed}; ${now}` });
    }
  }
}

async function walkChains(pool: Pool, problems: AuditProblem[]): Promise<{ actions: number; events: number }> {
  let actions = 0;
  let events = 0;
  let after = '';
  for (;;) {
    const { rows: batch } = await pool.query<{ id: string; completed_at: string | null }>(
      'SELECT id, completed_at FROM actions WHERE id > $1 ORDER BY id LIMIT $2',
      [after, ACTION_BATCH],
    );
    if (batch.length === 0) break;
    const ids = batch.map((row) => row.id);
    const chains = await listEventsForActions(pool, ids);
    for (const action of batch) {
      const chain = chains.get(action.id) ?? [];
      actions += 1;
      events += chain.length;
      if (chain.length === 0) {
        problems.push({ kind: 'no-evidence', actionId: action.id, detail: 'the action has no recorded events' });
        continue;
      }
      for (const brk of verifyChain(chain).breaks) {
        problems.push({ kind: 'chain-break', actionId: action.id, detail: `seq ${brk.seq}: ${brk.problem}` });
      }
      for (const issue of payloadHashIssues(chain)) {
        problems.push({ kind: 'payload-hash', actionId: action.id, detail: `seq ${issue.seq}: ${issue.problem}` });
      }
      if (action.completed_at && !chain.some((event) => event.type === 'action.completed')) {
        problems.push({ kind: 'incomplete', actionId: action.id, detail: `completed at ${action.completed_at} but the chain (${chain.length} events) has no action.completed event` });
      }
    }
    after = ids[ids.length - 1]!;
  }
  return { actions, events };
}

function short(hash: string): string {
  return hash.length > 19 ? `${hash.slice(0, 19)}…` : hash;
}

const KIND_LABEL: Record<AuditProblemKind, string> = {
  'chain-break': 'BROKEN',
  'payload-hash': 'PAYLOAD HASH',
  'no-evidence': 'EMPTY',
  incomplete: 'INCOMPLETE',
  deleted: 'DELETED',
  truncated: 'TRUNCATED',
  rewritten: 'REWRITTEN',
  'orphan-events': 'ORPHANED',
  checkpoint: 'CHECKPOINT',
};

/** The report `audit verify` prints: problems grouped by action, then a one-line verdict. */
export function formatVerification(result: AuditVerification): string {
  const lines: string[] = [];
  const cp = result.checkpoints;
  const latest = cp.latest ? `latest #${cp.latest.id} at ${cp.latest.createdAt}, ${cp.latest.digest.slice(0, 23)}…` : 'none';
  lines.push(`Checked ${result.actions} actions and ${result.events} events.`);
  lines.push(
    `Checkpoints: ${cp.total} (${cp.verified} verified${cp.signaturesChecked ? '' : ', signatures NOT checked'}; ${latest}); ` +
      `${result.eventsAfterLatestCheckpoint} events recorded since.`,
  );
  if (result.witness) lines.push(`Witness: ${result.witness.statements} statements, ${result.witness.matched} matching the stored checkpoints.`);
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  lines.push('');

  const byAction = new Map<string, AuditProblem[]>();
  for (const problem of result.problems) {
    const key = problem.actionId ?? `checkpoint #${problem.checkpointId}`;
    byAction.set(key, [...(byAction.get(key) ?? []), problem]);
  }
  for (const [subject, list] of byAction) {
    const kinds = [...new Set(list.map((p) => KIND_LABEL[p.kind]))].join(', ');
    lines.push(`${kinds.padEnd(10)} ${subject}`);
    for (const problem of list) lines.push(`           ${problem.kind === 'checkpoint' ? problem.detail.replace(/^checkpoint #\d+: /, '') : problem.detail}`);
  }
  if (result.ok) {
    lines.push('OK: every chain is intact and reaches the heads the checkpoints signed.');
  } else {
    const actions = new Set(result.problems.filter((p) => p.actionId).map((p) => p.actionId)).size;
    const checkpointProblems = result.problems.filter((p) => p.kind === 'checkpoint').length;
    if (byAction.size) lines.push('');
    lines.push(
      `FAILED: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${actions} action${actions === 1 ? '' : 's'}` +
        (checkpointProblems ? ` and ${checkpointProblems} checkpoint problem${checkpointProblems === 1 ? '' : 's'}` : '') +
        '.',
    );
  }
  return `${lines.join('\n')}\n`;
}
