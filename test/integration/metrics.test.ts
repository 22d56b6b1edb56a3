import type { ActionProjection } from '../../src/evidence/evidence-repository';
import type { JsonObject } from '../../src/shared/action';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { seedAction, type SeedEvent } from './helpers/evidence-seed';

// A hand-built month of actions (February 2026) whose metrics are worked out below by hand.
const FEB = (day: number, hour = 10) => new Date(Date.UTC(2026, 1, day, hour));
const WINDOW = 'from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z';

let stack: ApiStack;
let n = 0;

interface Reviewed {
  type?: string;
  rule?: string;
  created: Date;
  votes?: { reviewer: string; verdict: 'approve' | 'deny'; after: number; reasonCode?: string; rationale?: string; tier?: number }[];
  escalatedAfter?: number;
  final: { status: string; decidedAfter?: number; decidedBy?: string[]; reasonCode?: string; rationale?: string; decidedType?: string };
  execution?: string;
}

/** A reviewed action: review.requested (finance, due in 1h), optional escalation to managers, votes, decision. */
async function reviewed(spec: Reviewed): Promise<string> {
  n += 1;
  const id = `action-11-support-bot-m${n}`;
  const t = (seconds: number) => new Date(spec.created.getTime() + seconds * 1000);
  const events: SeedEvent[] = [
    { key: 'requested', type: 'action.requested', at: spec.created },
    { key: 'classified', type: 'policy.classified', at: spec.created },
    { key: 'review-requested', type: 'review.requested', data: { tier: 0, groups: ['finance'], assignees: ['alice', 'bob'], dueAt: t(3600).toISOString() }, at: spec.created },
  ];
  const groups = ['finance'];
  const assignees = ['alice', 'bob'];
  if (spec.escalatedAfter !== undefined) {
    groups.push('managers');
    assignees.push('mallory');
    events.push({
      key: 'escalated:1',
      type: 'review.escalated',
      data: { tier: 1, groups: ['managers'], assignees, dueAt: t(spec.escalatedAfter + 3600).toISOString() },
      at: t(spec.escalatedAfter),
    });
  }
  for (const vote of spec.votes ?? []) {
    events.push({
      key: `vote:${vote.reviewer}`,
      type: vote.verdict === 'approve' ? 'review.approved' : 'review.denied',
      actor: vote.reviewer,
      data: { verdict: vote.verdict, reasonCode: vote.reasonCode ?? null, rationale: vote.rationale ?? null },
      at: t(vote.after),
    });
  }
  const { final } = spec;
  if (final.decidedAfter !== undefined) {
    events.push({ key: 'decided', type: `action.${final.decidedType ?? final.status}`, data: {}, at: t(final.decidedAfter) });
  }
  if (spec.execution) events.push({ key: 'execution', type: spec.execution, data: {}, at: t((final.decidedAfter ?? 0) + 1) });
  const projection: ActionProjection = {
    status: final.status as ActionProjection['status'],
    outcome: 'require_approval',
    risk: 'high',
    matchedRules: [spec.rule ?? 'refund-review'],
    reviewGroups: groups,
    assignees,
    reviewDueAt: t(3600).toISOString(),
  };
  if (final.decidedAfter !== undefined) {
    Object.assign(projection, {
      decidedAt: t(final.decidedAfter).toISOString(),
      decidedBy: final.decidedBy ?? (spec.votes ?? []).map((v) => v.reviewer),
      reasonCode: final.reasonCode,
      rationale: final.rationale,
    });
  }
  return seedAction(stack.db.pool, { id, actionType: spec.type ?? 'test.refund', createdAt: spec.created, events, projection });
}

async function automatic(type: string, outcome: 'allow' | 'deny', risk: string, status: string, created: Date, execution?: string): Promise<string> {
  n += 1;
  const id = `action-11-support-bot-m${n}`;
  const events: SeedEvent[] = [
    { key: 'requested', type: 'action.requested', at: created },
    { key: 'classified', type: 'policy.classified', at: created },
    { key: 'decided', type: outcome === 'allow' ? 'action.allowed' : 'action.auto_denied', data: {}, at: created },
  ];
  if (execution) events.push({ key: 'execution', type: execution, data: {}, at: created });
  return seedAction(stack.db.pool, {
    id,
    actionType: type,
    createdAt: created,
    events,
    projection: { status: status as ActionProjection['status'], outcome, risk, decidedAt: created.toISOString(), decidedBy: ['policy'] },
  });
}

/** Decisions in December 2025 that only the rule-suggestion assertions look at. */
async function suggestionHistory(rule: string, type: string, approved: number, denied: number, expired = 0): Promise<void> {
  const outcomes = [...Array(approved).fill('executed'), ...Array(denied).fill('denied'), ...Array(expired).fill('expired')];
  for (const [i, status] of outcomes.entries()) {
    n += 1;
    const created = new Date(Date.UTC(2025, 11, 1 + (i % 28), 9));
    await seedAction(stack.db.pool, {
      id: `action-11-support-bot-s${n}`,
      actionType: type,
      createdAt: created,
      projection: {
        status,
        outcome: 'require_approval',
        risk: 'low',
        matchedRules: [rule],
        decidedAt: created.toISOString(),
        decidedBy: status === 'expired' ? ['holdpoint:timeout'] : ['olivia'],
      } as ActionProjection,
    });
  }
}

beforeAll(async () => {
  stack = await startApiStack();
  // Automatic paths.
  await automatic('test.ping', 'allow', 'low', 'executed', FEB(1), 'execution.succeeded');
  await automatic('test.ping', 'allow', 'low', 'execution_failed', FEB(2), 'execution.failed');
  await automatic('test.nuke', 'deny', 'critical', 'auto_denied', FEB(3));
  // Reviewed refunds (finance, SLA 1h). Votes after: R1 60s, R2 5s, R3 300s, R4 120s, R5 30s.
  await reviewed({ created: FEB(4), votes: [{ reviewer: 'alice', verdict: 'approve', after: 60 }], final: { status: 'executed', decidedAfter: 60, decidedType: 'approved' }, execution: 'execution.succeeded' });
  await reviewed({ created: FEB(5), votes: [{ reviewer: 'bob', verdict: 'approve', after: 5 }], final: { status: 'mismatch', decidedAfter: 5, decidedType: 'approved' }, execution: 'execution.mismatch' });
  await reviewed({
    created: FEB(6),
    votes: [{ reviewer: 'alice', verdict: 'deny', after: 300, reasonCode: 'amount_too_high', rationale: 'too much' }],
    final: { status: 'denied', decidedAfter: 300, reasonCode: 'amount_too_high', rationale: 'too much' },
  });
  await reviewed({
    created: FEB(7),
    votes: [{ reviewer: 'bob', verdict: 'deny', after: 120, reasonCode: 'amount_too_high', rationale: 'no' }],
    final: { status: 'denied', decidedAfter: 120, reasonCode: 'amount_too_high', rationale: 'no' },
  });
  await reviewed({
    created: FEB(8),
    votes: [{ reviewer: 'alice', verdict: 'deny', after: 30, reasonCode: 'suspected_fraud', rationale: 'fraud' }],
    final: { status: 'denied', decidedAfter: 30, reasonCode: 'suspected_fraud', rationale: 'fraud' },
  });
  // R6: tier 0 runs out after 1h, escalates to managers; mallory approves 600s after being asked.
  await reviewed({
    created: FEB(9),
    escalatedAfter: 3600,
    votes: [{ reviewer: 'mallory', verdict: 'approve', after: 4200 }],
    final: { status: 'unconfirmed', decidedAfter: 4200, decidedType: 'approved' },
    execution: 'execution.unconfirmed',
  });
  // R7: nobody decides; expires at the deadline.
  await reviewed({ created: FEB(10), final: { status: 'expired', decidedAfter: 3600, decidedBy: ['holdpoint:timeout'] } });
  // R8: still pending.
  const pending = await reviewed({ created: FEB(11), final: { status: 'pending_review' } });
  await stack.db.pool.query("UPDATE actions SET review_due_at = now() - interval '1 hour' WHERE id = $1", [pending]);
  // R9: a quorum of two, completed 100s after the deadline (a late decision is a breach too).
  await reviewed({
    type: 'test.grant',
    rule: 'grant-quorum',
    created: FEB(12),
    votes: [
      { reviewer: 'alice', verdict: 'approve', after: 3650 },
      { reviewer: 'bob', verdict: 'approve', after: 3700 },
    ],
    final: { status: 'executed', decidedAfter: 3700, decidedType: 'approved' },
    execution: 'execution.reported',
  });
  // C1: the agent withdrew it after 100s.
  await reviewed({ created: FEB(13), final: { status: 'cancelled', decidedAfter: 100, decidedBy: ['support-bot'] } });
  // Outside the window.
  await automatic('test.ping', 'allow', 'low', 'executed', new Date(Date.UTC(2026, 0, 15)), 'execution.succeeded');

  await suggestionHistory('notify-low', 'test.notify', 19, 1, 3); // 19/20 approved: candidate allow
  await suggestionHistory('grant-quorum', 'test.grant', 18, 2); // 90%: nothing
  await suggestionHistory('refund-review', 'test.refund', 0, 21); // all denied: candidate deny
  await suggestionHistory('tiny-rule', 'test.tiny', 19, 0); // too few decisions
}, 60_000);
afterAll(() => stack?.close());

async function metrics(query: string, as: 'admin' | 'reviewer' | 'outsider' | 'agent' = 'admin') {
  return stack.request('GET', `/v1/metrics?${query}`, { as });
}

describe('GET /v1/metrics', () => {
  let body: Record<string, unknown> & { [key: string]: never };
  beforeAll(async () => {
    const response = await metrics(`${WINDOW}&rubberStampSeconds=10`);
    expect(response.status).toBe(200);
    body = (await readJson(response)) as typeof body;
  });

  it('counts volume by action type × risk tier × outcome', () => {
    expect(body.window).toEqual({ from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z', bucket: 'day', groupBy: ['actionType', 'risk', 'outcome'] });
    expect(body.scope).toBe('all');
    expect(body.volume).toEqual({
      total: 13,
      rows: [
        { actionType: 'test.refund', risk: 'high', outcome: 'approved', count: 3 },
        { actionType: 'test.refund', risk: 'high', outcome: 'denied', count: 3 },
        { actionType: 'test.ping', risk: 'low', outcome: 'allowed', count: 2 },
        { actionType: 'test.grant', risk: 'high', outcome: 'approved', count: 1 },
        { actionType: 'test.nuke', risk: 'critical', outcome: 'auto_denied', count: 1 },
        { actionType: 'test.refund', risk: 'high', outcome: 'cancelled', count: 1 },
        { actionType: 'test.refund', risk: 'high', outcome: 'expired', count: 1 },
        { actionType: 'test.refund', risk: 'high', outcome: 'pending', count: 1 },
      ],
    });
  });

  it('buckets volume over time by outcome', () => {
    const series = body.volumeOverTime as unknown as { start: string; counts: Record<string, number> }[];
    expect(series).toHaveLength(13);
    expect(series[0]).toEqual({ start: '2026-02-01T00:00:00.000Z', counts: { allowed: 1 } });
    expect(series[8]).toEqual({ start: '2026-02-09T00:00:00.000Z', counts: { approved: 1 } });
  });

  it('reports reviewer response times: median and p90 overall, per group and per reviewer', () => {
    // Votes (seconds from being asked): 5, 30, 60, 120, 300, 600 (mallory, asked at escalation), 3650, 3700.
    // percentile_cont: median of 8 = (120 + 300) / 2; p90 at rank 6.3 = 3650 + 0.3 × 50.
    expect(body.responseTimes).toEqual({
      decisions: 8,
      medianSeconds: 210,
      p90Seconds: 3665,
      histogram: [
        { upToSeconds: 5, count: 1 },
        { upToSeconds: 30, count: 1 },
        { upToSeconds: 60, count: 1 },
        { upToSeconds: 300, count: 2 },
        { upToSeconds: 900, count: 1 },
        { upToSeconds: 7200, count: 2 },
      ],
      byGroup: [
        // finance: 5, 30, 60, 120, 300, 3650, 3700 → median 120, p90 at rank 5.4 = 3650 + 0.4 × 50.
        { group: 'finance', decisions: 7, medianSeconds: 120, p90Seconds: 3670 },
        { group: 'managers', decisions: 1, medianSeconds: 600, p90Seconds: 600 },
      ],
      byReviewer: [
        // alice: 30, 60, 300, 3650 → median 180, p90 at rank 2.7 = 300 + 0.7 × 3350.
        { reviewer: 'alice', decisions: 4, medianSeconds: 180, p90Seconds: 2645 },
        // bob: 5, 120, 3700 → median 120, p90 at rank 1.8 = 120 + 0.8 × 3580.
        { reviewer: 'bob', decisions: 3, medianSeconds: 120, p90Seconds: 2984 },
        { reviewer: 'mallory', decisions: 1, medianSeconds: 600, p90Seconds: 600 },
      ],
    });
  });

  it('reports SLA breaches per tier: escalated, expired or decided late', () => {
    // Decided reviewed actions: R1–R7, R9, C1 = 9 reached tier 0; breached: R6 (escalated), R7 (expired), R9 (late).
    expect(body.slaBreaches).toEqual({
      byTier: [
        { tier: 0, reached: 9, breached: 3, rate: 0.3333 },
        { tier: 1, reached: 1, breached: 0, rate: 0 },
      ],
      byRisk: [{ risk: 'high', reviewed: 9, breached: 3, rate: 0.3333 }],
    });
  });

  it('lists top denial reasons per action type with recent rationales', () => {
    expect(body.denialReasons).toEqual([
      {
        actionType: 'test.refund',
        denials: 3,
        reasons: [
          { reasonCode: 'amount_too_high', count: 2, rationales: ['no', 'too much'] },
          { reasonCode: 'suspected_fraud', count: 1, rationales: ['fraud'] },
        ],
      },
    ]);
  });

  it('counts execution failures, payload mismatches and unconfirmed executions', () => {
    expect(body.executionProblems).toEqual({
      total: { executions: 6, executed: 3, failed: 1, mismatched: 1, unconfirmed: 1, inProgress: 0, problemRate: 0.5 },
      byActionType: [
        { actionType: 'test.grant', executions: 1, executed: 1, failed: 0, mismatched: 0, unconfirmed: 0, inProgress: 0, problemRate: 0 },
        { actionType: 'test.ping', executions: 2, executed: 1, failed: 1, mismatched: 0, unconfirmed: 0, inProgress: 0, problemRate: 0.5 },
        { actionType: 'test.refund', executions: 3, executed: 1, failed: 0, mismatched: 1, unconfirmed: 1, inProgress: 0, problemRate: 0.6667 },
      ],
    });
  });

  it('flags rubber stamps: approvals within N seconds of being asked, per reviewer', () => {
    expect(body.rubberStamp).toEqual({
      thresholdSeconds: 10,
      byReviewer: [
        { reviewer: 'bob', approvals: 2, fast: 1, share: 0.5 },
        { reviewer: 'alice', approvals: 2, fast: 0, share: 0 },
        { reviewer: 'mallory', approvals: 1, fast: 0, share: 0 },
      ],
    });
    expect(body.ruleSuggestions).toEqual([]);
  });

  it('suggests rules that reviewers almost always approve (allow) or deny (deny), over ≥ 20 human decisions', async () => {
    const december = (await readJson(await metrics('from=2025-12-01&to=2026-01-01'))) as { ruleSuggestions: JsonObject[] };
    expect(december.ruleSuggestions).toEqual([
      { rule: 'refund-review', suggestion: 'deny', decisions: 21, approved: 0, denied: 21, share: 1 },
      { rule: 'notify-low', suggestion: 'allow', decisions: 20, approved: 19, denied: 1, share: 0.95 },
    ]);
  });

  it('groups volume by the requested dimensions', async () => {
    const byAgent = (await readJson(await metrics(`${WINDOW}&groupBy=agentId`))) as { volume: JsonObject };
    expect(byAgent.volume).toEqual({ total: 13, rows: [{ agentId: 'support-bot', count: 13 }] });
  });

  it('shows reviewers only what was routed to them or their groups; agents not at all', async () => {
    const alice = (await readJson(await metrics(WINDOW, 'reviewer'))) as { scope: string; volume: { total: number } };
    expect(alice.scope).toBe('readable');
    expect(alice.volume.total).toBe(10);
    const olivia = (await readJson(await metrics(WINDOW, 'outsider'))) as { volume: { total: number } };
    expect(olivia.volume.total).toBe(0);
    expect((await metrics(WINDOW, 'agent')).status).toBe(403);
  });

  it('rejects bad windows and unknown parameters', async () => {
    expect((await metrics('from=2026-03-01&to=2026-02-01')).status).toBe(400);
    expect((await metrics('groupBy=color')).status).toBe(400);
    expect((await metrics('limit=3')).status).toBe(400);
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format 0.0.4; throws on any line it does not understand. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!sample) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const consumed = labelText.replace(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g, (_, name: string, value: string) => {
      labels[name] = value;
      return '';
    });
    if (consumed !== '') throw new Error(`unparseable labels: ${line}`);
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

describe('GET /metrics', () => {
  let parsed: ReturnType<typeof parsePrometheus>;
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  beforeAll(async () => {
    await metrics(WINDOW); // at least one observed request
    const response = await stack.request('GET', '/metrics', { as: 'admin' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    parsed = parsePrometheus(await response.text());
  });

  it('parses, and every sample belongs to a declared metric family', () => {
    expect(parsed.samples.length).toBeGreaterThan(50);
    for (const sample of parsed.samples) {
      const family = sample.name.replace(/_(bucket|sum|count)$/, '');
      expect([sample.name, parsed.types.has(sample.name) || parsed.types.has(family)]).toEqual([sample.name, true]);
    }
  });

  it('carries the expected series with the store-derived values', () => {
    expect(parsed.types.get('holdpoint_actions_decided_total')).toBe('counter');
    expect(parsed.types.get('holdpoint_review_response_seconds')).toBe('histogram');
    expect(parsed.types.get('holdpoint_http_request_duration_seconds')).toBe('histogram');
    expect(value('holdpoint_actions_decided_total', { action_type: 'test.refund', risk: 'high', outcome: 'approved' })).toBe(3);
    expect(value('holdpoint_actions_decided_total', { action_type: 'test.refund', risk: 'high', outcome: 'expired' })).toBe(1);
    expect(value('holdpoint_actions_decided_total', { action_type: 'test.ping', risk: 'low', outcome: 'allowed' })).toBe(3);
    expect(value('holdpoint_actions_decided_total', { action_type: 'test.nuke', risk: 'critical', outcome: 'auto_denied' })).toBe(1);
    // Approvals: 5, 60, 600, 3650, 3700 seconds.
    expect(value('holdpoint_review_response_seconds_bucket', { verdict: 'approved', le: '5' })).toBe(1);
    expect(value('holdpoint_review_response_seconds_bucket', { verdict: 'approved', le: '60' })).toBe(2);
    expect(value('holdpoint_review_response_seconds_bucket', { verdict: 'approved', le: '900' })).toBe(3);
    expect(value('holdpoint_review_response_seconds_bucket', { verdict: 'approved', le: '+Inf' })).toBe(5);
    expect(value('holdpoint_review_response_seconds_sum', { verdict: 'approved' })).toBe(8015);
    expect(value('holdpoint_review_response_seconds_count', { verdict: 'denied' })).toBe(3);
    expect(value('holdpoint_review_escalations_total', { tier: '1' })).toBe(1);
    expect(value('holdpoint_executions_total', { result: 'mismatch' })).toBe(1);
    expect(value('holdpoint_executions_total', { result: 'succeeded' })).toBe(3);
    expect(value('holdpoint_actions_open', { status: 'pending_review' })).toBe(1);
    expect(value('holdpoint_actions_open', { status: 'executing' })).toBe(0);
    expect(value('holdpoint_reviews_overdue')).toBe(1);
    expect(value('holdpoint_http_request_duration_seconds_count', { method: 'GET', route: '/v1/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('never labels by action id or concrete path', () => {
    for (const sample of parsed.samples) {
      for (const labelValue of Object.values(sample.labels)) expect(labelValue).not.toMatch(/^action-|\/v1\/actions\/action-/);
    }
  });
});
