import { startApiStack, type ApiStack } from '../../support/api-stack';
import { readJson } from '../../support/http';
import { ATTACK_POLICY_DIR, attackKit } from './attack-helpers';

/**
 * `agent.onBehalfOf` is whatever the agent writes. It must only ever take approval rights away
 * (separation of duties), never the right to deny: "any admin may always deny", and "naming a
 * reviewer in onBehalfOf does not silence them".
 */
jest.setTimeout(120_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack({ policyDir: ATTACK_POLICY_DIR });
});
afterAll(() => stack?.close());
const kit = attackKit(() => stack);

const onBehalfOf = (who: string, type = 'test.credit') => kit.request(type, { amount: 60 }, { agent: { id: 'support-bot', onBehalfOf: who } });

describe('an agent naming someone in onBehalfOf', () => {
  it('cannot stop an admin from denying by naming that admin', async () => {
    const { id } = await kit.pending(onBehalfOf('root'));
    const denied = await kit.decide(id, 'admin', { verdict: 'deny', rationale: 'I did not ask for this; stop it' });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
  });

  it('guard: cannot get the named admin to break-glass approve their "own" request', async () => {
    const { id } = await kit.pending(onBehalfOf('root'));
    const approval = await kit.decide(id, 'admin', { verdict: 'approve', breakGlass: true, rationale: 'urgent' });
    expect(approval.status).toBe(403);
    expect((await kit.read(id)).status).toBe('pending_review');
  });

  it('guard: cannot silence a routed reviewer (deny still works), nor let them approve', async () => {
    const { id, action } = await kit.pending(onBehalfOf('alice'));
    expect(action.review.assignees).not.toContain('alice');
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve' })).status).toBe(403);
    const denied = await kit.decide(id, 'reviewer', { verdict: 'deny', rationale: 'not mine' });
    expect(denied.status).toBe(200);
    expect((await readJson(denied)).status).toBe('denied');
  });

  it('guard: naming an outsider changes nothing for the routed reviewers', async () => {
    const { id, action } = await kit.pending(onBehalfOf('olivia'));
    expect(action.review.assignees.sort()).toEqual(['alice', 'bob', 'carol']);
    expect((await kit.decide(id, 'reviewer', { verdict: 'approve' })).status).toBe(200);
  });
});
