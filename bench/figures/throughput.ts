import { submitAction, type BenchActionType } from '../actions';
import { cpuDelta, cpuSeconds } from '../processes';
import type { BenchStack } from '../stack';
import { floorSample } from './latency';
import { round, summarize, type Summary } from '../stats';

export interface ThroughputPoint {
  concurrency: number;
  durationS: number;
  completed: number;
  errors: number;
  actionsPerSecond: number;
  latencyMs: Summary;
  byType: Record<BenchActionType, number>;
  /** CPU milliseconds spent per completed action by each component during the run. */
  cpuMsPerAction: CpuPerAction;
}

export interface CpuPerAction {
  /** Both Node processes, worker + api (what one process measured before the worker had its own). */
  node: number;
  /** The worker process: Holdpoint worker and floor worker. */
  worker: number;
  /** The bench process: API, Temporal client and the load generator. */
  api: number;
  temporal: number;
  postgres: number;
  total: number;
}

function cpuSnapshot(stack: BenchStack) {
  const pids = stack.childPids();
  const usage = process.cpuUsage();
  return { api: (usage.user + usage.system) / 1e6, worker: cpuSeconds(pids.worker), temporal: cpuSeconds(pids.temporal), postgres: cpuSeconds(pids.postgres) };
}

function cpuPerAction(before: ReturnType<typeof cpuSnapshot>, after: ReturnType<typeof cpuSnapshot>, completed: number): CpuPerAction {
  const per = (seconds: number) => round((seconds * 1000) / Math.max(1, completed), 2);
  const api = after.api - before.api;
  const worker = cpuDelta(before.worker, after.worker);
  const temporal = cpuDelta(before.temporal, after.temporal);
  const postgres = cpuDelta(before.postgres, after.postgres);
  return {
    node: per(api + worker),
    worker: per(worker),
    api: per(api),
    temporal: per(temporal),
    postgres: per(postgres),
    total: per(api + worker + temporal + postgres),
  };
}

/** The floor's own throughput: bare workflows with one no-op activity, same closed loop. */
export async function measureFloorThroughput(stack: BenchStack, concurrency: number, durationS: number) {
  const latencies: number[] = [];
  const before = cpuSnapshot(stack);
  const started = Date.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) latencies.push((await floorSample(stack)).ms);
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  return {
    concurrency,
    workflowsPerSecond: round(latencies.length / elapsed, 1),
    latencyMs: summarize(latencies),
    cpuMsPerWorkflow: cpuPerAction(before, cpuSnapshot(stack), latencies.length),
  };
}

/** 70% allow, 20% deny, 10% review, in a fixed repeating order so every run draws the same mix. */
const MIX: BenchActionType[] = ['bench.allow', 'bench.allow', 'bench.deny', 'bench.allow', 'bench.review', 'bench.allow', 'bench.allow', 'bench.deny', 'bench.allow', 'bench.allow'];

/**
 * Closed loop: `concurrency` agents each submit, wait for the answer and submit again, for
 * `durationS`. Allowed and denied actions use ?wait (the answer is the decision); review actions
 * return once classified as pending, as an agent would before it long-polls.
 */
export async function measureThroughput(stack: BenchStack, concurrency: number, durationS: number): Promise<ThroughputPoint> {
  const latencies: number[] = [];
  const byType: Record<BenchActionType, number> = { 'bench.allow': 0, 'bench.deny': 0, 'bench.review': 0 };
  let errors = 0;
  let next = 0;
  const before = cpuSnapshot(stack);
  const started = Date.now();
  const deadline = started + durationS * 1000;
  const agent = async () => {
    while (Date.now() < deadline) {
      const type = MIX[next++ % MIX.length]!;
      try {
        const result = await submitAction(stack, type, type === 'bench.review' ? undefined : 30);
        latencies.push(result.ms);
        byType[type] += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, agent));
  const elapsed = (Date.now() - started) / 1000;
  return {
    concurrency,
    durationS: round(elapsed),
    completed: latencies.length,
    errors,
    actionsPerSecond: round(latencies.length / elapsed, 1),
    latencyMs: summarize(latencies),
    byType,
    cpuMsPerAction: cpuPerAction(before, cpuSnapshot(stack), latencies.length),
  };
}

/** The knee: the last concurrency whose throughput gain over the previous point was worth its p99. */
export function kneeOf(points: ThroughputPoint[]): number | undefined {
  let knee = points[0]?.concurrency;
  for (let i = 1; i < points.length; i++) {
    const previous = points[i - 1]!;
    const point = points[i]!;
    if (point.actionsPerSecond >= previous.actionsPerSecond * 1.1) knee = point.concurrency;
    else break;
  }
  return knee;
}
