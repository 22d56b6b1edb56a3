import type { ActionRequest, JsonObject } from '../shared/action';
import type { ActionStatus } from '../shared/action-state';
import type { LimitAggregate } from '../shared/policy';
import type { LoadedPolicy } from './loaded-policy';
import { aggregateOf, amountIn, scopedLimitsFor, type LimitReadings } from './limits';

/** An earlier action, as the in-memory history knows it. */
export interface PastAction {
  id?: string;
  request: ActionRequest;
  /** Submission time (ms since the epoch): what windows are measured against. */
  at: number;
  /** The status the action has (or ended with). */
  status: ActionStatus;
  /**
   * When that status was reached, if after submission; before it the action counts as
   * `pending_review` (held) or `classifying`. Lets replay see the status as of each request's time.
   */
  decidedAt?: number;
  /** Whether the action was held for review (its status before the decision). */
  held?: boolean;
  /** The payload a reviewer approved, when edited; sums read it once decided. */
  approvedPayload?: JsonObject;
}

function statusAt(action: PastAction, at: number): ActionStatus {
  if (action.decidedAt === undefined || action.decidedAt <= at) return action.status;
  return action.held ? 'pending_review' : 'classifying';
}

/**
 * Windowed aggregates over actions held in memory: the same counting rules as the limit ledger in
 * Postgres, for policy tests with stated history and for `policy replay`, which evaluates each
 * request as of its own time. Entries are kept per scope key in submission order.
 */
export class LimitHistory {
  private readonly byScope = new Map<string, PastAction[]>();
  private readonly longestWindowMs: number;

  constructor(private readonly policy: LoadedPolicy) {
    this.longestWindowMs = Math.max(0, ...policy.limits.map((limit) => limit.windowMs));
  }

  /** Records an action; add in submission order. */
  add(action: PastAction): void {
    for (const scoped of scopedLimitsFor(this.policy, action.request)) {
      const entries = this.byScope.get(scoped.scopeKey) ?? [];
      entries.push(action);
      this.byScope.set(scoped.scopeKey, entries);
    }
  }

  /** The readings for `request` at `at`, counting what was added before it (and the request itself). */
  read(request: ActionRequest, at: number, payload: JsonObject = request.payload): LimitReadings {
    const readings = new Map<string, LimitAggregate>();
    for (const scoped of scopedLimitsFor(this.policy, request, payload)) {
      const { limit } = scoped;
      const since = at - limit.windowMs;
      let count = 0;
      let sum = 0;
      const entries = this.byScope.get(scoped.scopeKey) ?? [];
      for (let index = entries.length - 1; index >= 0; index--) {
        const action = entries[index]!;
        if (action.at > at) continue;
        if (action.at <= since) break;
        const status = statusAt(action, at);
        if (!limit.statuses.includes(status)) continue;
        count += 1;
        const decided = action.decidedAt === undefined || action.decidedAt <= at;
        sum += amountIn(limit, (decided ? action.approvedPayload : undefined) ?? action.request.payload) ?? 0;
      }
      readings.set(limit.id, aggregateOf(scoped, { count, sum }, at));
    }
    return readings;
  }

  /** Forgets actions no window can reach from `at` on. */
  prune(at: number): void {
    const horizon = at - this.longestWindowMs;
    for (const [key, entries] of this.byScope) {
      const keep = entries.findIndex((action) => action.at > horizon);
      if (keep === -1) this.byScope.delete(key);
      else if (keep > 0) entries.splice(0, keep);
    }
  }
}
