import type { CompiledRule, LoadedPolicy } from '../loaded-policy';
import { evaluate } from '../policy-evaluator';
import type { LimitReadings } from '../limits';
import type { ActionRequest } from '../../shared/action';
import { outranks, type PolicyDecision, type PolicyOutcome, type RiskTier } from '../../shared/policy';

/** The live decision beside the candidate's, for one action. */
export interface ShadowComparison {
  actionType: string;
  liveVersion: string;
  candidateVersion: string;
  live: { outcome: PolicyOutcome; risk: RiskTier; rules: string[] };
  candidate: { outcome: PolicyOutcome; risk: RiskTier; rules: string[]; rule: string | null; reason: string };
  /** Outcome or risk differs: the candidate would have decided the action differently. */
  differs: boolean;
}

const rulesById = new WeakMap<LoadedPolicy, Map<string, CompiledRule>>();

/**
 * The rule whose template decided: the most restrictive matched rule, then the riskiest, then the
 * earliest — the evaluator's order. Null when no rule matched (the policy's default decided).
 */
export function decidingRule(policy: LoadedPolicy, matchedRules: readonly string[]): string | null {
  let byId = rulesById.get(policy);
  if (!byId) rulesById.set(policy, (byId = new Map(policy.rules.map((rule) => [rule.id, rule]))));
  let deciding: CompiledRule | undefined;
  for (const id of matchedRules) {
    const rule = byId.get(id);
    if (!rule) continue;
    if (!deciding || outranks(rule, deciding)) deciding = rule;
  }
  return deciding?.id ?? null;
}

/**
 * Evaluates the candidate on the same request and sets it beside the live decision. Pure: the
 * candidate's limits are read by the caller as of the request's own time.
 */
export function compareWithCandidate(
  candidate: LoadedPolicy,
  request: ActionRequest,
  live: Pick<PolicyDecision, 'outcome' | 'risk' | 'matchedRules'> & { policyVersion: string },
  limits?: LimitReadings,
): ShadowComparison {
  const decision = evaluate(candidate, request, undefined, limits);
  return {
    actionType: request.action.type,
    liveVersion: live.policyVersion,
    candidateVersion: candidate.policyVersion,
    live: { outcome: live.outcome, risk: live.risk, rules: [...live.matchedRules] },
    candidate: {
      outcome: decision.outcome,
      risk: decision.risk,
      rules: decision.matchedRules,
      rule: decidingRule(candidate, decision.matchedRules),
      reason: decision.reason,
    },
    differs: decision.outcome !== live.outcome || decision.risk !== live.risk,
  };
}
