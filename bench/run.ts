/**
 * `npm run bench [-- --quick]`: what the gate costs an agent, against the floor of the same stack.
 * Starts its own dev server, embedded Postgres, worker process and API (TEMPORAL_ADDRESS /
 * DATABASE_URL reuse configured ones), warms up, measures, stops everything, writes
 * bench/results.json and prints a markdown table.
 *
 * `npm run bench -- --limits [--quick]`: figure 7 alone, the gate's throughput with and without
 * three cumulative limits in the same run (bench/figures/limits.ts); writes bench/results-limits-gate.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/config';
import { kneeOf, measureFloorThroughput, measureThroughput, type CpuPerAction, type ThroughputPoint } from './figures/throughput';
import { measureDecisionToAgent } from './figures/decision';
import { measureLatency } from './figures/latency';
import { measurePending } from './figures/pending';
import { alive } from './processes';
import { measureLimitsThroughput } from './figures/limits';
import { measurePolicy } from './figures/policy';
import { startBenchStack } from './stack';
import { round } from './stats';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // Experiment: another workflow cache bound than the shipped WORKER_MAX_CACHED_WORKFLOWS default.
    'max-cached-workflows': { type: 'string' },
    'pending-budget': { type: 'string' },
    // Figure 7 only: throughput with and without cumulative limits.
    limits: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = flags.quick ?? false;
const outFile = path.basename(flags.out ?? (flags.limits ? 'results-limits-gate.json' : 'results.json'));
// Through the shipped schema: the same default and the same checks (the SDK turns 1 into 2 with a warning).
const maxCachedWorkflows = loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: flags['max-cached-workflows'] }).worker.maxCachedWorkflows;

const PLAN = quick
  ? { latencySamples: 40, warmup: 10, concurrency: [1, 8, 64], throughputSeconds: 4, floorConcurrency: [64], decisionSamples: 10, pending: 1_000, pendingBudgetS: 30, inboxSamples: 100, policySizes: [10, 100, 1_000, 10_000], policyMs: 150 }
  : { latencySamples: 200, warmup: 30, concurrency: [1, 8, 64, 256], throughputSeconds: 15, floorConcurrency: [8, 64, 256], decisionSamples: 300, pending: 10_000, pendingBudgetS: 1_200, inboxSamples: 300, policySizes: [10, 100, 1_000, 10_000], policyMs: 1_000 };

if (flags['pending-budget']) PLAN.pendingBudgetS = Number(flags['pending-budget']);

const LIMITS_PLAN = quick
  ? { warmupSeconds: 4, figure: { concurrency: [8, 64], slices: 2, sliceSeconds: 5 } }
  : { warmupSeconds: 8, figure: { concurrency: [1, 8, 64], slices: 6, sliceSeconds: 6 } };

const started = Date.now();
const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

function machine() {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'n/a';
    }
  };
  return {
    nproc: sh('nproc', []),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    free: sh('free', ['-h']),
    loadAverageAtStart: os.loadavg().map((x) => round(x)),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

async function main() {
  const host = machine();
  log(`mode: ${quick ? 'quick' : 'full'}${flags.limits ? ', figure 7 (limits) only' : ''}; ${host.nproc} cpus; node ${host.node}`);
  if (flags.limits) return runLimitsFigure(host);

  // Figure 6 first: pure CPU, before the stack adds noise.
  log('policy evaluation…');
  const policy = measurePolicy(PLAN.policySizes, PLAN.policyMs);

  const stack = await startBenchStack(log, { maxCachedWorkflows });
  const launched = stack.childPids();
  const childPids = [...launched.temporal, ...launched.postgres, ...launched.worker];
  let results: Record<string, unknown>;
  try {
    const latency = await measureLatency(stack, PLAN.latencySamples, PLAN.warmup, log);
    const throughput: ThroughputPoint[] = [];
    for (const concurrency of PLAN.concurrency) {
      log(`throughput at concurrency ${concurrency} for ${PLAN.throughputSeconds}s…`);
      throughput.push(await measureThroughput(stack, concurrency, PLAN.throughputSeconds));
      log(`  ${throughput.at(-1)!.actionsPerSecond} actions/s, p99 ${round(throughput.at(-1)!.latencyMs.p99)} ms, errors ${throughput.at(-1)!.errors}`);
    }
    const floorThroughput = [];
    for (const concurrency of PLAN.floorConcurrency) {
      log(`floor throughput at concurrency ${concurrency}…`);
      floorThroughput.push(await measureFloorThroughput(stack, concurrency, PLAN.throughputSeconds));
      log(`  ${floorThroughput.at(-1)!.workflowsPerSecond} workflows/s`);
    }
    log(`decision → agent, ${PLAN.decisionSamples} samples…`);
    const decision = await measureDecisionToAgent(stack, PLAN.decisionSamples);
    log(`${PLAN.pending} pending approvals…`);
    const pending = await measurePending(stack, PLAN.pending, PLAN.inboxSamples, PLAN.pendingBudgetS, log);
    results = {
      mode: quick ? 'quick' : 'full',
      finishedAt: new Date().toISOString(),
      durationS: 0,
      machine: host,
      stack: {
        temporal: stack.external.temporal ? 'TEMPORAL_ADDRESS' : 'temporal server start-dev (in-memory SQLite), child process',
        postgres: stack.external.postgres ? 'DATABASE_URL' : 'embedded Postgres, child processes',
        workerAndApi: 'two Node processes: Holdpoint worker and floor worker in a child (bench/worker-process.ts); API, Temporal client and load generator in the bench process',
        maxCachedWorkflows,
        maxCachedWorkflowsFrom: flags['max-cached-workflows'] === undefined ? 'WORKER_MAX_CACHED_WORKFLOWS default' : '--max-cached-workflows',
      },
      plan: PLAN,
      latency,
      throughput: { points: throughput, kneeConcurrency: kneeOf(throughput), floor: floorThroughput },
      loadAverageAtEnd: os.loadavg().map((x) => round(x)),
      decisionToAgent: decision,
      pending,
      policy,
    };
  } finally {
    log('stopping the stack…');
    await stack.stop();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const leftovers = alive(childPids);
  results.durationS = round((Date.now() - started) / 1000, 1);
  results.stopped = { childPids, stillRunning: leftovers };

  writeResults(results, renderTable(results as unknown as BenchResults), leftovers);
}

function writeResults(results: Record<string, unknown>, table: string, leftovers: number[]) {
  const file = path.join(__dirname, outFile);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${table}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}; ${leftovers.length ? `still running: ${leftovers.join(', ')}` : 'everything stopped'}`);
}

/** Figure 7 alone: one stack, a warm-up with each policy, then limits on and off in alternating slices. */
async function runLimitsFigure(host: ReturnType<typeof machine>) {
  const stack = await startBenchStack(log, { maxCachedWorkflows });
  const launched = stack.childPids();
  const childPids = [...launched.temporal, ...launched.postgres, ...launched.worker];
  let results: Record<string, unknown>;
  try {
    for (const variant of ['plain', 'limits'] as const) {
      log(`warm-up with the ${variant} policy, ${LIMITS_PLAN.warmupSeconds}s…`);
      await stack.worker.usePolicy(variant);
      await measureThroughput(stack, 8, LIMITS_PLAN.warmupSeconds);
    }
    log(`figure 7: concurrency ${LIMITS_PLAN.figure.concurrency.join(', ')}, ${LIMITS_PLAN.figure.slices} slices of ${LIMITS_PLAN.figure.sliceSeconds}s per policy…`);
    const limits = await measureLimitsThroughput(stack, LIMITS_PLAN.figure, log);
    results = {
      mode: quick ? 'quick' : 'full',
      figure: 'gate throughput with three cumulative limits vs without, same run',
      finishedAt: new Date().toISOString(),
      durationS: 0,
      machine: host,
      stack: { temporal: stack.external.temporal ? 'TEMPORAL_ADDRESS' : 'temporal server start-dev', postgres: stack.external.postgres ? 'DATABASE_URL' : 'embedded Postgres', maxCachedWorkflows },
      plan: LIMITS_PLAN,
      limits,
      loadAverageAtEnd: os.loadavg().map((x) => round(x)),
    };
  } finally {
    log('stopping the stack…');
    await stack.stop();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const leftovers = alive(childPids);
  results.durationS = round((Date.now() - started) / 1000, 1);
  results.stopped = { childPids, stillRunning: leftovers };
  writeResults(results, renderLimitsTable(results.limits as Awaited<ReturnType<typeof measureLimitsThroughput>>), leftovers);
}

export function renderLimitsTable(figure: Awaited<ReturnType<typeof measureLimitsThroughput>>): string {
  const rows = figure.points.map((p) => [
    `7 Throughput, concurrency ${p.concurrency}, ${p.variant === 'limits' ? 'three limits' : 'no limits'}`,
    `${p.actionsPerSecond} actions/s (slices ${p.slices.join(', ')}) · ${p.completed} ok / ${p.errors} errors · CPU/action ${p.cpuMsPerAction.total} ms (postgres ${p.cpuMsPerAction.postgres})`,
  ]);
  rows.push([
    '7 Best point, limits / no limits',
    `${figure.best.limits.actionsPerSecond} / ${figure.best.plain.actionsPerSecond} actions/s = ${figure.ratio} (drop ${figure.dropPercent} %, target ≤ 10 %) ${verdict(figure.dropPercent <= 10)}`,
  ]);
  return ['| Figure | Result |', '|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

type BenchResults = {
  mode: string;
  latency: Awaited<ReturnType<typeof measureLatency>>;
  throughput: { points: ThroughputPoint[]; kneeConcurrency?: number; floor: Awaited<ReturnType<typeof measureFloorThroughput>>[] };
  decisionToAgent: Awaited<ReturnType<typeof measureDecisionToAgent>>;
  pending: Awaited<ReturnType<typeof measurePending>>;
  policy: ReturnType<typeof measurePolicy>;
};

const ms = (value: number) => `${round(value, 1)} ms`;
const verdict = (met: boolean) => (met ? '**met**' : '**missed**');
const cpu = (c: CpuPerAction) => `node ${c.node} ms (worker ${c.worker}, API + load ${c.api}), temporal ${c.temporal} ms, postgres ${c.postgres} ms`;

export function renderTable(r: BenchResults): string {
  const { latency: l, pending: p } = r;
  const best = r.throughput.points.reduce((a, b) => (b.actionsPerSecond > a.actionsPerSecond ? b : a));
  const policyAt1000 = r.policy.find((point) => point.rules === 1_000);
  const rows: string[][] = [
    ['1 Floor (1 no-op activity)', `p50 ${ms(l.floor.p50)} · p95 ${ms(l.floor.p95)} · p99 ${ms(l.floor.p99)}`, '—', '—'],
    [
      '2 Auto-allow, POST ?wait → allowed',
      `p50 ${ms(l.gateDecided.p50)} · p95 ${ms(l.gateDecided.p95)} · p99 ${ms(l.gateDecided.p99)}; pairwise overhead p50 ${ms(l.overheadDecidedMs.p50)}, ratio p50 ${round(l.ratioDecided.p50)}× p99 ${round(l.ratioDecided.p99)}×; p99/p99 ${round(l.gateDecided.p99 / l.floor.p99)}×`,
      'overhead p50 ≤ 10 ms, p99 ratio ≤ 1.5×',
      verdict(l.overheadDecidedMs.p50 <= 10 && l.gateDecided.p99 / l.floor.p99 <= 1.5),
    ],
    [
      '2 Auto-allow, POST ?wait&until=completed → executed + recorded',
      `p50 ${ms(l.gateExecuted.p50)} · p95 ${ms(l.gateExecuted.p95)} · p99 ${ms(l.gateExecuted.p99)}; pairwise overhead p50 ${ms(l.overheadExecutedMs.p50)}, ratio p50 ${round(l.ratioExecuted.p50)}× p99 ${round(l.ratioExecuted.p99)}×; p99/p99 ${round(l.gateExecuted.p99 / l.floor.p99)}×`,
      'overhead p50 ≤ 10 ms, p99 ratio ≤ 1.5×',
      verdict(l.overheadExecutedMs.p50 <= 10 && l.gateExecuted.p99 / l.floor.p99 <= 1.5),
    ],
    ...r.throughput.points.map((t) => [
      `3 Throughput, concurrency ${t.concurrency}`,
      `${t.actionsPerSecond} actions/s · p50 ${ms(t.latencyMs.p50)} · p99 ${ms(t.latencyMs.p99)} · ${t.completed} ok / ${t.errors} errors · CPU/action: ${cpu(t.cpuMsPerAction)}`,
      t === best ? '≥ 150 actions/s (best point)' : '',
      t === best ? verdict(t.actionsPerSecond >= 150) : '',
    ]),
    ...r.throughput.floor.map((f) => [
      `3 Floor throughput, concurrency ${f.concurrency}`,
      `${f.workflowsPerSecond} workflows/s · p99 ${ms(f.latencyMs.p99)} · CPU/workflow: ${cpu(f.cpuMsPerWorkflow)}`,
      '',
      '',
    ]),
    ['3 Knee of the curve', `concurrency ${r.throughput.kneeConcurrency ?? 'n/a'}`, '', ''],
    [
      '4 Decision → agent long-poll',
      `p50 ${ms(r.decisionToAgent.latencyMs.p50)} · p95 ${ms(r.decisionToAgent.latencyMs.p95)} · p99 ${ms(r.decisionToAgent.latencyMs.p99)} over ${r.decisionToAgent.latencyMs.n} samples (decision call itself p50 ${ms(r.decisionToAgent.decideCallMs.p50)})`,
      'p99 ≤ 50 ms',
      verdict(r.decisionToAgent.latencyMs.p99 <= 50),
    ],
    [
      `5 ${p.pendingInPostgres} pending (target ${p.target}, ${p.submitted} submitted in ${p.submitSeconds} s): worker process RSS`,
      `${p.worker.rssMiB} MiB (heap ${p.worker.heapUsedMiB} MiB; maxCachedWorkflows ${p.worker.maxCachedWorkflows})`,
      'worker RSS < 1 GiB',
      verdict(p.worker.rssMiB < 1024),
    ],
    ['5 API + load generator process RSS', `${p.api.rssMiB} MiB (heap ${p.api.heapUsedMiB} MiB)`, '', ''],
    [
      '5 Postgres RSS',
      p.postgres ? `${p.postgres.rssMiB} MiB over ${p.postgres.processes} processes (anonymous ${p.postgres.rssAnonMiB} MiB)` : 'external (not measured)',
      '',
      '',
    ],
    [`5 Inbox GET /v1/reviews (page of ${p.inboxPageSize})`, `p50 ${ms(p.inboxMs.p50)} · p99 ${ms(p.inboxMs.p99)}`, 'p99 < 50 ms', verdict(p.inboxMs.p99 < 50)],
    ['5 Postgres bytes per action', `${p.bytesPerAction} B (actions + action_events over ${p.actionsRows} actions)`, '', ''],
    ...r.policy.map((point) => [
      `6 Policy, ${point.rules} rules`,
      `${point.matchedTypeUs} µs/decision (type with 5 candidate rules); ${point.unmatchedTypeUs} µs (unnamed type); load ${point.loadMs} ms`,
      point.rules === 1_000 ? '≤ 20 µs' : '',
      point.rules === 1_000 && policyAt1000 ? verdict(policyAt1000.matchedTypeUs <= 20) : '',
    ]),
  ];
  const header = `| Figure (${r.mode}) | Result | Target | |\n|---|---|---|---|`;
  return [header, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
