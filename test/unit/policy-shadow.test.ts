import { compareWithCandidate, decidingRule } from '../../src/policy/shadow/shadow-comparison';
import { formatShadowReport, ShadowReportBuilder } from '../../src/policy/shadow/shadow-report';
import { loadPolicyFromSources } from '../../src/policy/policy-loader';
import { evaluate } from '../../src/policy/policy-evaluator';
import type { ActionRequest } from '../../src/shared/action';

const policy = (rules: string) =>
  loadPolicyFromSources([
    {
      name: 'p.yaml',
      content: `version: 1
defaults: { unmatched: require_approval, risk: medium, on_timeout: deny, sla: 1h, route: { group: ops } }
groups: { ops: [olivia] }
rules:
${rules}`,
    },
  ]);

const LIVE = policy(`
  - { id: small, when: 'payload.amount <= 100', outcome: allow, risk: low }
  - { id: large, when: 'payload.amount > 100', outcome: require_approval, risk: high }
`);
const CANDIDATE = policy(`
  - { id: small, when: 'payload.amount <= 100', outcome: allow, risk: low }
  - { id: large, when: 'payload.amount > 100', outcome: require_approval, risk: high }
  - { id: flagged, when: 'payload.amount > 50', outcome: require_approval, risk: critical }
  - { id: huge, when: 'payload.amount > 1000', outcome: deny, risk: high }
  - { id: huge-too, when: 'payload.amount > 1000', outcome: deny, risk: high }
`);

const refund = (amount: number): ActionRequest => ({ agent: { id: 'bot' }, action: { type: 'refund' }, resource: { type: 'billing', id: 'c1' }, payload: { amount } });

describe('decidingRule', () => {
  it('follows the evaluator: most restrictive outcome, then highest risk, then the earliest rule', () => {
    expect(decidingRule(CANDIDATE, ['small'])).toBe('small');
    expect(decidingRule(CANDIDATE, ['large', 'flagged'])).toBe('flagged'); // same outcome, higher risk
    expect(decidingRule(CANDIDATE, ['large', 'flagged', 'huge', 'huge-too'])).toBe('huge'); // deny wins; ties: earliest
    expect(decidingRule(CANDIDATE, [])).toBeNull();
    expect(decidingRule(CANDIDATE, ['not-in-this-policy'])).toBeNull();
  });
});

describe('compareWithCandidate', () => {
  it('flags a different outcome or risk, and names the candidate rule that decided', () => {
    const same = compareWithCandidate(CANDIDATE, refund(10), evaluate(LIVE, refund(10)));
    expect(same).toMatchObject({ differs: false, candidate: { outcome: 'allow', rule: 'small' } });

    const riskOnly = compareWithCandidate(CANDIDATE, refund(500), evaluate(LIVE, refund(500)));
    expect(riskOnly).toMatchObject({ differs: true, live: { outcome: 'require_approval', risk: 'high' }, candidate: { outcome: 'require_approval', risk: 'critical', rule: 'flagged' } });

    const denied = compareWithCandidate(CANDIDATE, refund(5000), evaluate(LIVE, refund(5000)));
    expect(denied).toMatchObject({
      differs: true,
      liveVersion: LIVE.policyVersion,
      candidateVersion: CANDIDATE.policyVersion,
      live: { outcome: 'require_approval', risk: 'high', rules: ['large'] },
      candidate: { outcome: 'deny', risk: 'critical', rule: 'huge', rules: ['large', 'flagged', 'huge', 'huge-too'] },
    });
  });

  it('feeds a report grouped by rule and outcome change, newest examples first, capped', () => {
    const builder = new ShadowReportBuilder(1);
    for (const [i, amount] of [10, 500, 5000, 6000, 700].entries()) {
      const request = refund(amount);
      builder.add(compareWithCandidate(CANDIDATE, request, evaluate(LIVE, request)), { actionId: `a${i}`, resource: 'billing:c1', createdAt: `2026-01-0${i + 1}T00:00:00.000Z` });
    }
    const report = builder.build({ candidateVersion: CANDIDATE.policyVersion, since: 's', until: 'u' });
    expect(report).toMatchObject({ source: 'replay', evaluated: 5, differing: 4 });
    expect(report.byRule.map((g) => [g.rule, g.liveOutcome, g.candidateOutcome, g.count, g.examples.map((e) => e.actionId)])).toEqual([
      ['flagged', 'require_approval', 'require_approval', 2, ['a4']],
      ['huge', 'require_approval', 'deny', 2, ['a3']],
    ]);
    const text = formatShadowReport(report);
    expect(text).toContain('5 evaluated, 4 would be decided differently (80.0%).');
    expect(text).toContain('huge: require_approval → deny, 2 actions');
    expect(text).toContain('… and 1 more');
  });
});
