import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createCheckpoint } from './checkpoints';
import { loadAuditKey, type AuditKey } from './signing-key';

export interface CheckpointSchedule {
  /** Resolves once an in-flight checkpoint (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Signs the chain heads every `intervalMs` from the worker process. Several workers may run it:
 * a checkpoint younger than half an interval makes the others skip their turn.
 */
export function startCheckpointSchedule(options: { pool: Pool; key: AuditKey; intervalMs: number; logger: Pick<Logger, 'info' | 'warn'> }): CheckpointSchedule {
  const { pool, key, intervalMs, logger } = options;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = createCheckpoint(pool, key, { kind: 'scheduled', minIntervalMs: intervalMs / 2 })
      .then((summary) => {
        // Logged with its digest: shipping these lines to an external log anchors the checkpoints.
        if (summary) logger.info({ checkpoint: summary.id, digest: summary.digest, heads: summary.headCount, keyId: summary.keyId }, 'evidence checkpoint signed');
      })
      .catch((err: unknown) => logger.warn({ err }, 'evidence checkpoint failed; retrying at the next interval'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The worker's periodic checkpoints, as configured: CHECKPOINT_INTERVAL (off disables) and the
 * signing key. Without a private key the schedule is off and says so once.
 */
export function startConfiguredCheckpoints(
  config: Pick<Config, 'audit' | 'env' | 'dataDir'>,
  pool: Pool,
  logger: Pick<Logger, 'info' | 'warn'>,
): CheckpointSchedule | undefined {
  if (config.audit.checkpointIntervalMs <= 0) return undefined;
  const key = loadAuditKey(config, { createInDevelopment: true });
  if (!key?.privateKey) {
    logger.warn({}, 'no AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY: evidence checkpoints are off, so deleted actions and cut-off chains go undetected');
    return undefined;
  }
  logger.info({ intervalMs: config.audit.checkpointIntervalMs, keyId: key.keyId }, 'signing evidence checkpoints periodically');
  return startCheckpointSchedule({ pool, key, intervalMs: config.audit.checkpointIntervalMs, logger });
}
