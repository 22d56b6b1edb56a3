import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { guard, isHoldpointExecution, isRefusal, type GuardEvent, type HoldpointClient, type JsonObject, type JsonValue } from '../client';
import { findUnsafeJson, jsonPath } from '../../shared/json-safety';
import { explainFailure } from './approval-server';
import { serverSlug, toolCatalog } from './tool-catalog';
import { progressReporter, type ProgressChannel } from './tool-progress';

export { serverSlug, toolActionType } from './tool-catalog';

export interface GatewayOptions {
  holdpoint: HoldpointClient;
  agentId: string;
  /** A connected client of the wrapped (upstream) server. */
  upstream: Client;
  /** `<server>` in `mcp.<server>.<tool>`; default: the upstream's own name. */
  serverName?: string;
  /** How long a call may wait for a decision before it is withdrawn. Default 10 minutes. */
  decisionTimeoutMs?: number;
  /** How long a forwarded call may run upstream (reset by its progress). Default 10 minutes. */
  upstreamTimeoutMs?: number;
}

const RESULT_TEXT_LIMIT = 2_000;

/**
 * `holdpoint mcp gateway`: an MCP server in front of another. Tools are listed unchanged; every
 * tools/call of a listed tool becomes a Holdpoint action `mcp.<server>.<tool>` with the arguments
 * as payload and is forwarded only once allowed or approved, with the approved (possibly edited)
 * arguments. What the upstream answered is reported back as the execution. Refusals, and calls of
 * tools the upstream does not list, come back as tool errors.
 */
export function createGatewayServer(options: GatewayOptions): Server {
  const { upstream, holdpoint, agentId } = options;
  const upstreamInfo = upstream.getServerVersion();
  const server = serverSlug(options.serverName ?? upstreamInfo?.name ?? 'upstream');
  const upstreamTools = upstream.getServerCapabilities()?.tools;
  const instructions = [
    upstream.getInstructions(),
    `Calls to these tools pass through Holdpoint, an approval gate: a call may wait for a human reviewer, run with arguments the reviewer edited, or be refused with a reason. Respect refusals; do not retry refused calls.`,
  ]
    .filter(Boolean)
    .join('\n\n');
  const gateway = new Server(
    { name: upstreamInfo?.name ?? server, version: upstreamInfo?.version ?? '0.0.0', title: upstreamInfo?.title },
    { capabilities: { tools: { listChanged: upstreamTools?.listChanged ?? false } }, instructions },
  );

  const catalog = toolCatalog(upstream, server);
  gateway.setRequestHandler(ListToolsRequestSchema, (request, extra) => upstream.listTools(request.params, { signal: extra.signal }));
  if (upstreamTools?.listChanged) {
    upstream.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      catalog.invalidate();
      return gateway.sendToolListChanged();
    });
  }

  gateway.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const tool = await catalog.lookup(name).catch((err: unknown) => ({
      refusal: `The upstream server's tool list could not be read (${err instanceof Error ? err.message : String(err)}), so the call was not forwarded.`,
    }));
    if ('refusal' in tool) return notForwarded(tool.refusal);
    // JSON-RPC parsing turns 1e400 into Infinity, which the client would then send as null.
    const unsafe = findUnsafeJson(args);
    if (unsafe) return notForwarded(`${jsonPath('arguments', unsafe.path)} ${unsafe.message}, so the call was not submitted or forwarded.`);
    const progress = progressReporter(extra as ProgressChannel);
    const forward = guard(
      tool.actionType,
      async (approvedArgs: Record<string, unknown>) =>
        (await upstream.callTool({ name, arguments: approvedArgs }, undefined, {
          signal: extra.signal,
          timeout: options.upstreamTimeoutMs ?? 10 * 60_000,
          resetTimeoutOnProgress: true,
          onprogress: (upstreamProgress) => progress(upstreamProgress.message ?? `${name}: working`),
        })) as CallToolResult,
      {
        client: holdpoint,
        agentId,
        resource: { type: 'mcp', id: `${server}/${name}` },
        tool: name,
        timeoutMs: options.decisionTimeoutMs ?? 10 * 60_000,
        // Short polls: each one ends in a progress notification, which keeps the caller's request alive.
        pollSeconds: 15,
        failureOf: (result) => (result.isError ? resultText(result) || 'the tool returned an error' : undefined),
        reportResult: summarizeResult,
      },
    );
    try {
      const outcome = await forward(args, { signal: extra.signal, onUpdate: (event) => progress(describeEvent(event)) });
      if (isRefusal(outcome)) {
        return { isError: true, content: [{ type: 'text', text: outcome.message }], _meta: { 'dev.holdpoint/refusal': { ...outcome } } };
      }
      if (isHoldpointExecution(outcome)) {
        // Server execution mode: Holdpoint's executor ran it, not the upstream tool.
        const result = outcome.result === null ? '' : `\n${JSON.stringify(outcome.result)}`;
        return { isError: !outcome.succeeded, content: [{ type: 'text', text: `${outcome.message}${result}` }] };
      }
      return outcome;
    } catch (err) {
      if (extra.signal.aborted) throw err;
      // Fail closed: without Holdpoint's answer the call is not forwarded.
      return { isError: true, content: [{ type: 'text', text: `${explainFailure(err)} The tool call was not forwarded.` }] };
    }
  });

  return gateway;
}

function notForwarded(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

function describeEvent(event: GuardEvent): string {
  const { action } = event;
  if (event.type === 'decided') return `holdpoint: ${action.status.replace(/_/g, ' ')}`;
  if (action.status === 'pending_review') {
    const who = action.review?.assignees.join(', ') || 'a reviewer';
    return `holdpoint: waiting for approval by ${who}${action.review?.dueAt ? ` (due ${action.review.dueAt})` : ''}${action.reason ? `: ${action.reason}` : ''}`;
  }
  return `holdpoint: ${action.status.replace(/_/g, ' ')}`;
}

function resultText(result: CallToolResult): string {
  return result.content
    .flatMap((item) => (item.type === 'text' ? [item.text] : []))
    .join('\n')
    .slice(0, RESULT_TEXT_LIMIT);
}

/** The evidence keeps what the tool answered, abbreviated: text, not images or embedded files. */
function summarizeResult(result: CallToolResult): JsonValue {
  const summary: JsonObject = { isError: result.isError === true, text: resultText(result), contentTypes: result.content.map((item) => item.type) };
  if (result.structuredContent && JSON.stringify(result.structuredContent).length <= RESULT_TEXT_LIMIT) {
    summary.structuredContent = result.structuredContent as JsonObject;
  }
  return summary;
}
