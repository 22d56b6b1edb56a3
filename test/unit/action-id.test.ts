/**
 * `action-<agent>-<key>` was ambiguous: agent `support` with key `bot-x` and
 * agent `support-bot` with key `x` got the same id, so one agent's submission could be answered
 * with (or deduplicated into) another agent's action.
 */
import fc from 'fast-check';
import { actionIdParams } from '../../src/api/schemas/api-inputs';
import { actionWorkflowId, parseActionId } from '../../src/shared/action-state';

// Agent ids and idempotency keys as the API accepts them (src/api/schemas/action-request.ts).
const identifier = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,30}$/);
const pair = fc.tuple(identifier, identifier);

describe('action ids', () => {
  it('tell agent "support" with key "bot-x" from agent "support-bot" with key "x"', () => {
    expect(actionWorkflowId('support', 'bot-x')).not.toBe(actionWorkflowId('support-bot', 'x'));
  });

  it('stay readable: action-<length of agent id>-<agent id>-<key>', () => {
    expect(actionWorkflowId('support-bot', 'demo-1')).toBe('action-11-support-bot-demo-1');
    expect(actionWorkflowId('support', 'bot-x')).toBe('action-7-support-bot-x');
  });

  it('never collide for distinct (agent, key) pairs that share a concatenation', () => {
    // The pairs the old encoding merged: (a-b, c) and (a, b-c).
    fc.assert(
      fc.property(identifier, identifier, identifier, (a, b, c) => {
        expect(actionWorkflowId(`${a}-${b}`, c)).not.toBe(actionWorkflowId(a, `${b}-${c}`));
      }),
    );
  });

  it('never collide for any two distinct pairs', () => {
    fc.assert(
      fc.property(pair, pair, ([agentA, keyA], [agentB, keyB]) => {
        fc.pre(agentA !== agentB || keyA !== keyB);
        expect(actionWorkflowId(agentA, keyA)).not.toBe(actionWorkflowId(agentB, keyB));
      }),
    );
  });

  it('parse back to the pair they were made from (so no two pairs can share one)', () => {
    fc.assert(
      fc.property(pair, ([agentId, idempotencyKey]) => {
        expect(parseActionId(actionWorkflowId(agentId, idempotencyKey))).toEqual({ agentId, idempotencyKey });
      }),
    );
  });

  it('are accepted as a path parameter, which refuses what no pair encodes to', () => {
    fc.assert(
      fc.property(pair, ([agentId, key]) => {
        expect(actionIdParams.safeParse({ id: actionWorkflowId(agentId, key) }).success).toBe(true);
      }),
    );
    for (const id of ['action-support-bot-x', 'action-12-support-bot-x', 'action-0--x', 'action-07-support-x', 'action-3-abc', 'action-3-abc-', 'action-99999999999999999999-a-b']) {
      expect(parseActionId(id)).toBeUndefined();
      expect(actionIdParams.safeParse({ id }).success).toBe(false);
    }
  });
});
