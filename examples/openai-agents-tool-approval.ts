/**
 * OpenAI Agents SDK: Holdpoint answers the SDK's own tool approvals.
 *
 * The tool is declared `needsApproval: true`, so a run stops with interruptions instead of calling
 * it. Each interruption is submitted to Holdpoint (keyed by the tool call's id) and approved or
 * rejected on Holdpoint's decision; a rejection carries the refusal text to the model. When the run
 * resumes, `execute` goes through `guard` with the same key: it finds the decided action, runs
 * with the approved (possibly edited) payload and reports the execution.
 *
 *   OPENAI_API_KEY=… HOLDPOINT_AGENT_KEY=hp_… node --import tsx examples/openai-agents-tool-approval.ts
 */
import { Agent, run, tool, type RunToolApprovalItem } from '@openai/agents';
import { z } from 'zod';
import { guard, toRefusal, type GuardedResult } from 'holdpoint/client';
import { agentId, holdpoint } from './holdpoint-setup';

const roleChange = z.object({
  userId: z.string().describe('the user to change'),
  role: z.enum(['viewer', 'editor', 'admin', 'owner']),
});
type RoleChange = z.infer<typeof roleChange>;

/** The real side effect: your identity provider's API. */
async function assignRole({ userId, role }: RoleChange): Promise<string> {
  return `${userId} now has the ${role} role`;
}

const TOOL_NAME = 'assign_role';
const resourceOf = (args: RoleChange) => ({ type: 'user', id: args.userId });
// `decide` below submits the very same request (type, tool, resource, payload) under the same key.
const guardedAssignRole = guard('iam.role.assign', assignRole, { client: holdpoint, agentId, resource: resourceOf, tool: TOOL_NAME });

/** What the model reads back: the tool's text, or Holdpoint's refusal as JSON. */
const forModel = (outcome: GuardedResult<string>) => (typeof outcome === 'string' ? outcome : JSON.stringify(outcome));

export const assignRoleTool = tool({
  name: TOOL_NAME,
  description: 'Give a user a role. Requires approval; respect refusals.',
  parameters: roleChange,
  needsApproval: true,
  execute: async (input, _context, details) => forModel(await guardedAssignRole(input, { idempotencyKey: details?.toolCall?.callId })),
});

const agent = new Agent({
  name: 'Access assistant',
  instructions: 'You help administrators manage user access. Use assign_role for role changes.',
  tools: [assignRoleTool],
});

/** Holdpoint decides one interruption; the same idempotency key is what `execute` resumes. */
async function decide(item: RunToolApprovalItem): Promise<{ approved: true } | { approved: false; message: string }> {
  const callId = item.rawItem.type === 'function_call' ? item.rawItem.callId : undefined;
  const args = roleChange.parse(JSON.parse(item.arguments ?? '{}'));
  const submitted = await holdpoint.submit(
    { agent: { id: agentId }, action: { type: 'iam.role.assign', tool: TOOL_NAME }, resource: resourceOf(args), payload: args },
    { idempotencyKey: callId },
  );
  const { action } = submitted.decided ? submitted : await holdpoint.wait(submitted.action.id, { timeoutMs: 30 * 60_000 });
  if (['allowed', 'approved', 'awaiting_report'].includes(action.status)) return { approved: true };
  return { approved: false, message: toRefusal(action).message };
}

async function main() {
  let result = await run(agent, 'Make u_42 an editor on the workspace.');
  while (result.interruptions.length > 0) {
    for (const item of result.interruptions) {
      const decision = await decide(item);
      if (decision.approved) result.state.approve(item);
      else result.state.reject(item, { message: decision.message });
    }
    result = await run(agent, result.state);
  }
  console.log(result.finalOutput);
}

if (require.main === module) void main();
