import { HttpProblem } from '../../src/platform/http/problem';
import { assertCurrentlyEligible, type CurrentIdentity } from '../../src/access/reviewer-eligibility';
import type { Principal } from '../../src/access/principal';

/** Who may decide now, whatever they could when the action was routed. */

const policy = { groups: new Map<string, readonly string[]>([['finance', ['bob', 'carol']], ['managers', ['mallory']]]) };
const action = { review_groups: ['finance', 'managers'] };
const principal = (id: string, role: Principal['role'] = 'reviewer'): Principal => ({ id, role, groups: [], keyId: 'slack' });
const active = (id: string, role: Principal['role'] = 'reviewer'): CurrentIdentity => ({ id, role, keysRevoked: false });

function refusal(run: () => void): HttpProblem | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof HttpProblem) return err;
    throw err;
  }
}

describe('assertCurrentlyEligible', () => {
  it('accepts a current member of any routed group, for approve and deny alike', () => {
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('bob'), current: active('bob'), action, policy }))).toBeUndefined();
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('mallory'), current: active('mallory'), action, policy }))).toBeUndefined();
  });

  it('refuses a reviewer no longer in any routed group with 403 not-eligible', () => {
    const problem = refusal(() => assertCurrentlyEligible({ principal: principal('alice'), current: active('alice'), action, policy }));
    expect(problem).toMatchObject({ status: 403, type: 'not-eligible' });
    expect(problem!.detail).toContain('finance');
  });

  it('refuses a disabled principal, and one whose keys were all revoked, whatever the channel', () => {
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('bob'), current: { ...active('bob'), disabledAt: '2026-01-01T00:00:00Z' }, action, policy }))).toMatchObject({
      status: 403,
      type: 'principal-inactive',
    });
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('bob'), current: { ...active('bob'), keysRevoked: true }, action, policy }))).toMatchObject({
      status: 403,
      type: 'principal-inactive',
    });
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('bob'), current: undefined, action, policy }))).toMatchObject({ status: 403, type: 'principal-inactive' });
  });

  it('leaves admins to the workflow’s break-glass rules, and agents to its own refusals', () => {
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('root', 'admin'), current: active('root', 'admin'), action, policy }))).toBeUndefined();
    expect(refusal(() => assertCurrentlyEligible({ principal: principal('support-bot', 'agent'), current: active('support-bot', 'agent'), action, policy }))).toBeUndefined();
    // …but never a disabled admin.
    expect(
      refusal(() => assertCurrentlyEligible({ principal: principal('root', 'admin'), current: { ...active('root', 'admin'), disabledAt: '2026-01-01T00:00:00Z' }, action, policy })),
    ).toMatchObject({ status: 403 });
  });
});
