import path from 'node:path';
import { loadPolicyFromSources, readPolicySources } from '../src/policy/policy-loader';
import type { LoadedPolicy } from '../src/policy/loaded-policy';
import { staticPolicyEngine, type PolicyEngine } from '../src/policy/policy-engine';
import { evaluate } from '../src/policy/policy-evaluator';

export const BENCH_POLICY_DIR = path.join(__dirname, 'policies');
/** Added to the bench policy for the figures that run the gate with cumulative limits. */
export const BENCH_LIMITS_DIR = path.join(BENCH_POLICY_DIR, 'limits');

/** `plain`: the bench policy; `limits`: the same plus three shipped-style cumulative limits. */
export type BenchPolicyVariant = 'plain' | 'limits';

export function loadBenchPolicyVariant(variant: BenchPolicyVariant): LoadedPolicy {
  const sources = readPolicySources(BENCH_POLICY_DIR);
  return loadPolicyFromSources(variant === 'limits' ? [...sources, ...readPolicySources(BENCH_LIMITS_DIR)] : sources);
}

/**
 * The bench policy and an engine over it as the shipped worker wires one (with `current()`, so
 * admission reads the policy's limits); the API and the worker process each load their own copy.
 */
export function loadBenchPolicy(variant: BenchPolicyVariant = 'plain'): { policy: LoadedPolicy; engine: PolicyEngine } {
  const policy = loadBenchPolicyVariant(variant);
  return { policy, engine: staticPolicyEngine(policy) };
}

/** An engine that switches between the two variants (the worker process, on the bench's request). */
export function switchableBenchEngine(initial: BenchPolicyVariant = 'plain'): PolicyEngine & { use(variant: BenchPolicyVariant): void } {
  const policies: Record<BenchPolicyVariant, LoadedPolicy> = { plain: loadBenchPolicyVariant('plain'), limits: loadBenchPolicyVariant('limits') };
  let active = policies[initial];
  return {
    evaluate: (request) => evaluate(active, request),
    current: () => active,
    use: (variant) => {
      active = policies[variant];
    },
  };
}
