import type { ResourceRef } from '../shared/action';
import type { ExecutionPlan, PolicyOutcome, ReviewPlan, RiskTier } from '../shared/policy';
import type { CompiledCondition } from './cel-environment';
import type { CompiledLimit } from './limits';
import type { ReasonRedaction, ReasonTemplate } from './reason-template';

/** Picks the review plan for a resource; plans are built at load so evaluation only selects one. */
export type ReviewPlanSelector = (resource: ResourceRef) => ReviewPlan;

/** What a decision looks like once a rule (or the unmatched default) decides it. */
export interface DecisionTemplate {
  readonly outcome: PolicyOutcome;
  readonly risk: RiskTier;
  readonly reason: ReasonTemplate;
  /** Present when outcome is require_approval. */
  readonly selectReviewPlan?: ReviewPlanSelector;
  readonly execution: ExecutionPlan;
}

export interface CompiledRule extends DecisionTemplate {
  readonly id: string;
  /** File name relative to the policy directory. */
  readonly file: string;
  /** Position in the merged policy; matchedRules are reported in this order. */
  readonly order: number;
  readonly description?: string;
  readonly when: string;
  readonly condition: CompiledCondition;
  /** Action types the condition is restricted to; undefined: evaluated for every action. */
  readonly actionTypes?: readonly string[];
  /** `break_glass`; false on any matched rule forbids the break-glass override for the decision. */
  readonly breakGlass: boolean;
}

export interface CompiledOwner {
  readonly pattern: string;
  readonly matcher: RegExp;
  readonly group: string;
}

export interface LoadedPolicy {
  /** `sha256:` + hex SHA-256 over the policy files' names and contents, in name order. */
  readonly policyVersion: string;
  /** Policy file names relative to the directory, in load order. */
  readonly files: readonly string[];
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /** Reviewer channels per group from the `channels` map; a group absent here uses defaultChannels. */
  readonly channels: ReadonlyMap<string, readonly string[]>;
  /** `defaults.channels`; undefined: every configured channel. */
  readonly defaultChannels?: readonly string[];
  readonly owners: readonly CompiledOwner[];
  /** All rules in policy order (files by name, then position in file). */
  readonly rules: readonly CompiledRule[];
  readonly unmatched: DecisionTemplate;
  /**
   * Candidate rules per action type: the rules guarded by that type plus every unguarded rule,
   * merged in policy order at load so evaluation does no merging.
   */
  readonly rulesByActionType: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Candidates for an action type no rule is guarded by. */
  readonly unguardedRules: readonly CompiledRule[];
  /** `limits:` of every file, in load order. */
  readonly limits: readonly CompiledLimit[];
  /** The limits an action of each type counts toward (its own and those counting every type). */
  readonly limitsByActionType: ReadonlyMap<string, readonly CompiledLimit[]>;
  /** Limits for an action type no limit names: those without `actions`. */
  readonly unfilteredLimits: readonly CompiledLimit[];
  /** LOG_REDACT_PAYLOAD_FIELDS as reasons render them (see reason-redaction.ts); absent: nothing redacted. */
  readonly reasonRedaction?: ReasonRedaction;
}
