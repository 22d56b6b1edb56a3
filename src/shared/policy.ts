import type { ExecutionMode, JsonValue } from './action';

/** Least restrictive first: the order is the outcome ranking (see outranks). */
export const OUTCOMES = ['allow', 'require_approval', 'deny'] as const;
export type PolicyOutcome = (typeof OUTCOMES)[number];

/** Lowest first: the order is the risk ranking. */
export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export function outcomeRank(outcome: PolicyOutcome): number {
  return OUTCOMES.indexOf(outcome);
}

export function riskRank(risk: RiskTier): number {
  return RISK_TIERS.indexOf(risk);
}

/** Whether `candidate` decides over `current`: a more restrictive outcome, or the same one at a higher risk. */
export function outranks(candidate: { outcome: PolicyOutcome; risk: RiskTier }, current: { outcome: PolicyOutcome; risk: RiskTier }): boolean {
  const byOutcome = outcomeRank(candidate.outcome) - outcomeRank(current.outcome);
  return byOutcome > 0 || (byOutcome === 0 && riskRank(candidate.risk) > riskRank(current.risk));
}

/**
 * Only low and medium risk may time out to allow. Policy load refuses `on_timeout: allow` above that;
 * evaluation (another matched rule may raise the risk) and the workflow check again.
 */
export function mayTimeOutToAllow(risk: RiskTier): boolean {
  return riskRank(risk) < riskRank('high');
}

export type TimeoutOutcome = 'deny' | 'allow';

/** Reviewer channels a policy may route a group to (`channels:`); each is a NotificationChannel `name`. */
export const NOTIFICATION_CHANNELS = ['log', 'webhook', 'slack', 'email'] as const;
export type NotificationChannelName = (typeof NOTIFICATION_CHANNELS)[number];

/**
 * The channels named by any of `lists`, in NOTIFICATION_CHANNELS order. Undefined as soon as one list
 * is undefined: "every configured channel" absorbs any union with it.
 */
export function unionChannels(lists: readonly (readonly string[] | undefined)[]): string[] | undefined {
  const names = new Set<string>();
  for (const list of lists) {
    if (list === undefined) return undefined;
    for (const name of list) names.add(name);
  }
  const known: readonly string[] = NOTIFICATION_CHANNELS;
  return [...names].sort((a, b) => known.indexOf(a) - known.indexOf(b));
}

/** One level of the review chain: who may decide and how long they are given. */
export interface ReviewTier {
  /** Group names from the policy, for display and routing. */
  groups: string[];
  /** Principal ids allowed to decide while this tier (or a later one) is active. */
  reviewers: string[];
  /** How long this tier waits for a decision before escalating or timing out. */
  durationMs: number;
  /** Reviewer channels that reach this tier's groups (policy `channels:`); absent: every configured channel. */
  channels?: string[];
}

export interface ReviewPlan {
  tiers: ReviewTier[];
  /** Send a reminder this long before the first tier's window ends; absent: no reminder. */
  remindBeforeMs?: number;
  onTimeout: TimeoutOutcome;
  /** Distinct approvals needed. */
  approvals: number;
  /** Top-level payload fields reviewers may edit before approving. */
  editableFields: string[];
}

export interface ExecutionPlan {
  mode: ExecutionMode;
  /** Executor name from config; required for mode `server`. */
  executor?: string;
  /** Agent mode: how long to wait for the agent's execution report. */
  reportWindowMs?: number;
}

/**
 * One windowed aggregate a decision used (policy `limits:`), recorded with the classification so a
 * reviewer sees the history behind it and an auditor can recompute it from the limit ledger.
 */
export interface LimitAggregate {
  /** The limit's id in the policy (`limits.<id>` in CEL). */
  limit: string;
  /** The scope fields and this request's values for them, e.g. `{ "resource": "billing:cus_1" }`. */
  scope: { [field: string]: JsonValue };
  /** `limit_ledger.scope_key` of these values. */
  scopeKey: string;
  /** The window as written in the policy (`24h`). */
  window: string;
  /** Actions submitted after this instant counted. */
  since: string;
  /** Counted actions, this request included. */
  count: number;
  /** The payload field summed (`payload.amount`), for limits that sum one. */
  field?: string;
  /** Sum of that field over the counted actions, this request included. */
  sum?: number;
}

/** The policy's verdict on one action; recorded as evidence and drives the workflow. */
export interface PolicyDecision {
  outcome: PolicyOutcome;
  risk: RiskTier;
  /** Every rule whose condition matched, in policy order. */
  matchedRules: string[];
  /** Rendered reason of the deciding rule (or the default). */
  reason: string;
  /** Content hash of the loaded policy files. */
  policyVersion: string;
  /** The policy's limits this action counts toward, as read when it was classified. */
  aggregates?: LimitAggregate[];
  /** Present when outcome is require_approval. */
  review?: ReviewPlan;
  execution: ExecutionPlan;
  /**
   * Whether an admin may approve outside the routed tiers (break-glass). False when any matched
   * rule says `break_glass: false`, and whenever the action is not held for review.
   */
  breakGlass: boolean;
}

/** The executor Holdpoint runs the action with, when the policy has it executed server-side. */
export function serverExecutor(decision: Pick<PolicyDecision, 'execution'>): string | undefined {
  return decision.execution.mode === 'server' ? decision.execution.executor : undefined;
}

/** An allow rule with a server-side executor: admission may store the allow and the execution start. */
export function autoAllowExecutor(decision: PolicyDecision): string | undefined {
  return decision.outcome === 'allow' ? serverExecutor(decision) : undefined;
}

/**
 * Everything about how an action is decided and run that differs between two classifications:
 * outcome, risk, approvals, route and tiers, timeout outcome, edit rights, execution, break-glass.
 * An edit whose plan differs from the plan under review is refused, never approved under the old one.
 */
export function planDifferences(under: PolicyDecision, edited: PolicyDecision): string[] {
  const differences: string[] = [];
  const compare = (what: string, before: unknown, after: unknown) => {
    const [a, b] = [JSON.stringify(before ?? null), JSON.stringify(after ?? null)];
    if (a !== b) differences.push(`${what} ${a} → ${b}`);
  };
  compare('outcome', under.outcome, edited.outcome);
  compare('risk', under.risk, edited.risk);
  compare('approvals', under.review?.approvals, edited.review?.approvals);
  compare(
    'route',
    under.review?.tiers.map((t) => ({ groups: t.groups, reviewers: t.reviewers, durationMs: t.durationMs })),
    edited.review?.tiers.map((t) => ({ groups: t.groups, reviewers: t.reviewers, durationMs: t.durationMs })),
  );
  compare('on timeout', under.review?.onTimeout, edited.review?.onTimeout);
  compare('editable fields', under.review?.editableFields, edited.review?.editableFields);
  compare('execution', under.execution, edited.execution);
  compare('break-glass', under.breakGlass, edited.breakGlass);
  return differences;
}
