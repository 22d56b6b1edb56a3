import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { WebClient } from '@slack/web-api';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { loadConsoleAssets, type ConsoleAssets } from '../console/console-assets';
import { consoleRoutes } from '../console/console-routes';
import { emailActionRoutes } from '../channels/email/email-action-routes';
import { slackRoutes } from '../channels/slack/slack-routes';
import type { ActionService } from '../gate/service/action-service';

export interface ReviewerChannelOptions {
  /** Slack interactivity; absent: the endpoint is not served. */
  slack?: { signingSecret: string; client: Pick<WebClient, 'chat' | 'views'> };
  /** Verifies email decision links; absent: the email pages are not served. */
  emailTokenSecret?: string;
  consoleSessionHours?: number;
}

let consoleAssets: Promise<ConsoleAssets> | undefined;
/** Built once per process and shared by every app instance (tests create several). */
function sharedConsoleAssets(): Promise<ConsoleAssets> {
  if (!consoleAssets) {
    consoleAssets = loadConsoleAssets();
    consoleAssets.catch(() => undefined); // reported when a console page is requested
  }
  return consoleAssets;
}

/** The console, Slack and email routes, for the channels that are configured. */
export function reviewerChannelRoutes(
  registry: OpenAPIRegistry,
  base: { pool: Pool; logger: Logger; publicUrl: string; actions: ActionService },
  options: ReviewerChannelOptions,
): Router {
  const router = Router();
  router.use(
    consoleRoutes(registry, {
      pool: base.pool,
      assets: sharedConsoleAssets(),
      sessionHours: options.consoleSessionHours ?? 8,
      secureCookies: base.publicUrl.startsWith('https:'),
      logger: base.logger,
    }),
  );
  if (options.slack) {
    router.use(slackRoutes(registry, { ...options.slack, pool: base.pool, actions: base.actions, publicUrl: base.publicUrl, logger: base.logger }));
  }
  if (options.emailTokenSecret) {
    router.use(emailActionRoutes(registry, { tokenSecret: options.emailTokenSecret, pool: base.pool, actions: base.actions, publicUrl: base.publicUrl }));
  }
  return router;
}
