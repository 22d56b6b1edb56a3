import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from './activities';
import type { Config } from '../platform/config';
import { HttpExecutor } from './executors/http-executor';
import type { Executor } from './executors/executor';
import { LogChannel } from '../channels/log-channel';
import type { NotificationChannel } from '../channels/review-notification';
import { WebhookChannel } from '../channels/webhooks/webhook-channel';
import { reviewerChannelsFromConfig } from '../channels/reviewer-channels';
import { policyEngine } from '../policy/policy-engine';
import { PolicyStore } from '../policy/policy-store';
import { redactedPolicyLoader } from '../policy/reason-redaction';
import { startConfiguredCheckpoints } from '../evidence/audit/checkpoint-schedule';
import { temporalConnectionOptions } from '../platform/temporal-connection';

export const WORKFLOWS_PATH = require.resolve('./workflow');

export function channelsFromConfig(config: Config, logger: Logger, pool?: Pool): NotificationChannel[] {
  const channels: NotificationChannel[] = [new LogChannel(logger.child({ channel: 'log' }))];
  if (config.reviewWebhook) channels.push(new WebhookChannel(config.reviewWebhook));
  // Slack, email and agent callbacks look reviewers and outcomes up in Postgres.
  if (pool) channels.push(...reviewerChannelsFromConfig(config, pool, logger.child({ channel: 'agent-callback' })));
  return channels;
}

export function executorsFromConfig(config: Config): Map<string, Executor> {
  return new Map(Object.entries(config.executors).map(([name, target]) => [name, new HttpExecutor(target)]));
}

export interface HoldpointWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Tests pass a pre-built bundle so each file bundles once. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflow runs kept in memory between tasks; unset keeps the SDK's heap-sized default. */
  maxCachedWorkflows?: number;
}

export function createHoldpointWorker(options: HoldpointWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

export interface WorkerProcessDeps {
  config: Config;
  pool: Pool;
  logger: Logger;
}

/** Everything the worker process owns, so shutdown releases it all. */
export async function startWorkerProcess({ config, pool, logger }: WorkerProcessDeps) {
  // LOG_REDACT_PAYLOAD_FIELDS also holds for rendered reasons: they reach logs, evidence, Slack and email.
  const load = redactedPolicyLoader(config.redactPayloadFields);
  const policy = new PolicyStore(config.policyPath, { logger: logger.child({ component: 'policy' }), load }).watch();
  const shadowPolicy = config.shadowPolicyPath
    ? new PolicyStore(config.shadowPolicyPath, { logger: logger.child({ component: 'shadow-policy' }), load }).watch()
    : undefined;
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
  const worker = await createHoldpointWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    deps: {
      pool,
      policy: policyEngine(policy),
      channels: channelsFromConfig(config, logger, pool),
      executors: executorsFromConfig(config),
      logger,
      shadowPolicy,
    },
  });
  const running = worker.run();
  // Periodic checkpoints live in the worker: it is the process that writes evidence.
  const checkpoints = startConfiguredCheckpoints(config, pool, logger.child({ component: 'audit' }));
  return {
    running,
    async shutdown() {
      worker.shutdown();
      await running.catch(() => undefined);
      policy.close();
      shadowPolicy?.close();
      await checkpoints?.stop();
      await connection.close();
    },
  };
}
