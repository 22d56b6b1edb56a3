import type { ActionView } from '../../shared/wire-types';
import type { HoldpointClient } from './holdpoint-client';
import { sleep } from './retry-policy';

/**
 * `approved`/`allowed` last only until the workflow starts executing; the next status tells the
 * execution mode (`awaiting_report`: the agent runs it; `executing`: Holdpoint does).
 */
export async function awaitExecutionStart(client: HoldpointClient, action: ActionView, limitMs: number, signal?: AbortSignal): Promise<ActionView> {
  const until = Date.now() + limitMs;
  let current = action;
  for (let delay = 25; (current.status === 'approved' || current.status === 'allowed') && Date.now() < until; delay = Math.min(delay * 2, 1_000)) {
    await sleep(delay, signal);
    current = await client.get(current.id, { signal });
  }
  return current;
}
