import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { HoldpointApiError, HoldpointConnectionError, type ActionView, type HoldpointClient, type JsonObject, type JsonValue } from '../client';
import { awaitExecutionStart } from '../client/execution-start';
import { findUnsafeJson, jsonPath } from '../../shared/json-safety';
import { approvalStatusShape, toApprovalStatus } from './approval-status';
import { progressReporter, type ProgressChannel } from './tool-progress';

export interface ApprovalServerOptions {
  client: HoldpointClient;
  agentId: string;
  /** Longest a single tool call may wait for a decision. Default 600 s. */
  maxWaitSeconds?: number;
}

export const SERVER_VERSION = '0.1.0';

const INSTRUCTIONS = `Holdpoint is the approval gate for consequential actions (refunds, customer messages, permission changes, exports).
Before such an action, call request_approval with its type, the resource it touches and the exact payload.
Execute only when the answer is approved or allowed, and only with approvedPayload (a reviewer may have edited it); then call report_execution.
If it is refused, do not retry or work around it: tell the user the reason and the reviewer's rationale.`;

const jsonObject = z.record(z.string(), z.unknown());
const milestone = z.enum(['decided', 'completed']);

/** `holdpoint mcp serve`: request_approval, get_approval_status and report_execution over MCP. */
export function createApprovalServer({ client, agentId, maxWaitSeconds = 600 }: ApprovalServerOptions): McpServer {
  const server = new McpServer({ name: 'holdpoint', version: SERVER_VERSION }, { instructions: INSTRUCTIONS });
  const waitSeconds = z.number().int().min(0).max(maxWaitSeconds);

  server.registerTool(
    'request_approval',
    {
      title: 'Request approval for an action',
      description:
        'Submit an action to Holdpoint before executing it. Waits up to waitSeconds for the decision. ' +
        'Reuse the same idempotencyKey when retrying, so a retry never creates a second request.',
      inputSchema: {
        actionType: z.string().min(1).describe('dotted action type, e.g. payments.refund, messages.email.send'),
        resource: z.object({ type: z.string().min(1), id: z.string().min(1) }).describe('what the action touches, e.g. {type: "billing", id: "cus_123"}'),
        payload: jsonObject.describe('the exact parameters the action will run with'),
        context: jsonObject.optional().describe('why: conversation or ticket context for the reviewer'),
        onBehalfOf: z.string().optional().describe('the user or account the agent acts for'),
        idempotencyKey: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/).optional(),
        waitSeconds: waitSeconds.default(25).describe('how long to wait for a decision in this call'),
      },
      outputSchema: approvalStatusShape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    (input, extra) =>
      answer(input, async () => {
        const progress = progressReporter(extra as ProgressChannel);
        const { action, decided } = await client.submit(
          {
            agent: { id: agentId, ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}) },
            action: { type: input.actionType },
            resource: input.resource,
            payload: input.payload as JsonObject,
            ...(input.context ? { context: input.context as JsonObject } : {}),
          },
          // Classification is part of the submit; a decision by a person is what waitFor holds for.
          { idempotencyKey: input.idempotencyKey, signal: extra.signal },
        );
        progress(describe(action));
        if (decided) return settle(action, extra.signal);
        return waitFor(action.id, 'decided', input.waitSeconds, progress, extra.signal);
      }),
  );

  server.registerTool(
    'get_approval_status',
    {
      title: 'Get (or wait for) an approval decision',
      description: 'The current state of a request; with waitSeconds, waits until it is decided (or completed) first.',
      inputSchema: {
        actionId: z.string().min(1),
        waitSeconds: waitSeconds.default(0),
        until: milestone.default('decided').describe('decided: the answer; completed: also executed and recorded'),
      },
      outputSchema: approvalStatusShape,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (input, extra) => answer(input, () => waitFor(input.actionId, input.until, input.waitSeconds, progressReporter(extra as ProgressChannel), extra.signal)),
  );

  server.registerTool(
    'report_execution',
    {
      title: 'Report what was executed',
      description: 'After executing an approved action (agent execution mode): the payload actually used, whether it succeeded, and its result or error.',
      inputSchema: {
        actionId: z.string().min(1),
        payload: jsonObject.describe('the payload actually executed: approvedPayload, unchanged'),
        succeeded: z.boolean(),
        result: z.unknown().optional(),
        error: z.string().max(4_000).optional(),
      },
      outputSchema: approvalStatusShape,
      annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: true },
    },
    (input, extra) =>
      answer(input, async () =>
        client.reportExecution(
          input.actionId,
          {
            payload: input.payload as JsonObject,
            succeeded: input.succeeded,
            ...(input.result === undefined ? {} : { result: input.result as JsonValue }),
            ...(input.error === undefined ? {} : { error: input.error }),
          },
          { signal: extra.signal },
        ),
      ),
  );

  /** Long-polls with a progress notification after every poll, so callers keep their request open. */
  async function waitFor(actionId: string, until: 'decided' | 'completed', seconds: number, progress: (message: string) => void, signal: AbortSignal) {
    const { action, reached } = await client.wait(actionId, { until, timeoutMs: seconds * 1000, pollSeconds: 15, signal, onPoll: (latest) => progress(describe(latest)) });
    return reached && until === 'decided' ? settle(action, signal) : action;
  }

  /** Approved or allowed: wait the moment it takes to learn who executes (the agent, or Holdpoint). */
  function settle(action: ActionView, signal: AbortSignal) {
    return awaitExecutionStart(client, action, 10_000, signal);
  }

  return server;
}

function describe(action: ActionView): string {
  if (action.status === 'pending_review' && action.review) return `waiting for ${action.review.assignees.join(', ') || 'a reviewer'}${action.review.dueAt ? ` (due ${action.review.dueAt})` : ''}`;
  return `holdpoint: ${action.status.replace(/_/g, ' ')}`;
}

async function answer(input: unknown, run: () => Promise<ActionView>): Promise<CallToolResult> {
  // JSON-RPC parsing turns 1e400 into Infinity, which the client would then send as null.
  const unsafe = findUnsafeJson(input);
  if (unsafe) return { isError: true, content: [{ type: 'text', text: `${jsonPath('arguments', unsafe.path)} ${unsafe.message}; nothing was sent to Holdpoint.` }] };
  try {
    const status = toApprovalStatus(await run());
    return { content: [{ type: 'text', text: JSON.stringify(status, null, 2) }], structuredContent: status };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: explainFailure(err) }] };
  }
}

export function explainFailure(err: unknown): string {
  if (err instanceof HoldpointApiError) {
    const issues = err.problem.issues?.map((issue) => `\n- ${issue.path}: ${issue.message}`).join('') ?? '';
    return `Holdpoint rejected the request: ${err.problem.title} (${err.status}): ${err.problem.detail}${issues}`;
  }
  if (err instanceof HoldpointConnectionError) return `Holdpoint is unreachable, so nothing was decided or recorded: ${err.message}. Retry later with the same idempotencyKey.`;
  return `Holdpoint request failed: ${err instanceof Error ? err.message : String(err)}`;
}
