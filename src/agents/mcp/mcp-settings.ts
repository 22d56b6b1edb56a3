import { z } from 'zod';

/**
 * Client-side settings of the MCP commands (not the server's src/platform/config.ts): where Holdpoint is and
 * who the agent is. The key must belong to HOLDPOINT_AGENT_ID (the API checks).
 */
const mcpSettingsSchema = z.object({
  HOLDPOINT_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  HOLDPOINT_API_KEY: z.string({ error: 'is required: an agent API key (npm start prints HOLDPOINT_AGENT_KEY)' }).min(1),
  HOLDPOINT_AGENT_ID: z
    .string({ error: 'is required: the agent id the API key belongs to (support-bot with npm start)' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, 'letters, digits and . _ : @ - only'),
});

export interface McpSettings {
  url: string;
  apiKey: string;
  agentId: string;
}

export class McpSettingsError extends Error {}

export function loadMcpSettings(env: NodeJS.ProcessEnv = process.env): McpSettings {
  const parsed = mcpSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new McpSettingsError(`invalid Holdpoint client settings:\n${lines.join('\n')}`);
  }
  const { HOLDPOINT_URL: url, HOLDPOINT_API_KEY: apiKey, HOLDPOINT_AGENT_ID: agentId } = parsed.data;
  return { url, apiKey, agentId };
}
