/**
 * Figure 4 alone, for repeated runs of its tail: starts the bench stack, takes N decision → agent
 * samples (default 300), prints p50/p95/p99 and stops everything.
 *
 *   node --import tsx bench/decision-probe.ts [samples]
 */
import { measureDecisionToAgent } from './figures/decision';
import { startBenchStack } from './stack';
import { round } from './stats';

async function main() {
  const samples = Number(process.argv[2] ?? 300);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${process.argv[2]}`);
  const stack = await startBenchStack(() => undefined, { maxCachedWorkflows: 500 });
  try {
    await measureDecisionToAgent(stack, 20); // warm-up
    const { latencyMs, decideCallMs } = await measureDecisionToAgent(stack, samples);
    console.log(
      `decision → agent over ${latencyMs.n}: p50 ${round(latencyMs.p50)} · p95 ${round(latencyMs.p95)} · p99 ${round(latencyMs.p99)} ms` +
        ` (decision call p50 ${round(decideCallMs.p50)} · p99 ${round(decideCallMs.p99)} ms)`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
