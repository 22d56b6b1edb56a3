/**
 * `holdpoint mcp serve`: the approval tools over stdio (the CLI as a child process) and over
 * Streamable HTTP (in-process), driven by the SDK's real client against the in-process API.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { createHoldpointClient } from '../../src/agents/client';
import { createApprovalServer } from '../../src/agents/mcp/approval-server';
import type { ApprovalStatus } from '../../src/agents/mcp/approval-status';
import { serveStreamableHttp, type RunningHttpServer } from '../../src/agents/mcp/http-transport';
import { startApiStack, type ApiStack } from '../support/api-stack';
import { readJson } from '../support/http';
import { uniqueKey } from '../support/workflow-harness';

const root = path.resolve(__dirname, '../..');
let stack: ApiStack;
let stdio: Client;

beforeAll(async () => {
  stack = await startApiStack();
  stdio = new Client({ name: 'serve-test', version: '1.0.0' });
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  await stdio.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/ops/cli/main.ts', 'mcp', 'serve'],
      cwd: root,
      env: { ...env, HOLDPOINT_URL: stack.baseUrl, HOLDPOINT_API_KEY: stack.keys.agent, HOLDPOINT_AGENT_ID: 'support-bot' },
      stderr: 'pipe',
    }),
  );
});

afterAll(async () => {
  await stdio?.close();
  await stack?.close();
});

const status = (result: unknown) => (result as CallToolResult).structuredContent as unknown as ApprovalStatus;
const transfer = (amount: number, key = uniqueKey('serve')) => ({
  actionType: 'mcp.ledger.transfer',
  resource: { type: 'ledger', id: 'acct_1' },
  payload: { to: 'acct_2', amount },
  idempotencyKey: key,
});

it('lists request_approval, get_approval_status and report_execution', async () => {
  const { tools } = await stdio.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(['get_approval_status', 'report_execution', 'request_approval']);
  expect(stdio.getInstructions()).toContain('approvedPayload');
});

it('walks a held request through approval with an edit, execution and report', async () => {
  const requested = await stdio.callTool({ name: 'request_approval', arguments: { ...transfer(900), waitSeconds: 0 } });
  expect(status(requested)).toMatchObject({ status: 'pending_review', decided: false, risk: 'high', reason: 'Transfer of 900 to acct_2', review: { assignees: ['alice', 'bob'] } });
  expect(status(requested).next).toMatch(/Do not execute it yet/);
  const { actionId } = status(requested);

  const waiting = stdio.callTool({ name: 'get_approval_status', arguments: { actionId, waitSeconds: 30 } }, undefined, { timeout: 40_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  let response: Response;
  do {
    response = await stack.request('POST', `/v1/actions/${actionId}/decision`, { as: 'reviewer', body: { verdict: 'approve', editedPayload: { to: 'acct_2', amount: 300 } } });
  } while (response.status === 409 && /classifying/.test((await readJson(response)).detail));
  expect(response.status).toBe(200);

  const decided = status(await waiting);
  expect(decided).toMatchObject({ status: 'awaiting_report', decided: true, executionMode: 'agent', edited: true, approvedPayload: { to: 'acct_2', amount: 300 } });
  expect(decided.next).toMatch(/exactly approvedPayload \(not your original payload\)/);

  const reported = await stdio.callTool({ name: 'report_execution', arguments: { actionId, payload: decided.approvedPayload, succeeded: true, result: { ok: true } } });
  expect(status(reported)).toMatchObject({ status: 'executed', execution: { mode: 'agent', result: { ok: true } } });
});

it('answers a policy denial with a refusal a model can act on', async () => {
  const result = await stdio.callTool({
    name: 'request_approval',
    arguments: { actionType: 'mcp.ledger.close_account', resource: { type: 'ledger', id: 'acct_1' }, payload: { account: 'acct_1' } },
  });
  expect(result.isError).toBeFalsy();
  expect(status(result)).toMatchObject({ status: 'auto_denied', decided: true, refusal: { outcome: 'denied_by_policy', canAskAgain: false } });
  expect(status(result).next).toContain('Agents may not close ledger accounts');
});

it('reports API errors as tool errors with the problem details', async () => {
  const key = uniqueKey('serve');
  await stdio.callTool({ name: 'request_approval', arguments: { ...transfer(10, key), waitSeconds: 0 } });
  const conflict = (await stdio.callTool({ name: 'request_approval', arguments: { ...transfer(20, key), waitSeconds: 0 } })) as CallToolResult;
  expect(conflict.isError).toBe(true);
  expect(conflict.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('Idempotency key reused (409)') });
});

describe('over Streamable HTTP', () => {
  let http: RunningHttpServer;
  let client: Client;
  beforeAll(async () => {
    const holdpoint = createHoldpointClient({ url: stack.baseUrl, apiKey: stack.keys.agent });
    http = await serveStreamableHttp(() => createApprovalServer({ client: holdpoint, agentId: 'support-bot' }), { host: '127.0.0.1', port: 0 });
    client = new Client({ name: 'serve-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
  });
  afterAll(async () => {
    await client?.close();
    await http?.close();
  });

  it('allows, with the next step spelled out', async () => {
    const result = await client.callTool({
      name: 'request_approval',
      arguments: { actionType: 'mcp.ledger.get_balance', resource: { type: 'ledger', id: 'acct_1' }, payload: { account: 'acct_1' } },
    });
    expect(status(result)).toMatchObject({ status: 'awaiting_report', outcome: 'allow', executionMode: 'agent', approvedPayload: { account: 'acct_1' } });
    expect(status(result).next).toMatch(/^Allowed by policy\. Execute it now/);
  });

  it('rejects a Host header other than localhost (DNS rebinding)', async () => {
    // fetch will not send a Host of our choosing; node:http will.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(http.url, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.on('error', reject);
      request.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    });
    expect(status).toBe(403);
  });
});
