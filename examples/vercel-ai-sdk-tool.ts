/**
 * Vercel AI SDK: a tool whose `execute` is guarded. The model proposes a customer email; Holdpoint
 * holds it for support-leads (who may edit subject and body); the email is sent with exactly the
 * approved text, or the model reads a refusal it can relay to the user.
 *
 *   AI_GATEWAY_API_KEY=… HOLDPOINT_AGENT_KEY=hp_… node --import tsx examples/vercel-ai-sdk-tool.ts
 */
import { generateText, isStepCount, tool } from 'ai';
import { z } from 'zod';
import { guard } from 'holdpoint/client';
import { agentId, holdpoint } from './holdpoint-setup';

const email = z.object({
  customerId: z.string(),
  subject: z.string(),
  body: z.string(),
});
type CustomerEmail = z.infer<typeof email>;

/** The real side effect: your email provider. */
async function sendEmail({ customerId, subject }: CustomerEmail) {
  return { messageId: `msg_${Date.now()}`, to: customerId, subject };
}

const guardedSendEmail = guard('messages.email.send', sendEmail, {
  client: holdpoint,
  agentId,
  resource: (args) => ({ type: 'customer', id: args.customerId }),
  timeoutMs: 15 * 60_000,
});

export const sendCustomerEmail = tool({
  description: 'Email a customer. A support lead reviews every email; if refused, tell the user why.',
  inputSchema: email,
  // The tool call's id as idempotency key: a retried step resumes the same review, never a second one.
  execute: (input, { toolCallId, abortSignal }) => guardedSendEmail(input, { idempotencyKey: toolCallId, signal: abortSignal }),
});

async function main() {
  const { text } = await generateText({
    model: 'openai/gpt-5-mini',
    tools: { sendCustomerEmail },
    stopWhen: isStepCount(4),
    prompt: 'Customer cus_123 was double-charged for order 1182. Apologise by email and say the refund is on its way.',
  });
  console.log(text);
}

if (require.main === module) void main();
