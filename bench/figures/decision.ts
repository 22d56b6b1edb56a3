import { submitAction } from '../actions';
import type { BenchStack } from '../stack';
import { elapsedMs, summarize, type Summary } from '../stats';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Figure 4: an agent long-polls GET /wait on a pending action; a reviewer approves; measured from
 * the moment the decision request is sent until the agent's long-poll returns.
 */
export async function measureDecisionToAgent(stack: BenchStack, samples: number): Promise<{ latencyMs: Summary; decideCallMs: Summary }> {
  const latencies: number[] = [];
  const decideCalls: number[] = [];
  for (let i = 0; i < samples; i++) {
    const pending = await submitAction(stack, 'bench.review');
    if (pending.status !== 'pending_review') throw new Error(`expected pending_review, got ${pending.status}`);
    let returnedAt = 0n;
    const poll = stack.request('GET', `/v1/actions/${pending.id}/wait?until=decided&timeout=30`, { key: stack.keys.agent }).then(async (response) => {
      returnedAt = process.hrtime.bigint();
      return (await response.json()) as { status?: string };
    });
    // Let the long-poll reach the workflow (its Update is registered) before deciding.
    await sleep(150);
    const started = process.hrtime.bigint();
    const decision = await stack.request('POST', `/v1/actions/${pending.id}/decision`, {
      key: stack.keys.reviewer,
      body: { verdict: 'approve', rationale: 'benchmark' },
    });
    decideCalls.push(elapsedMs(started));
    if (decision.status !== 200) throw new Error(`decision: HTTP ${decision.status} ${await decision.text()}`);
    await decision.arrayBuffer().catch(() => undefined);
    const outcome = await poll;
    if (outcome.status !== 'approved' && outcome.status !== 'executing' && outcome.status !== 'executed') throw new Error(`agent saw ${outcome.status}`);
    latencies.push(Number(returnedAt - started) / 1e6);
  }
  return { latencyMs: summarize(latencies), decideCallMs: summarize(decideCalls) };
}
