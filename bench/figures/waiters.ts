import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { actionBody } from '../actions';
import type { BenchStack } from '../stack';
import { elapsedMs, summarize, type Summary } from '../stats';

export interface WaitersFigure {
  waiters: number;
  /** HTTP status of the routed reviewer's decision, taken while every waiter was held. */
  decisionStatus: number;
  decisionCallMs: number;
  /** From the moment the decision was sent until each waiter's answer arrived. */
  wokenAfterMs: Summary & { max: number };
  /** Waiters whose answer was the decided action (200); anything else is a failure of the figure. */
  decided: number;
  statuses: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The waiting figure: `count` agents wait on one pending action — half GET /wait, a quarter
 * POST ?wait retries of the same submission (same key and body), a quarter GET /wait?until=completed
 * — then the routed reviewer decides. Waits hold nothing in Temporal, so the decision must answer 2xx
 * and every waiter return within a second of it.
 */
export async function measureWaiters(stack: BenchStack, count: number): Promise<WaitersFigure> {
  const body = actionBody('bench.review');
  const key = randomUUID();
  const submitted = await stack.request('POST', '/v1/actions', { key: stack.keys.agent, body, headers: { 'idempotency-key': key } });
  const pending = (await submitted.json()) as { id: string; status: string };
  if (pending.status !== 'pending_review') throw new Error(`expected pending_review, got ${pending.status}`);
  const answered: { status: number; actionStatus: string; at: bigint }[] = [];
  // Plain node:http with one socket per waiter: fetch's connection pool would queue some requests
  // client-side, and those would be sent (and answered) only after the decision.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const url = new URL(stack.baseUrl);
  const waiter = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const post = i % 4 === 1;
      const payload = post ? JSON.stringify(body) : undefined;
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: post ? 'POST' : 'GET',
          path: post ? '/v1/actions?wait=60' : `/v1/actions/${encodeURIComponent(pending.id)}/wait?timeout=60${i % 4 === 3 ? '&until=completed' : ''}`,
          headers: {
            authorization: `Bearer ${stack.keys.agent}`,
            ...(post ? { 'content-type': 'application/json', 'idempotency-key': key, 'content-length': Buffer.byteLength(payload!) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const at = process.hrtime.bigint();
            const view = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: string };
            answered.push({ status: res.statusCode ?? 0, actionStatus: view.status ?? 'none', at });
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const all = Promise.all(Array.from({ length: count }, (_, i) => waiter(i)));
  // Decide only once the API holds every waiter.
  const registeredBy = Date.now() + 30_000;
  while (stack.waiting() < count) {
    if (Date.now() > registeredBy) throw new Error(`only ${stack.waiting()} of ${count} waiters registered within 30 s`);
    await sleep(20);
  }
  if (answered.length) throw new Error(`${answered.length} waiters returned before the decision`);
  const started = process.hrtime.bigint();
  const decision = await stack.request('POST', `/v1/actions/${pending.id}/decision`, { key: stack.keys.reviewer, body: { verdict: 'approve', rationale: 'benchmark' } });
  const decisionCallMs = elapsedMs(started);
  await decision.arrayBuffer().catch(() => undefined);
  await all;
  agent.destroy();
  // From the moment the decision was sent, as figure 4 measures a single waiter.
  const woken = answered.map((a) => Number(a.at - started) / 1e6);
  const statuses: Record<string, number> = {};
  for (const a of answered) statuses[`${a.status} ${a.actionStatus}`] = (statuses[`${a.status} ${a.actionStatus}`] ?? 0) + 1;
  return {
    waiters: count,
    decisionStatus: decision.status,
    decisionCallMs,
    wokenAfterMs: { ...summarize(woken), max: Math.max(...woken) },
    decided: answered.filter((a) => a.status === 200 && ['approved', 'executing', 'executed'].includes(a.actionStatus)).length,
    statuses,
  };
}
