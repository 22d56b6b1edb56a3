import { evaluate } from '../../../src/policy';
import { policyFrom, refundRequest } from './policy-fixtures';

describe('rules indexed by action type', () => {
  const unrelated = Array.from({ length: 200 }, (_, index) => ({
    id: `other-${index}`,
    when: `action.type == "service${index}.call" && payload.amount > 0`,
    outcome: 'deny',
  }));
  const policy = policyFrom({
    rules: [
      ...unrelated,
      { id: 'refund', when: 'payload.amount > 100 && action.type == "payments.refund"', outcome: 'require_approval' },
      { id: 'refund-or-credit', when: '"payments.refund" == action.type || action.type == "billing.credit"', outcome: 'deny' },
      { id: 'money', when: 'action.type in ["payments.refund", "billing.credit"] && payload.amount > 1000', outcome: 'deny' },
      { id: 'not-refund', when: '!(action.type == "payments.refund")', outcome: 'allow' },
    ],
  });

  function evaluatedRules(type: string): string[] {
    const evaluated: string[] = [];
    evaluate(policy, refundRequest({ amount: 5000 }, { action: { type } }), { ruleEvaluated: (rule) => evaluated.push(rule.id) });
    return evaluated;
  }

  it('evaluates only the rules guarded by the action type plus unguarded ones', () => {
    expect(evaluatedRules('payments.refund')).toEqual(['refund', 'refund-or-credit', 'money', 'not-refund']);
    expect(evaluatedRules('billing.credit')).toEqual(['refund-or-credit', 'money', 'not-refund']);
    expect(evaluatedRules('service7.call')).toEqual(['other-7', 'refund-or-credit', 'not-refund']);
  });

  it('evaluates only unguarded rules for a type no rule names', () => {
    expect(evaluatedRules('calendar.event.create')).toEqual(['refund-or-credit', 'not-refund']);
  });

  it('reads the guard from any top-level conjunct, and only from conjuncts', () => {
    const guards = Object.fromEntries(policy.rules.map((rule) => [rule.id, rule.actionTypes]));
    expect(guards).toMatchObject({
      'other-0': ['service0.call'],
      refund: ['payments.refund'],
      money: ['payments.refund', 'billing.credit'],
    });
    expect(guards['refund-or-credit']).toBeUndefined();
    expect(guards['not-refund']).toBeUndefined();
    expect(policy.unguardedRules.map((rule) => rule.id)).toEqual(['refund-or-credit', 'not-refund']);
  });

  it('decides the same as evaluating every rule', () => {
    const decision = evaluate(policy, refundRequest({ amount: 5000 }));
    expect(decision.matchedRules).toEqual(['refund', 'refund-or-credit', 'money']);
    expect(decision.outcome).toBe('deny');
  });
});
