import type { ActionProjection } from '../../src/evidence/evidence-repository';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';
import { seedAction } from './helpers/evidence-seed';

/**
 * `/metrics` was public, its labels carried agent-chosen action types
 * (unbounded cardinality), and an agent could keep any number of actions open for reviewers.
 */
const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123456789';
const LABEL_CAP = 4;
const OPEN_CAP = 3;

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ metricsToken: METRICS_TOKEN, metricsLabelCap: LABEL_CAP, maxOpenActionsPerAgent: OPEN_CAP });
});
afterAll(() => stack?.close());

const scrape = (authorization?: string) => stack.request('GET', '/metrics', { headers: authorization ? { authorization } : {} });

describe('GET /metrics needs the metrics token or an admin key', () => {
  it.each([
    { name: 'no credentials', authorization: undefined, status: 401 },
    { name: 'a wrong token', authorization: 'Bearer not-the-metrics-token-at-all', status: 401 },
  ])('$name → $status problem+json', async ({ authorization, status }) => {
    const response = await scrape(authorization);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.text()).not.toMatch(/holdpoint_/);
  });

  it.each([
    ['agent', 403],
    ['reviewer', 403],
    ['admin', 200],
  ] as const)('a key of the %s role → %i', async (caller, status) => {
    const response = await stack.request('GET', '/metrics', { as: caller });
    expect(response.status).toBe(status);
  });

  it('the token scrapes', async () => {
    const response = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# HELP /m);
  });
});

describe('action-type labels are bounded', () => {
  let n = 0;
  async function decided(actionType: string): Promise<void> {
    n += 1;
    const id = `action-8-spam-bot-label-${n}`;
    const at = new Date(Date.UTC(2025, 0, 1, 9, 0, n));
    await seedAction(stack.db.pool, {
      id,
      agentId: 'spam-bot',
      actionType,
      createdAt: at,
      events: [
        { key: 'requested', type: 'action.requested', at },
        { key: 'classified', type: 'policy.classified', at },
        { key: 'decided', type: 'action.allowed', data: {}, at },
      ],
      projection: { status: 'allowed', outcome: 'allow', risk: 'low', decidedAt: at.toISOString(), decidedBy: ['policy'] } as ActionProjection,
    });
  }

  it(`keeps the types the policy names, at most ${LABEL_CAP} in all, and counts every other type as "other"`, async () => {
    // Two types the fixture policy names, and 30 an agent made up.
    for (const type of ['test.ping', 'test.ping', 'test.notify']) await decided(type);
    for (let i = 0; i < 30; i += 1) await decided(`made.up.${i}`);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // one store read serves a second of scrapes
    const text = await (await scrape(`Bearer ${METRICS_TOKEN}`)).text();
    const series = [...text.matchAll(/^holdpoint_actions_decided_total\{([^}]*)\} (\d+)/gm)].map(([, labels, value]) => ({
      type: /action_type="([^"]*)"/.exec(labels!)?.[1],
      value: Number(value),
    }));
    const types = new Set(series.map((s) => s.type));
    expect(types.size).toBeLessThanOrEqual(LABEL_CAP + 1);
    expect(types).toContain('other');
    expect(types).toContain('test.ping');
    expect(types).toContain('test.notify');
    expect([...types].filter((t) => t?.startsWith('made.up.')).length).toBeLessThanOrEqual(LABEL_CAP - 2);
    // Nothing is lost: the series still add up to every decision.
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(33);
    expect(series.find((s) => s.type === 'test.ping')?.value).toBe(2);
  });
});

describe('an agent may keep only so many actions open', () => {
  const submit = (amount: number) =>
    stack.request('POST', '/v1/actions', {
      as: 'otherAgent',
      body: { agent: { id: 'other-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_cap' }, payload: { amount } },
      headers: { 'Idempotency-Key': uniqueKey('cap') },
    });

  it(`refuses the ${OPEN_CAP + 1}th open action with 429 problem+json naming the cap, and accepts again once one is decided`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < OPEN_CAP; i += 1) {
      const response = await submit(900 + i);
      expect(response.status).toBe(201);
      ids.push((await readJson(response)).id);
    }
    const refused = await submit(999);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    const problem = await readJson(refused);
    expect(problem).toMatchObject({ type: 'https://holdpoint.dev/problems/too-many-open-actions', status: 429 });
    expect(problem.detail).toMatch(new RegExp(`${OPEN_CAP}.*MAX_OPEN_ACTIONS_PER_AGENT|MAX_OPEN_ACTIONS_PER_AGENT.*${OPEN_CAP}`));
    const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM actions WHERE agent_id = 'other-bot'");
    expect(rows[0].n).toBe(OPEN_CAP);

    // Other agents are not affected.
    const mine = await stack.request('POST', '/v1/actions', {
      as: 'agent',
      body: { agent: { id: 'support-bot' }, action: { type: 'test.refund' }, resource: { type: 'billing', id: 'cus_cap' }, payload: { amount: 901 } },
      headers: { 'Idempotency-Key': uniqueKey('cap-other') },
    });
    expect(mine.status).toBe(201);

    const denied = await stack.request('POST', `/v1/actions/${ids[0]}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'no' } });
    expect(denied.status).toBe(200);
    expect((await submit(1000)).status).toBe(201);
  });
});
