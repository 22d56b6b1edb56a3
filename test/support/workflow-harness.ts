import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import type { ActivityDeps } from '../../src/gate/activities';
import type { Executor } from '../../src/gate/executors/executor';
import { HttpExecutor } from '../../src/gate/executors/http-executor';
import type { NotificationChannel } from '../../src/channels/review-notification';
import { loadPolicy } from '../../src/policy/policy-loader';
import { staticPolicyEngine } from '../../src/policy/policy-engine';
import { createHoldpointWorker, WORKFLOWS_PATH } from '../../src/gate/worker-runtime';
import type { ActionRequest } from '../../src/shared/action';
import { indexedValueType } from '../../src/ops/cli/setup';
import { HOLDPOINT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import path from 'node:path';
import type { Pool } from 'pg';

export const FIXTURE_POLICY_DIR = path.join(__dirname, '../fixtures/policies');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundled once per test file: webpack is the slowest part of starting a worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  return bundle;
}

export const silentLogger = pino({ level: 'silent' });

export function fixturePolicyEngine(dir = FIXTURE_POLICY_DIR): ActivityDeps['policy'] {
  return staticPolicyEngine(loadPolicy(dir));
}

/** Registers our search attributes on a server that does not know them yet (the test server). */
export async function registerTestSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  // The Java test server implements AddSearchAttributes but not ListSearchAttributes.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(HOLDPOINT_SEARCH_ATTRIBUTES.map((key) => [key.name, indexedValueType(key.type)])),
  });
}

export interface HarnessOptions {
  env: TestWorkflowEnvironment;
  pool: Pool;
  taskQueue: string;
  executors?: Record<string, Executor | string>;
  channels?: NotificationChannel[];
  policy?: ActivityDeps['policy'];
}

export async function startTestWorker(options: HarnessOptions): Promise<{ worker: Worker; running: Promise<void> }> {
  const executors = new Map<string, Executor>(
    Object.entries(options.executors ?? {}).map(([name, target]) => [name, typeof target === 'string' ? new HttpExecutor({ url: target }) : target]),
  );
  const worker = await createHoldpointWorker({
    connection: options.env.nativeConnection,
    namespace: options.env.namespace ?? 'default',
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    deps: {
      pool: options.pool,
      policy: options.policy ?? fixturePolicyEngine(),
      channels: options.channels ?? [],
      executors,
      logger: silentLogger,
    },
  });
  return { worker, running: worker.run() };
}

let counter = 0;
export function uniqueKey(prefix = 'k'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function actionRequest(type: string, payload: ActionRequest['payload'], extra: Partial<ActionRequest> = {}): ActionRequest {
  return {
    agent: { id: 'support-bot', onBehalfOf: 'customer-42' },
    action: { type },
    resource: { type: 'billing', id: 'cus_123' },
    payload,
    ...extra,
  };
}
