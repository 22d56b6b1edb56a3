import type { Pool, PoolClient } from 'pg';
import { aggregateOf, scopeLockId, type LimitReadings, type ScopedLimit } from './limits';
import type { ActionRequest } from '../shared/action';
import type { LimitAggregate } from '../shared/policy';

type Queryable = Pool | PoolClient;

interface AggregateRow {
  limit_index: number;
  counted: number;
  total: string | null;
}

/** The ledger reads of limit_aggregates (migration 007), one entry per limit in order; admission adds what it records. */
function aggregateSpecs(scoped: readonly ScopedLimit[], at: number, recording = false): string {
  return JSON.stringify(
    scoped.map(({ limit, scopeKey, amount }) => ({
      key: scopeKey,
      since: new Date(at - limit.windowMs).toISOString(),
      statuses: limit.statuses,
      ...(recording ? { amount: amount ?? null, ...(limit.sum === undefined ? {} : { path: limit.sum.path }) } : {}),
    })),
  );
}

function readings(scoped: readonly ScopedLimit[], rows: readonly AggregateRow[], at: number): LimitReadings {
  const result = new Map<string, LimitAggregate>();
  for (const row of [...rows].sort((a, b) => a.limit_index - b.limit_index)) {
    const entry = scoped[row.limit_index]!;
    result.set(entry.limit.id, aggregateOf(entry, { count: row.counted, sum: row.total === null ? 0 : Number(row.total) }, at));
  }
  return result;
}

/**
 * Admission's part, in one round trip (limit_admission, migration 007): takes the scopes' advisory
 * locks in ascending order, reads the aggregates of every action admitted before this one, and
 * records this one in each scope's ledger. The locks are held until the admission transaction
 * ends, so parallel admissions of a scope are decided one after another, each seeing the last.
 * Call in the admission transaction, before anything else of the action is stored.
 */
export async function lockAndReadLimits(
  client: PoolClient,
  scoped: readonly ScopedLimit[],
  action: { actionId: string; submittedAt: string; at: number },
): Promise<LimitReadings> {
  if (scoped.length === 0) return new Map();
  const locks = [...new Set(scoped.map((entry) => scopeLockId(entry.scopeKey)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const { rows } = await client.query<AggregateRow>('SELECT limit_index, counted, total::text AS total FROM limit_admission($1, $2, $3::bigint[], $4::jsonb)', [
    action.actionId,
    action.submittedAt,
    locks.map(String),
    aggregateSpecs(scoped, action.at, true),
  ]);
  return readings(scoped, rows, action.at);
}

/** The aggregates as of `at` without locking or recording anything (dry runs, reviewers' edits, shadow mode). */
export async function readLimits(db: Queryable, scoped: readonly ScopedLimit[], options: { at: number; excludeActionId?: string }): Promise<LimitReadings> {
  if (scoped.length === 0) return new Map();
  const { rows } = await db.query<AggregateRow>('SELECT limit_index, counted, total::text AS total FROM limit_aggregates($1::jsonb, $2)', [
    aggregateSpecs(scoped, options.at),
    options.excludeActionId ?? null,
  ]);
  return readings(scoped, rows, options.at);
}

/** Sums a payload field only where it is a JSON number, as limit_aggregates does. */
function summedField(pathParam: string): string {
  const value = `coalesce(a.approved_payload, a.payload) #> ${pathParam}::text[]`;
  return `sum(CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${value})::numeric END)`;
}

/**
 * The same aggregates straight from `actions`, for limits whose ledger rows were never written (a
 * shadow candidate's new limit). Index-backed on the agent and resource columns; slower for a scope
 * of only payload fields. Information only: never used to decide.
 */
export async function readLimitsFromActions(
  db: Queryable,
  scoped: readonly ScopedLimit[],
  request: ActionRequest,
  options: { at: number; excludeActionId?: string },
): Promise<LimitReadings> {
  if (scoped.length === 0) return new Map();
  const values: unknown[] = [];
  const selects = scoped.map((entry, index) => {
    const { limit } = entry;
    const where = [
      `a.created_at > $${values.push(new Date(options.at - limit.windowMs).toISOString())}::timestamptz`,
      `a.status = ANY($${values.push(limit.statuses)}::text[])`,
    ];
    if (options.excludeActionId !== undefined) where.push(`a.id <> $${values.push(options.excludeActionId)}`);
    if (limit.actionTypes !== undefined) where.push(`a.action_type = ANY($${values.push(limit.actionTypes)}::text[])`);
    for (const field of limit.scope) {
      if ('payloadPath' in field) {
        where.push(`coalesce(a.payload #> $${values.push(field.payloadPath)}::text[], 'null'::jsonb) = $${values.push(JSON.stringify(entry.scope[field.name] ?? null))}::jsonb`);
      } else if (field.name === 'agent') {
        where.push(`a.agent_id = $${values.push(request.agent.id)}`);
      } else if (field.name === 'on_behalf_of') {
        where.push(`a.on_behalf_of IS NOT DISTINCT FROM $${values.push(request.agent.onBehalfOf ?? null)}::text`);
      } else if (field.name === 'action_type') {
        where.push(`a.action_type = $${values.push(request.action.type)}`);
      } else {
        where.push(`a.resource_type = $${values.push(request.resource.type)} AND a.resource_id = $${values.push(request.resource.id)}`);
      }
    }
    const sum = limit.sum === undefined ? 'NULL::numeric' : summedField(`$${values.push(limit.sum.path)}`);
    return `SELECT ${index} AS limit_index, count(*)::int AS counted, ${sum}::text AS total FROM actions a WHERE ${where.join(' AND ')}`;
  });
  const { rows } = await db.query<AggregateRow>(selects.join('\n UNION ALL '), values);
  return readings(scoped, rows, options.at);
}
