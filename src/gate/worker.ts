import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../platform/config';
import { createPool } from '../platform/postgres/pool';
import { prepareDatabase } from '../platform/postgres/runtime-role';
import { processLogger } from '../platform/logger';
import { ProcessLifecycle } from '../platform/process-lifecycle';
import { startWorkerProcess } from './worker-runtime';

async function main() {
  const config = loadConfig();
  const logger = processLogger(config, 'holdpoint-worker');
  // The SDK's own lines (workflow and activity `log`, worker lifecycle) go through the same logger,
  // so LOG_REDACT_PAYLOAD_FIELDS and the credential paths apply to them too.
  Runtime.install({
    logger: new DefaultLogger(sdkLevel(config.logLevel), ({ level, message, meta }) => {
      const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
      logger[method]({ sdk: true, ...meta }, message);
    }),
  });
  const lifecycle = new ProcessLifecycle(logger);
  if (!config.database.url) throw new Error('DATABASE_URL is required for the worker (npm start sets it for the embedded database)');
  const pool = createPool(config.database.url, config.database.poolMax);
  lifecycle.onShutdown(() => pool.end());
  await prepareDatabase({ url: config.database.url, migrationUrl: config.database.migrationUrl }, pool, { env: config.env, warn: (message) => logger.warn({}, message) });
  const worker = await startWorkerProcess({ config, pool, logger });
  lifecycle.onShutdown(() => worker.shutdown());
  if (lifecycle.isStopping) return;
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker running');
  lifecycle.watch(worker.running);
}

function sdkLevel(level: string): LogLevel {
  const levels: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' };
  return levels[level] ?? 'INFO';
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
