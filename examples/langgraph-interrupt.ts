/**
 * LangGraph.js: a held action pauses the graph with `interrupt()` instead of blocking a worker.
 *
 * The export node calls the guarded function with `timeoutMs: 0` and `onTimeout: 'leave_pending'`:
 * allowed or denied actions answer at once; a held one comes back as a pending refusal, and the
 * node interrupts with Holdpoint's action id. The graph's state is checkpointed; whoever resumes it
 * (here: this script, after a long-poll; in production a webhook on the decision) invokes it with
 * `Command({ resume })`. The node runs again from the top and the same idempotency key finds the
 * now-decided action: the export runs with the approved payload, or the refusal is recorded.
 *
 *   HOLDPOINT_AGENT_KEY=hp_… node --import tsx examples/langgraph-interrupt.ts
 */
import { Annotation, Command, END, MemorySaver, START, StateGraph, interrupt, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { guard, isRefusal, type HoldpointRefusal } from 'holdpoint/client';
import { agentId, holdpoint } from './holdpoint-setup';

interface ExportRequest {
  table: string;
  rows: number;
  destination: string;
}

/** What the graph hands to whoever resumes it. */
interface HoldpointPause {
  actionId: string;
  message: string;
}

/** The real side effect: your warehouse's export job. */
async function runExport(request: ExportRequest) {
  return `exported ${request.rows} rows of ${request.table} to ${request.destination}`;
}

const guardedExport = guard('data.export', runExport, {
  client: holdpoint,
  agentId,
  resource: (args) => ({ type: 'table', id: args.table }),
  timeoutMs: 0, // never block the graph: a pending review interrupts instead
  onTimeout: 'leave_pending',
});

const State = Annotation.Root({
  request: Annotation<ExportRequest>,
  outcome: Annotation<string | HoldpointRefusal | undefined>,
});

const isPending = (value: unknown): value is HoldpointRefusal => isRefusal(value) && value.status === 'pending_review';

async function exportNode(state: typeof State.State, config: LangGraphRunnableConfig) {
  const idempotencyKey = `${config.configurable?.thread_id}-export`;
  let outcome = await guardedExport(state.request, { idempotencyKey });
  if (isPending(outcome)) {
    interrupt<HoldpointPause, unknown>({ actionId: outcome.actionId, message: outcome.message });
    // Only reached if resumed while still pending: ask again (the same action, by its key).
    outcome = await guardedExport(state.request, { idempotencyKey });
  }
  if (typeof outcome === 'string' || isRefusal(outcome)) return { outcome };
  return { outcome: outcome.message };
}

export const graph = new StateGraph(State).addNode('export', exportNode).addEdge(START, 'export').addEdge('export', END).compile({ checkpointer: new MemorySaver() });

async function main() {
  const config = { configurable: { thread_id: `ticket-${Date.now()}` } };
  await graph.invoke({ request: { table: 'customers', rows: 5_000, destination: 's3://reports/q3.csv' } }, config);
  for (;;) {
    const snapshot = await graph.getState(config);
    const pause = snapshot.tasks.flatMap((task) => task.interrupts)[0]?.value as HoldpointPause | undefined;
    if (!pause) break;
    console.log(`paused: ${pause.message}`);
    await holdpoint.wait(pause.actionId, { until: 'decided', timeoutMs: 4 * 60 * 60_000 });
    await graph.invoke(new Command({ resume: true }), config);
  }
  console.log((await graph.getState(config)).values.outcome);
}

if (require.main === module) void main();
