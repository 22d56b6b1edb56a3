/**
 * Where does a bare workflow's time go on the dev server? Runs the floor workflow 50 times in a row
 * and prints the median gap between consecutive history events (server timestamps), then floor
 * throughput at concurrency 8 and 64. Extra arguments are dynamic-config overrides, e.g.
 *
 *   node --import tsx bench/handoff-probe.ts history.transferProcessorMaxPollRPS=20
 *
 * reproduces the dev server's default reader rate (~40 ms per hand-off).
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startTemporalDevServer } from '../src/ops/dev/temporal-dev-server';
import { percentile } from './stats';

const median = (samples: readonly number[]) => percentile(samples, 50);

const overrides = process.argv.slice(2);
const eventName = (event: temporal.api.history.v1.IHistoryEvent) =>
  (temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '').toLowerCase();
const eventMs = (event: temporal.api.history.v1.IHistoryEvent) => Number(event.eventTime!.seconds) * 1000 + event.eventTime!.nanos! / 1e6;

async function main() {
  const server = await startTemporalDevServer({ headless: true, dynamicConfig: Object.fromEntries(overrides.map((kv) => kv.split('='))) });
  const connection = await Connection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: 'handoff-probe',
    workflowsPath: path.resolve(__dirname, 'floor-workflow.ts'),
    activities: { noop: async () => undefined },
  });
  const running = worker.run();
  try {
    const client = new Client({ connection });
    const totals: number[] = [];
    const gaps = new Map<string, number[]>();
    for (let i = 0; i < 60; i++) {
      const started = process.hrtime.bigint();
      const handle = await client.workflow.start('floorWorkflow', { taskQueue: 'handoff-probe', workflowId: `probe-${i}-${Date.now()}` });
      await handle.result();
      if (i < 10) continue; // warm-up
      totals.push(Number(process.hrtime.bigint() - started) / 1e6);
      const events = (await handle.fetchHistory()).events ?? [];
      events.slice(1).forEach((event, j) => {
        const key = `${j + 1}. ${eventName(events[j]!)} → ${eventName(event)}`;
        gaps.set(key, [...(gaps.get(key) ?? []), eventMs(event) - eventMs(events[j]!)]);
      });
    }
    console.log(`overrides: ${overrides.join(' ') || '(none beyond the shipped ones)'}`);
    console.log(`start → result, median: ${median(totals).toFixed(1)} ms`);
    for (const [key, values] of gaps) console.log(`  ${key.padEnd(60)} ${median(values).toFixed(1)} ms`);
    for (const concurrency of [8, 64]) {
      const end = Date.now() + 10_000;
      let done = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, k) => {
          for (let n = 0; Date.now() < end; n++) {
            await client.workflow.execute('floorWorkflow', { taskQueue: 'handoff-probe', workflowId: `probe-c${concurrency}-${k}-${n}-${Date.now()}` });
            done++;
          }
        }),
      );
      console.log(`concurrency ${concurrency}: ${(done / 10).toFixed(1)} workflows/s`);
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
