import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ActionService } from '../../src/gate/service/action-service';
import { listEvents, verifyChain } from '../../src/evidence/evidence-repository';
import { startDemoTarget, type DemoTarget } from '../../src/ops/dev/demo-target';
import { canonicalHash } from '../../src/evidence/payload-hash';
import type { ActionRequest } from '../../src/shared/action';
import type { ActionState } from '../../src/shared/action-state';
import { cancelSignal, cancelUpdate, decideUpdate, reportExecutionUpdate, stateQuery, type ReviewerDecision } from '../../src/shared/messages';
import type { PolicyDecision } from '../../src/shared/policy';
import { recordHistory } from '../support/histories';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { createTimeSkippingEnv } from '../support/temporal';
import {
  actionRequest,
  fixturePolicyEngine,
  registerTestSearchAttributes,
  startTestWorker,
  uniqueKey,
} from '../support/workflow-harness';

const TASK_QUEUE = 'workflow-tests';
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let target: DemoTarget;
let worker: Worker;
let running: Promise<void>;
let actions: ActionService;

beforeAll(async () => {
  [env, db, target] = await Promise.all([createTimeSkippingEnv(), createTestDatabase(), startDemoTarget()]);
  await registerTestSearchAttributes(env);
  ({ worker, running } = await startTestWorker({ env, pool: db.pool, taskQueue: TASK_QUEUE, executors: { target: target.url } }));
  actions = new ActionService({ client: env.client, pool: db.pool, taskQueue: TASK_QUEUE });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([env?.teardown(), db?.drop(), target?.close()]);
});

async function submit(request: ActionRequest, key = uniqueKey()) {
  const { state } = await actions.submit(request, key);
  return { handle: env.client.workflow.getHandle<() => Promise<ActionState>>(state.actionId), state };
}

async function waitForStatus(handle: WorkflowHandle, status: ActionState['status']): Promise<ActionState> {
  for (let i = 0; i < 200; i++) {
    const state = await handle.query(stateQuery);
    if (state.status === status) return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`action never reached ${status}`);
}

const decide = (handle: WorkflowHandle, decision: ReviewerDecision) => handle.executeUpdate(decideUpdate, { args: [decision] });

async function rejectionType(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return (err.cause as { type?: string } | undefined)?.type;
    throw err;
  }
  throw new Error('the update was accepted but should have been rejected');
}

async function eventTypes(actionId: string): Promise<string[]> {
  const events = await listEvents(db.pool, actionId);
  expect(verifyChain(events)).toEqual({ ok: true, events: events.length, breaks: [] });
  return events.map((e) => e.type);
}

/** Workflow time between two recorded steps (the test server's clock races ahead between tests). */
async function workflowTimeBetween(actionId: string, fromStep: string, toStep: string): Promise<number> {
  const events = await listEvents(db.pool, actionId);
  const at = (step: string) => Date.parse(events.find((e) => e.eventKey === step)!.occurredAt);
  return at(toStep) - at(fromStep);
}

async function actionRow(actionId: string) {
  const { rows } = await db.pool.query('SELECT * FROM actions WHERE id = $1', [actionId]);
  return rows[0];
}

const callsFor = (actionId: string) => target.calls.filter((c) => c.idempotencyKey === actionId);

describe('auto paths', () => {
  it('auto-allow executes the payload once through the executor', async () => {
    const { handle } = await submit(actionRequest('test.ping', { n: 1 }));
    const final = await handle.result();
    expect(final.status).toBe('executed');
    expect(final.decision).toMatchObject({ verdict: 'allowed', by: ['policy'] });
    expect(callsFor(final.actionId)).toHaveLength(1);
    // The executor is told what the policy routed on (issue 13, defect 8), not only the payload.
    expect(target.effects.get(final.actionId)).toMatchObject({ payload: { n: 1 }, resource: { type: 'billing', id: 'cus_123' }, agent: { id: 'support-bot' } });
    expect(await eventTypes(final.actionId)).toEqual([
      'action.requested',
      'policy.classified',
      'action.allowed',
      'execution.started',
      'execution.succeeded',
      'action.completed',
    ]);
    // Steps that follow each other share a write: admission stores request, classification, the
    // allow and the execution start; the second write the outcome and completion. 2 transactions, not 5.
    const { rows } = await db.pool.query('SELECT count(DISTINCT recorded_at)::int AS writes FROM action_events WHERE action_id = $1', [final.actionId]);
    expect(rows[0].writes).toBe(2);
    // Admission wrote the decision the workflow reports, to the millisecond.
    const stored = await listEvents(db.pool, final.actionId);
    expect(stored.find((e) => e.eventKey === 'decided')!.occurredAt).toBe(final.decision!.at);
    expect(await actionRow(final.actionId)).toMatchObject({ status: 'executed', risk: 'low', matched_rules: ['ping-allowed'] });
    await recordHistory('auto-allow', handle);
  });

  it('auto-deny records the reason and never executes', async () => {
    const { handle } = await submit(actionRequest('test.nuke', {}, { resource: { type: 'db', id: 'prod' } }));
    const final = await handle.result();
    expect(final.status).toBe('auto_denied');
    expect(final.decision?.rationale).toBe('Agents may not nuke prod');
    expect(callsFor(final.actionId)).toHaveLength(0);
    expect(await eventTypes(final.actionId)).toEqual(['action.requested', 'policy.classified', 'action.auto_denied', 'action.completed']);
    await recordHistory('auto-deny', handle);
  });
});

describe('review', () => {
  it('an approval executes the approved payload', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 700 }));
    const pending = await waitForStatus(handle, 'pending_review');
    expect(pending.review?.assignees).toEqual(['alice', 'bob', 'carol']);
    const afterVote = await decide(handle, { reviewer: 'alice', verdict: 'approve', rationale: 'customer is right' });
    expect(afterVote.decision?.verdict).toBe('approved');
    // The deciding vote answers with the settled status: vote, decision and the start of the
    // server-side execution are already stored, in causal order and in one transaction (same recorded_at).
    expect(afterVote.status).toBe('executing');
    const stored = await listEvents(db.pool, afterVote.actionId);
    const vote = stored.find((e) => e.eventKey === 'vote:alice')!;
    const decided = stored.find((e) => e.eventKey === 'decided')!;
    const started = stored.find((e) => e.eventKey === 'executing')!;
    expect([decided.seq, started.seq]).toEqual([vote.seq + 1, vote.seq + 2]);
    expect(decided.recordedAt).toEqual(vote.recordedAt);
    expect(started.recordedAt).toEqual(vote.recordedAt);
    const final = await handle.result();
    expect(final.status).toBe('executed');
    expect(final.approvedPayloadHash).toBe(canonicalHash({ amount: 700 }));
    expect(callsFor(final.actionId)).toHaveLength(1);
    const types = await eventTypes(final.actionId);
    expect(types).toEqual(expect.arrayContaining(['review.requested', 'review.approved', 'action.approved', 'execution.succeeded']));
    expect(await actionRow(final.actionId)).toMatchObject({ status: 'executed', decided_by: ['alice'], approved_payload_hash: canonicalHash({ amount: 700 }) });
    await recordHistory('approve', handle);
  });

  it('a deny with rationale denies and does not execute', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 300 }));
    await waitForStatus(handle, 'pending_review');
    await decide(handle, { reviewer: 'bob', verdict: 'deny', rationale: 'duplicate refund', reasonCode: 'duplicate' });
    const final = await handle.result();
    expect(final.status).toBe('denied');
    expect(final.decision).toMatchObject({ verdict: 'denied', by: ['bob'], rationale: 'duplicate refund', reasonCode: 'duplicate' });
    expect(callsFor(final.actionId)).toHaveLength(0);
    expect(await eventTypes(final.actionId)).toContain('review.denied');
    await recordHistory('deny', handle);
  });

  it('rejects a deny without rationale, a stranger, self-approval and an edit of a locked field', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 300, currency: 'EUR' }, { agent: { id: 'support-bot', onBehalfOf: 'alice' } }));
    await waitForStatus(handle, 'pending_review');
    expect(await rejectionType(decide(handle, { reviewer: 'bob', verdict: 'deny' }))).toBe('InvalidDecision');
    expect(await rejectionType(decide(handle, { reviewer: 'mallory', verdict: 'approve' }))).toBe('NotEligible');
    expect(await rejectionType(decide(handle, { reviewer: 'alice', verdict: 'approve' }))).toBe('SelfApproval');
    expect(await rejectionType(decide(handle, { reviewer: 'support-bot', verdict: 'approve', isAdmin: true }))).toBe('SelfApproval');
    expect(
      await rejectionType(decide(handle, { reviewer: 'bob', verdict: 'approve', editedPayload: { amount: 300, currency: 'USD' } })),
    ).toBe('EditNotAllowed');
    const state = await handle.query(stateQuery);
    expect(state.status).toBe('pending_review');
    expect(state.review?.votes).toEqual([]);
    await handle.signal(cancelSignal, { by: 'support-bot', reason: 'test done' });
    expect((await handle.result()).status).toBe('cancelled');
    await recordHistory('rejected-decisions', handle);
  });

  it('an edit within the allowed fields becomes the approved and executed payload', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 700, currency: 'EUR' }));
    await waitForStatus(handle, 'pending_review');
    await decide(handle, { reviewer: 'carol', verdict: 'approve', editedPayload: { amount: 500, currency: 'EUR' } });
    const final = await handle.result();
    expect(final.status).toBe('executed');
    expect(final.approvedPayload).toEqual({ amount: 500, currency: 'EUR' });
    expect(final.approvedPayloadHash).toBe(canonicalHash({ currency: 'EUR', amount: 500 }));
    expect(target.effects.get(final.actionId)).toMatchObject({ payload: { amount: 500, currency: 'EUR' } });
    expect(await eventTypes(final.actionId)).toContain('review.approved_with_edit');
    await recordHistory('edit', handle);
  });

  it('an edit the policy re-classifies as deny is refused and the action stays pending', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 700 }));
    await waitForStatus(handle, 'pending_review');
    expect(await rejectionType(decide(handle, { reviewer: 'alice', verdict: 'approve', editedPayload: { amount: 6000 } }))).toBe(
      'EditRejectedByPolicy',
    );
    expect((await handle.query(stateQuery)).status).toBe('pending_review');
    await decide(handle, { reviewer: 'alice', verdict: 'deny', rationale: 'will not raise it' });
    expect((await handle.result()).status).toBe('denied');
    await recordHistory('edit-refused', handle);
  });

  it('needs two distinct approvals for quorum and refuses a duplicate vote', async () => {
    const { handle } = await submit(actionRequest('test.grant', { role: 'admin' }));
    await waitForStatus(handle, 'pending_review');
    const first = await decide(handle, { reviewer: 'alice', verdict: 'approve' });
    expect(first.status).toBe('pending_review');
    expect(await rejectionType(decide(handle, { reviewer: 'alice', verdict: 'approve' }))).toBe('DuplicateVote');
    const second = await decide(handle, { reviewer: 'bob', verdict: 'approve' });
    expect(second.decision).toMatchObject({ verdict: 'approved', by: ['alice', 'bob'] });
    expect(second.status).toBe('approved');
    await waitForStatus(handle, 'awaiting_report');
    expect(await rejectionType(decide(handle, { reviewer: 'carol', verdict: 'approve' }))).toBe('NotPending');
    const reported = await handle.executeUpdate(reportExecutionUpdate, { args: [{ payload: { role: 'admin' }, succeeded: true, result: { ok: 1 } }] });
    expect(reported.status).toBe('executed');
    expect(reported.execution?.executedPayloadHash).toBe(canonicalHash({ role: 'admin' }));
    await handle.result();
    await recordHistory('quorum-and-report', handle);
  });

  it('refuses a decision the evidence store could not hold, from any channel, and stays decidable', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 700 }));
    await waitForStatus(handle, 'pending_review');
    for (const decision of [
      { reviewer: 'alice', verdict: 'deny' as const, rationale: 'lone \ud800 surrogate' },
      { reviewer: 'alice', verdict: 'deny' as const, rationale: 'nul \u0000 byte' },
      { reviewer: 'alice', verdict: 'approve' as const, editedPayload: { amount: 2 ** 60 } },
    ]) {
      expect(await rejectionType(decide(handle, decision))).toBe('InvalidDecision');
    }
    expect((await handle.query(stateQuery)).status).toBe('pending_review');
    await decide(handle, { reviewer: 'alice', verdict: 'deny', rationale: 'readable this time' });
    expect((await handle.result()).status).toBe('denied');
  });

  it('an unrouted admin approves only by break-glass, recorded as such', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 700 }));
    await waitForStatus(handle, 'pending_review');
    expect(await rejectionType(decide(handle, { reviewer: 'root', isAdmin: true, verdict: 'approve' }))).toBe('BreakGlassRequired');
    expect(await rejectionType(decide(handle, { reviewer: 'olivia', verdict: 'approve', breakGlass: true, rationale: 'me too' }))).toBe('NotEligible');
    const override = await decide(handle, { reviewer: 'root', isAdmin: true, verdict: 'approve', breakGlass: true, rationale: 'finance unreachable' });
    expect(override.decision).toMatchObject({ verdict: 'approved', by: ['root'], breakGlass: true });
    const final = await handle.result();
    expect(final.status).toBe('executed');
    expect(await eventTypes(final.actionId)).toContain('review.break_glass');
    await recordHistory('break-glass', handle);
  });

  it('leaves the principal the agent acts for out of the review, but lets them deny', async () => {
    const { handle } = await submit(actionRequest('test.grant', { role: 'admin' }, { agent: { id: 'support-bot', onBehalfOf: 'alice' } }));
    const pending = await waitForStatus(handle, 'pending_review');
    expect(pending.review?.assignees).toEqual(['bob', 'carol']);
    expect(pending.review?.excluded).toEqual(['alice']);
    expect(await rejectionType(decide(handle, { reviewer: 'alice', verdict: 'approve' }))).toBe('SelfApproval');
    await decide(handle, { reviewer: 'alice', verdict: 'deny', rationale: 'I did not ask for admin' });
    expect((await handle.result()).status).toBe('denied');
    await recordHistory('requester-denies', handle);
  });

  it('reminds, escalates tier 1 → 2 → 3 and denies on timeout after 4 hours', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 900 }));
    const final = await handle.result();
    const elapsedHours = (await workflowTimeBetween(final.actionId, 'review-requested', 'decided')) / 3_600_000;
    expect(final.status).toBe('expired');
    expect(final.decision).toMatchObject({ verdict: 'expired', by: ['holdpoint:timeout'] });
    expect(elapsedHours).toBeGreaterThanOrEqual(4);
    expect(elapsedHours).toBeLessThan(4.1);
    expect(final.review?.assignees).toEqual(['alice', 'bob', 'carol', 'mallory', 'dora']);
    const events = await listEvents(db.pool, final.actionId);
    const steps = events.map((e) => e.eventKey);
    expect(steps).toEqual(
      expect.arrayContaining(['review-requested', 'notified:' + final.actionId + ':reminder', 'escalated:1', 'escalated:2', 'decided']),
    );
    expect(steps.indexOf('escalated:1')).toBeLessThan(steps.indexOf('escalated:2'));
    expect(steps.indexOf('escalated:2')).toBeLessThan(steps.indexOf('decided'));
    expect(callsFor(final.actionId)).toHaveLength(0);
    await recordHistory('escalation-timeout', handle);
  });

  it('an agent deadline shortens the review window', async () => {
    const deadline = new Date(Number(await env.currentTimeMs()) + 10 * 60_000).toISOString();
    const { handle } = await submit(actionRequest('test.refund', { amount: 900 }, { deadline }));
    const final = await handle.result();
    expect(final.status).toBe('expired');
    expect((await workflowTimeBetween(final.actionId, 'review-requested', 'decided')) / 60_000).toBeLessThan(11);
    await recordHistory('deadline', handle);
  });

  it('a low-risk rule may time out to allow', async () => {
    const { handle } = await submit(actionRequest('test.notify', { text: 'hi' }));
    await waitForStatus(handle, 'pending_review');
    await env.sleep('31m');
    const state = await waitForStatus(handle, 'awaiting_report');
    expect(state.decision).toMatchObject({ verdict: 'approved', by: ['holdpoint:timeout'] });
    await handle.executeUpdate(reportExecutionUpdate, { args: [{ payload: { text: 'hi' }, succeeded: true }] });
    expect((await handle.result()).status).toBe('executed');
    await recordHistory('timeout-allow', handle);
  });

  it('high risk never times out to allow, even if a policy engine says so', async () => {
    const lenient: PolicyDecision = {
      outcome: 'require_approval',
      risk: 'high',
      matchedRules: ['bypassed-loader'],
      reason: 'test',
      policyVersion: 'test',
      execution: { mode: 'agent' },
      breakGlass: true,
      review: { tiers: [{ groups: ['g'], reviewers: ['alice'], durationMs: 60_000 }], onTimeout: 'allow', approvals: 1, editableFields: [] },
    };
    const queue = 'lenient-policy';
    const lenientWorker = await startTestWorker({ env, pool: db.pool, taskQueue: queue, policy: { evaluate: () => lenient } });
    try {
      const service = new ActionService({ client: env.client, pool: db.pool, taskQueue: queue });
      const { state } = await service.submit(actionRequest('test.anything', {}), uniqueKey());
      const final = await env.client.workflow.getHandle<() => Promise<ActionState>>(state.actionId).result();
      expect(final.status).toBe('expired');
      await recordHistory('high-risk-never-times-out-to-allow', env.client.workflow.getHandle(state.actionId));
    } finally {
      lenientWorker.worker.shutdown();
      await lenientWorker.running;
    }
  });

  it('cancel while pending cancels and never executes', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 200 }));
    await waitForStatus(handle, 'pending_review');
    const cancel = { by: 'support-bot', reason: 'customer withdrew' };
    // The Update answers once the cancel is stored; a retry under the same update id is the same cancel.
    const [cancelled, retried] = await Promise.all([
      handle.executeUpdate(cancelUpdate, { args: [cancel], updateId: 'cancel-1' }),
      handle.executeUpdate(cancelUpdate, { args: [cancel], updateId: 'cancel-1' }),
    ]);
    expect(cancelled.status).toBe('cancelled');
    expect(retried).toEqual(cancelled);
    const final = await handle.result();
    expect(final.status).toBe('cancelled');
    expect(final.decision).toMatchObject({ verdict: 'cancelled', by: ['support-bot'], rationale: 'customer withdrew' });
    expect(callsFor(final.actionId)).toHaveLength(0);
    expect((await eventTypes(final.actionId)).filter((type) => type === 'action.cancelled')).toHaveLength(1);
    await recordHistory('cancel', handle);
  });

  it('the cancel signal still cancels (operators: Temporal CLI and Web UI)', async () => {
    const { handle } = await submit(actionRequest('test.refund', { amount: 210 }));
    await waitForStatus(handle, 'pending_review');
    await handle.signal(cancelSignal, { by: 'ops-oncall', reason: 'withdrawn by operator' });
    const final = await handle.result();
    expect(final.status).toBe('cancelled');
    expect(final.decision).toMatchObject({ verdict: 'cancelled', by: ['ops-oncall'], rationale: 'withdrawn by operator' });
    expect(callsFor(final.actionId)).toHaveLength(0);
    await recordHistory('cancel-signal', handle);
  });

  it('refuses to cancel a decided action (NotPending), and the action goes on', async () => {
    const { handle } = await submit(actionRequest('test.grant', { role: 'viewer' }));
    await waitForStatus(handle, 'pending_review');
    await decide(handle, { reviewer: 'alice', verdict: 'approve' });
    await decide(handle, { reviewer: 'bob', verdict: 'approve' });
    expect(await rejectionType(handle.executeUpdate(cancelUpdate, { args: [{ by: 'support-bot', reason: 'too late' }] }))).toBe('NotPending');
    // The operators' signal is refused the same way, and only logged.
    await handle.signal(cancelSignal, { by: 'ops-oncall', reason: 'too late as well' });
    const reported = await handle.executeUpdate(reportExecutionUpdate, { args: [{ payload: { role: 'viewer' }, succeeded: true }] });
    expect(reported.status).toBe('executed');
    expect((await handle.result()).decision).toMatchObject({ verdict: 'approved', by: ['alice', 'bob'] });
    expect(await eventTypes(reported.actionId)).not.toContain('action.cancelled');
  });
});

describe('execution', () => {
  it('retries an executor 503 twice, then applies the effect once under one idempotency key', async () => {
    target.failNext(503, 503);
    const { handle } = await submit(actionRequest('test.ping', { n: 2 }));
    const final = await handle.result();
    expect(final.status).toBe('executed');
    const calls = callsFor(final.actionId);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.idempotencyKey))).toEqual(new Set([final.actionId]));
    expect([...target.effects.keys()].filter((k) => k === final.actionId)).toHaveLength(1);
    await recordHistory('executor-retry', handle);
  });

  it('an executor 400 fails the execution without retrying', async () => {
    target.failNext(400);
    const { handle } = await submit(actionRequest('test.ping', { n: 3 }));
    const final = await handle.result();
    expect(final.status).toBe('execution_failed');
    expect(final.execution?.error).toMatch(/HTTP 400/);
    expect(callsFor(final.actionId)).toHaveLength(1);
    expect(await eventTypes(final.actionId)).toContain('execution.failed');
    await recordHistory('executor-400', handle);
  });

  it('flags an agent-mode report whose payload differs from the approved one', async () => {
    const { handle } = await submit(actionRequest('test.grant', { role: 'viewer' }));
    await waitForStatus(handle, 'pending_review');
    await decide(handle, { reviewer: 'alice', verdict: 'approve' });
    await decide(handle, { reviewer: 'carol', verdict: 'approve' });
    await waitForStatus(handle, 'awaiting_report');
    const reported = await handle.executeUpdate(reportExecutionUpdate, { args: [{ payload: { role: 'owner' }, succeeded: true }] });
    expect(reported.status).toBe('mismatch');
    expect(reported.execution?.executedPayloadHash).toBe(canonicalHash({ role: 'owner' }));
    expect(reported.approvedPayloadHash).toBe(canonicalHash({ role: 'viewer' }));
    expect(await actionRow(reported.actionId)).toMatchObject({ status: 'mismatch', executed_payload_hash: canonicalHash({ role: 'owner' }) });
    expect(await eventTypes(reported.actionId)).toContain('execution.mismatch');
    await handle.result();
    await recordHistory('mismatch', handle);
  });

  it('marks an agent-mode approval unconfirmed when no report arrives in the window', async () => {
    const { handle } = await submit(actionRequest('test.grant', { role: 'viewer' }));
    await waitForStatus(handle, 'pending_review');
    await decide(handle, { reviewer: 'alice', verdict: 'approve' });
    await decide(handle, { reviewer: 'bob', verdict: 'approve' });
    const final = await handle.result();
    expect(final.status).toBe('unconfirmed');
    expect(await eventTypes(final.actionId)).toContain('execution.unconfirmed');
    await recordHistory('unconfirmed', handle);
  });
});

describe('idempotent submission', () => {
  it('the same key returns the same action; a different body with that key conflicts', async () => {
    const key = uniqueKey('dup');
    const request = actionRequest('test.ping', { n: 4 });
    const first = await actions.submit(request, key);
    const second = await actions.submit(request, key);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.state.actionId).toBe(first.state.actionId);
    await expect(actions.submit(actionRequest('test.ping', { n: 5 }), key)).rejects.toMatchObject({ status: 409 });
    await env.client.workflow.getHandle(first.state.actionId).result();
    const again = await actions.submit(request, key);
    expect(again.state.actionId).toBe(first.state.actionId);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM actions WHERE idempotency_key = $1', [key]);
    expect(rows[0].n).toBe(1);
    expect(callsFor(first.state.actionId)).toHaveLength(1);
    await recordHistory('idempotent-submission', env.client.workflow.getHandle(first.state.actionId));
  });
});

it('uses the fixture policy engine', () => {
  // Guards the fixture itself: a silently changed fixture would make the tests above meaningless.
  const decision = fixturePolicyEngine().evaluate(actionRequest('test.refund', { amount: 700 }));
  expect(decision).toMatchObject({ outcome: 'require_approval', risk: 'high', matchedRules: ['refund-review'] });
});
