import { join } from 'node:path';
import { evaluate, loadPolicy } from '../../../src/policy';
import { loadError, policyFrom, refundRequest } from './policy-fixtures';

// An admin's approval outside the routed tiers is a break-glass
// override, and a rule can forbid it. Any matched rule saying `break_glass: false` forbids it.

const REFUND = 'action.type == "payments.refund"';

describe('break_glass', () => {
  const policy = policyFrom({
    rules: [
      { id: 'large', when: `${REFUND} && payload.amount > 100`, outcome: 'require_approval', risk: 'high', route: { group: 'finance-approvers' } },
      {
        id: 'huge',
        when: `${REFUND} && payload.amount > 1000`,
        outcome: 'require_approval',
        risk: 'critical',
        route: { group: 'finance-approvers' },
        approvals: 2,
        break_glass: false,
      },
      // Matches alongside `large` but does not decide (lower risk): its veto still holds.
      { id: 'flagged', when: 'has(context.flagged) && context.flagged == true', outcome: 'require_approval', risk: 'low', route: { group: 'ops-reviewers' }, break_glass: false },
      { id: 'explicit', when: `${REFUND} && payload.amount == 500`, outcome: 'require_approval', risk: 'medium', route: { group: 'ops-reviewers' }, break_glass: true },
      { id: 'small', when: `${REFUND} && payload.amount <= 100`, outcome: 'allow', risk: 'low' },
      { id: 'tagged-allow', when: 'has(context.no_override) && context.no_override == true', outcome: 'allow', risk: 'low', break_glass: false },
      { id: 'blocked', when: `${REFUND} && payload.amount > 100000`, outcome: 'deny', risk: 'critical' },
    ],
  });

  it('is permitted by default on a decision held for review', () => {
    expect(evaluate(policy, refundRequest({ amount: 500 }))).toMatchObject({ outcome: 'require_approval', breakGlass: true });
    expect(evaluate(policy, refundRequest({ amount: 200 }))).toMatchObject({ outcome: 'require_approval', matchedRules: ['large'], breakGlass: true });
  });

  it('is forbidden when the deciding rule says break_glass: false', () => {
    expect(evaluate(policy, refundRequest({ amount: 5000 }))).toMatchObject({ matchedRules: ['large', 'huge'], risk: 'critical', breakGlass: false });
  });

  it('is forbidden when any matched rule says false, even one that does not decide', () => {
    const decision = evaluate(policy, refundRequest({ amount: 200 }, { context: { flagged: true } }));
    expect(decision.review?.tiers[0]?.groups).toEqual(['finance-approvers']);
    expect(decision).toMatchObject({ matchedRules: ['large', 'flagged'], breakGlass: false });
    // An allow rule's veto counts too: it names actions no admin may push through.
    expect(evaluate(policy, refundRequest({ amount: 200 }, { context: { no_override: true } })).breakGlass).toBe(false);
  });

  it('is forbidden by a rule that failed to evaluate and was treated as a match', () => {
    const failing = policyFrom({
      rules: [
        { id: 'large', when: `${REFUND} && payload.amount > 100`, outcome: 'require_approval', risk: 'high', route: { group: 'finance-approvers' } },
        { id: 'vip', when: 'context.vip == true', outcome: 'require_approval', risk: 'low', route: { group: 'finance-managers' }, break_glass: false },
      ],
    });
    expect(evaluate(failing, refundRequest({ amount: 200 }))).toMatchObject({ matchedRules: ['large', 'vip'], breakGlass: false });
  });

  it('an explicit true cannot outvote a false', () => {
    expect(evaluate(policy, refundRequest({ amount: 500 }, { context: { flagged: true } }))).toMatchObject({
      matchedRules: ['large', 'flagged', 'explicit'],
      breakGlass: false,
    });
  });

  it('is false on decisions that are not held for review: there is nothing to override', () => {
    expect(evaluate(policy, refundRequest({ amount: 50 }))).toMatchObject({ outcome: 'allow', breakGlass: false });
    expect(evaluate(policy, refundRequest({ amount: 500000 }))).toMatchObject({ outcome: 'deny', breakGlass: false });
  });

  it('is permitted on the unmatched default', () => {
    expect(evaluate(policy, refundRequest({}, { action: { type: 'calendar.create' } }))).toMatchObject({ outcome: 'require_approval', matchedRules: [], breakGlass: true });
  });

  it('is refused at load when it is not a boolean, naming file, rule and path', () => {
    const error = loadError(() => policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'require_approval', break_glass: 'no' }] }));
    expect(error.issues).toEqual([expect.objectContaining({ file: 'policy.yaml', ruleId: 'r', path: 'rules.0.break_glass' })]);
    expect(error.message).toContain('policy.yaml:');
    expect(error.message).toContain('rule "r" (rules.0.break_glass): break_glass must be true or false');
  });

  it('is refused at load on a deny rule, where it could never apply', () => {
    const message = loadError(() => policyFrom({ rules: [{ id: 'd', when: 'true', outcome: 'deny', break_glass: false }] })).message;
    expect(message).toContain('rule "d" (rules.0.break_glass): break_glass does not apply to deny rules');
  });

  it('is forbidden by the shipped policy on its critical approvals', () => {
    const shipped = loadPolicy(join(__dirname, '../../../policies'));
    const credit = evaluate(shipped, { agent: { id: 'support-bot' }, action: { type: 'billing.credit' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount: 6000 } });
    expect(credit).toMatchObject({ risk: 'critical', breakGlass: false });
    const grant = evaluate(shipped, { agent: { id: 'support-bot' }, action: { type: 'iam.role.assign' }, resource: { type: 'user', id: 'u_1' }, payload: { role: 'owner' } });
    expect(grant).toMatchObject({ risk: 'critical', breakGlass: false });
    const refund = evaluate(shipped, { agent: { id: 'support-bot' }, action: { type: 'payments.refund' }, resource: { type: 'billing', id: 'cus_1' }, payload: { amount: 750 } });
    expect(refund).toMatchObject({ risk: 'high', breakGlass: true });
  });
});
