import { canonicalHash } from '../../../src/evidence/payload-hash';
import { startApiStack, type ApiStack } from '../../support/api-stack';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * Promise 2: no timeout or deadline turns into an allow of something a human refused or changed.
 * Deadlines an agent writes (offsets, 1 ms ahead, odd precision) only ever make the outcome stricter.
 */
jest.setTimeout(120_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

/** `at` written with a fixed UTC offset, e.g. +14:00 or -12:00. */
function withOffset(at: number, offsetMinutes: number): string {
  const local = new Date(at + offsetMinutes * 60_000).toISOString().replace('Z', '');
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

describe('a reviewer edit followed by the policy timeout', () => {
  it('never executes the payload as submitted after a reviewer edited it away (on_timeout: allow)', async () => {
    const { id, action } = await kit.pending(kit.request('test.lowedit', { amount: 100 }));
    // alice cuts the amount to 10 and approves; the second approver never comes.
    const edit = await kit.decide(id, 'reviewer', { verdict: 'approve', payloadHash: action.payloadHash, editedPayload: { amount: 10 } });
    expect(edit.status).toBe(200);
    const during = await kit.read(id);
    expect(during.review.candidatePayload).toEqual({ amount: 10 });
    const done = await kit.waitDone(id, 30);
    expect(['executed', 'expired', 'denied']).toContain(done.status);
    // What the read model showed as the candidate during review is the most that may run; 100 was edited away.
    expect(done.approvedPayload).not.toEqual({ amount: 100 });
    expect(done.approvedPayloadHash).not.toBe(canonicalHash({ amount: 100 }));
    for (const payload of kit.executed(id)) expect(payload).not.toEqual({ amount: 100 });
  });
});

describe("an agent's deadline", () => {
  const notify = (deadline: string) => kit.request('test.notify', { text: 'hi' }, { deadline });

  it('guard: 1 ms ahead is refused or expires, never times out to allow', async () => {
    const { response, action } = await kit.submit(notify(new Date(Date.now() + 1).toISOString()));
    if (response.status === 422) return;
    expect(response.status).toBeLessThan(300);
    const done = await kit.waitDone(action.id, 20);
    expect(done.status).toBe('expired');
    expect(done.approvedPayload).toBeNull();
  });

  it('guard: a near deadline written with a +14:00 offset expires the action', async () => {
    const { response, action } = await kit.submit(notify(withOffset(Date.now() + 2_500, 14 * 60)));
    expect(response.status).toBe(201);
    const done = await kit.waitDone(action.id, 20);
    expect(done.status).toBe('expired');
    const late = await kit.decide(action.id, 'outsider', { verdict: 'approve' });
    expect(late.status).toBe(409);
  });

  it('guard: a past deadline written with a -12:00 offset (wall clock still "ahead" in UTC terms) is refused', async () => {
    const { response } = await kit.submit(notify(withOffset(Date.now() - 60_000, -12 * 60)));
    expect(response.status).toBe(422);
  });

  it('guard: sub-millisecond precision cannot push a past deadline into the future', async () => {
    const past = new Date(Date.now() - 1_000).toISOString().replace('Z', '999999Z');
    const { response } = await kit.submit(notify(past));
    expect([400, 422]).toContain(response.status);
  });
});
