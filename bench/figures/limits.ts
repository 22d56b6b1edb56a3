import os from 'node:os';
import type { BenchPolicyVariant } from '../bench-policy';
import type { BenchStack } from '../stack';
import { round } from '../stats';
import { measureThroughput, type CpuPerAction, type ThroughputPoint } from './throughput';

const VARIANTS: readonly BenchPolicyVariant[] = ['plain', 'limits'];

export interface LimitsThroughputPoint {
  concurrency: number;
  variant: BenchPolicyVariant;
  /** Over all of the variant's slices at this concurrency: completed / elapsed. */
  actionsPerSecond: number;
  completed: number;
  errors: number;
  durationS: number;
  /** Each slice's own rate, in the order run: their spread is the noise of this point. */
  slices: number[];
  /** Weighted by completed actions over the slices. */
  cpuMsPerAction: CpuPerAction;
  byType: ThroughputPoint['byType'];
}

export interface LimitsThroughputFigure {
  plan: { concurrency: number[]; slices: number; sliceSeconds: number; order: string };
  points: LimitsThroughputPoint[];
  best: Record<BenchPolicyVariant, { concurrency: number; actionsPerSecond: number }>;
  /** Best point with limits / best point without, and the drop in percent. */
  ratio: number;
  dropPercent: number;
  /** 1-minute load average before each concurrency's slices and after the last. */
  loadAverage: number[];
  /** What the limits variant read: ledger rows written in this run, and one decision's aggregates. */
  check: { ledgerRows: number; limitAdmissions: number; aggregatesInOneDecision: string[] };
}

/** ABBA: plain, limits, limits, plain, plain, limits, … so a drift in machine load weighs on both alike. */
export function variantOfSlice(slice: number): BenchPolicyVariant {
  return VARIANTS[((slice + 1) >> 1) % 2]!;
}

function combine(concurrency: number, variant: BenchPolicyVariant, slices: ThroughputPoint[]): LimitsThroughputPoint {
  const completed = slices.reduce((sum, s) => sum + s.completed, 0);
  const durationS = slices.reduce((sum, s) => sum + s.durationS, 0);
  const weighted = (key: keyof CpuPerAction) => round(slices.reduce((sum, s) => sum + s.cpuMsPerAction[key] * s.completed, 0) / Math.max(1, completed), 2);
  const byType = { 'bench.allow': 0, 'bench.deny': 0, 'bench.review': 0 };
  for (const slice of slices) for (const type of Object.keys(byType) as (keyof typeof byType)[]) byType[type] += slice.byType[type];
  return {
    concurrency,
    variant,
    actionsPerSecond: round(completed / durationS, 1),
    completed,
    errors: slices.reduce((sum, s) => sum + s.errors, 0),
    durationS: round(durationS, 1),
    slices: slices.map((s) => s.actionsPerSecond),
    cpuMsPerAction: {
      node: weighted('node'),
      worker: weighted('worker'),
      api: weighted('api'),
      temporal: weighted('temporal'),
      postgres: weighted('postgres'),
      total: weighted('total'),
    },
    byType,
  };
}

/**
 * Figure 7: the gate's closed-loop throughput (figure 3's load: 70/20/10 allow/deny/review) with
 * the bench policy alone and with three cumulative limits added (bench/policies/limits), in one
 * run on one stack. The worker process switches policy between slices (nothing is in flight then:
 * each slice waits for its agents' last answers); slices alternate ABBA at each concurrency.
 */
export async function measureLimitsThroughput(
  stack: BenchStack,
  plan: { concurrency: number[]; slices: number; sliceSeconds: number },
  log: (line: string) => void,
): Promise<LimitsThroughputFigure> {
  const loadAverage: number[] = [];
  const points: LimitsThroughputPoint[] = [];
  const { rows: before } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM limit_ledger');
  let limitAdmissions = 0;
  for (const concurrency of plan.concurrency) {
    loadAverage.push(round(os.loadavg()[0]!));
    const runs: Record<BenchPolicyVariant, ThroughputPoint[]> = { plain: [], limits: [] };
    for (let slice = 0; slice < plan.slices * 2; slice++) {
      const variant = variantOfSlice(slice);
      await stack.worker.usePolicy(variant);
      const point = await measureThroughput(stack, concurrency, plan.sliceSeconds);
      runs[variant].push(point);
      if (variant === 'limits') limitAdmissions += point.completed + point.errors;
      log(`  ${variant} at concurrency ${concurrency}: ${point.actionsPerSecond} actions/s (${point.errors} errors)`);
    }
    for (const variant of VARIANTS) points.push(combine(concurrency, variant, runs[variant]));
  }
  loadAverage.push(round(os.loadavg()[0]!));
  await stack.worker.usePolicy('plain');

  const bestOf = (variant: BenchPolicyVariant) =>
    points.filter((p) => p.variant === variant).reduce((a, b) => (b.actionsPerSecond > a.actionsPerSecond ? b : a));
  const best = { plain: bestOf('plain'), limits: bestOf('limits') };
  const ratio = best.limits.actionsPerSecond / best.plain.actionsPerSecond;

  const { rows: after } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM limit_ledger');
  const { rows: decisions } = await stack.pool.query<{ limits: string[] }>(
    `SELECT ARRAY(SELECT a->>'limit' FROM jsonb_array_elements(e.data->'decision'->'aggregates') a) AS limits
       FROM action_events e WHERE e.event_key = 'classified' AND e.data->'decision' ? 'aggregates' ORDER BY e.recorded_at DESC LIMIT 1`,
  );
  return {
    plan: { ...plan, order: 'ABBA (plain, limits, limits, plain, …) at each concurrency' },
    points,
    best: {
      plain: { concurrency: best.plain.concurrency, actionsPerSecond: best.plain.actionsPerSecond },
      limits: { concurrency: best.limits.concurrency, actionsPerSecond: best.limits.actionsPerSecond },
    },
    ratio: round(ratio, 3),
    dropPercent: round((1 - ratio) * 100, 1),
    loadAverage,
    check: { ledgerRows: after[0]!.n - before[0]!.n, limitAdmissions, aggregatesInOneDecision: decisions[0]?.limits ?? [] },
  };
}
