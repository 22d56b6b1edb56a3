import type { Logger } from 'pino';

/**
 * A service process's lifecycle. Signal handlers are installed before anything starts, so a
 * Ctrl-C during start-up still releases what was already opened; resources register their own
 * shutdown step as they are created and are released in reverse order.
 */
export class ProcessLifecycle {
  private readonly steps: (() => Promise<void> | void)[] = [];
  private stopping = false;

  constructor(private readonly logger: Pick<Logger, 'info' | 'error'>) {
    process.once('SIGINT', () => void this.stop('SIGINT'));
    process.once('SIGTERM', () => void this.stop('SIGTERM'));
    // Started by `npm start` with an IPC channel: if the orchestrator dies, so do we.
    if (process.send) process.once('disconnect', () => void this.stop('parent exited'));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  onShutdown(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  /** Stops the process when `running` settles (e.g. the worker's run loop ended). */
  watch(running: Promise<unknown>): void {
    running.then(
      () => this.stop('finished'),
      (err) => {
        this.logger.error({ err }, 'stopped on error');
        void this.stop('error', 1);
      },
    );
  }

  async stop(reason: string, code = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info({ reason }, 'shutting down');
    setTimeout(() => process.exit(code || 1), 15_000).unref();
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (err) {
        this.logger.error({ err }, 'shutdown step failed');
        code = 1;
      }
    }
    process.exit(code);
  }
}
