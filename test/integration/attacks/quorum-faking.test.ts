import { canonicalHash } from '../../../src/evidence/payload-hash';
import { decideUpdate } from '../../../src/shared/messages';
import { startApiStack, type ApiStack } from '../../support/api-stack';
import { readJson } from '../../support/http';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * Quorum is "distinct approvals of one exact payload", and "an edit voids earlier approvals".
 * Attack: get a payload executed with fewer distinct approvers of that payload than the plan needs,
 * by editing the candidate away and back so that old or repeated votes for the same hash count again.
 */
jest.setTimeout(120_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

const H100 = canonicalHash({ amount: 100 });
const H5000 = canonicalHash({ amount: 5000 });

/** Whatever happened, an approval decided by quorum names distinct people, at least as many as needed. */
function expectHonestQuorum(view: { status: string; decision: { by: string[]; breakGlass?: boolean } | null; review: { approvalsNeeded: number } }) {
  if (!view.decision || view.decision.breakGlass || !['approved', 'executing', 'executed'].includes(view.status)) return;
  expect(new Set(view.decision.by).size).toBe(view.decision.by.length);
  expect(view.decision.by.length).toBeGreaterThanOrEqual(view.review.approvalsNeeded);
}

describe('two approvals of one payload need two distinct people', () => {
  it('does not count one reviewer twice when an edit is reverted (A approves 100, B edits to 5000, A edits back to 100)', async () => {
    const { id } = await kit.pending(kit.request('test.grant', { amount: 100 }));
    // alice approves 100 as submitted.
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100 })).status).toBe(200);
    // bob approves his edit to 5000: alice's approval of 100 is void, one approval (bob's) of 5000.
    expect((await kit.decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 5000 } })).status).toBe(200);
    // alice, whose vote was voided, may vote again: she approves an edit back to 100.
    const back = await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H5000, editedPayload: { amount: 100 } });
    const view = back.status === 200 ? await readJson(back) : await kit.read(id);
    // Only alice ever approved 100 (bob approved 5000): one distinct approval, not two.
    expectHonestQuorum(view);
    // And a 200 must mean her decision took effect: the candidate is now what she approved.
    // (Refusing it with a 4xx is as good; answering 200 and dropping it is not.)
    if (back.status === 200) expect(view.review.candidatePayload).toEqual({ amount: 100 });
    expect(view.status).toBe('pending_review');
    expect(view.review.approvals).toBeLessThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(kit.executed(id)).toEqual([]);
  });

  it('workflow invariant: the decide Update itself never counts one reviewer twice (the API short-circuit only masks it)', async () => {
    const { id } = await kit.pending(kit.request('test.grant', { amount: 100 }));
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100 })).status).toBe(200);
    expect((await kit.decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 5000 } })).status).toBe(200);
    // The same vote alice's console would send, straight to the workflow (as any channel's Update does).
    const handle = stack.env.client.workflow.getHandle(id);
    const state = await handle
      .executeUpdate(decideUpdate, { args: [{ verdict: 'approve', payloadHash: H5000, editedPayload: { amount: 100 }, reviewer: 'alice', isAdmin: false }] })
      .catch((err: unknown) => ({ refused: String(err) }));
    const view = await kit.read(id);
    if (!('refused' in state)) expect(state.decision?.by ?? []).not.toEqual(['alice', 'alice']);
    expectHonestQuorum(view);
    expect(view.status).toBe('pending_review');
  });

  it('does not revive an approval an edit voided (A approves 100, B edits to 5000, C edits back to 100)', async () => {
    const { id } = await kit.pending(kit.request('test.grant', { amount: 100 }));
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100 })).status).toBe(200);
    expect((await kit.decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 5000 } })).status).toBe(200);
    // README: "an edit voids earlier approvals" — alice was told hers no longer counts (payload_edited).
    const back = await kit.decide(id, { id: 'carol' }, { verdict: 'approve', payloadHash: H5000, editedPayload: { amount: 100 } });
    const view = back.status === 200 ? await readJson(back) : await kit.read(id);
    // One approval made after the last change (carol's); alice's voided vote must not complete the quorum.
    expect(view.decision?.by ?? []).not.toContain('alice');
    expect(view.status).toBe('pending_review');
    expect(view.review.approvals).toBe(1);
  });

  it('guard: a reviewer cannot vote twice on an unchanged candidate, nor count across hashes', async () => {
    const { id } = await kit.pending(kit.request('test.grant', { amount: 100 }));
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100 })).status).toBe(200);
    // The same vote again is the same decision (idempotent), never a second approval.
    const again = await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100 });
    expect([200, 409]).toContain(again.status);
    expect((await kit.read(id)).review.approvals).toBe(1);
    // bob approves a different payload: 1 of 100 + 1 of 5000 is not 2 of anything.
    expect((await kit.decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 5000 } })).status).toBe(200);
    const view = await kit.read(id);
    expect(view.status).toBe('pending_review');
    expect(view.review.approvals).toBe(1);
    // Two concurrent approvals of 5000 by two more people decide it exactly once, for that hash.
    const [a, c] = await Promise.all([
      kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H5000 }),
      kit.decide(id, { id: 'carol' }, { verdict: 'approve', payloadHash: H5000 }),
    ]);
    // bob's approval of 5000 plus the first of these decides; the other finds it decided (409).
    expect([a.status, c.status].sort()).toEqual([200, 409]);
    const done = await kit.waitDone(id);
    expect(done.status).toBe('executed');
    expectHonestQuorum(done);
    expect(done.approvedPayload).toEqual({ amount: 5000 });
    for (const payload of kit.executed(id)) expect(payload).toEqual({ amount: 5000 });
  });

  it('guard: two simultaneous edits never both land, and what executes is what the deciders approved', async () => {
    const { id } = await kit.pending(kit.request('test.grant', { amount: 100 }));
    const [e1, e2] = await Promise.all([
      kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 300 } }),
      kit.decide(id, 'secondReviewer', { verdict: 'approve', payloadHash: H100, editedPayload: { amount: 400 } }),
    ]);
    const statuses = [e1.status, e2.status].sort();
    expect(statuses).toEqual([200, 409]);
    const view = await kit.read(id);
    expect(view.status).toBe('pending_review');
    expect(view.review.approvals).toBe(1);
    expect([300, 400]).toContain(view.review.candidatePayload.amount);
  });
});
