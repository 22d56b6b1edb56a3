import { startApiStack, type ApiStack } from '../../support/api-stack';
import { readJson } from '../../support/http';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * Guard: a cancel racing a decision (a plain approval, or an edit that is being re-classified)
 * has exactly one winner, and both callers are told the truth: a 200 cancel means nothing runs.
 */
jest.setTimeout(180_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

it.each([
  ['an approval with an edit', { editedPayload: { amount: 70 } }],
  ['a plain approval', {}],
])('cancel vs %s: one winner, told truthfully', async (_name, extra) => {
  for (let round = 0; round < 4; round++) {
    const { id, action } = await kit.pending(kit.request('test.credit', { amount: 60 }));
    const [cancel, decision] = await Promise.all([
      stack.request('POST', `/v1/actions/${id}/cancel`, { as: 'agent', body: { reason: 'changed my mind' } }),
      kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: action.payloadHash, ...extra }),
    ]);
    const done = await kit.waitDone(id, 20);
    if (cancel.status === 200) {
      expect((await readJson(cancel)).status).toBe('cancelled');
      expect(done.status).toBe('cancelled');
      expect(kit.executed(id)).toEqual([]);
      expect(decision.status).not.toBe(200);
    } else {
      expect(cancel.status).toBe(409);
      expect(decision.status).toBe(200);
      expect(done.status).toBe('executed');
    }
  }
});
