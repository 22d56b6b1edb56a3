import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { ExecutorRegistry } from '../executors/executor';
import type { NotificationChannel } from '../../channels/review-notification';
import type { PolicyEngine } from '../../policy/policy-engine';
import type { ShadowPolicySource } from '../../policy/shadow/shadow-repository';

export interface ActivityDeps {
  pool: Pool;
  policy: PolicyEngine;
  channels: NotificationChannel[];
  executors: ExecutorRegistry;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Shadow mode: a candidate policy evaluated beside the live one; its verdicts are only recorded. */
  shadowPolicy?: ShadowPolicySource;
}
