/**
 * Action ids, which are also the workflow ids: `action-<length of agent id>-<agent id>-<key>`,
 * e.g. `action-11-support-bot-demo-1`. Agent ids and keys may both contain `-`, so a separator
 * alone is ambiguous (`support` + `bot-x` = `support-bot` + `x`); the length says where the
 * agent id ends, so no two (agent, key) pairs share an id. Everything stays URL-safe.
 */

export interface ActionIdParts {
  agentId: string;
  idempotencyKey: string;
}

export function actionWorkflowId(agentId: string, idempotencyKey: string): string {
  return `action-${agentId.length}-${agentId}-${idempotencyKey}`;
}

/** The (agent, key) pair an id encodes, or undefined when no pair encodes to it. */
export function parseActionId(id: string): ActionIdParts | undefined {
  const prefix = /^action-([1-9][0-9]{0,5})-/.exec(id);
  if (!prefix) return undefined;
  const start = prefix[0].length;
  const end = start + Number(prefix[1]);
  if (id.length <= end + 1 || id[end] !== '-') return undefined;
  return { agentId: id.slice(start, end), idempotencyKey: id.slice(end + 1) };
}
