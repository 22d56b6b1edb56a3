import type { PolicyEngine } from '../activities/deps';
import type { LoadedPolicy } from './loaded-policy';
import { evaluate } from './policy-evaluator';
import type { PolicyStore } from './policy-store';

/** Evaluates against whatever policy the store holds now, so hot reloads take effect at once. */
export function policyEngine(store: PolicyStore): PolicyEngine {
  return { evaluate: (request) => evaluate(store.current(), request), current: () => store.current() };
}

/** An engine over one loaded policy (tests, tools). */
export function staticPolicyEngine(policy: LoadedPolicy): PolicyEngine {
  return { evaluate: (request) => evaluate(policy, request), current: () => policy };
}
