/**
 * The TypeScript client and `guard` against the real stack (dev server, Postgres, worker, API).
 * Policy: test/fixtures/policies (test.* in workflow-test.yaml, mcp.ledger.* in mcp-test.yaml).
 */
import { createHoldpointClient, guard, HoldpointApiError, isHoldpointExecution, isRefusal, type GuardEvent, type HoldpointClient } from '../../src/agents/client';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

let stack: ApiStack;
let client: HoldpointClient;
beforeAll(async () => {
  stack = await startApiStack();
  client = createHoldpointClient({ url: stack.baseUrl, apiKey: stack.keys.agent });
});
afterAll(() => stack?.close());

const agentId = 'support-bot';
const ledger = { type: 'ledger', id: 'acct_1' };

/**
 * Decides as soon as the action shows in the reviewer's inbox. The inbox (Postgres) can list an
 * action a moment before its workflow takes votes (409 "classifying"): that vote is retried.
 */
async function decideWhenPending(actionType: string, as: 'reviewer' | 'outsider', body: Record<string, unknown>) {
  for (let i = 0; i < 100; i++) {
    const inbox = await readJson(await stack.request('GET', `/v1/reviews?actionType=${actionType}`, { as }));
    const item = inbox.items[0];
    if (item) {
      const response = await stack.request('POST', `/v1/actions/${item.id}/decision`, { as, body });
      if (response.status === 200) return item.id as string;
      const problem = await readJson(response);
      if (response.status !== 409 || !/classifying/.test(problem.detail)) throw new Error(`decision refused: ${JSON.stringify(problem)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no pending ${actionType} appeared`);
}

describe('client', () => {
  it('submits, reads and long-polls with typed results; a reused key returns the same action', async () => {
    const key = uniqueKey('client');
    const request = { agent: { id: agentId }, action: { type: 'test.notify' }, resource: { type: 'customer', id: 'c1' }, payload: { text: 'hi' } };
    const first = await client.submit(request, { idempotencyKey: key });
    expect(first).toMatchObject({ created: true, decided: false, idempotencyKey: key });
    expect(first.action).toMatchObject({ id: `action-11-support-bot-${key}`, status: 'pending_review', outcome: 'require_approval', risk: 'low' });

    const again = await client.submit(request, { idempotencyKey: key });
    expect(again).toMatchObject({ created: false, action: { id: first.action.id } });
    expect((await client.get(first.action.id)).status).toBe('pending_review');

    const started = Date.now();
    const waited = await client.wait(first.action.id, { timeoutMs: 1_200, pollSeconds: 1 });
    expect(waited.reached).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);

    const cancelled = await client.cancel(first.action.id, { reason: 'no longer needed' });
    expect(cancelled.status).toBe('cancelled');
  });

  it('throws errors carrying the problem details', async () => {
    const key = uniqueKey('client');
    const request = { agent: { id: agentId }, action: { type: 'test.nuke' }, resource: { type: 'svc', id: 'x' }, payload: {} };
    await client.submit(request, { idempotencyKey: key });
    const conflict = await client.submit({ ...request, payload: { other: true } }, { idempotencyKey: key }).catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(HoldpointApiError);
    expect(conflict).toMatchObject({ status: 409, problemType: 'idempotency-conflict', attempts: 1 });
    expect((conflict as HoldpointApiError).problem.detail).toContain(key);

    const invalid = await client.submit({ ...request, agent: { id: 'someone-else' } }).catch((err: unknown) => err);
    expect(invalid).toMatchObject({ status: 403, problem: { title: 'Forbidden' } });
  });

  it('retries a submit whose reply was lost with the same Idempotency-Key: one action, not two', async () => {
    const keys: string[] = [];
    let calls = 0;
    const lossy: typeof fetch = async (input, init) => {
      calls += 1;
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      const response = await fetch(input, init);
      if (calls === 1) throw new TypeError('fetch failed'); // the request arrived; its reply did not
      return response;
    };
    const flaky = createHoldpointClient({ url: stack.baseUrl, apiKey: stack.keys.agent, fetch: lossy, retry: { initialDelayMs: 10 } });
    const key = uniqueKey('client');
    const result = await flaky.submit({ agent: { id: agentId }, action: { type: 'test.ping' }, resource: { type: 'svc', id: 'a' }, payload: { n: 1 } }, { idempotencyKey: key });
    expect(calls).toBe(2);
    expect(keys).toEqual([key, key]);
    expect(result.created).toBe(false); // the first attempt created it
    const { rows } = await stack.db.pool.query('SELECT count(*)::int AS n FROM actions WHERE id = $1', [result.action.id]);
    expect(rows[0].n).toBe(1);
  });
});

describe('guard', () => {
  it('runs an allowed agent-mode call with its arguments and reports the execution', async () => {
    const calls: unknown[] = [];
    const getBalance = guard('mcp.ledger.get_balance', async (args: { account: string }) => (calls.push(args), { balance: 1_000 }), { client, agentId, resource: ledger });
    const key = uniqueKey('guard');
    const result = await getBalance({ account: 'acct_1' }, { idempotencyKey: key });
    expect(result).toEqual({ balance: 1_000 });
    expect(calls).toEqual([{ account: 'acct_1' }]);
    const recorded = await client.get(`action-11-support-bot-${key}`);
    expect(recorded).toMatchObject({ status: 'executed', execution: { mode: 'agent', result: { balance: 1_000 } } });
  });

  it('waits for a reviewer and runs with the approved, edited payload', async () => {
    const received: unknown[] = [];
    const events: GuardEvent['type'][] = [];
    let sawWaiting: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (sawWaiting = resolve));
    const transfer = guard(
      'mcp.ledger.transfer',
      async (args: { to: string; amount: number }, context) => {
        received.push({ args, edited: context.edited });
        return `sent ${args.amount}`;
      },
      {
        client,
        agentId,
        resource: ledger,
        pollSeconds: 1,
        onUpdate: (event) => {
          events.push(event.type);
          if (event.type === 'waiting' && event.waitedMs > 1_000) sawWaiting();
        },
      },
    );
    const [result, actionId] = await Promise.all([
      transfer({ to: 'acct_2', amount: 900 }),
      // After the first long-poll ended undecided, so the re-polling path is what gets the answer.
      waiting.then(() => decideWhenPending('mcp.ledger.transfer', 'reviewer', { verdict: 'approve', rationale: 'ok at 400', editedPayload: { to: 'acct_2', amount: 400 } })),
    ]);
    expect(result).toBe('sent 400');
    expect(received).toEqual([{ args: { to: 'acct_2', amount: 400 }, edited: true }]);
    expect(events[0]).toBe('submitted');
    expect(events).toContain('waiting');
    expect(events.at(-1)).toBe('decided');
    // The report carried the approved payload, so it is `executed`, not a mismatch.
    expect((await client.wait(actionId, { until: 'completed', timeoutMs: 5_000 })).action.status).toBe('executed');
  });

  it('returns a refusal with the rationale when a reviewer denies, without running the function', async () => {
    const fn = jest.fn();
    const notify = guard('test.notify', fn, { client, agentId, resource: { type: 'customer', id: 'c9' }, pollSeconds: 1 });
    const [result] = await Promise.all([
      notify({ text: 'Your refund is on its way' }),
      decideWhenPending('test.notify', 'outsider', { verdict: 'deny', rationale: 'Refund has not been issued yet' }),
    ]);
    expect(fn).not.toHaveBeenCalled();
    expect(isRefusal(result)).toBe(true);
    expect(result).toMatchObject({
      refused: true,
      outcome: 'denied_by_reviewer',
      status: 'denied',
      rationale: 'Refund has not been issued yet',
      decidedBy: ['olivia'],
      canAskAgain: false,
    });
    if (!isRefusal(result)) throw new Error('unreachable');
    expect(result.message).toContain('Refund has not been issued yet');
    // What a model sees: plain JSON, without the brand.
    expect(JSON.parse(JSON.stringify(result))).toEqual({ ...result });
  });

  it('returns a policy denial at once, saying that asking again will not help', async () => {
    const fn = jest.fn();
    const result = await guard('test.nuke', fn, { client, agentId, resource: { type: 'svc', id: 'prod' } })({ confirm: true });
    expect(fn).not.toHaveBeenCalled();
    expect(result).toMatchObject({ refused: true, outcome: 'denied_by_policy', reason: 'Agents may not nuke prod', canAskAgain: false, rationale: null });
  });

  it('withdraws the request when no decision arrives in time', async () => {
    const fn = jest.fn();
    const key = uniqueKey('guard');
    const result = await guard('test.notify', fn, { client, agentId, resource: { type: 'customer', id: 'c3' }, timeoutMs: 1_500, pollSeconds: 1 })({ text: 'x' }, { idempotencyKey: key });
    expect(fn).not.toHaveBeenCalled();
    expect(result).toMatchObject({ refused: true, outcome: 'no_decision_in_time', status: 'cancelled', canAskAgain: true });
    expect((await client.get(`action-11-support-bot-${key}`)).status).toBe('cancelled');
  });

  it('does not run the function when Holdpoint executes the action itself (server mode)', async () => {
    const fn = jest.fn();
    const result = await guard('test.ping', fn, { client, agentId, resource: { type: 'svc', id: 'a' } })({ n: 2 });
    expect(fn).not.toHaveBeenCalled();
    expect(isHoldpointExecution(result)).toBe(true);
    expect(result).toMatchObject({ executed: true, executedBy: 'holdpoint', status: 'executed', succeeded: true });
  });

  it('reports a failure when the function throws, and rethrows', async () => {
    const key = uniqueKey('guard');
    const failing = guard(
      'mcp.ledger.get_balance',
      async () => {
        throw new Error('ledger offline');
      },
      { client, agentId, resource: ledger },
    );
    await expect(failing({ account: 'acct_1' }, { idempotencyKey: key })).rejects.toThrow('ledger offline');
    const recorded = await client.wait(`action-11-support-bot-${key}`, { until: 'completed', timeoutMs: 5_000 });
    expect(recorded.action).toMatchObject({ status: 'execution_failed', execution: { error: 'ledger offline' } });
  });
});
