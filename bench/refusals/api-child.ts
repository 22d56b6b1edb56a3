/**
 * The API alone in its own process (as `npm start` runs it), for bench/refusal-flood.ts: Postgres
 * from DATABASE_URL, a Temporal connection that is never used (the measured reads and the refused
 * flood do not reach Temporal), logs at info to /dev/null so each request pays for its log line.
 */
import { Client, Connection } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { createPool } from '../../src/platform/postgres/pool';
import { loadBenchPolicy } from '../bench-policy';

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const pool = createPool(databaseUrl, 10);
  const { policy, engine } = loadBenchPolicy();
  const app = createApp({
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) }),
    pool,
    logger: pino({ level: 'info' }, pino.destination('/dev/null')),
    taskQueue: 'refusal-bench',
    namespace: 'default',
    publicUrl: 'http://bench.local',
    policy: { engine, current: () => policy },
    rateLimitPerMinute: Number(process.env.RATE_LIMIT_PER_MINUTE ?? 600),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  process.send?.({ port: (server.address() as AddressInfo).port });
  process.on('message', (message: { stop?: boolean }) => {
    if (!message.stop) return;
    server.closeAllConnections();
    server.close(() => void pool.end().then(() => process.exit(0)));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
