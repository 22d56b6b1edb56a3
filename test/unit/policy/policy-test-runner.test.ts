import { join } from 'node:path';
import { loadPolicy, policyTestCommand, runPolicyTests } from '../../../src/policy';
import { temporaryPolicyDir } from './policy-fixtures';

const SHIPPED_POLICY_DIR = join(__dirname, '../../../policies');

const POLICY = `version: 1
defaults: { route: { group: ops } }
groups: { ops: [oscar] }
rules:
  - id: refund-small
    when: action.type == "payments.refund" && payload.amount <= 100
    outcome: allow
    risk: low
  - id: refund-large
    when: action.type == "payments.refund" && payload.amount > 100
    outcome: require_approval
    risk: high
`;

const testCase = (name: string, amount: number, expectation: string): string => `  - name: ${name}
    input: { agent: { id: support-bot }, action: { type: payments.refund }, resource: { type: billing, id: cus_1 }, payload: { amount: ${amount} } }
    expect: ${expectation}
`;

function captured(): { write(text: string): void; text(): string } {
  let buffer = '';
  return { write: (text) => void (buffer += text), text: () => buffer };
}

describe('the shipped policy', () => {
  it('passes its own policy tests and every rule is exercised', () => {
    const report = runPolicyTests(SHIPPED_POLICY_DIR);
    const failures = report.cases.filter((result) => !result.passed).map((result) => `${result.name}\n${result.message}`);
    expect(report.loadError).toBeUndefined();
    expect(report.fileErrors).toEqual([]);
    expect(failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.uncoveredRules).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(30);
  });

  it('has a test case with no matching rule', () => {
    const report = runPolicyTests(SHIPPED_POLICY_DIR);
    expect(report.cases.some((result) => result.decision.matchedRules.length === 0)).toBe(true);
  });

  it('routes large refunds to finance, escalates to managers and denies on timeout', () => {
    const policy = loadPolicy(SHIPPED_POLICY_DIR);
    const large = policy.rules.find((rule) => rule.id === 'refund-large');
    const plan = large?.selectReviewPlan?.({ type: 'billing', id: 'cus_1' });
    expect(plan?.tiers.map((tier) => tier.groups[0])).toEqual(['finance-approvers', 'finance-managers']);
    expect(plan?.onTimeout).toBe('deny');
    expect(large?.execution).toEqual({ mode: 'server', executor: 'payments-api' });
  });
});

describe('runPolicyTests and policyTestCommand', () => {
  let policyDir: ReturnType<typeof temporaryPolicyDir>;

  beforeEach(() => {
    policyDir = temporaryPolicyDir({ 'policy.yaml': POLICY });
  });

  afterEach(() => policyDir.remove());

  it('reports a failing case with an expected/actual diff and exits 1', () => {
    policyDir.write(
      'policy.test.yaml',
      `tests:\n${testCase('small refund', 50, '{ outcome: allow, rules: [refund-small], risk: low }')}${testCase('wrong', 150, '{ outcome: allow, rules: [refund-small], risk: low }')}`,
    );
    const report = runPolicyTests(policyDir.dir);
    expect(report).toMatchObject({ passed: 1, failed: 1, ok: false });
    expect(report.cases[1]?.message).toBe(
      ['- outcome: allow', '+ outcome: require_approval', '- rules: [refund-small]', '+ rules: [refund-large]', '- risk: low', '+ risk: high'].join('\n'),
    );

    const output = captured();
    expect(policyTestCommand([policyDir.dir], output)).toBe(1);
    expect(output.text()).toContain('✓ policy.test.yaml › small refund');
    expect(output.text()).toContain('✗ policy.test.yaml › wrong\n    - outcome: allow\n    + outcome: require_approval');
    expect(output.text()).toContain('1 passed, 1 failed');
  });

  it('exits 0 when every case passes, and prints JSON on request', () => {
    policyDir.write('policy.test.yml', `tests:\n${testCase('large refund', 150.5, '{ outcome: require_approval, rules: [refund-large] }')}`);
    const output = captured();
    expect(policyTestCommand([policyDir.dir, '--json'], output)).toBe(0);
    expect(JSON.parse(output.text())).toMatchObject({ ok: true, passed: 1, uncoveredRules: ['refund-small'] });
  });

  it('mentions rule failures next to a failing case', () => {
    policyDir.write('policy.test.yaml', `tests:\n  - name: no amount\n    input: { agent: { id: a }, action: { type: payments.refund }, resource: { type: billing, id: c } }\n    expect: { outcome: allow }\n`);
    const [result] = runPolicyTests(policyDir.dir).cases;
    expect(result?.message).toContain('rule "refund-large" failed (treated as match): No such key: amount');
  });

  it('reports invalid test files without running them', () => {
    policyDir.write('policy.test.yaml', 'tests:\n  - name: typo\n    input: { agent: { id: a }, action: { type: t }, resource: { type: r, id: i } }\n    expect: { outcome: alow }\n');
    const report = runPolicyTests(policyDir.dir);
    expect(report.ok).toBe(false);
    expect(report.fileErrors[0]?.message).toContain('4:15 tests.0.expect.outcome');
  });

  it('exits 2 when the policy does not load, or on bad usage', () => {
    policyDir.write('policy.yaml', 'version: 1\nrules: [{ id: r, when: "1 +", outcome: deny }]\n');
    const output = captured();
    expect(policyTestCommand([policyDir.dir], output)).toBe(2);
    expect(output.text()).toContain('did not load');
    expect(output.text()).toContain('rule "r"');
    expect(policyTestCommand(['--verbose'], captured())).toBe(2);
  });
});
