import { evaluate, type CompiledRule } from '../../../src/policy';
import { policyFrom, refundRequest } from './policy-fixtures';

const REFUND = 'action.type == "payments.refund"';

describe('evaluate: combining rules', () => {
  const policy = policyFrom({
    rules: [
      { id: 'any-refund', when: REFUND, outcome: 'allow', risk: 'low' },
      { id: 'large', when: `${REFUND} && payload.amount > 100`, outcome: 'require_approval', risk: 'medium', route: { group: 'finance-approvers' } },
      { id: 'large-high', when: `${REFUND} && payload.amount > 100`, outcome: 'require_approval', risk: 'high', route: { group: 'finance-managers' } },
      { id: 'huge', when: `${REFUND} && payload.amount > 1000`, outcome: 'deny', risk: 'medium', reason: 'too much' },
      { id: 'flagged', when: 'context.flagged == true', outcome: 'allow', risk: 'critical' },
    ],
  });

  it('lets the most restrictive outcome win and lists every match in policy order', () => {
    expect(evaluate(policy, refundRequest({ amount: 50 }))).toMatchObject({ outcome: 'allow', matchedRules: ['any-refund'], risk: 'low' });
    const huge = evaluate(policy, refundRequest({ amount: 5000 }));
    expect(huge).toMatchObject({ outcome: 'deny', matchedRules: ['any-refund', 'large', 'large-high', 'huge'], reason: 'too much' });
    expect(huge.review).toBeUndefined();
  });

  it('picks the highest-risk rule among equally restrictive ones to decide', () => {
    const decision = evaluate(policy, refundRequest({ amount: 500 }));
    expect(decision.outcome).toBe('require_approval');
    expect(decision.risk).toBe('high');
    expect(decision.review?.tiers[0]?.groups).toEqual(['finance-managers']);
  });

  it('reports the highest risk of all matches, even from a less restrictive rule', () => {
    const decision = evaluate(policy, refundRequest({ amount: 5000 }, { context: { flagged: true } }));
    expect(decision).toMatchObject({ outcome: 'deny', risk: 'critical', reason: 'too much' });
    expect(decision.matchedRules).toEqual(['any-refund', 'large', 'large-high', 'huge', 'flagged']);
  });

  it('breaks full ties by policy order', () => {
    const tied = policyFrom({
      rules: [
        { id: 'first', when: 'true', outcome: 'deny', risk: 'high', reason: 'first' },
        { id: 'second', when: 'true', outcome: 'deny', risk: 'high', reason: 'second' },
      ],
    });
    expect(evaluate(tied, refundRequest({})).reason).toBe('first');
  });

  it('forces a deny on timeout when another match raises the risk to high', () => {
    const raised = policyFrom({
      rules: [
        { id: 'lenient', when: 'true', outcome: 'require_approval', risk: 'low', on_timeout: 'allow' },
        { id: 'risky', when: 'payload.amount > 10', outcome: 'allow', risk: 'high' },
      ],
    });
    expect(evaluate(raised, refundRequest({ amount: 1 })).review?.onTimeout).toBe('allow');
    const decision = evaluate(raised, refundRequest({ amount: 100 }));
    expect(decision).toMatchObject({ outcome: 'require_approval', risk: 'high' });
    expect(decision.review?.onTimeout).toBe('deny');
  });
});

describe('evaluate: defaults', () => {
  it('requires approval from the default route when nothing matches', () => {
    const policy = policyFrom({ rules: [{ id: 'r', when: 'false', outcome: 'deny' }] });
    const decision = evaluate(policy, refundRequest({}));
    expect(decision).toEqual({
      outcome: 'require_approval',
      risk: 'medium',
      matchedRules: [],
      reason: 'No policy rule matched this action',
      policyVersion: policy.policyVersion,
      execution: { mode: 'agent' },
      breakGlass: true,
      review: {
        tiers: [{ groups: ['ops-reviewers'], reviewers: ['oscar', 'alice'], durationMs: 4 * 3_600_000 }],
        onTimeout: 'deny',
        approvals: 1,
        editableFields: [],
      },
    });
  });

  it('uses the configured unmatched outcome, risk, reason and execution', () => {
    const policy = policyFrom({
      defaults: { unmatched: 'deny', risk: 'high', reason: 'No rule covers {{action.type}}', execution: { mode: 'server', executor: 'ops-api' } },
    });
    expect(evaluate(policy, refundRequest({}))).toMatchObject({
      outcome: 'deny',
      risk: 'high',
      reason: 'No rule covers payments.refund',
      execution: { mode: 'server', executor: 'ops-api' },
    });
  });

  it('fills rule risk, timeout, sla, reminder, approvals and execution from defaults', () => {
    const policy = policyFrom({
      defaults: {
        route: { group: 'ops-reviewers' },
        risk: 'low',
        on_timeout: 'allow',
        sla: '2h',
        remind_before: '15m',
        approvals: 2,
        execution: { mode: 'agent', report_window: '15m' },
      },
      rules: [{ id: 'r', when: 'true', outcome: 'require_approval' }],
    });
    const decision = evaluate(policy, refundRequest({}));
    expect(decision).toMatchObject({ risk: 'low', reason: 'Matched policy rule "r"', execution: { mode: 'agent', reportWindowMs: 900_000 } });
    expect(decision.review).toEqual({
      tiers: [{ groups: ['ops-reviewers'], reviewers: ['oscar', 'alice'], durationMs: 7_200_000 }],
      remindBeforeMs: 900_000,
      onTimeout: 'allow',
      approvals: 2,
      editableFields: [],
    });
  });
});

describe('evaluate: review plans', () => {
  const policy = policyFrom({
    owners: [
      { resource: 'billing:vip_*', group: 'finance-managers' },
      { resource: 'billing:*', group: 'finance-approvers' },
    ],
    rules: [
      {
        id: 'refund-large',
        when: `${REFUND} && payload.amount > 100`,
        outcome: 'require_approval',
        risk: 'high',
        route: { owner_of: 'resource' },
        sla: '30m',
        remind_before: '10m',
        escalation: [
          { to: 'finance-managers', after: '1h' },
          { to: 'ops-reviewers', after: '2d' },
        ],
        approvals: 1,
        allow_edit: ['amount'],
        execution: { mode: 'server', executor: 'payments-api' },
      },
    ],
  });

  it('routes to the first owner whose pattern matches, then escalates tier by tier', () => {
    const decision = evaluate(policy, refundRequest({ amount: 150 }));
    expect(decision.review).toEqual({
      tiers: [
        { groups: ['finance-approvers'], reviewers: ['alice', 'bob'], durationMs: 1_800_000 },
        { groups: ['finance-managers'], reviewers: ['carol'], durationMs: 3_600_000 },
        { groups: ['ops-reviewers'], reviewers: ['oscar', 'alice'], durationMs: 172_800_000 },
      ],
      remindBeforeMs: 600_000,
      onTimeout: 'deny',
      approvals: 1,
      editableFields: ['amount'],
    });
    expect(decision.execution).toEqual({ mode: 'server', executor: 'payments-api' });
    const vip = evaluate(policy, refundRequest({ amount: 150 }, { resource: { type: 'billing', id: 'vip_7' } }));
    expect(vip.review?.tiers[0]?.groups).toEqual(['finance-managers']);
  });

  it('falls back to the default route when no owner matches', () => {
    const decision = evaluate(policy, refundRequest({ amount: 150 }, { resource: { type: 'crm', id: 'billing:x' } }));
    expect(decision.review?.tiers[0]).toEqual({ groups: ['ops-reviewers'], reviewers: ['oscar', 'alice'], durationMs: 1_800_000 });
  });

  it('hands out plans that cannot be changed through one decision', () => {
    const plan = evaluate(policy, refundRequest({ amount: 150 })).review;
    expect(() => plan?.tiers.push({ groups: [], reviewers: ['mallory'], durationMs: 1 })).toThrow();
    expect(evaluate(policy, refundRequest({ amount: 150 })).review?.tiers).toHaveLength(3);
  });
});

describe('evaluate: reason templates', () => {
  const policy = policyFrom({
    rules: [
      {
        id: 'r',
        when: 'true',
        outcome: 'deny',
        reason: 'Refund of {{payload.amount}} {{ payload.currency }} by {{agent.id}} on {{resource.type}}:{{resource.id}} [{{payload.missing}}] {{payload.meta}} {{context.ticket}}',
      },
    ],
  });

  it('interpolates dotted paths and leaves missing values empty', () => {
    const decision = evaluate(policy, refundRequest({ amount: 150.5, currency: 'EUR', meta: { a: 1 } }));
    expect(decision.reason).toBe('Refund of 150.5 EUR by support-bot on billing:cus_1 [] {"a":1} ');
  });

  it('inserts values as data without expanding them', () => {
    const decision = evaluate(policy, refundRequest({ amount: '{{agent.id}}', currency: '{{payload.amount}}' }, { context: { ticket: 'T-1' } }));
    expect(decision.reason).toBe('Refund of {{agent.id}} {{payload.amount}} by support-bot on billing:cus_1 []  T-1');
  });

  it('does not read inherited properties', () => {
    const inherited = policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'deny', reason: '[{{payload.constructor}}]' }] });
    expect(evaluate(inherited, refundRequest({})).reason).toBe('[]');
  });
});

describe('evaluate: CEL numbers', () => {
  const policy = policyFrom({
    rules: [
      { id: 'gt-int', when: 'payload.amount > 100', outcome: 'deny' },
      { id: 'gt-double', when: 'payload.amount > 100.0', outcome: 'deny' },
      { id: 'equals', when: 'payload.amount == 150', outcome: 'deny' },
      { id: 'arithmetic', when: 'payload.amount * 2 > 300 && 2 * payload.amount > 300', outcome: 'deny' },
      { id: 'mixed-sum', when: 'payload.amount + 1 > 151 && payload.amount - 0.5 > 149', outcome: 'deny' },
      { id: 'membership', when: 'payload.amount in [150, 200]', outcome: 'deny' },
      { id: 'size', when: 'size(payload.items) > 2 && size(payload.items) + 1 > payload.limit', outcome: 'deny' },
    ],
  });

  it.each([
    [150, ['gt-int', 'gt-double', 'equals', 'membership', 'size']],
    [150.5, ['gt-int', 'gt-double', 'arithmetic', 'mixed-sum', 'size']],
    [100, ['size']],
    [100.5, ['gt-int', 'gt-double', 'size']],
  ])('compares and computes with a JSON number %p', (amount, matched) => {
    const failures: string[] = [];
    const decision = evaluate(policy, refundRequest({ amount, items: [1, 2.5, 3], limit: 3 }), {
      ruleFailed: (rule, error) => failures.push(`${rule.id}: ${error.message}`),
    });
    expect(failures).toEqual([]);
    expect(decision.matchedRules).toEqual(matched);
  });
});

describe('evaluate: conditions that fail at evaluation time', () => {
  const policy = policyFrom({
    rules: [
      { id: 'small', when: 'payload.amount <= 100', outcome: 'allow', risk: 'low' },
      { id: 'large', when: 'payload.amount > 100', outcome: 'require_approval', risk: 'high', reason: 'Refund of {{payload.amount}}' },
      { id: 'weird', when: 'payload.flag', outcome: 'allow' },
    ],
  });

  function run(payload: Record<string, never> | Record<string, string | number>) {
    const failures: { id: string; treatedAsMatch: boolean }[] = [];
    const decision = evaluate(policy, refundRequest(payload), {
      ruleFailed: (rule: CompiledRule, _error, treatedAsMatch) => failures.push({ id: rule.id, treatedAsMatch }),
    });
    return { decision, failures };
  }

  it('does not let a failing allow rule match, but fails closed on approval and deny rules', () => {
    const { decision, failures } = run({});
    expect(failures).toEqual([
      { id: 'small', treatedAsMatch: false },
      { id: 'large', treatedAsMatch: true },
      { id: 'weird', treatedAsMatch: false },
    ]);
    expect(decision).toMatchObject({ outcome: 'require_approval', risk: 'high', matchedRules: ['large'] });
    expect(decision.reason).toBe('Refund of  (condition could not be evaluated: No such key: amount; treated as a match)');
  });

  it('treats a type mismatch and a non-boolean result as failures', () => {
    const { decision, failures } = run({ amount: 'lots', flag: 1 });
    expect(failures.map((failure) => failure.id)).toEqual(['small', 'large', 'weird']);
    expect(decision.outcome).toBe('require_approval');
  });

  it('never lets a failure turn an otherwise unmatched action into an allow', () => {
    const allowOnly = policyFrom({ rules: [{ id: 'ok', when: 'payload.missing == 1', outcome: 'allow' }] });
    expect(evaluate(allowOnly, refundRequest({})).outcome).toBe('require_approval');
  });

  it('gives CEL an empty context when the request has none', () => {
    const contextual = policyFrom({ rules: [{ id: 'no-ticket', when: '!has(context.ticket)', outcome: 'deny' }] });
    expect(evaluate(contextual, refundRequest({})).matchedRules).toEqual(['no-ticket']);
    expect(evaluate(contextual, refundRequest({}, { context: { ticket: 'T-1' } })).matchedRules).toEqual([]);
  });
});
