import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { createApp, type AppOptions } from '../../src/api/app';
import type { ReviewerChannelOptions } from '../../src/api/reviewer-routes';
import type { NotificationChannel } from '../../src/channels/review-notification';
import { createPrincipalKey, revokeKeys } from '../../src/access/principal-repository';
import { startDemoTarget, type DemoTarget } from '../../src/ops/dev/demo-target';
import { loadPolicy } from '../../src/policy/policy-loader';
import { evaluate } from '../../src/policy/policy-evaluator';
import type { Role } from '../../src/access/principal';
import { createTestDatabase, type TestDatabase } from './test-database';
import { connectToDevServer } from './temporal';
import { FIXTURE_POLICY_DIR, fixturePolicyEngine, silentLogger, startTestWorker } from './workflow-harness';

/** Who the API tests act as (groups follow test/fixtures/policies). */
export const PRINCIPALS = {
  agent: { id: 'support-bot', role: 'agent', groups: [] },
  otherAgent: { id: 'other-bot', role: 'agent', groups: [] },
  reviewer: { id: 'alice', role: 'reviewer', groups: ['finance'] },
  secondReviewer: { id: 'bob', role: 'reviewer', groups: ['finance'] },
  outsider: { id: 'olivia', role: 'reviewer', groups: ['ops'] },
  admin: { id: 'root', role: 'admin', groups: [] },
  revoked: { id: 'former-bot', role: 'agent', groups: [] },
} as const satisfies Record<string, { id: string; role: Role; groups: readonly string[] }>;
export type Caller = keyof typeof PRINCIPALS;

export interface ApiStack {
  baseUrl: string;
  app: ReturnType<typeof createApp>;
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  target: DemoTarget;
  keys: Record<Caller, string>;
  request(method: string, path: string, options?: { as?: Caller; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export interface ApiStackOptions {
  rateLimitPerMinute?: number;
  /** Notification channels of the worker, built over the stack's database. */
  channels?: (db: TestDatabase) => NotificationChannel[];
  /** Console, Slack interactivity and email link settings of the API. */
  reviewerChannels?: ReviewerChannelOptions;
  temporalUiUrl?: string;
  /** The API's logger (default: silent); abuse tests capture it to look for leaked keys. */
  logger?: Logger;
  /** Policy directory of worker and API (default: test/fixtures/policies). */
  policyDir?: string;
  /** Executor names the policy uses, each served by the demo target (default: `target`). */
  executors?: string[];
  /** Agent callbacks the API accepts (CALLBACK_ALLOWED_ORIGINS); default: none, callbackUrl refused. */
  callbacks?: AppOptions['callbacks'];
  /** METRICS_TOKEN, METRICS_LABEL_CAP and MAX_OPEN_ACTIONS_PER_AGENT of the API (default: none, 50, no cap). */
  metricsToken?: string;
  metricsLabelCap?: number;
  maxOpenActionsPerAgent?: number;
}

/** The real stack in-process: dev server, Postgres schema, worker and API over HTTP. */
export async function startApiStack(options: ApiStackOptions = {}): Promise<ApiStack> {
  const taskQueue = `api-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const [env, db, target] = await Promise.all([connectToDevServer(), createTestDatabase(), startDemoTarget()]);
  const policyDir = options.policyDir ?? FIXTURE_POLICY_DIR;
  const { worker, running } = await startTestWorker({
    env,
    pool: db.pool,
    taskQueue,
    executors: Object.fromEntries((options.executors ?? ['target']).map((name) => [name, target.url])),
    channels: options.channels?.(db),
    policy: fixturePolicyEngine(policyDir),
  });
  const policy = loadPolicy(policyDir);
  const keys = {} as Record<Caller, string>;
  for (const [caller, principal] of Object.entries(PRINCIPALS) as [Caller, (typeof PRINCIPALS)[Caller]][]) {
    keys[caller] = (await createPrincipalKey(db.pool, { id: principal.id, role: principal.role, groups: [...principal.groups] })).apiKey;
  }
  await revokeKeys(db.pool, { principalId: PRINCIPALS.revoked.id });
  const app = createApp({
    client: env.client,
    pool: db.pool,
    logger: options.logger ?? silentLogger,
    taskQueue,
    namespace: 'default',
    publicUrl: 'http://api.test',
    policy: { engine: { evaluate: (request) => evaluate(policy, request) }, current: () => policy },
    rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    reviewerChannels: options.reviewerChannels,
    temporalUiUrl: options.temporalUiUrl,
    callbacks: options.callbacks,
    metricsToken: options.metricsToken,
    metricsLabelCap: options.metricsLabelCap,
    maxOpenActionsPerAgent: options.maxOpenActionsPerAgent,
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    app,
    env,
    db,
    target,
    keys,
    request(method, path, { as, body, headers = {} } = {}) {
      return fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(as ? { authorization: `Bearer ${keys[as]}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      (worker as Worker).shutdown();
      await running;
      await Promise.all([env.teardown(), db.drop(), target.close()]);
    },
  };
}
