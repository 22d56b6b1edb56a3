import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../../platform/config';
import { createCheckpoint } from './checkpoints';
import { loadAuditKey, type AuditKey } from './signing-key';
import { checkpointRecords, shipToWitness, type Witness } from './witness';

export interface CheckpointSchedule {
  /** Resolves once an in-flight checkpoint (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Signs the chain heads every `intervalMs` from the worker process. Several workers may run it:
 * a checkpoint younger than half an interval makes the others skip their turn.
 */
export function startCheckpointSchedule(options: {
  pool: Pool;
  key: AuditKey;
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  witness?: Witness;
}): CheckpointSchedule {
  const { pool, key, intervalMs, logger, witness } = options;
  let running: Promise<void> | undefined;
  // Checkpoints the witness has not taken yet (it was down): sent again with the next one.
  let unshipped: number[] = [];
  const tick = () => {
    if (running) return;
    running = createCheckpoint(pool, key, { kind: 'scheduled', minIntervalMs: intervalMs / 2 })
      .then(async (summary) => {
        // Logged with its digest: shipping these lines to an external log anchors the checkpoints.
        if (summary) logger.info({ checkpoint: summary.id, digest: summary.digest, heads: summary.headCount, keyId: summary.keyId }, 'evidence checkpoint signed');
        if (!witness || (!summary && unshipped.length === 0)) return;
        const ids = [...unshipped, ...(summary ? [summary.id] : [])];
        try {
          await shipToWitness(witness, await checkpointRecords(pool, ids));
          unshipped = [];
        } catch (err) {
          unshipped = ids;
          logger.warn({ err, checkpoints: ids }, 'evidence checkpoint not witnessed; sending it again with the next one');
        }
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
  // Without signed checkpoints, whoever owns the tables can delete actions or cut chains short and
  // `audit verify` cannot tell: production refuses that unless told otherwise.
  const unsigned = (variable: string, why: string) => {
    if (config.env !== 'production' || config.audit.unsignedOk) return;
    throw new ConfigError(`Invalid configuration:\n  ${variable}: ${why} in production, so that deleted or truncated evidence is detected; set AUDIT_UNSIGNED_OK=true to run without`);
  };
  if (config.audit.checkpointIntervalMs <= 0) {
    unsigned('CHECKPOINT_INTERVAL', 'must not be off');
    return undefined;
  }
  const key = loadAuditKey(config, { createInDevelopment: true });
  if (!key?.privateKey) {
    unsigned('AUDIT_SIGNING_KEY_PATH', 'or AUDIT_SIGNING_KEY (an Ed25519 private key) is required');
    logger.warn({}, 'no AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY: evidence checkpoints are off, so deleted actions and cut-off chains go undetected');
    return undefined;
  }
  logger.info({ intervalMs: config.audit.checkpointIntervalMs, keyId: key.keyId }, 'signing evidence checkpoints periodically');
  return startCheckpointSchedule({ pool, key, intervalMs: config.audit.checkpointIntervalMs, logger, witness: config.audit.witness });
}
