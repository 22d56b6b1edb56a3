import type { Pool, PoolClient } from 'pg';
import { aggregateOf, LIMIT_STATUSES, scopeLockId, type LimitReadings, type ScopedLimit } from './limits';
import type { ActionRequest } from '../shared/action';
import type { ActionStatus } from '../shared/action-state';
import type { LimitAggregate } from '../shared/policy';

type Queryable = Pool | PoolClient;

interface AggregateRow {
  limit_index: number;
  counted: number;
  total: string | null;
}

/** A status set as the ledger's functions take it: bit n of the mask is LIMIT_STATUSES[n] (limit_statuses() in SQL). */
export function statusMask(statuses: readonly ActionStatus[]): number {
  let mask = 0;
  for (const status of statuses) mask |= 1 << LIMIT_STATUSES.indexOf(status as (typeof LIMIT_STATUSES)[number]);
  return mask;
}

/**
 * The arguments of limit_read and limit_admit (migration 009) for these limits as of `at`, in
 * order. A limit counting the default statuses is read from the hourly counters (limit_buckets)
 * and one partial hour of ledger rows; one listing its own statuses from the ledger rows of its
 * whole window. Both are exact.
 */
function readArguments(scoped: readonly ScopedLimit[], at: number): [string[], string[], number[]] {
  return [
    scoped.map((entry) => entry.scopeKey),
    scoped.map((entry) => new Date(at - entry.limit.windowMs).toISOString()),
    scoped.map((entry) => statusMask(entry.limit.statuses)),
  ];
}

function readings(scoped: readonly ScopedLimit[], rows: readonly AggregateRow[], at: number): LimitReadings {
  const result = new Map<string, LimitAggregate>();
  for (const row of [...rows].sort((a, b) => a.limit_index - b.limit_index)) {
    const entry = scoped[row.limit_index]!;
    result.set(entry.limit.id, aggregateOf(entry, { count: row.counted, sum: row.total === null ? 0 : Number(row.total) }, at));
  }
  return result;
}

// The calls below are named prepared statements: parsed once per connection, and the functions
// they call run with generic plans, so admission does not plan its limits' read each time.

/**
 * Admission's part, in one round trip (limit_admit, migration 009): takes the scopes' advisory
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
  const { rows } = await client.query<AggregateRow>({
    name: 'limit_admit',
    text: `SELECT limit_index, counted, total::text AS total
             FROM limit_admit($1, $2, $3::bigint[], $4::text[], $5::timestamptz[], $6::integer[], $7::numeric[], $8::text[])`,
    values: [
      action.actionId,
      action.submittedAt,
      locks.map(String),
      ...readArguments(scoped, action.at),
      scoped.map((entry) => entry.amount ?? null),
      scoped.map((entry) => (entry.limit.sum === undefined ? null : entry.limit.sum.path.join('.'))),
    ],
  });
  return readings(scoped, rows, action.at);
}

/** The aggregates as of `at` without locking or recording anything (dry runs, reviewers' edits, shadow mode). */
export async function readLimits(db: Queryable, scoped: readonly ScopedLimit[], options: { at: number; excludeActionId?: string }): Promise<LimitReadings> {
  if (scoped.length === 0) return new Map();
  const { rows } = await db.query<AggregateRow>({
    name: 'limit_read',
    text: 'SELECT limit_index, counted, total::text AS total FROM limit_read($1::text[], $2::timestamptz[], $3::integer[], $4)',
    values: [...readArguments(scoped, options.at), options.excludeActionId ?? null],
  });
  return readings(scoped, rows, options.at);
}

/** Sums a payload field only where it is a JSON number, as the ledger does (limit_ledger_amount). */
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
