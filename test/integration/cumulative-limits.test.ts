import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayPolicy } from '../../src/ops/cli/policy-replay-command';
import { readLimits, readLimitsFromActions } from '../../src/policy/limit-ledger';
import { createPrincipalKey } from '../../src/access/principal-repository';
import { loadPolicy, loadPolicyFromSources } from '../../src/policy';
import { scopedLimitsFor } from '../../src/policy/limits';
import { readCandidateLimits } from '../../src/policy/shadow/shadow-limits';
import type { ActionRequest } from '../../src/shared/action';
import type { LimitAggregate } from '../../src/shared/policy';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

// Issue 17 against the shipped policy (policies/): refunds up to 100 are allowed one by one, but a
// customer's refunds in 24h may total 500 before a person approves (refund-cumulative-customer).
const SHIPPED_POLICY_DIR = join(__dirname, '../../policies');
const LIMIT = 500;
const AMOUNT = 100;
const AUTO_ALLOWED = LIMIT / AMOUNT;

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: SHIPPED_POLICY_DIR, executors: ['payments-api', 'billing-api'] });
});
afterAll(() => stack?.close());

const suffix = () => randomBytes(4).toString('hex');

interface AgentClient {
  id: string;
  submit(body: ActionRequest): Promise<{ id: string; outcome: string; status: string; reason: string; matchedRules: string[] }>;
}

/** A fresh agent principal per scenario, so one scenario's refunds never count toward another's per-agent limit. */
async function newAgent(prefix: string): Promise<AgentClient> {
  const id = `${prefix}-bot-${suffix()}`;
  const { apiKey } = await createPrincipalKey(stack.db.pool, { id, role: 'agent' });
  return {
    id,
    async submit(body) {
      const response = await stack.request('POST', '/v1/actions', { body, headers: { authorization: `Bearer ${apiKey}`, 'Idempotency-Key': uniqueKey('limit') } });
      expect(response.status).toBe(201);
      return readJson(response);
    },
  };
}

const refund = (agent: string, customer: string, amount = AMOUNT): ActionRequest => ({
  agent: { id: agent },
  action: { type: 'payments.refund' },
  resource: { type: 'billing', id: customer },
  payload: { amount, currency: 'EUR' },
});

const outcomes = (views: { outcome: string }[]) => views.reduce<Record<string, number>>((counts, view) => ({ ...counts, [view.outcome]: (counts[view.outcome] ?? 0) + 1 }), {});

async function classification(actionId: string): Promise<{ decision: { aggregates: LimitAggregate[]; reason: string }; occurredAt: string }> {
  const evidence = await readJson(await stack.request('GET', `/v1/actions/${actionId}/evidence`, { as: 'admin' }));
  const event = evidence.events.find((e: { eventKey: string }) => e.eventKey === 'classified');
  return { decision: event.data.decision, occurredAt: event.occurredAt };
}

let sequential: { agent: string; customer: string; since: Date; until: Date };

describe('the splitting attack against the shipped policy', () => {
  it('sequentially: of 20 refunds of 100 to one customer, the 6th (total 600) already needs a person', async () => {
    const bot = await newAgent('seq');
    const customer = `cus_seq_${suffix()}`;
    const since = new Date();
    const views = [];
    for (let i = 0; i < 20; i++) views.push(await bot.submit(refund(bot.id, customer)));
    // Every refund is stored (created_at) before its response: the window ends now, before the next scenario.
    sequential = { agent: bot.id, customer, since, until: new Date() };

    expect(views.map((view) => view.outcome)).toEqual([...Array(AUTO_ALLOWED).fill('allow'), ...Array(20 - AUTO_ALLOWED).fill('require_approval')]);
    for (const view of views.slice(AUTO_ALLOWED)) expect(view.matchedRules).toContain('refund-cumulative-customer');
    // The reviewer's text: the rule's reason, then the aggregates (console, Slack and email render `reason`).
    expect(views[AUTO_ALLOWED]!.reason).toBe(
      `Refunds to ${customer} in 24h reach 600 with this one (6 refunds); above 500 a person approves ` +
        `[limits incl. this request: refunds_per_customer: 6 actions, sum 600 in 24h (resource billing:${customer}); ` +
        `refunds_per_agent: 6 actions, sum 600 in 24h (agent ${bot.id})]`,
    );
    const pending = await readJson(await stack.request('GET', `/v1/actions/${views[19]!.id}`, { as: 'admin' }));
    expect(pending.status).toBe('pending_review');
    expect(pending.reason).toContain('refunds_per_customer: 20 actions, sum 2000 in 24h');

    // Evidence: each aggregate with its scope, window and value; an auditor recomputes it from the ledger.
    const { decision, occurredAt } = await classification(views[AUTO_ALLOWED]!.id);
    const perCustomer = decision.aggregates.find((aggregate) => aggregate.limit === 'refunds_per_customer')!;
    expect(perCustomer).toMatchObject({ scope: { resource: `billing:${customer}` }, window: '24h', count: 6, field: 'payload.amount', sum: 600 });
    expect(Date.parse(occurredAt) - Date.parse(perCustomer.since)).toBe(86_400_000);
    const { rows } = await stack.db.pool.query(
      `SELECT count(*)::int AS count, sum(amount)::float AS sum FROM limit_ledger
        WHERE scope_key = $1 AND at > $2 AND at < (SELECT created_at FROM actions WHERE id = $3)`,
      [perCustomer.scopeKey, perCustomer.since, views[AUTO_ALLOWED]!.id],
    );
    expect(rows[0]).toEqual({ count: perCustomer.count - 1, sum: perCustomer.sum! - AMOUNT });
  });

  it('in parallel: of 30 refunds of 100 submitted at once, exactly 5 are allowed', async () => {
    const bot = await newAgent('par');
    const customer = `cus_par_${suffix()}`;
    const views = await Promise.all(Array.from({ length: 30 }, () => bot.submit(refund(bot.id, customer))));
    expect(outcomes(views)).toEqual({ allow: AUTO_ALLOWED, require_approval: 30 - AUTO_ALLOWED });
  }, 180_000);

  it('50 parallel refunds of 100 against the limit of 500: exactly 5 allowed and 45 held, every round', async () => {
    const rounds: Record<string, number>[] = [];
    for (let round = 0; round < 5; round++) {
      const bot = await newAgent(`round${round}`);
      const customer = `cus_round${round}_${suffix()}`;
      const views = await Promise.all(Array.from({ length: 50 }, () => bot.submit(refund(bot.id, customer))));
      rounds.push(outcomes(views));
      const { rows } = await stack.db.pool.query(
        `SELECT coalesce(sum((payload->>'amount')::numeric), 0)::float AS allowed FROM actions WHERE resource_id = $1 AND outcome = 'allow'`,
        [customer],
      );
      expect(rows[0].allowed).toBe(LIMIT);
    }
    expect(rounds).toEqual(Array(5).fill({ allow: AUTO_ALLOWED, require_approval: 50 - AUTO_ALLOWED }));
  }, 600_000);

  it('a refused refund stops counting; one awaiting review keeps counting', async () => {
    const bot = await newAgent('refused');
    const customer = `cus_refused_${suffix()}`;
    expect((await bot.submit(refund(bot.id, customer, 90))).outcome).toBe('allow');
    const large = await bot.submit(refund(bot.id, customer, 450));
    expect(large).toMatchObject({ outcome: 'require_approval', matchedRules: ['refund-large', 'refund-cumulative-customer'] });
    // 90 + 450 (pending) + 100 = 640: held.
    expect((await bot.submit(refund(bot.id, customer, 100))).outcome).toBe('require_approval');

    const denied = await stack.request('POST', `/v1/actions/${large.id}/decision`, { as: 'reviewer', body: { verdict: 'deny', rationale: 'Duplicate of the 90 refund' } });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
    // 90 + 100 (still pending) + 100 = 290: allowed again.
    const after = await bot.submit(refund(bot.id, customer, 100));
    expect(after.outcome).toBe('allow');
    const { decision } = await classification(after.id);
    expect(decision.aggregates.find((aggregate) => aggregate.limit === 'refunds_per_customer')).toMatchObject({ count: 3, sum: 290 });
  });

  it('a reviewer\'s edit is classified with the limits, and the approved amount is what counts afterwards', async () => {
    const bot = await newAgent('edited');
    const customer = `cus_edited_${suffix()}`;
    for (let i = 0; i < AUTO_ALLOWED; i++) expect((await bot.submit(refund(bot.id, customer))).outcome).toBe('allow');
    const held = await bot.submit(refund(bot.id, customer));
    expect(held.outcome).toBe('require_approval');

    const approved = await stack.request('POST', `/v1/actions/${held.id}/decision`, {
      as: 'reviewer',
      body: { verdict: 'approve', rationale: 'Half of it', editedPayload: { amount: 50, currency: 'EUR' } },
    });
    expect(approved.status).toBe(200);
    const { rows } = await stack.db.pool.query('SELECT status, amount::float AS amount FROM limit_ledger WHERE action_id = $1', [held.id]);
    expect(rows).toEqual([expect.objectContaining({ amount: 50 }), expect.objectContaining({ amount: 50 })]);
    // 5 × 100 + 50 (approved, edited) + 100.
    const next = await bot.submit(refund(bot.id, customer));
    const { decision } = await classification(next.id);
    expect(decision.aggregates.find((aggregate) => aggregate.limit === 'refunds_per_customer')).toMatchObject({ count: 7, sum: 650 });
  });

  it('the dry run reads the same limits without recording anything', async () => {
    const body = refund(sequential.agent, sequential.customer);
    const response = await stack.request('POST', '/v1/policy/evaluate', { as: 'admin', body });
    const decision = await readJson(response);
    // 20 stored refunds of 100 plus this one: over the customer's 500 and the agent's 2000.
    expect(decision).toMatchObject({ outcome: 'require_approval', matchedRules: ['refund-small', 'refund-cumulative-customer', 'refund-cumulative-agent'] });
    expect(decision.aggregates).toEqual([
      expect.objectContaining({ limit: 'refunds_per_customer', count: 21, sum: 2100 }),
      expect.objectContaining({ limit: 'refunds_per_agent', count: 21, sum: 2100 }),
    ]);
    const again = await readJson(await stack.request('POST', '/v1/policy/evaluate', { as: 'admin', body }));
    expect(again.aggregates[0].count).toBe(21);
  });
});

describe('shadow and replay read limits as of each request', () => {
  it('policy replay evaluates a candidate\'s limits as of each request\'s own time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdpoint-candidate-'));
    try {
      const shipped = readFileSync(join(SHIPPED_POLICY_DIR, 'holdpoint.yaml'), 'utf8');
      const candidate = shipped.replace('limits.refunds_per_customer.sum > 500', 'limits.refunds_per_customer.sum > 300');
      expect(candidate).not.toBe(shipped);
      writeFileSync(join(dir, 'holdpoint.yaml'), candidate);
      const report = await replayPolicy(stack.db.pool, loadPolicy(dir), sequential);
      // The 4th and 5th refund (totals 400 and 500 at their time) would have been held; counting the
      // whole history instead would have changed all five.
      expect(report).toMatchObject({ evaluated: 20, differing: 2 });
      expect(report.byRule).toEqual([expect.objectContaining({ rule: 'refund-cumulative-customer', liveOutcome: 'allow', candidateOutcome: 'require_approval', count: 2 })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the ledger and a direct read of actions agree, for resource, agent and payload-field scopes', async () => {
    const policy = loadPolicyFromSources([
      {
        name: 'p.yaml',
        content: `version: 1
defaults: { unmatched: allow }
limits:
  per_customer: { actions: [payments.refund], scope: [resource], window: 1h, sum: payload.amount }
  per_agent: { actions: [payments.refund], scope: [agent], window: 1h, sum: payload.amount, statuses: [pending_review] }
  per_currency: { actions: [payments.refund], scope: [payload.currency], window: 1h, sum: payload.amount }
`,
      },
    ]);
    const request = refund(sequential.agent, sequential.customer);
    const scoped = scopedLimitsFor(policy, request);
    const fromActions = await readLimitsFromActions(stack.db.pool, scoped, request, { at: Date.now() });
    expect(fromActions.get('per_customer')).toMatchObject({ count: 21, sum: 2100 });
    expect(fromActions.get('per_agent')).toMatchObject({ count: 16, sum: 1600 });
    const { rows } = await stack.db.pool.query(
      `SELECT count(*)::int AS count FROM actions WHERE action_type = 'payments.refund' AND payload->>'currency' = 'EUR'
          AND status NOT IN ('denied', 'auto_denied', 'expired', 'cancelled')`,
    );
    expect(fromActions.get('per_currency')?.count).toBe(rows[0].count + 1);
    // Only the shipped policy's ledgers were written; for the same ledger the two reads agree.
    const shipped = loadPolicy(SHIPPED_POLICY_DIR);
    const shippedScoped = scopedLimitsFor(shipped, request);
    const ledger = await readLimits(stack.db.pool, shippedScoped, { at: Date.now() });
    const direct = await readLimitsFromActions(stack.db.pool, shippedScoped, request, { at: Date.now() });
    expect([...ledger.values()].map(({ count, sum }) => ({ count, sum }))).toEqual([...direct.values()].map(({ count, sum }) => ({ count, sum })));
  });

  it('shadow mode reads a candidate\'s limits from the ledger where the live policy keeps it, else from actions', async () => {
    const candidate = loadPolicyFromSources([
      {
        name: 'candidate.yaml',
        content: `version: 1
defaults: { unmatched: allow }
limits:
  weekly_per_customer: { actions: [payments.refund], scope: [resource], window: 7d, sum: payload.amount }
  per_currency: { actions: [payments.refund], scope: [payload.currency], window: 1h }
`,
      },
    ]);
    const request = refund(sequential.agent, sequential.customer);
    const live = scopedLimitsFor(loadPolicy(SHIPPED_POLICY_DIR), request);
    const [weekly, perCurrency] = scopedLimitsFor(candidate, request);
    // Same action types and scope fields as the shipped refunds_per_customer: the same ledger rows.
    expect(live.map((entry) => entry.scopeKey)).toContain(weekly!.scopeKey);
    expect(live.map((entry) => entry.scopeKey)).not.toContain(perCurrency!.scopeKey);
    const client = await stack.db.pool.connect();
    try {
      await client.query('BEGIN');
      const readings = await readCandidateLimits(client, candidate, request, live, { at: Date.now(), actionId: 'action-not-stored' }, { warn: () => undefined });
      await client.query('ROLLBACK');
      expect(readings?.get('weekly_per_customer')).toMatchObject({ count: 21, sum: 2100 });
      expect(readings?.get('per_currency')?.count).toBeGreaterThan(21);
    } finally {
      client.release();
    }
  });
});
