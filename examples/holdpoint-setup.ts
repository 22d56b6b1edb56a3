/**
 * The one client every example shares. With `npm start` running, paste the `export HOLDPOINT_…`
 * lines it printed; HOLDPOINT_AGENT_KEY is the agent's key (support-bot).
 */
import { createHoldpointClient } from 'holdpoint/client';

export const holdpoint = createHoldpointClient({
  url: process.env.HOLDPOINT_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.HOLDPOINT_API_KEY ?? process.env.HOLDPOINT_AGENT_KEY ?? '',
});

/** The principal the key belongs to; `npm start` seeds `support-bot`. */
export const agentId = process.env.HOLDPOINT_AGENT_ID ?? 'support-bot';
