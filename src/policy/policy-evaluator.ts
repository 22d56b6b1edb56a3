import type { ActionRequest } from '../shared/action';
import { mayTimeOutToAllow, outranks, riskRank, RISK_TIERS, type PolicyDecision, type ReviewPlan, type RiskTier } from '../shared/policy';
import type { CelActivation } from './cel-environment';
import type { CompiledRule, LoadedPolicy } from './loaded-policy';
import { limitActivation, limitTemplateValues, type LimitReadings } from './limits';
import { renderReason } from './reason-template';

/** Optional hooks for logging and instrumentation; evaluation itself stays pure. */
export interface EvaluationObserver {
  /** Called before a candidate rule's condition runs. */
  ruleEvaluated?(rule: CompiledRule): void;
  /** The condition threw or did not return a boolean; `treatedAsMatch` says which way it failed. */
  ruleFailed?(rule: CompiledRule, error: Error, treatedAsMatch: boolean): void;
}

const EMPTY_OBJECT: object = Object.freeze({});

// The ranking is defined once, in src/shared/policy.ts, for policy and workflow alike.
export { outcomeRank, riskRank } from '../shared/policy';

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function errorSummary(error: Error): string {
  const summary = (error as { summary?: unknown }).summary;
  return typeof summary === 'string' ? summary : (error.message.split('\n')[0] ?? error.message);
}

/**
 * Evaluates every candidate rule for the action's type (see LoadedPolicy.rulesByActionType);
 * the most restrictive outcome wins, then the highest risk, then the earliest rule. `limits` are the
 * windowed aggregates read for this request (see src/policy/limit-ledger.ts); a limit missing from them
 * is absent in CEL, so rules reading it fail closed.
 */
export function evaluate(policy: LoadedPolicy, request: ActionRequest, observer?: EvaluationObserver, limits?: LimitReadings): PolicyDecision {
  const candidates = policy.rulesByActionType.get(request.action.type) ?? policy.unguardedRules;
  const activation: CelActivation = {
    agent: request.agent,
    action: request.action,
    resource: request.resource,
    payload: request.payload ?? EMPTY_OBJECT,
    context: request.context ?? EMPTY_OBJECT,
    limits: limitActivation(limits),
  };

  const matchedRules: string[] = [];
  let deciding: CompiledRule | undefined;
  let decidingFailure: Error | undefined;
  let highestRisk = -1;
  let breakGlassForbidden = false;

  for (const rule of candidates) {
    observer?.ruleEvaluated?.(rule);
    let matched = false;
    let failure: Error | undefined;
    try {
      const result = rule.condition(activation);
      if (typeof result === 'boolean') matched = result;
      else failure = new Error(`condition returned ${result === null ? 'null' : typeof result}, not a boolean`);
    } catch (thrown) {
      failure = asError(thrown);
    }
    if (failure !== undefined) {
      // Fail closed: a broken condition (missing field, wrong type) must never make the decision
      // more permissive, so it cannot grant an allow but still triggers deny/require_approval.
      matched = rule.outcome !== 'allow';
      observer?.ruleFailed?.(rule, failure, matched);
    }
    if (!matched) continue;

    matchedRules.push(rule.id);
    // Any matched rule can forbid break-glass, not only the deciding one: a veto never drops.
    if (!rule.breakGlass) breakGlassForbidden = true;
    highestRisk = Math.max(highestRisk, riskRank(rule.risk));
    if (deciding === undefined || outranks(rule, deciding)) {
      deciding = rule;
      decidingFailure = failure;
    }
  }

  const template = deciding ?? policy.unmatched;
  // Risk is the highest of all matched rules, not only the deciding one's: a risk label never drops.
  const risk = deciding === undefined ? template.risk : (RISK_TIERS[highestRisk] as RiskTier);
  let reason = renderReason(template.reason, request, limitTemplateValues(limits), policy.reasonRedaction);
  if (decidingFailure !== undefined) {
    reason += ` (condition could not be evaluated: ${errorSummary(decidingFailure)}; treated as a match)`;
  }

  const decision: PolicyDecision = {
    outcome: template.outcome,
    risk,
    matchedRules,
    reason,
    policyVersion: policy.policyVersion,
    execution: template.execution,
    // Nothing to override unless the action waits for review.
    breakGlass: template.outcome === 'require_approval' && !breakGlassForbidden,
  };
  if (limits !== undefined && limits.size > 0) decision.aggregates = [...limits.values()];
  if (template.outcome === 'require_approval' && template.selectReviewPlan !== undefined) {
    decision.review = timeoutSafeForRisk(template.selectReviewPlan(request.resource), risk);
  }
  return decision;
}

/**
 * The load-time check forbids on_timeout: allow on high/critical rules; the decision's risk can
 * still be raised by another matched rule, so the same invariant is enforced per decision.
 */
function timeoutSafeForRisk(plan: ReviewPlan, risk: RiskTier): ReviewPlan {
  if (plan.onTimeout === 'allow' && !mayTimeOutToAllow(risk)) return { ...plan, onTimeout: 'deny' };
  return plan;
}
