import path from 'node:path';
import { evaluate } from '../src/policy/policy-evaluator';
import { loadPolicy } from '../src/policy/policy-loader';

export const BENCH_POLICY_DIR = path.join(__dirname, 'policies');

/** The bench policy and an engine over it; the API and the worker process each load their own copy. */
export function loadBenchPolicy() {
  const policy = loadPolicy(BENCH_POLICY_DIR);
  return { policy, engine: { evaluate: (request: Parameters<typeof evaluate>[1]) => evaluate(policy, request) } };
}
