/**
 * On the MCP side: tool arguments arrive through JSON.parse, so 1e400 is
 * Infinity there, which the Holdpoint client would send as null. The gateway and the approval
 * server refuse such arguments (and lone surrogates, unsafe integers) before anything is
 * submitted. In-memory transports hand the values over without serializing them.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { HoldpointClient } from '../../src/agents/client';
import { createApprovalServer } from '../../src/agents/mcp/approval-server';
import { createGatewayServer } from '../../src/agents/mcp/gateway';

/** A Holdpoint client that records every call and answers none: nothing may reach it. */
function recordingHoldpoint(calls: string[]): HoldpointClient {
  return new Proxy({} as HoldpointClient, {
    get: (_target, method) =>
      method === 'then' ? undefined : (...args: unknown[]) => (calls.push(String(method)), Promise.reject(new Error(`unexpected ${String(method)}(${args.length} args)`))),
  });
}

async function connect(server: Server | McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return client;
}

const text = (result: unknown) => (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('\n');

describe('MCP tool arguments that cannot be kept exactly are refused before submission', () => {
  const calls: string[] = [];
  const upstreamCalls: unknown[] = [];
  let gateway: Client;
  let approvals: Client;

  beforeAll(async () => {
    const upstreamServer = new McpServer({ name: 'ledger', version: '1.0.0' });
    upstreamServer.registerTool('transfer', { inputSchema: { amount: z.unknown(), memo: z.unknown().optional() } }, async (args) => {
      upstreamCalls.push(args);
      return { content: [{ type: 'text', text: 'done' }] };
    });
    const upstream = await connect(upstreamServer);
    gateway = await connect(createGatewayServer({ holdpoint: recordingHoldpoint(calls), agentId: 'support-bot', upstream }));
    approvals = await connect(createApprovalServer({ client: recordingHoldpoint(calls), agentId: 'support-bot' }));
  });

  afterEach(() => {
    expect({ calls: calls.splice(0), upstreamCalls: upstreamCalls.splice(0) }).toEqual({ calls: [], upstreamCalls: [] });
  });

  it.each([
    ['Infinity', { amount: Infinity }, 'arguments.amount'],
    ['an unsafe integer', { amount: 2 ** 53 }, 'arguments.amount'],
    ['a lone surrogate', { amount: 1, memo: { lines: ['ok', '\ud800'] } }, 'arguments.memo.lines.1'],
  ])('gateway: %s', async (_name, args, path) => {
    const result = await gateway.callTool({ name: 'transfer', arguments: args });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(path);
  });

  it.each([
    ['request_approval, payload', { actionType: 'payments.refund', resource: { type: 'billing', id: 'c' }, payload: { amount: -Infinity } }, 'arguments.payload.amount'],
    ['request_approval, context key', { actionType: 'payments.refund', resource: { type: 'billing', id: 'c' }, payload: {}, context: { ['\udc00']: 1 } }, 'arguments.context'],
    ['report_execution, result', { actionId: 'action-11-support-bot-k1', payload: {}, succeeded: true, result: { total: NaN } }, 'arguments.result.total'],
  ])('approval server: %s', async (_name, args, path) => {
    const name = 'actionType' in args ? 'request_approval' : 'report_execution';
    const result = await approvals.callTool({ name, arguments: args });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(path);
  });
});
