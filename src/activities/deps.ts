import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { ExecutorRegistry } from '../executors/executor';
import type { NotificationChannel } from '../notifications/review-notification';
import type { ActionRequest } from '../shared/action';
import type { PolicyDecision } from '../shared/policy';
import type { ShadowPolicySource } from '../policy-shadow/shadow-repository';

export interface PolicyEngine {
  evaluate(request: ActionRequest): PolicyDecision;
}

export interface ActivityDeps {
  pool: Pool;
  policy: PolicyEngine;
  channels: NotificationChannel[];
  executors: ExecutorRegistry;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Shadow mode: a candidate policy evaluated beside the live one; its verdicts are only recorded. */
  shadowPolicy?: ShadowPolicySource;
}
