/**
 * The refusal figure: the latency of an authenticated GET while 300 connections flood the
 * API with unauthenticated 256 KB POSTs, beside the same GET without the flood (the floor) in the
 * same run. API, flood and measurement are three processes; every byte goes to loopback.
 *
 *   node --import tsx bench/refusal-flood.ts [connections=300] [samples=250] [rateLimitPerMinute=600]
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../src/platform/postgres/migrate';
import { createPool } from '../src/platform/postgres/pool';
import { createPrincipalKey } from '../src/access/principal-repository';
import { startEmbeddedPostgres } from '../src/ops/dev/embedded-postgres';
import { elapsedMs, round, summarize } from './stats';

const BODY_BYTES = 256 * 1024;

function child(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(path.join(__dirname, 'refusals', script), args, { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env } });
}

const nextMessage = <T>(process: ChildProcess): Promise<T> => new Promise((resolve, reject) => {
  process.once('message', (message) => resolve(message as T));
  process.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
});

async function measure(url: string, key: string, samples: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const start = process.hrtime.bigint();
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`authenticated GET answered ${response.status}`);
    times.push(elapsedMs(start));
  }
  return times;
}

async function main() {
  const [connections = 300, samples = 250, rateLimit = 600] = process.argv.slice(2).map(Number);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdpoint-refusal-bench-'));
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(tempDir, 'pg'), ephemeral: true });
  let api: ChildProcess | undefined;
  try {
    const pool = createPool(postgres.url, 2);
    await migrate(pool);
    const key = (await createPrincipalKey(pool, { id: 'bench-agent', role: 'agent', groups: [] })).apiKey;
    await pool.end();

    api = child('api-child.ts', [], { DATABASE_URL: postgres.url, RATE_LIMIT_PER_MINUTE: String(rateLimit) });
    const { port } = await nextMessage<{ port: number }>(api);
    const url = `http://127.0.0.1:${port}/v1/actions?limit=10`;

    const progress = (text: string) => process.stderr.write(`${text}\n`);
    progress(`API on ${port}; warming up`);
    await measure(url, key, 20); // warm-up
    const floor = summarize(await measure(url, key, samples));

    progress(`floor done (p50 ${round(floor.p50)} ms); starting ${connections} flooding connections`);
    const flood = child('flood-child.ts', [String(port), String(connections), String(BODY_BYTES)]);
    await nextMessage(flood);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // let every connection get going
    progress('measuring under the flood');
    const floodStart = Date.now();
    const loaded = summarize(await measure(url, key, samples));
    const floodSeconds = (Date.now() - floodStart) / 1000;
    flood.send({ stop: true });
    const report = await nextMessage<{ statuses: Record<string, number>; errors: number; bytesSent: number }>(flood);

    const line = (name: string, s: ReturnType<typeof summarize>) =>
      `${name}: n ${s.n} · p50 ${round(s.p50)} · p95 ${round(s.p95)} · p99 ${round(s.p99)} · mean ${round(s.mean)} ms`;
    console.log(`authenticated GET /v1/actions?limit=10, ${os.cpus().length} CPUs, API rate limit ${rateLimit}/min per client`);
    console.log(line('floor (no flood)', floor));
    console.log(line(`under ${connections} connections of unauthenticated ${BODY_BYTES / 1024} KB POSTs`, loaded));
    const answered = Object.values(report.statuses).reduce((a, b) => a + b, 0);
    console.log(
      `flood: ${answered} answers in ~${round(floodSeconds + 2, 1)} s (${JSON.stringify(report.statuses)}), ` +
        `${round(report.bytesSent / 1024 / 1024, 0)} MiB sent, ${report.errors} socket errors`,
    );
  } finally {
    if (api?.connected) {
      api.send({ stop: true });
      await new Promise((resolve) => api!.once('exit', resolve));
    }
    await postgres.stop();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
