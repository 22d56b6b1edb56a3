import path from 'node:path';
import { listEvents, verifyChain } from '../../src/evidence/evidence-repository';
import { createPrincipalKey } from '../../src/access/principal-repository';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { startApiStack, type ApiStack, type Caller } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

/**
 * The gate's two promises, attacked the way a hostile agent, a careless reviewer and an admin
 * would: approve is exact (the right people, that payload, that plan) and deny is always safe
 * (no waiting, deadline or exclusion turns into an allow, and a reviewer can always decide).
 */
jest.setTimeout(120_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: path.join(__dirname, '../fixtures/policies-integrity') });
});
afterAll(() => stack?.close());

type Body = Record<string, unknown>;
const request = (type: string, payload: Body, extra: Body = {}) => ({
  agent: { id: 'support-bot' },
  action: { type },
  resource: { type: 'billing', id: 'cus_integrity' },
  payload,
  ...extra,
});

async function submit(body: Body, key = uniqueKey('gate')) {
  const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': key } });
  return { response, action: await readJson(response), key };
}

async function pending(body: Body) {
  const { response, action, key } = await submit(body);
  expect(response.status).toBe(201);
  expect(action.status).toBe('pending_review');
  return { id: action.id as string, action, key };
}

const decide = (id: string, as: Caller, body: Body) => stack.request('POST', `/v1/actions/${id}/decision`, { as, body });
const read = async (id: string) => readJson(await stack.request('GET', `/v1/actions/${id}`, { as: 'admin' }));
const eventTypes = async (id: string) => {
  const events = await listEvents(stack.db.pool, id);
  expect(verifyChain(events).ok).toBe(true);
  return events.map((event) => event.type);
};

describe('an edit is classified again in full', () => {
  it('refuses an edit that moves the action into a stricter plan (defect 1)', async () => {
    const { id } = await pending(request('test.credit', { amount: 60 }));
    const refused = await decide(id, 'reviewer', { verdict: 'approve', editedPayload: { amount: 9_000_000 } });
    expect(refused.status).toBe(422);
    expect((await readJson(refused)).detail).toMatch(/credit-critical.*risk "high" → "critical".*approvals 1 → 2/);
    const after = await read(id);
    expect(after.status).toBe('pending_review');
    expect(after.review.candidatePayload).toEqual({ amount: 60 });
    expect(await eventTypes(id)).not.toContain('execution.started');
  });

  it('accepts an edit that stays under the same plan, and executes exactly the edit', async () => {
    const { id } = await pending(request('test.credit', { amount: 900 }));
    const approved = await decide(id, 'reviewer', { verdict: 'approve', editedPayload: { amount: 700 } });
    expect(approved.status).toBe(200);
    const done = await readJson(await stack.request('GET', `/v1/actions/${id}/wait?until=completed&timeout=20`, { as: 'agent' }));
    expect(done.status).toBe('executed');
    expect(done.approvedPayload).toEqual({ amount: 700 });
    const executed = stack.target.calls.filter((call) => call.idempotencyKey === id).map((call) => (call.body as { payload?: unknown }).payload);
    expect(executed.length).toBeGreaterThan(0);
    for (const payload of executed) expect(payload).toEqual({ amount: 700 });
  });
});

describe('an approval binds to the payload its approver saw', () => {
  it("refuses B's approval of the payload A has since edited (defect 3)", async () => {
    const { id, action } = await pending(request('test.grant', { amount: 100 }));
    const original = action.payloadHash as string;
    expect(action.review.candidatePayloadHash).toBe(original);
    const edit = await decide(id, 'reviewer', { verdict: 'approve', payloadHash: original, editedPayload: { amount: 5000 } });
    expect(edit.status).toBe(200);
    const edited = canonicalHash({ amount: 5000 });
    // The API's view shows what an approval now applies to.
    const view = await read(id);
    expect(view.review.candidatePayload).toEqual({ amount: 5000 });
    expect(view.review.candidatePayloadHash).toBe(edited);
    // B clicks Approve on a card that still shows 100: with its hash, or with none (the submitted payload).
    for (const stale of [{ payloadHash: original }, {}]) {
      const refused = await decide(id, 'secondReviewer', { verdict: 'approve', ...stale });
      expect(refused.status).toBe(409);
      expect((await readJson(refused)).type).toMatch(/payload-changed$/);
    }
    expect((await read(id)).status).toBe('pending_review');
    // Looking again and approving what is shown decides it, for exactly that payload.
    const approved = await decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: edited });
    expect(approved.status).toBe(200);
    const decided = await readJson(approved);
    expect(decided.decision.by.sort()).toEqual(['alice', 'bob']);
    expect(decided.approvedPayloadHash).toBe(edited);
  });

  it('voids earlier approvals when the payload changes, and lets their reviewers approve again', async () => {
    const { id, action } = await pending(request('test.grant', { amount: 100 }));
    expect((await decide(id, 'reviewer', { verdict: 'approve', payloadHash: action.payloadHash })).status).toBe(200);
    // Carol's edit makes alice's approval of 100 void: one approval (carol's) of 80, not two.
    const carol = await stack.request('POST', `/v1/actions/${id}/decision`, {
      headers: { authorization: `Bearer ${await keyFor('carol')}`, 'content-type': 'application/json' },
      body: { verdict: 'approve', payloadHash: action.payloadHash, editedPayload: { amount: 80 } },
    });
    expect(carol.status).toBe(200);
    const view = await readJson(carol);
    expect(view.status).toBe('pending_review');
    expect(view.review.approvals).toBe(1);
    const again = await decide(id, 'reviewer', { verdict: 'approve', payloadHash: canonicalHash({ amount: 80 }) });
    expect(again.status).toBe(200);
    expect((await readJson(again)).approvedPayload).toEqual({ amount: 80 });
  });

  it('needs no hash to deny', async () => {
    const { id } = await pending(request('test.grant', { amount: 100 }));
    const denied = await decide(id, 'reviewer', { verdict: 'deny', rationale: 'not today' });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
  });
});

describe('waiting never takes capacity from deciding', () => {
  it('decides while 40 agents long-poll the action, and the decision wakes every one of them (defect 2)', async () => {
    const body = request('test.credit', { amount: 60 });
    const { id, key } = await pending(body);
    const timed = (call: Promise<Response>) => call.then(async (r) => ({ status: r.status, body: await readJson(r), at: Date.now() }));
    const waits = Array.from({ length: 30 }, () => timed(stack.request('GET', `/v1/actions/${id}/wait?timeout=30`, { as: 'agent' })));
    // Retries of the submission, holding their answer until decided.
    const holds = Array.from({ length: 10 }, () =>
      timed(stack.request('POST', '/v1/actions?wait=30', { as: 'agent', body, headers: { 'Idempotency-Key': key } })),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const decision = await decide(id, 'reviewer', { verdict: 'approve' });
    const decidedAt = Date.now();
    expect(decision.status).toBe(200);
    const answers = await Promise.all([...waits, ...holds]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(['approved', 'executing', 'executed']).toContain(answer.body.status);
      // Woken by the decision, not by their own 30 s timeout (the 1 s figure is a benchmark: bench/waiters.ts).
      expect(answer.at - decidedAt).toBeLessThan(10_000);
    }
  });
});

describe("an agent's deadline only makes the outcome stricter", () => {
  it('refuses a deadline in the past instead of letting the timeout allow it (defect 4)', async () => {
    const { response, action } = await submit(request('test.notify', { text: 'hi' }, { deadline: '2020-01-01T00:00:00Z' }));
    expect(response.status).toBe(422);
    expect(action.issues).toEqual([{ path: 'body.deadline', message: 'in the past' }]);
  });

  it('expires, never allows, when the deadline runs out before the policy window', async () => {
    const deadline = new Date(Date.now() + 2_500).toISOString();
    const { id } = await pending(request('test.notify', { text: 'hi' }, { deadline }));
    const done = await readJson(await stack.request('GET', `/v1/actions/${id}/wait?until=completed&timeout=20`, { as: 'agent' }));
    expect(done.status).toBe('expired');
    expect(done.decision.rationale).toMatch(/deadline/);
    expect(done.approvedPayload).toBeNull();
  });
});

describe('separation of duties', () => {
  const onBehalfOfBob = (type: string) => request(type, { amount: 100 }, { agent: { id: 'support-bot', onBehalfOf: 'bob' } });

  it('keeps the principal an agent acts for out of assignees, inbox and quorum (defect 6)', async () => {
    const { id, action } = await pending(onBehalfOfBob('test.grant'));
    expect(action.review.assignees.sort()).toEqual(['alice', 'carol']);
    const inbox = await readJson(await stack.request('GET', '/v1/reviews', { as: 'secondReviewer' }));
    expect(inbox.items.map((item: { id: string }) => item.id)).not.toContain(id);
    const approval = await decide(id, 'secondReviewer', { verdict: 'approve' });
    expect(approval.status).toBe(403);
    // Alice and carol make the two approvals without bob.
    expect((await decide(id, 'reviewer', { verdict: 'approve' })).status).toBe(200);
    const last = await stack.request('POST', `/v1/actions/${id}/decision`, {
      headers: { authorization: `Bearer ${await keyFor('carol')}`, 'content-type': 'application/json' },
      body: { verdict: 'approve' },
    });
    expect((await readJson(last)).decision.by.sort()).toEqual(['alice', 'carol']);
  });

  it('still lets a routed requester deny: naming a reviewer in onBehalfOf does not silence them', async () => {
    const { id } = await pending(onBehalfOfBob('test.grant'));
    const denied = await decide(id, 'secondReviewer', { verdict: 'deny', rationale: 'I never asked for this' });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
  });

  it('expires at once, never times out to allow, when the exclusion leaves no tier a quorum', async () => {
    const { response, action } = await submit(onBehalfOfBob('test.pair'));
    expect(response.status).toBe(201);
    const done = await readJson(await stack.request('GET', `/v1/actions/${action.id}/wait?until=completed&timeout=20`, { as: 'agent' }));
    expect(done.status).toBe('expired');
    expect(done.decision.rationale).toMatch(/quorum/);
    const requested = (await listEvents(stack.db.pool, action.id)).find((event) => event.type === 'review.requested');
    expect(requested?.data).toMatchObject({ quorumUnreachable: true, excludedRequesters: ['bob'] });
  });
});

describe('admin approval is an explicit break-glass override', () => {
  it('refuses an unrouted admin approval without breakGlass, and records one with it (defect 10)', async () => {
    const { id } = await pending(request('test.credit', { amount: 60 }));
    const silent = await decide(id, 'admin', { verdict: 'approve' });
    expect(silent.status).toBe(403);
    expect((await readJson(silent)).type).toMatch(/break-glass-required$/);
    expect((await decide(id, 'admin', { verdict: 'approve', breakGlass: true })).status).toBe(400); // rationale required
    const override = await decide(id, 'admin', { verdict: 'approve', breakGlass: true, rationale: 'Finance is offline; CFO asked by phone' });
    expect(override.status).toBe(200);
    const view = await readJson(override);
    expect(view.decision).toMatchObject({ verdict: 'approved', by: ['root'], breakGlass: true });
    expect(await eventTypes(id)).toContain('review.break_glass');
    // Counted, so an operator sees every override.
    const metrics = await (await stack.request('GET', '/metrics', { as: 'admin' })).text();
    expect(metrics).toMatch(/holdpoint_break_glass_total\{action_type="test.credit"\} 1/);
  });

  it('is refused where the rule forbids it, while an admin may still deny', async () => {
    const { id } = await pending(request('test.credit', { amount: 200_000 }));
    const forbidden = await decide(id, 'admin', { verdict: 'approve', breakGlass: true, rationale: 'urgent' });
    expect(forbidden.status).toBe(403);
    expect((await readJson(forbidden)).type).toMatch(/break-glass-forbidden$/);
    const denied = await decide(id, 'admin', { verdict: 'deny', rationale: 'not like this' });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
  });
});

/** A key for a finance reviewer the stack does not seed. */
const extraKeys = new Map<string, string>();
async function keyFor(id: string): Promise<string> {
  if (!extraKeys.has(id)) extraKeys.set(id, (await createPrincipalKey(stack.db.pool, { id, role: 'reviewer', groups: ['finance'] })).apiKey);
  return extraKeys.get(id)!;
}

