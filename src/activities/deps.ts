import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { ExecutorRegistry } from '../executors/executor';
import type { NotificationChannel } from '../notifications/review-notification';
import type { ActionRequest } from '../shared/action';
import type { PolicyDecision } from '../shared/policy';
import type { LoadedPolicy } from '../policy/loaded-policy';
import type { ShadowPolicySource } from '../policy-shadow/shadow-repository';

export interface PolicyEngine {
  /** Evaluates without history: limits are absent, so rules reading them fail closed. */
  evaluate(request: ActionRequest): PolicyDecision;
  /**
   * The policy evaluate() uses now. Admission reads the limits of this very policy (a reload in
   * between cannot mix two) and evaluates with them; an engine without it evaluates without limits.
   */
  current?(): LoadedPolicy;
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
