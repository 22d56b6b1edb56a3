import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluate } from '../../src/policy/policy-evaluator';
import { loadPolicy } from '../../src/policy/policy-loader';
import type { ActionRequest } from '../../src/shared/action';
import { round } from '../stats';

export interface PolicyPoint {
  rules: number;
  loadMs: number;
  /** µs per evaluate() for an action type that has matching rules (5 candidates). */
  matchedTypeUs: number;
  /** µs per evaluate() for an action type no rule names (falls to the unguarded rules). */
  unmatchedTypeUs: number;
}

const CANDIDATES = 5;

/**
 * A synthetic policy of `rules` rules: most name other action types (as a large real policy would),
 * plus a handful for the measured type — one allow, a deny above an amount, an approval for a
 * resource attribute — so the evaluator runs real CEL on every candidate.
 */
export function syntheticPolicy(rules: number): string {
  const lines = ['version: 1', 'defaults:', '  unmatched: require_approval', '  route: { group: reviewers }', 'groups:', '  reviewers: [r1]', 'rules:'];
  const rule = (id: string, when: string, outcome: string) => lines.push(`  - id: ${id}`, `    when: '${when}'`, `    outcome: ${outcome}`);
  rule('measured-allow', 'action.type == "payments.refund"', 'allow');
  rule('measured-deny', 'action.type == "payments.refund" && payload.amount > 5000', 'deny');
  rule('measured-review', 'action.type == "payments.refund" && resource.type == "vip"', 'require_approval');
  rule('measured-currency', 'action.type == "payments.refund" && payload.currency in ["USD", "JPY"]', 'require_approval');
  rule('measured-agent', 'action.type == "payments.refund" && agent.id.startsWith("untrusted-")', 'deny');
  for (let i = CANDIDATES; i < rules; i++) {
    const outcomes = ['allow', 'deny', 'require_approval'];
    rule(`other-${i}`, `action.type == "synthetic.type${i % 2000}" && payload.amount > ${i}`, outcomes[i % 3]!);
  }
  return `${lines.join('\n')}\n`;
}

function timePerCall(run: () => void, minMs: number): number {
  for (let i = 0; i < 2_000; i++) run(); // JIT warm-up
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  do {
    for (let i = 0; i < 1_000; i++) run();
    calls += 1_000;
    elapsed = Number(process.hrtime.bigint() - started) / 1e3;
  } while (elapsed < minMs * 1_000);
  return elapsed / calls;
}

/** Figure 6: µs per decision at each policy size, in this process (no I/O). */
export function measurePolicy(sizes: number[], minMsPerPoint: number): PolicyPoint[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-bench-policy-'));
  try {
    return sizes.map((rules) => {
      fs.rmSync(path.join(dir, 'policy.yaml'), { force: true });
      fs.writeFileSync(path.join(dir, 'policy.yaml'), syntheticPolicy(rules));
      const loadStart = process.hrtime.bigint();
      const policy = loadPolicy(dir);
      const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
      if (policy.rules.length !== rules) throw new Error(`expected ${rules} rules, loaded ${policy.rules.length}`);
      const request = (type: string): ActionRequest => ({
        agent: { id: 'support-bot' },
        action: { type },
        resource: { type: 'billing', id: 'cus_1' },
        payload: { amount: 750, currency: 'EUR' },
      });
      const matched = request('payments.refund');
      const unmatched = request('crm.unknown');
      if (evaluate(policy, matched).outcome !== 'allow') throw new Error('synthetic policy should allow the measured action');
      return {
        rules,
        loadMs: round(loadMs, 1),
        matchedTypeUs: round(timePerCall(() => evaluate(policy, matched), minMsPerPoint), 2),
        unmatchedTypeUs: round(timePerCall(() => evaluate(policy, unmatched), minMsPerPoint), 2),
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
