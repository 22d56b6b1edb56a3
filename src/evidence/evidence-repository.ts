import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../platform/postgres/transaction';

import type { ActionRequest, JsonObject } from '../shared/action';
import type { ActionProjection, EvidenceEvent } from '../shared/evidence-steps';
import { canonicalHash } from './payload-hash';

export type { ActionProjection, EvidenceEvent } from '../shared/evidence-steps';

export interface StoredEvent extends EvidenceEvent {
  seq: number;
  prevHash: string | null;
  hash: string;
}

const PROJECTION_COLUMNS: Record<keyof ActionProjection, { column: string; json?: boolean }> = {
  runId: { column: 'run_id' },
  status: { column: 'status' },
  outcome: { column: 'outcome' },
  risk: { column: 'risk' },
  matchedRules: { column: 'matched_rules' },
  reason: { column: 'reason' },
  policyVersion: { column: 'policy_version' },
  reviewGroups: { column: 'review_groups' },
  assignees: { column: 'assignees' },
  reviewDueAt: { column: 'review_due_at' },
  decidedBy: { column: 'decided_by' },
  decidedAt: { column: 'decided_at' },
  rationale: { column: 'rationale' },
  reasonCode: { column: 'reason_code' },
  approvedPayload: { column: 'approved_payload', json: true },
  approvedPayloadHash: { column: 'approved_payload_hash' },
  executedPayloadHash: { column: 'executed_payload_hash' },
  executionResult: { column: 'execution_result', json: true },
  completedAt: { column: 'completed_at' },
  state: { column: 'state', json: true },
  stateRevision: { column: 'state_revision' },
};

export interface NewAction {
  actionId: string;
  runId?: string;
  idempotencyKey: string;
  request: ActionRequest;
  requestHash: string;
  payloadHash: string;
  submittedAt: string;
}

/** The hash an event is chained by: everything that identifies and describes it, canonically. */
export function eventHash(event: EvidenceEvent, seq: number, prevHash: string | null): string {
  return canonicalHash({
    actionId: event.actionId,
    seq,
    eventKey: event.eventKey,
    type: event.type,
    actor: event.actor ?? null,
    data: event.data,
    occurredAt: event.occurredAt,
    prevHash,
  });
}

export async function insertAction(client: PoolClient | Pool, action: NewAction): Promise<boolean> {
  const { request } = action;
  const result = await client.query(
    `INSERT INTO actions (id, run_id, agent_id, on_behalf_of, idempotency_key, request_hash, action_type, action_tool,
       action_step, resource_type, resource_id, payload, payload_hash, context, deadline, execution_mode, callback_url,
       status, created_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,'classifying',$18,$18)
     ON CONFLICT (id) DO NOTHING`,
    [
      action.actionId,
      action.runId ?? null,
      request.agent.id,
      request.agent.onBehalfOf ?? null,
      action.idempotencyKey,
      action.requestHash,
      request.action.type,
      request.action.tool ?? null,
      request.action.step ?? null,
      request.resource.type,
      request.resource.id,
      JSON.stringify(request.payload),
      action.payloadHash,
      JSON.stringify(request.context ?? {}),
      request.deadline ?? null,
      request.executionMode ?? null,
      request.callbackUrl ?? null,
      action.submittedAt,
    ],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Appends one event to the action's hash chain. The action row is locked so concurrent
 * appends serialise; an event whose key is already stored is returned as it was (retries).
 */
export async function appendEvent(client: PoolClient, event: EvidenceEvent): Promise<StoredEvent> {
  return (await appendEvents(client, [event]))[0]!;
}

interface ChainState {
  head_seq: number | null;
  head_hash: string | null;
  existing: { eventKey: string; seq: number; prevHash: string | null; hash: string; data: JsonObject }[];
}

/**
 * Appends events of one action to its hash chain, in the order given, in three round trips however
 * many there are (each round trip held the workflow task open a little longer).
 */
export async function appendEvents(client: PoolClient, events: readonly EvidenceEvent[]): Promise<StoredEvent[]> {
  const actionId = events[0]?.actionId;
  if (actionId === undefined) return [];
  if (events.some((event) => event.actionId !== actionId)) throw new Error('appendEvents: events of one action at a time');
  // Lock, then read the head in a separate statement: under READ COMMITTED each statement takes a
  // fresh snapshot, so a writer that waited for the lock sees the event its predecessor committed.
  const locked = await client.query('SELECT 1 FROM actions WHERE id = $1 FOR UPDATE', [actionId]);
  if (locked.rowCount === 0) throw new Error(`no action ${actionId} to append evidence to`);
  const { rows } = await client.query<ChainState>(
    `SELECT head.seq AS head_seq, head.hash AS head_hash,
            (SELECT coalesce(json_agg(json_build_object('eventKey', e.event_key, 'seq', e.seq, 'prevHash', e.prev_hash, 'hash', e.hash, 'data', e.data)), '[]'::json)
               FROM action_events e WHERE e.action_id = $1 AND e.event_key = ANY($2::text[])) AS existing
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT seq, hash FROM action_events WHERE action_id = $1 ORDER BY seq DESC LIMIT 1) AS head ON true`,
    [actionId, events.map((event) => event.eventKey)],
  );
  const chain = rows[0]!;
  const stored = new Map(chain.existing.map((row) => [row.eventKey, row]));
  let seq = chain.head_seq ?? 0;
  let prevHash = chain.head_hash ?? null;
  const appended: StoredEvent[] = [];
  const result = events.map((event): StoredEvent => {
    const known = stored.get(event.eventKey);
    if (known) return { ...event, data: known.data, seq: known.seq, prevHash: known.prevHash, hash: known.hash };
    seq += 1;
    const entry = { ...event, seq, prevHash, hash: eventHash(event, seq, prevHash) };
    prevHash = entry.hash;
    stored.set(event.eventKey, { eventKey: event.eventKey, seq, prevHash: entry.prevHash, hash: entry.hash, data: event.data });
    appended.push(entry);
    return entry;
  });
  if (appended.length) {
    const values: unknown[] = [];
    const tuples = appended.map((event) => {
      values.push(event.actionId, event.seq, event.eventKey, event.type, event.actor ?? null, JSON.stringify(event.data), event.occurredAt, event.prevHash, event.hash);
      const at = values.length - 9;
      return `(${Array.from({ length: 9 }, (_, i) => `$${at + i + 1}`).join(',')})`;
    });
    await client.query(
      `INSERT INTO action_events (action_id, seq, event_key, type, actor, data, occurred_at, prev_hash, hash) VALUES ${tuples.join(', ')}`,
      values,
    );
  }
  return result;
}

/** Projections applied in order, as one: later steps win, unset fields leave earlier ones alone. */
export function mergeProjections(projections: readonly (ActionProjection | undefined)[]): ActionProjection {
  const merged: Record<string, unknown> = {};
  for (const projection of projections) {
    for (const [key, value] of Object.entries(projection ?? {})) if (value !== undefined) merged[key] = value;
  }
  return merged as ActionProjection;
}

export async function updateProjection(client: PoolClient | Pool, actionId: string, projection: ActionProjection): Promise<void> {
  const sets: string[] = [];
  const values: unknown[] = [actionId];
  const { state, stateRevision, ...columns } = projection;
  if (state !== undefined) {
    // An older snapshot that commits late (a vote written beside an escalation) must not win.
    values.push(JSON.stringify(state), stateRevision ?? 0);
    const [snapshot, revision] = [`$${values.length - 1}`, `$${values.length}`];
    sets.push(
      `state = CASE WHEN state_revision IS NULL OR state_revision <= ${revision} THEN ${snapshot}::json ELSE state END`,
      `state_revision = GREATEST(coalesce(state_revision, ${revision}), ${revision})`,
    );
  }
  for (const [key, value] of Object.entries(columns) as [keyof ActionProjection, unknown][]) {
    if (value === undefined) continue;
    const spec = PROJECTION_COLUMNS[key];
    if (!spec) throw new Error(`unknown projection field ${String(key)}`);
    values.push(spec.json && value !== null ? JSON.stringify(value) : value);
    sets.push(`${spec.column} = $${values.length}`);
  }
  if (sets.length === 0) return;
  await client.query(`UPDATE actions SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, values);
}


/** One workflow step: its evidence event and the projection change, atomically. */
export async function recordStep(pool: Pool, event: EvidenceEvent, projection: ActionProjection = {}): Promise<StoredEvent> {
  return (await recordSteps(pool, [{ event, projection }]))[0]!;
}

/** Several steps of one action in one transaction, chained in the order given. */
export async function recordSteps(pool: Pool, steps: readonly { event: EvidenceEvent; projection?: ActionProjection }[]): Promise<StoredEvent[]> {
  return inTransaction(pool, async (client) => {
    const stored = await appendEvents(client, steps.map((step) => step.event));
    if (stored[0]) await updateProjection(client, stored[0].actionId, mergeProjections(steps.map((step) => step.projection)));
    return stored;
  });
}

export type RecordedEvent = StoredEvent & { recordedAt: string };

const EVENT_COLUMNS = 'action_id, seq, event_key, type, actor, data, occurred_at, prev_hash, hash, recorded_at';

function toRecordedEvent(row: Record<string, unknown>): RecordedEvent {
  return {
    actionId: row.action_id as string,
    seq: row.seq as number,
    eventKey: row.event_key as string,
    type: row.type as string,
    actor: (row.actor as string | null) ?? undefined,
    data: row.data as JsonObject,
    occurredAt: row.occurred_at as string,
    prevHash: row.prev_hash as string | null,
    hash: row.hash as string,
    recordedAt: row.recorded_at as string,
  };
}

export async function listEvents(pool: Pool, actionId: string): Promise<RecordedEvent[]> {
  const { rows } = await pool.query(`SELECT ${EVENT_COLUMNS} FROM action_events WHERE action_id = $1 ORDER BY seq`, [actionId]);
  return rows.map(toRecordedEvent);
}

/** The chains of several actions in one query, each in seq order. */
export async function listEventsForActions(pool: Pool, actionIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
  const { rows } = await pool.query(
    `SELECT ${EVENT_COLUMNS} FROM action_events WHERE action_id = ANY($1::text[]) ORDER BY action_id, seq`,
    [actionIds],
  );
  const chains = new Map<string, RecordedEvent[]>();
  for (const row of rows) {
    const event = toRecordedEvent(row);
    const chain = chains.get(event.actionId) ?? [];
    chain.push(event);
    chains.set(event.actionId, chain);
  }
  return chains;
}

export interface ChainVerification {
  ok: boolean;
  events: number;
  breaks: { seq: number; problem: string }[];
}

/** Recomputes the chain; any edited, missing or reordered event shows up as a break. */
export function verifyChain(events: StoredEvent[]): ChainVerification {
  const breaks: ChainVerification['breaks'] = [];
  let prevHash: string | null = null;
  events.forEach((event, index) => {
    if (event.seq !== index + 1) breaks.push({ seq: event.seq, problem: `expected seq ${index + 1}` });
    if (event.prevHash !== prevHash) breaks.push({ seq: event.seq, problem: 'prev_hash does not match the previous event' });
    const { seq, prevHash: storedPrev, hash, ...body } = event;
    void hash;
    if (eventHash(body, seq, storedPrev) !== event.hash) breaks.push({ seq: event.seq, problem: 'hash does not match the event' });
    prevHash = event.hash;
  });
  return { ok: breaks.length === 0, events: events.length, breaks };
}
