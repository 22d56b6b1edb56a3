/**
 * `holdpoint mcp gateway` as an MCP client sees it: the SDK's real client over stdio, talking to
 * the gateway as a child process, which wraps test/fixtures/mcp/upstream-server.ts (a pretend
 * ledger) and asks the in-process API about every call (rules in test/fixtures/policies/mcp-test.yaml).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import path from 'node:path';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';

const root = path.resolve(__dirname, '../..');
const upstreamCommand = 'node --import tsx test/fixtures/mcp/upstream-server.ts';

let stack: ApiStack;
let gateway: Client;
let direct: Client;

function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

beforeAll(async () => {
  stack = await startApiStack();
  gateway = new Client({ name: 'gateway-test', version: '1.0.0' });
  direct = new Client({ name: 'upstream-direct', version: '1.0.0' });
  await Promise.all([
    gateway.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', 'src/ops/cli/main.ts', 'mcp', 'gateway', '--upstream', upstreamCommand],
        cwd: root,
        env: { ...inheritedEnv(), HOLDPOINT_URL: stack.baseUrl, HOLDPOINT_API_KEY: stack.keys.agent, HOLDPOINT_AGENT_ID: 'support-bot' },
        stderr: 'pipe',
      }),
    ),
    direct.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', 'test/fixtures/mcp/upstream-server.ts'], cwd: root, stderr: 'pipe' })),
  ]);
});

afterAll(async () => {
  await Promise.all([gateway?.close(), direct?.close()]);
  await stack?.close();
});

const text = (result: unknown) => (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('\n');

/** The gateway's action for the newest call of `tool`, as the agent sees it. */
async function latestAction(tool: string) {
  const page = await readJson(await stack.request('GET', `/v1/actions?actionType=mcp.ledger.${tool}&limit=1`, { as: 'agent' }));
  return page.items[0];
}

/** Decides as soon as the held call is in alice's inbox (retrying the moment before its workflow takes votes). */
async function decide(body: Record<string, unknown>): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const inbox = await readJson(await stack.request('GET', '/v1/reviews?actionType=mcp.ledger.transfer', { as: 'reviewer' }));
    const item = inbox.items[0];
    if (item) {
      const response = await stack.request('POST', `/v1/actions/${item.id}/decision`, { as: 'reviewer', body });
      if (response.status === 200) return item.id;
      const problem = await readJson(response);
      if (response.status !== 409 || !/classifying/.test(problem.detail)) throw new Error(`decision refused: ${JSON.stringify(problem)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the held call never reached the inbox');
}

it('lists the upstream tools unchanged', async () => {
  const [throughGateway, upstream] = await Promise.all([gateway.listTools(), direct.listTools()]);
  expect(throughGateway.tools).toEqual(upstream.tools);
  expect(throughGateway.tools.map((tool) => tool.name)).toEqual(['get_balance', 'transfer', 'close_account', 'inspect_env', 'fail', 'send_email', 'send email']);
  expect(gateway.getServerVersion()).toMatchObject({ name: 'ledger', version: '1.0.0' });
  expect(gateway.getInstructions()).toContain('Holdpoint');
});

it('passes an allowed call through and records it as executed', async () => {
  const result = await gateway.callTool({ name: 'get_balance', arguments: { account: 'acct_1' } });
  expect(result.isError).toBeFalsy();
  expect(text(result)).toBe('balance of acct_1: 1000');
  const action = await latestAction('get_balance');
  expect(action).toMatchObject({ status: 'executed', agent: { id: 'support-bot' }, resource: { type: 'mcp', id: 'ledger/get_balance' } });
});

it('holds a call until a reviewer approves it through the API, with progress while it waits', async () => {
  const progress: Progress[] = [];
  const [result, actionId] = await Promise.all([
    gateway.callTool({ name: 'transfer', arguments: { to: 'acct_2', amount: 900 } }, undefined, { onprogress: (p) => progress.push(p), timeout: 30_000 }),
    decide({ verdict: 'approve', rationale: 'Customer confirmed by phone' }),
  ]);
  expect(result.isError).toBeFalsy();
  expect(text(result)).toBe('transferred 900 to acct_2');
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.map((p) => p.message).join('\n')).toMatch(/waiting for approval by alice, bob/);
  const recorded = await readJson(await stack.request('GET', `/v1/actions/${actionId}`, { as: 'agent' }));
  expect(recorded).toMatchObject({ status: 'executed', action: { type: 'mcp.ledger.transfer', tool: 'transfer' }, decision: { verdict: 'approved', by: ['alice'] } });
});

it('answers a reviewer denial as a tool error carrying the reason and rationale', async () => {
  const [result] = await Promise.all([
    gateway.callTool({ name: 'transfer', arguments: { to: 'acct_9', amount: 5_000 } }, undefined, { timeout: 30_000 }),
    decide({ verdict: 'deny', rationale: 'acct_9 is not a customer account' }),
  ]);
  expect(result.isError).toBe(true);
  expect(text(result)).toContain('acct_9 is not a customer account');
  expect(text(result)).toContain('Transfer of 5000 to acct_9');
  expect(text(result)).toMatch(/Do not retry/);
  expect(result._meta?.['dev.holdpoint/refusal']).toMatchObject({ outcome: 'denied_by_reviewer', canAskAgain: false, decidedBy: ['alice'] });
});

it('answers a policy denial at once, without reaching the upstream', async () => {
  const result = await gateway.callTool({ name: 'close_account', arguments: { account: 'acct_1' } });
  expect(result.isError).toBe(true);
  expect(text(result)).toContain('Agents may not close ledger accounts');
  expect(text(result)).not.toContain('closed acct_1');
});

it('forwards an edited call with the reviewer’s arguments', async () => {
  const [result] = await Promise.all([
    gateway.callTool({ name: 'transfer', arguments: { to: 'acct_3', amount: 900, memo: 'refund' } }, undefined, { timeout: 30_000 }),
    decide({ verdict: 'approve', rationale: 'Half now', editedPayload: { to: 'acct_3', amount: 450, memo: 'refund (reduced)' } }),
  ]);
  expect(result.isError).toBeFalsy();
  expect(text(result)).toBe('transferred 450 to acct_3');
  // What the upstream itself received:
  expect(result.structuredContent).toMatchObject({ received: { to: 'acct_3', amount: 450, memo: 'refund (reduced)' } });
  const action = await latestAction('transfer');
  expect(action.status).toBe('executed'); // the report matched the approved payload, not a mismatch
});

it('reports an upstream error result as a failed execution', async () => {
  const result = await gateway.callTool({ name: 'fail', arguments: { why: 'disk full' } });
  expect(result.isError).toBe(true);
  expect(text(result)).toBe('failed: disk full');
  const action = await latestAction('fail');
  expect(action.status).toBe('execution_failed');
});

it('does not hand Holdpoint credentials to the upstream server', async () => {
  const result = await gateway.callTool({ name: 'inspect_env', arguments: {} });
  expect(text(result)).toBe('[]');
});

// A call naming a tool the upstream never listed ("SEND EMAIL") became an
// action `mcp.ledger.SEND_EMAIL` that no rule matched, and was forwarded once approved.
describe('only tools the upstream listed, by exact name, are gated and forwarded', () => {
  const actionCount = async () => (await stack.db.pool.query('SELECT count(*)::int AS n FROM actions')).rows[0].n;
  /** A short timeout: before the fix these calls were held for a reviewer instead of answered. */
  const call = (name: string, args: Record<string, unknown>) => gateway.callTool({ name, arguments: args }, undefined, { timeout: 8_000 });

  it.each(['SEND EMAIL', 'TRANSFER', 'transfer ', 'get-balance', 'mcp.ledger.transfer'])('refuses %j, which was never listed, before submitting anything', async (name) => {
    const before = await actionCount();
    const result = await call(name, { to: 'acct_2', amount: 1 });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(JSON.stringify(name));
    expect(text(result)).toMatch(/not .*list/);
    expect(await actionCount()).toBe(before);
  });

  it('refuses listed tools whose names map to one action type, naming both', async () => {
    const before = await actionCount();
    for (const name of ['send_email', 'send email']) {
      const result = await call(name, { to: 'someone@example.com' });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain('"send_email"');
      expect(text(result)).toContain('"send email"');
      expect(text(result)).toContain('mcp.ledger.send_email');
    }
    expect(await actionCount()).toBe(before);
  });

  it('still gates a listed tool under its exact name', async () => {
    const result = await call('get_balance', { account: 'acct_1' });
    expect(text(result)).toBe('balance of acct_1: 1000');
    expect(await latestAction('get_balance')).toMatchObject({ status: 'executed', resource: { type: 'mcp', id: 'ledger/get_balance' } });
  });
});
