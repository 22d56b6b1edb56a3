import { loadConfig } from './config';
import { createPool } from './db/pool';
import { migrate } from './db/migrate';
import { createLogger } from './logger';
import { runUntilSignalled } from './process-lifecycle';
import { startWorkerProcess } from './worker-runtime';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'holdpoint-worker');
  if (!config.database.url) throw new Error('DATABASE_URL is required for the worker (npm start sets it for the embedded database)');
  const pool = createPool(config.database.url, config.database.poolMax);
  await migrate(pool);
  const worker = await startWorkerProcess({ config, pool, logger });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker running');
  await runUntilSignalled(logger, async () => {
    await worker.shutdown();
    await pool.end();
  }, worker.running);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
