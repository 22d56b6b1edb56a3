import type { Logger } from 'pino';

/**
 * Keeps a service process alive until SIGINT/SIGTERM, its parent goes away (IPC disconnect),
 * or `running` settles; then runs `shutdown` once and exits.
 */
export async function runUntilSignalled(logger: Pick<Logger, 'info' | 'error'>, shutdown: () => Promise<void>, running?: Promise<unknown>): Promise<void> {
  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => process.exit(code || 1), 15_000);
    force.unref();
    try {
      await shutdown();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      code = 1;
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // Started by `npm start` with an IPC channel: if the orchestrator dies, so do we.
  if (process.send) process.once('disconnect', () => void stop('parent exited'));
  running?.then(
    () => stop('finished'),
    (err) => {
      logger.error({ err }, 'stopped on error');
      void stop('error', 1);
    },
  );
}
