/**
 * The waiting figure: N concurrent waiters (default 1,000) on one pending action, then a
 * routed reviewer's decision. Prints the decision's status and how long after it every waiter had
 * its answer, beside the same figure for one waiter (the floor) in the same run; stops everything.
 *
 *   node --import tsx bench/waiters-probe.ts [waiters]
 */
import { measureWaiters } from './figures/waiters';
import { startBenchStack } from './stack';
import { round } from './stats';

async function main() {
  const count = Number(process.argv[2] ?? 1000);
  if (!Number.isInteger(count) || count < 1) throw new Error(`waiters must be a positive integer, got ${process.argv[2]}`);
  const stack = await startBenchStack(() => undefined, { maxCachedWorkflows: 500 });
  try {
    await measureWaiters(stack, 10); // warm-up
    const floor = await measureWaiters(stack, 1);
    const figure = await measureWaiters(stack, count);
    for (const [name, f] of [['floor (1 waiter)', floor], [`${count} waiters`, figure]] as const) {
      console.log(
        `${name}: decision HTTP ${f.decisionStatus} in ${round(f.decisionCallMs)} ms; ${f.decided}/${f.waiters} decided; woken after ` +
          `p50 ${round(f.wokenAfterMs.p50)} · p99 ${round(f.wokenAfterMs.p99)} · max ${round(f.wokenAfterMs.max)} ms; ${JSON.stringify(f.statuses)}`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
