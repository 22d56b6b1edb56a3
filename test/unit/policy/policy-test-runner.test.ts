import { join } from 'node:path';
import { evaluate, loadPolicy, policyTestCommand, runPolicyTests } from '../../../src/policy';
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

  // A refund naming a customer resource went to support-leads via owner routing.
  it('refuses money and permission actions on resource types their rules do not accept', () => {
    const policy = loadPolicy(SHIPPED_POLICY_DIR);
    const request = (type: string, resourceType: string, payload: Record<string, number | string>) => ({
      agent: { id: 'support-bot' },
      action: { type },
      resource: { type: resourceType, id: 'cus_1' },
      payload,
    });
    for (const [type, payload] of [
      ['payments.refund', { amount: 750, currency: 'EUR' }],
      ['payments.refund', { amount: 50, currency: 'EUR' }],
      ['billing.credit', { amount: 60 }],
      ['billing.discount', { percent: 10 }],
    ] as const) {
      const decision = evaluate(policy, request(type, 'customer', payload));
      expect({ type, outcome: decision.outcome, review: decision.review }).toEqual({ type, outcome: 'deny', review: undefined });
    }
    expect(evaluate(policy, request('iam.role.assign', 'billing', { role: 'viewer' })).outcome).toBe('deny');
  });
});

describe('route expectations', () => {
  const ROUTED = `version: 1
defaults: { route: { group: ops }, sla: 4h }
groups: { ops: [oscar], finance: [alice, bob], managers: [carol] }
rules:
  - id: refund-large
    when: action.type == "payments.refund" && payload.amount > 100
    outcome: require_approval
    risk: high
    route: { group: finance }
    sla: 30m
    escalation: [ { to: managers, after: 1h } ]
    approvals: 2
    break_glass: false
  - id: refund-small
    when: action.type == "payments.refund" && payload.amount <= 100
    outcome: allow
    risk: low
`;
  let policyDir: ReturnType<typeof temporaryPolicyDir>;
  beforeEach(() => {
    policyDir = temporaryPolicyDir({ 'policy.yaml': ROUTED });
  });
  afterEach(() => policyDir.remove());

  it('pass when tiers, groups, reviewers, windows, approvals, timeout and break-glass match', () => {
    policyDir.write(
      'policy.test.yaml',
      `tests:
${testCase('routed', 500, `{ outcome: require_approval, route: [ { groups: [finance], reviewers: [bob, alice], sla: 30m }, { groups: [managers] } ], approvals: 2, on_timeout: deny, break_glass: false }`)}`,
    );
    const report = runPolicyTests(policyDir.dir);
    expect(report.fileErrors).toEqual([]);
    expect(report.cases.map((result) => result.message)).toEqual([undefined]);
    expect(report.ok).toBe(true);
  });

  it('fail with a diff naming the route that was chosen', () => {
    policyDir.write(
      'policy.test.yaml',
      `tests:
${testCase('misrouted', 500, `{ outcome: require_approval, route: [ { groups: [ops], reviewers: [oscar] } ], approvals: 1, break_glass: true }`)}${testCase('no route', 50, '{ outcome: allow, route: [ { groups: [finance] } ] }')}`,
    );
    const report = runPolicyTests(policyDir.dir);
    expect(report).toMatchObject({ passed: 0, failed: 2 });
    expect(report.cases[0]?.message).toBe(
      [
        '- route: ops [oscar]',
        '+ route: finance [alice, bob] → managers',
        '- approvals: 1',
        '+ approvals: 2',
        '- break_glass: true',
        '+ break_glass: false',
      ].join('\n'),
    );
    expect(report.cases[1]?.message).toBe(['- route: finance', '+ route: (no review)'].join('\n'));
  });

  it('show the window of a tier when the expectation names one', () => {
    policyDir.write('policy.test.yaml', `tests:
${testCase('window', 500, '{ outcome: require_approval, route: [ { groups: [finance], sla: 1h }, { groups: [managers], sla: 1h } ] }')}`);
    expect(runPolicyTests(policyDir.dir).cases[0]?.message).toBe(['- route: finance 1h → managers 1h', '+ route: finance 30m → managers 1h'].join('\n'));
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
