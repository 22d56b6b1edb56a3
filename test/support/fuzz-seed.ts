import type { ApiStack } from './api-stack';
import { eventually } from './eventually';
import { readJson } from './http';

/** A few real actions for path parameters: pending, auto-denied and executed ones. */
export async function seedActions(stack: ApiStack): Promise<string[]> {
  const submit = async (type: string, key: string) => {
    const body = { agent: { id: 'support-bot' }, action: { type }, resource: { type: 'billing', id: 'cus_fuzz' }, payload: { amount: 50 } };
    const response = await stack.request('POST', '/v1/actions', { as: 'agent', body, headers: { 'Idempotency-Key': key } });
    return (await readJson(response)).id as string;
  };
  const suffix = Date.now().toString(36);
  const ids = await Promise.all([
    submit('test.refund', `fuzz-pending-1-${suffix}`),
    submit('test.refund', `fuzz-pending-2-${suffix}`),
    submit('test.nuke', `fuzz-denied-${suffix}`),
    submit('test.ping', `fuzz-executed-${suffix}`),
    submit('test.notify', `fuzz-notify-${suffix}`),
  ]);
  await eventually(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM action_events WHERE type = 'action.completed' AND action_id = ANY($1)`, [ids]);
    return (rows[0]?.n ?? 0) >= 2;
  }, 30_000, 'seed actions settled');
  return ids;
}
