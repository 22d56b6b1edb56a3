import type { ActionRequest } from '../shared/action';
import type { PolicyDecision } from '../shared/policy';
import type { LoadedPolicy } from './loaded-policy';
import { evaluate } from './policy-evaluator';
import type { PolicyStore } from './policy-store';

export interface PolicyEngine {
  /** Evaluates without history: limits are absent, so rules reading them fail closed. */
  evaluate(request: ActionRequest): PolicyDecision;
  /**
   * The policy evaluate() uses now. Admission reads the limits of this very policy (a reload in
   * between cannot mix two) and evaluates with them; an engine without it evaluates without limits.
   */
  current?(): LoadedPolicy;
}

/** Evaluates against whatever policy the store holds now, so hot reloads take effect at once. */
export function policyEngine(store: PolicyStore): PolicyEngine {
  return { evaluate: (request) => evaluate(store.current(), request), current: () => store.current() };
}

/** An engine over one loaded policy (tests, tools). */
export function staticPolicyEngine(policy: LoadedPolicy): PolicyEngine {
  return { evaluate: (request) => evaluate(policy, request), current: () => policy };
}
