import { randomUUID } from 'node:crypto';
import { submitAction } from '../actions';
import type { BenchStack } from '../stack';
import { elapsedMs, percentile, round, summarize, type Summary } from '../stats';

export interface LatencyFigures {
  floor: Summary;
  /** POST /v1/actions?wait until the response: the action is allowed (decided), execution may still run. */
  gateDecided: Summary;
  /** POST /v1/actions?wait&until=completed: executed by the HTTP executor and recorded, in one call. */
  gateExecuted: Summary;
  /** Pair by pair (gate sample / floor sample taken back to back). */
  ratioDecided: Summary;
  ratioExecuted: Summary;
  /** Pair by pair (gate − floor), ms. */
  overheadDecidedMs: Summary;
  overheadExecutedMs: Summary;
  historyEvents: { floor: HistoryShape; gate: HistoryShape };
}

export interface HistoryShape {
  events: number;
  workflowTasks: number;
  activities: number;
  activityNames: string[];
  /** Medians over the sampled histories, from event timestamps (server clock). */
  timeline: HistoryTimeline;
}

export interface HistoryTimeline {
  samples: number;
  /** WorkflowExecutionStarted → WorkflowExecutionCompleted. */
  totalMs: number;
  /** Sum over workflow tasks of scheduled → completed (server dispatch + worker processing). */
  workflowTaskMs: number;
  /** Sum over activities of scheduled → started (matching, poll). */
  activityQueueMs: number;
  /** Sum over activities of started → completed (our code plus the completion round trip). */
  activityRunMs: number;
  perActivity: { name: string; queueMs: number; runMs: number }[];
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<BenchStack['client']['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

function eventMs(event: HistoryEvent | undefined): number {
  const time = event?.eventTime;
  return time ? Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6 : Number.NaN;
}

function timelineOf(events: HistoryEvent[]) {
  const byId = new Map(events.map((event) => [Number(event.eventId), event]));
  let workflowTaskMs = 0;
  const perActivity: { name: string; queueMs: number; runMs: number }[] = [];
  for (const event of events) {
    const task = event.workflowTaskCompletedEventAttributes;
    if (task) workflowTaskMs += eventMs(event) - eventMs(byId.get(Number(task.scheduledEventId)));
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const scheduled = byId.get(Number(done.scheduledEventId));
      const startedAt = byId.get(Number(done.startedEventId));
      perActivity.push({
        name: scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
        queueMs: eventMs(startedAt) - eventMs(scheduled),
        runMs: eventMs(event) - eventMs(startedAt),
      });
    }
  }
  return {
    totalMs: eventMs(events.at(-1)) - eventMs(events[0]),
    workflowTaskMs,
    activityQueueMs: perActivity.reduce((sum, a) => sum + a.queueMs, 0),
    activityRunMs: perActivity.reduce((sum, a) => sum + a.runMs, 0),
    perActivity,
  };
}

export async function floorSample(stack: BenchStack): Promise<{ ms: number; id: string }> {
  const id = `floor-${randomUUID()}`;
  const started = process.hrtime.bigint();
  await stack.client.workflow.execute('floorWorkflow', { taskQueue: stack.floorTaskQueue, workflowId: id, args: [] });
  return { ms: elapsedMs(started), id };
}

async function gateSample(stack: BenchStack, until: 'decided' | 'completed'): Promise<{ ms: number; id: string }> {
  const started = process.hrtime.bigint();
  const submitted = await submitAction(stack, 'bench.allow', 30, until);
  const ms = elapsedMs(started);
  const expected = until === 'completed' ? ['executed'] : ['allowed', 'executing', 'executed'];
  if (!expected.includes(submitted.status)) throw new Error(`expected ${expected.join(' or ')} (until ${until}), got ${submitted.status}`);
  return { ms, id: submitted.id };
}

export async function historyShape(stack: BenchStack, workflowIds: string[]): Promise<HistoryShape> {
  const histories = await Promise.all(workflowIds.map(async (id) => (await stack.client.workflow.getHandle(id).fetchHistory()).events ?? []));
  const events = histories.at(-1) ?? [];
  const timelines = histories.map(timelineOf);
  const median = (pick: (t: ReturnType<typeof timelineOf>) => number) => round(percentile(timelines.map(pick), 50), 1);
  const timeline: HistoryTimeline = {
    samples: timelines.length,
    totalMs: median((t) => t.totalMs),
    workflowTaskMs: median((t) => t.workflowTaskMs),
    activityQueueMs: median((t) => t.activityQueueMs),
    activityRunMs: median((t) => t.activityRunMs),
    perActivity: (timelines.at(-1)?.perActivity ?? []).map((activity, i) => ({
      name: activity.name,
      queueMs: median((t) => t.perActivity[i]?.queueMs ?? Number.NaN),
      runMs: median((t) => t.perActivity[i]?.runMs ?? Number.NaN),
    })),
  };
  const names = events.flatMap((event) => (event.activityTaskScheduledEventAttributes ? [event.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : []));
  return {
    events: events.length,
    workflowTasks: events.filter((event) => event.workflowTaskCompletedEventAttributes).length,
    activities: names.length,
    activityNames: names,
    timeline,
  };
}

/** Figures 1 and 2, interleaved so both see the same machine load: floor, gate, floor, gate… */
export async function measureLatency(stack: BenchStack, samples: number, warmup: number, log: (line: string) => void): Promise<LatencyFigures> {
  log(`latency: warm-up ${warmup} rounds…`);
  for (let i = 0; i < warmup; i++) {
    await floorSample(stack);
    await gateSample(stack, 'decided');
    await gateSample(stack, 'completed');
  }
  log(`latency: ${samples} rounds of floor, gate → allowed, gate → executed…`);
  const floor: number[] = [];
  const decided: number[] = [];
  const executed: number[] = [];
  const floorIds: string[] = [];
  const gateIds: string[] = [];
  const takers = [
    async () => {
      const f = await floorSample(stack);
      floor.push(f.ms);
      floorIds.push(f.id);
    },
    async () => decided.push((await gateSample(stack, 'decided')).ms),
    async () => {
      const g = await gateSample(stack, 'completed');
      executed.push(g.ms);
      gateIds.push(g.id);
    },
  ];
  for (let i = 0; i < samples; i++) {
    // Rotate the order so no kind always follows another's idle gap.
    for (let k = 0; k < takers.length; k++) await takers[(i + k) % takers.length]!();
  }
  const pairs = (gate: number[], op: (g: number, f: number) => number) => gate.map((g, i) => op(g, floor[i]!));
  return {
    floor: summarize(floor),
    gateDecided: summarize(decided),
    gateExecuted: summarize(executed),
    ratioDecided: summarize(pairs(decided, (g, f) => g / f)),
    ratioExecuted: summarize(pairs(executed, (g, f) => g / f)),
    overheadDecidedMs: summarize(pairs(decided, (g, f) => g - f)),
    overheadExecutedMs: summarize(pairs(executed, (g, f) => g - f)),
    historyEvents: { floor: await historyShape(stack, floorIds.slice(-20)), gate: await historyShape(stack, gateIds.slice(-20)) },
  };
}

export function p99Ratio(gate: Summary, floor: Summary): number {
  return round(gate.p99 / floor.p99);
}

export { percentile };
