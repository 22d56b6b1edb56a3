import { loadConfig } from './config';
import { createPool } from './db/pool';
import { migrate } from './db/migrate';
import { createLogger } from './logger';
import { ProcessLifecycle } from './process-lifecycle';
import { startWorkerProcess } from './worker-runtime';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'holdpoint-worker');
  const lifecycle = new ProcessLifecycle(logger);
  if (!config.database.url) throw new Error('DATABASE_URL is required for the worker (npm start sets it for the embedded database)');
  const pool = createPool(config.database.url, config.database.poolMax);
  lifecycle.onShutdown(() => pool.end());
  await migrate(pool);
  const worker = await startWorkerProcess({ config, pool, logger });
  lifecycle.onShutdown(() => worker.shutdown());
  if (lifecycle.isStopping) return;
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker running');
  lifecycle.watch(worker.running);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
