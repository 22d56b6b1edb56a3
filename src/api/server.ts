import { Client } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../platform/config';
import { createPool } from '../platform/postgres/pool';
import { prepareDatabase } from '../platform/postgres/runtime-role';
import { processLogger } from '../platform/logger';
import { ProcessLifecycle } from '../platform/process-lifecycle';
import { connectToTemporal } from '../platform/temporal-connection';
import { PolicyStore } from '../policy/policy-store';
import { policyEngine } from '../policy/policy-engine';
import { redactedPolicyLoader } from '../policy/reason-redaction';
import { slackClient } from '../channels/reviewer-channels';
import { createApp } from './app';
import { ActionChangeFeed } from '../gate/service/action-change-feed';

async function main() {
  const config = loadConfig();
  const logger = processLogger(config, 'holdpoint-api');
  const lifecycle = new ProcessLifecycle(logger);
  if (!config.database.url) throw new Error('DATABASE_URL is required for the API (npm start sets it for the embedded database)');
  const pool = createPool(config.database.url, config.database.poolMax);
  lifecycle.onShutdown(() => pool.end());
  await prepareDatabase({ url: config.database.url, migrationUrl: config.database.migrationUrl }, pool, { env: config.env, warn: (message) => logger.warn({}, message) });
  const connection = await connectToTemporal(config);
  lifecycle.onShutdown(() => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const changes = new ActionChangeFeed(pool, { logger: logger.child({ component: 'action-changes' }) });
  lifecycle.onShutdown(() => changes.close());
  const policy = new PolicyStore(config.policyPath, { logger: logger.child({ component: 'policy' }), load: redactedPolicyLoader(config.redactPayloadFields) }).watch();
  lifecycle.onShutdown(() => policy.close());
  const app = createApp({
    client,
    changes,
    policy: { engine: policyEngine(policy), current: () => policy.current() },
    bodyLimitBytes: config.api.bodyLimitBytes,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    trustProxy: config.api.trustProxy,
    maxOpenActionsPerAgent: config.api.maxOpenActionsPerAgent,
    metricsToken: config.metrics.token,
    metricsLabelCap: config.metrics.labelCap,
    rubberStampSeconds: config.metrics.rubberStampSeconds,
    pool,
    logger,
    taskQueue: config.temporal.taskQueue,
    namespace: config.temporal.namespace,
    publicUrl: config.api.publicUrl ?? `http://${config.api.host}:${config.api.port}`,
    temporalUiUrl: config.temporal.uiUrl,
    callbacks: config.callbacks ? { allowedOrigins: config.callbacks.allowedOrigins } : undefined,
    reviewerChannels: {
      slack: config.slack ? { signingSecret: config.slack.signingSecret, client: slackClient(config.slack) } : undefined,
      emailTokenSecret: config.email?.tokenSecret,
      consoleSessionHours: config.console.sessionHours,
    },
  });
  const server = app.listen(config.api.port, config.api.host);
  lifecycle.onShutdown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long-polling agents hold connections open; they retry with the same idempotency key.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  );
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  logger.info({ url: `http://${config.api.host}:${port}` }, 'api listening');
  process.send?.({ type: 'listening', port });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
