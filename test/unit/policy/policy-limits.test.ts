import { join } from 'node:path';
import { stringify } from 'yaml';
import { evaluate, loadPolicy, loadPolicyFromSources, runPolicyTests } from '../../../src/policy';
import { LimitHistory, type PastAction } from '../../../src/policy/limit-history';
import { describeAggregates, withAggregateSummary } from '../../../src/policy/limit-summary';
import { DEFAULT_COUNTED_STATUSES, scopedLimitsFor, scopeLockId, type LimitReadings } from '../../../src/policy/limits';
import type { ActionRequest } from '../../../src/shared/action';
import { BASE_GROUPS, loadError, policyFrom, refundRequest, temporaryPolicyDir } from './policy-fixtures';

const REFUND = 'action.type == "payments.refund"';
const PER_CUSTOMER = { actions: ['payments.refund'], scope: ['resource'], window: '24h', sum: 'payload.amount' };

/** The shape of the issue's example: refunds up to 100 are routine until the customer's 24h total passes 500. */
const cumulative = policyFrom({
  limits: { refunds_per_customer: PER_CUSTOMER, refunds_per_agent: { actions: ['payments.refund'], scope: ['agent'], window: '24h' } },
  rules: [
    { id: 'small', when: `${REFUND} && payload.amount <= 100`, outcome: 'allow', risk: 'low' },
    {
      id: 'cumulative',
      when: `${REFUND} && limits.refunds_per_customer.sum > 500`,
      outcome: 'require_approval',
      risk: 'high',
      route: { group: 'finance-approvers' },
      reason: '{{limits.refunds_per_customer.count}} refunds to {{resource.id}} reach {{limits.refunds_per_customer.sum}}',
    },
  ],
});

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12);

function historyOf(policy = cumulative, past: Partial<PastAction>[] = []): LimitHistory {
  const history = new LimitHistory(policy);
  for (const action of past) history.add({ request: refundRequest({ amount: 100 }), at: NOW - HOUR, status: 'executed', ...action });
  return history;
}

function refuse(document: Record<string, unknown>): string {
  return loadError(() => policyFrom(document)).message;
}

describe('limits: load-time validation names file, path and position', () => {
  const load = (yaml: string) => loadError(() => loadPolicyFromSources([{ name: 'limits.yaml', content: yaml }]));
  const header = `version: 1\ndefaults: { route: { group: ops-reviewers } }\ngroups: ${JSON.stringify(BASE_GROUPS)}\n`;

  it('an unknown scope field', () => {
    const error = load(`${header}limits:\n  per_customer:\n    scope: [resource, customer]\n    window: 24h\n`);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ file: 'limits.yaml', path: 'limits.per_customer.scope.1', line: 6 });
    expect(error.message).toContain('unknown scope field "customer": use agent, on_behalf_of, action_type, resource or payload.<field>');
  });

  it('a window that is not a duration, or outside 1m to 90d', () => {
    const error = load(`${header}limits:\n  a: { scope: [agent], window: 24 hours }\n  b: { scope: [agent], window: 30s }\n  c: { scope: [agent], window: 100d }\n`);
    expect(error.issues.map((issue) => [issue.path, issue.line, issue.message])).toEqual([
      ['limits.a.window', 5, 'expected a window such as 30m, 24h or 7d'],
      ['limits.b.window', 6, 'a window is from 1m to 90d'],
      ['limits.c.window', 7, 'a window is from 1m to 90d'],
    ]);
  });

  it('an id CEL cannot read, an unknown field, a sum that is not a payload field, an unknown status, a repeated scope field', () => {
    const error = load(
      `${header}limits:\n  refunds-per-customer: { scope: [agent], window: 1h }\n  b: { scope: [agent], window: 1h, per: agent }\n` +
        `  c: { scope: [agent], window: 1h, sum: amount }\n  d: { scope: [agent], window: 1h, statuses: [done] }\n  e: { scope: [agent, agent], window: 1h }\n`,
    );
    const byPath = Object.fromEntries(error.issues.map((issue) => [issue.path, issue.message]));
    expect(byPath['limits.refunds-per-customer']).toContain('limit id "refunds-per-customer": use letters, digits and _');
    expect(byPath['limits.b.per']).toBe('unknown field "per"');
    expect(byPath['limits.c.sum']).toBe('sum takes a payload field, e.g. payload.amount');
    expect(byPath['limits.d.statuses.0']).toContain('Invalid option');
    expect(byPath['limits.e.scope']).toBe('a scope field is listed twice');
  });

  it('the same limit id in two files', () => {
    const limit = 'limits:\n  per_agent: { scope: [agent], window: 1h }\n';
    const error = loadError(() =>
      loadPolicyFromSources([
        { name: 'a.yaml', content: `${header}${limit}` },
        { name: 'b.yaml', content: `version: 1\n${limit}` },
      ]),
    );
    expect(error.message).toContain('b.yaml:3:3 (limits.per_agent): limit "per_agent" is already declared in a.yaml');
  });

  it('a rule reading an unknown limit, at the position of its name', () => {
    const error = load(`${header}limits:\n  per_agent: { scope: [agent], window: 1h }\nrules:\n  - id: r\n    when: limits.per_agnet.count > 5\n    outcome: deny\n`);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ file: 'limits.yaml', ruleId: 'r', path: 'rules.0.when', line: 8, column: 18 });
    expect(error.message).toContain('CEL type error at expression offset 7: unknown limit "per_agnet" (declared: per_agent)');
  });

  it('type errors: the sum of a limit that only counts, a comparison with a string, a non-boolean condition', () => {
    const limits = { counted: { scope: ['agent'], window: '1h' }, summed: { scope: ['agent'], window: '1h', sum: 'payload.amount' } };
    expect(refuse({ limits, rules: [{ id: 'r', when: 'limits.counted.sum > 1', outcome: 'deny' }] })).toContain('No such key: sum');
    expect(refuse({ limits, rules: [{ id: 'r', when: 'limits.summed.sum > "500"', outcome: 'deny' }] })).toContain('no such overload: double > string');
    expect(refuse({ limits, rules: [{ id: 'r', when: 'limits.summed.count + 1', outcome: 'deny' }] })).toContain('condition must be a boolean expression, got int');
    // Counts are ints and sums doubles, and both compare and combine with either kind of literal.
    expect(() =>
      policyFrom({ limits, rules: [{ id: 'r', when: 'limits.counted.count > 5 || limits.summed.sum >= 99.5 || limits.summed.sum / 2.0 > 1', outcome: 'deny' }] }),
    ).not.toThrow();
  });

  it('reading limits by a computed name', () => {
    const limits = { counted: { scope: ['agent'], window: '1h' } };
    expect(refuse({ limits, rules: [{ id: 'r', when: 'limits[payload.which].count > 1', outcome: 'deny' }] })).toContain(
      'read a limit by name: limits.<id>.count or limits.<id>.sum',
    );
  });

  it('a rule that can match action types its limit does not count', () => {
    const limits = { refunds: PER_CUSTOMER };
    expect(refuse({ limits, rules: [{ id: 'r', when: 'limits.refunds.sum > 500', outcome: 'deny' }] })).toContain(
      'limit "refunds" counts only "payments.refund"; guard the rule with action.type',
    );
    expect(
      refuse({ limits, rules: [{ id: 'r', when: 'action.type in ["payments.refund", "billing.credit"] && limits.refunds.sum > 500', outcome: 'deny' }] }),
    ).toContain('limit "refunds" counts only "payments.refund", but the rule also matches "billing.credit"');
    // A limit that counts every type may be read by any rule.
    expect(() => policyFrom({ limits: { all: { scope: ['agent'], window: '1h' } }, rules: [{ id: 'r', when: 'limits.all.count > 100', outcome: 'deny' }] })).not.toThrow();
  });

  it('reason placeholders that name no limit or a field it lacks', () => {
    const limits = { counted: { scope: ['agent'], window: '1h' } };
    const rule = (reason: string) => ({ limits, rules: [{ id: 'r', when: 'limits.counted.count > 1', outcome: 'deny', reason }] });
    expect(refuse(rule('{{limits.nope.count}}'))).toContain('reason placeholder {{limits.nope.count}} names no declared limit (declared: counted)');
    expect(refuse(rule('{{limits.counted.sum}}'))).toContain('limit "counted" has limits.counted.count');
    expect(() => policyFrom(rule('{{limits.counted.count}} so far'))).not.toThrow();
  });

  it('the shipped policy declares per-customer and per-agent limits for every money action, per-agent ones for bulk and export', () => {
    const policy = loadPolicy(join(__dirname, '../../../policies'));
    const scopes = (type: string) => policy.limits.filter((limit) => limit.actionTypes?.includes(type)).map((limit) => limit.scope.map((field) => field.name).join('+'));
    for (const type of ['payments.refund', 'billing.credit', 'billing.discount']) expect(scopes(type).sort()).toEqual(['agent', 'resource']);
    for (const type of ['records.bulk_update', 'data.export']) expect(scopes(type)).toEqual(['agent']);
  });
});

describe('limits: evaluation', () => {
  it('reads the aggregates, this request included, and records them on the decision', () => {
    const readings = historyOf(cumulative, Array.from({ length: 5 }, () => ({}))).read(refundRequest({ amount: 100 }), NOW);
    const decision = evaluate(cumulative, refundRequest({ amount: 100 }), undefined, readings);
    expect(decision).toMatchObject({ outcome: 'require_approval', matchedRules: ['small', 'cumulative'], reason: '6 refunds to cus_1 reach 600' });
    expect(decision.aggregates).toEqual([
      {
        limit: 'refunds_per_customer',
        scope: { resource: 'billing:cus_1' },
        scopeKey: expect.stringMatching(/^[0-9a-f]{32}$/),
        window: '24h',
        since: new Date(NOW - 24 * HOUR).toISOString(),
        count: 6,
        field: 'payload.amount',
        sum: 600,
      },
      expect.objectContaining({ limit: 'refunds_per_agent', scope: { agent: 'support-bot' }, count: 6 }),
    ]);
  });

  it('fails closed without readings: an allow on a limit never matches, a hold always does', () => {
    const policy = policyFrom({
      limits: { refunds: PER_CUSTOMER },
      rules: [
        { id: 'within', when: `${REFUND} && limits.refunds.sum <= 500`, outcome: 'allow' },
        { id: 'beyond', when: `${REFUND} && limits.refunds.sum > 500`, outcome: 'require_approval' },
      ],
    });
    const decision = evaluate(policy, refundRequest({ amount: 1 }));
    expect(decision).toMatchObject({ outcome: 'require_approval', matchedRules: ['beyond'] });
    expect(decision.reason).toContain('condition could not be evaluated');
    expect(decision.aggregates).toBeUndefined();
  });

  it('a missing or non-numeric summed field adds nothing, for this request as for earlier ones', () => {
    const history = historyOf(cumulative, [{ request: refundRequest({ amount: '400' }) }, { request: refundRequest({ amount: 300 }) }]);
    expect(history.read(refundRequest({}), NOW).get('refunds_per_customer')).toMatchObject({ count: 3, sum: 300 });
  });

  it('sums decimal amounts as written', () => {
    const history = historyOf(cumulative, [{ request: refundRequest({ amount: 0.1 }) }]);
    expect(history.read(refundRequest({ amount: 0.2 }), NOW).get('refunds_per_customer')?.sum).toBe(0.3);
  });
});

describe('limits: what counts (LimitHistory, the in-memory twin of the ledger)', () => {
  const sumOf = (readings: LimitReadings) => readings.get('refunds_per_customer')?.sum;

  it('counts every status but the refused ones by default', () => {
    expect(DEFAULT_COUNTED_STATUSES).not.toEqual(expect.arrayContaining(['denied']));
    const past = DEFAULT_COUNTED_STATUSES.map((status) => ({ status }));
    const refused = (['denied', 'auto_denied', 'expired', 'cancelled'] as const).map((status) => ({ status }));
    const readings = historyOf(cumulative, [...past, ...refused]).read(refundRequest({ amount: 100 }), NOW);
    expect(readings.get('refunds_per_customer')?.count).toBe(DEFAULT_COUNTED_STATUSES.length + 1);
  });

  it('counts only the statuses a limit lists', () => {
    const executedOnly = policyFrom({ limits: { refunds_per_customer: { ...PER_CUSTOMER, statuses: ['executed'] } } });
    const readings = historyOf(executedOnly, [{ status: 'executed' }, { status: 'pending_review' }, { status: 'approved' }]).read(refundRequest({ amount: 1 }), NOW);
    expect(readings.get('refunds_per_customer')).toMatchObject({ count: 2, sum: 101 });
  });

  it('measures the window back from the request: exactly one window ago is out', () => {
    const history = historyOf(cumulative, [{ at: NOW - 24 * HOUR }, { at: NOW - 24 * HOUR + 1 }, { at: NOW + 1 }]);
    expect(history.read(refundRequest({ amount: 1 }), NOW).get('refunds_per_customer')).toMatchObject({ count: 2, sum: 101 });
  });

  it('sees each action with the status it had at the time, and its approved amount once decided', () => {
    // Held at NOW-1h, denied at NOW: as of NOW-30m it still counted, as of NOW it no longer does.
    const denied = { status: 'denied' as const, held: true, decidedAt: NOW };
    // Approved with an edit from 400 down to 50.
    const edited = { request: refundRequest({ amount: 400 }), status: 'executed' as const, held: true, decidedAt: NOW - HOUR / 2, approvedPayload: { amount: 50 } };
    const history = historyOf(cumulative, [denied, edited]);
    expect(sumOf(history.read(refundRequest({ amount: 1 }), NOW - HOUR * 0.75))).toBe(501);
    expect(sumOf(history.read(refundRequest({ amount: 1 }), NOW))).toBe(51);
  });

  it('scopes by payload fields and on_behalf_of; requests without the field share one scope', () => {
    const policy = policyFrom({
      limits: {
        per_customer_field: { actions: ['payments.refund'], scope: ['payload.customer.id'], window: '1h' },
        per_principal: { scope: ['on_behalf_of', 'action_type'], window: '1h' },
      },
    });
    const request = (customer: string | undefined, onBehalfOf?: string): ActionRequest =>
      refundRequest(customer === undefined ? { amount: 1 } : { amount: 1, customer: { id: customer } }, { agent: { id: 'bot', onBehalfOf } });
    const history = new LimitHistory(policy);
    for (const past of [request('c1', 'u1'), request('c1'), request(undefined), request(undefined, 'u1')]) history.add({ request: past, at: NOW - 1000, status: 'executed' });
    expect(history.read(request('c1'), NOW).get('per_customer_field')).toMatchObject({ scope: { 'payload.customer.id': 'c1' }, count: 3 });
    expect(history.read(request(undefined), NOW).get('per_customer_field')).toMatchObject({ scope: { 'payload.customer.id': null }, count: 3 });
    expect(history.read(request('c2', 'u1'), NOW).get('per_principal')).toMatchObject({ scope: { on_behalf_of: 'u1', action_type: 'payments.refund' }, count: 3 });
  });

  it('shares ledger rows between limits that count the same actions in the same scope', () => {
    const policy = policyFrom({
      limits: { day: PER_CUSTOMER, week: { ...PER_CUSTOMER, window: '7d' }, types: { ...PER_CUSTOMER, actions: ['billing.credit'] } },
    });
    const [day, week] = scopedLimitsFor(policy, refundRequest({ amount: 1 }));
    expect(day?.scopeKey).toBe(week?.scopeKey);
    const credit = scopedLimitsFor(policy, refundRequest({ amount: 1 }, { action: { type: 'billing.credit' } }));
    expect(credit.map((scoped) => scoped.limit.id)).toEqual(['types']);
    expect(credit[0]?.scopeKey).not.toBe(day?.scopeKey);
    expect(typeof scopeLockId(day!.scopeKey)).toBe('bigint');
  });
});

describe('limits: evidence and policy tests', () => {
  it('appends the aggregates to the stored reason on one line', () => {
    const readings = historyOf(cumulative, [{}, {}]).read(refundRequest({ amount: 100 }), NOW);
    const decision = withAggregateSummary(evaluate(cumulative, refundRequest({ amount: 100 }), undefined, readings));
    expect(decision.reason).toBe(
      'Matched policy rule "small" [limits incl. this request: refunds_per_customer: 3 actions, sum 300 in 24h (resource billing:cus_1); ' +
        'refunds_per_agent: 3 actions in 24h (agent support-bot)]',
    );
    expect(describeAggregates([])).toBe('');
  });

  it('policy test cases state history and pin the aggregates', () => {
    const dir = temporaryPolicyDir({
      'policy.yaml': stringify({ version: 1, defaults: { route: { group: 'ops-reviewers' } }, groups: BASE_GROUPS, limits: { refunds_per_customer: PER_CUSTOMER } }) +
        `rules:\n  - { id: cumulative, when: 'action.type == "payments.refund" && limits.refunds_per_customer.sum > 500', outcome: deny }\n`,
      'policy.test.yaml': stringify({
        tests: [
          {
            name: 'sixth',
            history: [{ repeat: 5, ago: '2h' }],
            input: refundRequest({ amount: 100 }),
            expect: { outcome: 'deny', limits: { refunds_per_customer: { count: 6, sum: 600 } } },
          },
          { name: 'wrong pin', history: [{ ago: '1d', payload: { amount: 450 } }], input: refundRequest({ amount: 100 }), expect: { outcome: 'allow', limits: { refunds_per_customer: { count: 2 } } } },
        ],
      }),
    });
    try {
      const report = runPolicyTests(dir.dir);
      expect(report.cases.map((result) => result.passed)).toEqual([true, false]);
      expect(report.cases[1]?.message).toBe(['- outcome: allow', '+ outcome: require_approval', '- limits.refunds_per_customer.count: 2', '+ limits.refunds_per_customer.count: 1'].join('\n'));
    } finally {
      dir.remove();
    }
  });
});
