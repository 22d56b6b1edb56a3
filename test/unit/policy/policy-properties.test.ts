import fc from 'fast-check';
import { stringify } from 'yaml';
import { evaluate, loadPolicyFromSources, type LoadedPolicy } from '../../../src/policy';
import type { ActionRequest } from '../../../src/shared/action';
import { OUTCOMES, RISK_TIERS, type PolicyDecision, type PolicyOutcome, type RiskTier } from '../../../src/shared/policy';

interface RuleSpec {
  when: string;
  outcome: PolicyOutcome;
  risk: RiskTier;
}

const ACTION_TYPES = ['payments.refund', 'billing.credit', 'data.export'];

const conditionArbitrary = fc.oneof(
  fc.constantFrom('true', 'false', 'payload.flag', 'payload.missing > 1', 'resource.type == "billing"', 'has(context.ticket)'),
  fc.integer({ min: 0, max: 200 }).map((limit) => `payload.amount > ${limit}`),
  fc.integer({ min: 0, max: 200 }).map((limit) => `payload.amount <= ${limit}.5`),
  fc.constantFrom(...ACTION_TYPES).map((type) => `action.type == "${type}"`),
  fc.tuple(fc.constantFrom(...ACTION_TYPES), fc.integer({ min: 0, max: 200 })).map(([type, limit]) => `action.type == "${type}" && payload.amount > ${limit}`),
);

const ruleArbitrary: fc.Arbitrary<RuleSpec> = fc.record({
  when: conditionArbitrary,
  outcome: fc.constantFrom(...OUTCOMES),
  risk: fc.constantFrom(...RISK_TIERS),
});

const requestArbitrary: fc.Arbitrary<ActionRequest> = fc.record({
  agent: fc.constant({ id: 'support-bot' }),
  action: fc.record({ type: fc.constantFrom(...ACTION_TYPES, 'calendar.event.create') }),
  resource: fc.record({ type: fc.constantFrom('billing', 'crm'), id: fc.constant('cus_1') }),
  payload: fc.record(
    {
      amount: fc.oneof(fc.integer({ min: 0, max: 250 }), fc.double({ min: 0, max: 250, noNaN: true }), fc.constant('n/a')),
      flag: fc.oneof(fc.boolean(), fc.constant(1)),
    },
    { requiredKeys: [] },
  ),
  context: fc.option(fc.record({ ticket: fc.constant('T-1') }, { requiredKeys: [] }), { nil: undefined }),
});

function compile(rules: readonly RuleSpec[]): LoadedPolicy {
  const document = {
    version: 1,
    defaults: { route: { group: 'ops' } },
    groups: { ops: ['oscar'] },
    rules: rules.map((rule, index) => ({ id: `r${index}`, ...rule })),
  };
  return loadPolicyFromSources([{ name: 'policy.yaml', content: stringify(document) }]);
}

function insertAt<T>(items: readonly T[], position: number, item: T): T[] {
  const index = position % (items.length + 1);
  return [...items.slice(0, index), item, ...items.slice(index)];
}

// The order is restated here rather than imported, so the properties check the evaluator against
// an independent definition of "more restrictive".
const outcomeRank = (outcome: PolicyOutcome): number => ['allow', 'require_approval', 'deny'].indexOf(outcome);
const riskRank = (risk: RiskTier): number => ['low', 'medium', 'high', 'critical'].indexOf(risk);
const restrictiveness = (decision: PolicyDecision): [number, number] => [outcomeRank(decision.outcome), riskRank(decision.risk)];

function atLeastAsRestrictive(after: PolicyDecision, before: PolicyDecision): boolean {
  const [afterOutcome, afterRisk] = restrictiveness(after);
  const [beforeOutcome, beforeRisk] = restrictiveness(before);
  return afterOutcome > beforeOutcome || (afterOutcome === beforeOutcome && afterRisk >= beforeRisk);
}

describe('policy evaluation properties', () => {
  it('adding a deny rule never makes a decision more permissive', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArbitrary, { maxLength: 6 }),
        conditionArbitrary,
        fc.constantFrom(...RISK_TIERS),
        fc.nat(),
        fc.array(requestArbitrary, { minLength: 1, maxLength: 5 }),
        (rules, when, risk, position, requests) => {
          const before = compile(rules);
          const after = compile(insertAt(rules, position, { when, outcome: 'deny', risk }));
          for (const request of requests) {
            expect(outcomeRank(evaluate(after, request).outcome)).toBeGreaterThanOrEqual(outcomeRank(evaluate(before, request).outcome));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('adding any rule never lowers restrictiveness when it matches, nor drops other matches', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArbitrary, { maxLength: 6 }),
        ruleArbitrary,
        fc.nat(),
        fc.array(requestArbitrary, { minLength: 1, maxLength: 5 }),
        (rules, added, position, requests) => {
          const before = compile(rules);
          const after = compile(insertAt(rules, position, added));
          const addedId = after.rules[position % (rules.length + 1)]?.id;
          for (const request of requests) {
            const old = evaluate(before, request);
            const next = evaluate(after, request);
            // Rule ids shift after the insertion point, so compare matches by condition and outcome.
            const describe = (policy: LoadedPolicy, ids: string[]) =>
              ids.map((id) => policy.rules.find((rule) => rule.id === id)).map((rule) => `${rule?.when}|${rule?.outcome}|${rule?.risk}`);
            expect(describe(after, next.matchedRules)).toEqual(expect.arrayContaining(describe(before, old.matchedRules)));

            if (old.matchedRules.length > 0) expect(atLeastAsRestrictive(next, old)).toBe(true);
            if (addedId !== undefined && next.matchedRules.includes(addedId)) {
              expect(outcomeRank(next.outcome)).toBeGreaterThanOrEqual(outcomeRank(added.outcome));
              expect(riskRank(next.risk)).toBeGreaterThanOrEqual(riskRank(added.risk));
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('decides with the most restrictive outcome and the highest risk among the matched rules', () => {
    fc.assert(
      fc.property(fc.array(ruleArbitrary, { minLength: 1, maxLength: 8 }), requestArbitrary, (rules, request) => {
        const policy = compile(rules);
        const decision = evaluate(policy, request);
        const matched = decision.matchedRules.map((id) => policy.rules.find((rule) => rule.id === id));
        expect(decision.matchedRules).toEqual([...decision.matchedRules].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
        if (matched.length === 0) {
          expect(decision.outcome).toBe('require_approval');
          return;
        }
        expect(outcomeRank(decision.outcome)).toBe(Math.max(...matched.map((rule) => outcomeRank(rule?.outcome ?? 'allow'))));
        expect(riskRank(decision.risk)).toBe(Math.max(...matched.map((rule) => riskRank(rule?.risk ?? 'low'))));
      }),
      { numRuns: 100 },
    );
  });

  it('never decides more permissively when payload fields are missing', () => {
    fc.assert(
      fc.property(fc.array(ruleArbitrary, { maxLength: 8 }), requestArbitrary, (rules, request) => {
        const policy = compile(rules);
        const complete = evaluate(policy, request);
        const stripped = evaluate(policy, { ...request, payload: {} });
        expect(outcomeRank(stripped.outcome)).toBeGreaterThanOrEqual(outcomeRank(complete.outcome));
      }),
      { numRuns: 100 },
    );
  });

  it('never auto-allows a high or critical decision on timeout', () => {
    fc.assert(
      fc.property(fc.array(ruleArbitrary, { maxLength: 6 }), requestArbitrary, (rules, request) => {
        const lenient = rules.map((rule) => (rule.outcome === 'require_approval' && riskRank(rule.risk) < 2 ? { ...rule, on_timeout: 'allow' as const } : rule));
        const decision = evaluate(compile(lenient), request);
        if (riskRank(decision.risk) >= 2 && decision.review) expect(decision.review.onTimeout).toBe('deny');
      }),
      { numRuns: 100 },
    );
  });
});
