import { createHash } from 'node:crypto';
import type { ActionRequest, JsonObject, JsonValue } from '../shared/action';
import type { ActionStatus } from '../shared/action-state';
import { canonicalJson } from '../shared/canonical-json';
import type { LimitAggregate } from '../shared/policy';
import type { LoadedPolicy } from './loaded-policy';

/** Every status an action can have; a limit's `statuses:` picks from these. */
export const LIMIT_STATUSES = [
  'classifying',
  'pending_review',
  'approved',
  'allowed',
  'executing',
  'awaiting_report',
  'executed',
  'execution_failed',
  'mismatch',
  'unconfirmed',
  'failed',
  'denied',
  'auto_denied',
  'expired',
  'cancelled',
] as const satisfies readonly ActionStatus[];

// Compile-time check that LIMIT_STATUSES names every ActionStatus.
type MissingStatus = Exclude<ActionStatus, (typeof LIMIT_STATUSES)[number]>;
const everyStatusListed: MissingStatus extends never ? true : false = true;
void everyStatusListed;

/** Refused before anything ran: these never count unless a limit lists them. */
export const REFUSED_STATUSES: readonly ActionStatus[] = ['denied', 'auto_denied', 'expired', 'cancelled'];

/**
 * Counted by default: everything not refused. Pending and in-flight actions count, so parallel
 * submissions cannot each see an empty history. `execution_failed`, `mismatch` and `unconfirmed`
 * count too: the action was let through, and an agent's own report must not hand budget back; so
 * does `failed` (the evidence store refused a step), since what ran before it is not known here.
 */
export const DEFAULT_COUNTED_STATUSES: readonly ActionStatus[] = LIMIT_STATUSES.filter((status) => !REFUSED_STATUSES.includes(status));

/** What a scope field reads from the request. */
export type ScopeField =
  | { readonly name: 'agent' | 'on_behalf_of' | 'action_type' | 'resource' }
  | { readonly name: string; readonly payloadPath: readonly string[] };

export interface CompiledLimit {
  readonly id: string;
  /** File name relative to the policy directory. */
  readonly file: string;
  readonly description?: string;
  /** Action types counted (and evaluated against); undefined: every type. */
  readonly actionTypes?: readonly string[];
  readonly scope: readonly ScopeField[];
  /** As written, e.g. `24h`. */
  readonly window: string;
  readonly windowMs: number;
  /** The summed payload field; undefined: the limit only counts. */
  readonly sum?: { readonly field: string; readonly path: readonly string[] };
  readonly statuses: readonly ActionStatus[];
  /**
   * Which ledger rows the limit reads: its action types, scope fields and summed field. Limits that
   * agree on all three share rows, and a change of window, statuses or threshold keeps the history.
   */
  readonly ledger: string;
}

/** A limit bound to one request: the scope values it falls into. */
export interface ScopedLimit {
  readonly limit: CompiledLimit;
  readonly scope: { [field: string]: JsonValue };
  /** `limit_ledger.scope_key`: a hash of the ledger and the scope values. */
  readonly scopeKey: string;
  /** This request's summed field; undefined when the limit sums nothing or the field is not a number (it adds 0). */
  readonly amount?: number;
}

/** The limits read for one request, by limit id; a limit not read (no database) is absent in CEL, so its rules fail closed. */
export type LimitReadings = ReadonlyMap<string, LimitAggregate>;

export const SCOPE_FIELD_NAMES = ['agent', 'on_behalf_of', 'action_type', 'resource'] as const;

export function ledgerOf(actionTypes: readonly string[] | undefined, scope: readonly ScopeField[], sumField: string | undefined): string {
  const types = actionTypes === undefined ? null : [...new Set(actionTypes)].sort();
  return createHash('sha256')
    .update(canonicalJson({ actions: types, scope: scope.map((field) => field.name), sum: sumField ?? null }))
    .digest('hex')
    .slice(0, 16);
}

function valueAt(object: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let value: JsonValue | undefined = object;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

/** A missing field is `null`: requests that leave it out share one scope rather than escape the limit. */
export function scopeValue(field: ScopeField, request: ActionRequest): JsonValue {
  if ('payloadPath' in field) return valueAt(request.payload, field.payloadPath) ?? null;
  switch (field.name) {
    case 'agent':
      return request.agent.id;
    case 'on_behalf_of':
      return request.agent.onBehalfOf ?? null;
    case 'action_type':
      return request.action.type;
    default:
      return `${request.resource.type}:${request.resource.id}`;
  }
}

/** The summed field of a payload, when it is a finite number. */
export function amountIn(limit: CompiledLimit, payload: JsonObject | undefined): number | undefined {
  if (limit.sum === undefined) return undefined;
  const value = valueAt(payload, limit.sum.path);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function scopeKeyOf(ledger: string, values: readonly JsonValue[]): string {
  return createHash('sha256').update(ledger).update('\0').update(canonicalJson(values)).digest('hex').slice(0, 32);
}

/** The advisory lock of a scope: its key's first 64 bits, as the signed integer Postgres takes. */
export function scopeLockId(scopeKey: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${scopeKey.slice(0, 16)}`));
}

export function appliesTo(limit: CompiledLimit, actionType: string): boolean {
  return limit.actionTypes === undefined || limit.actionTypes.includes(actionType);
}

export function scopeLimit(limit: CompiledLimit, request: ActionRequest, payload: JsonObject = request.payload): ScopedLimit {
  const scope: { [field: string]: JsonValue } = {};
  const values: JsonValue[] = [];
  for (const field of limit.scope) {
    const value = scopeValue(field, request);
    scope[field.name] = value;
    values.push(value);
  }
  return { limit, scope, scopeKey: scopeKeyOf(limit.ledger, values), amount: amountIn(limit, payload) };
}

/**
 * The reading of one limit for this request, given what was counted before it. A summed field that
 * is missing or not a number adds nothing, for this request as for earlier ones; refusing such a
 * request is the job of the per-request rules (`payload.amount <= 100` fails closed without one).
 */
export function aggregateOf(scoped: ScopedLimit, prior: { count: number; sum: number }, at: number): LimitAggregate {
  const { limit } = scoped;
  const aggregate: LimitAggregate = {
    limit: limit.id,
    scope: scoped.scope,
    scopeKey: scoped.scopeKey,
    window: limit.window,
    since: new Date(at - limit.windowMs).toISOString(),
    count: prior.count + 1,
  };
  if (limit.sum !== undefined) {
    aggregate.field = limit.sum.field;
    // Rounded to 1e-9 so sums of decimal amounts read as written (0.1 + 0.2 → 0.3).
    aggregate.sum = Math.round((prior.sum + (scoped.amount ?? 0)) * 1e9) / 1e9;
  }
  return aggregate;
}

/** `limits` as CEL sees it: `limits.<id>.count` (int) and `limits.<id>.sum` (double). */
export function limitActivation(readings: LimitReadings | undefined): Record<string, { count: bigint; sum?: number }> {
  const activation: Record<string, { count: bigint; sum?: number }> = {};
  for (const [id, aggregate] of readings ?? []) {
    activation[id] = aggregate.sum === undefined ? { count: BigInt(aggregate.count) } : { count: BigInt(aggregate.count), sum: aggregate.sum };
  }
  return activation;
}

/** Values for reason templates (`{{limits.<id>.sum}}`): plain numbers. */
export function limitTemplateValues(readings: LimitReadings | undefined): Record<string, { count: number; sum?: number }> {
  const values: Record<string, { count: number; sum?: number }> = {};
  for (const [id, aggregate] of readings ?? []) values[id] = { count: aggregate.count, sum: aggregate.sum };
  return values;
}

/** The limits an action of this type counts toward, bound to the request's scope values. */
export function scopedLimitsFor(policy: LoadedPolicy, request: ActionRequest, payload: JsonObject = request.payload): ScopedLimit[] {
  const limits = policy.limitsByActionType.get(request.action.type) ?? policy.unfilteredLimits;
  return limits.map((limit) => scopeLimit(limit, request, payload));
}
