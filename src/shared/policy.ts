import type { ExecutionMode } from './action';

export const OUTCOMES = ['allow', 'require_approval', 'deny'] as const;
export type PolicyOutcome = (typeof OUTCOMES)[number];

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

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
  /** Present when outcome is require_approval. */
  review?: ReviewPlan;
  execution: ExecutionPlan;
}

/** The executor Holdpoint runs the action with, when the policy has it executed server-side. */
export function serverExecutor(decision: Pick<PolicyDecision, 'execution'>): string | undefined {
  return decision.execution.mode === 'server' ? decision.execution.executor : undefined;
}

/** An allow rule with a server-side executor: admission may store the allow and the execution start. */
export function autoAllowExecutor(decision: PolicyDecision): string | undefined {
  return decision.outcome === 'allow' ? serverExecutor(decision) : undefined;
}
