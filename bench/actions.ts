import { randomUUID } from 'node:crypto';
import type { BenchStack } from './stack';
import { elapsedMs } from './stats';

export type BenchActionType = 'bench.allow' | 'bench.deny' | 'bench.review';

export interface Submitted {
  id: string;
  status: string;
  httpStatus: number;
  ms: number;
}

let counter = 0;

export function actionBody(type: BenchActionType) {
  counter += 1;
  return {
    agent: { id: 'bench-agent' },
    action: { type },
    resource: { type: 'bench', id: `r-${counter}` },
    payload: { amount: counter % 1000, account: `acc-${counter % 100}`, note: 'benchmark' },
  };
}

/** POST /v1/actions; `wait` seconds hold the response until the action is decided (or `until`). */
export async function submitAction(stack: BenchStack, type: BenchActionType, wait?: number, until?: 'decided' | 'completed'): Promise<Submitted> {
  const started = process.hrtime.bigint();
  const response = await stack.request('POST', `/v1/actions${wait ? `?wait=${wait}${until ? `&until=${until}` : ''}` : ''}`, {
    key: stack.keys.agent,
    body: actionBody(type),
    headers: { 'idempotency-key': randomUUID() },
  });
  const body = (await response.json()) as { id?: string; status?: string; detail?: string };
  const ms = elapsedMs(started);
  if (response.status >= 300 || !body.id) throw new Error(`submit ${type}: HTTP ${response.status} ${body.detail ?? JSON.stringify(body)}`);
  return { id: body.id, status: body.status ?? 'unknown', httpStatus: response.status, ms };
}

/** GET /v1/actions/:id/wait as the agent. */
export async function waitForAction(stack: BenchStack, id: string, until: 'decided' | 'completed', timeout = 30): Promise<{ status: string; ms: number }> {
  const started = process.hrtime.bigint();
  const response = await stack.request('GET', `/v1/actions/${id}/wait?until=${until}&timeout=${timeout}`, { key: stack.keys.agent });
  const body = (await response.json()) as { status?: string; detail?: string };
  if (response.status >= 300) throw new Error(`wait ${id}: HTTP ${response.status} ${body.detail ?? ''}`);
  return { status: body.status ?? 'unknown', ms: elapsedMs(started) };
}
