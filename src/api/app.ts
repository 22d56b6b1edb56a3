import type { Client } from '@temporalio/client';
import express from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { PolicyEngine } from '../policy/policy-engine';
import type { LoadedPolicy } from '../policy/loaded-policy';
import { authenticateRequests } from '../access/authenticate';
import { consoleSessionAuth } from '../console/console-session';
import { reviewerChannelRoutes, type ReviewerChannelOptions } from './reviewer-routes';
import { createRegistry } from '../platform/http/openapi-registry';
import { HttpProblem, problemMiddleware } from '../platform/http/problem';
import { CredentialFailures, requestRateLimit } from '../platform/http/rate-limits';
import { requestBodies } from '../platform/http/request-body';
import { requestDeadline } from './request-deadline';
import { actionRoutes } from './routes/action-routes';
import { metaRoutes } from './routes/meta-routes';
import { policyRoutes } from '../policy/policy-routes';
import { metricsRoutes } from '../metrics/metrics-routes';
import { shadowRoutes } from '../policy/shadow/shadow-routes';
import { createPrometheusMetrics } from '../metrics/prometheus-metrics';
import { ActionQueries } from '../gate/service/action-queries';
import type { ActionChangeFeed } from '../gate/service/action-change-feed';
import { ActionService } from '../gate/service/action-service';
import { reviewerEligibility } from '../access/reviewer-eligibility';
import { openActionCap } from '../gate/service/open-action-cap';
import { CallbackTargets, type Resolve } from '../channels/callbacks/callback-target';

export interface AppOptions {
  client: Client;
  pool: Pool;
  logger: Logger;
  taskQueue: string;
  namespace: string;
  publicUrl: string;
  temporalUiUrl?: string;
  policy: { engine: PolicyEngine; current: () => LoadedPolicy };
  bodyLimitBytes?: number;
  rateLimitPerMinute?: number;
  /** TRUST_PROXY: false, a hop count, or the proxies' addresses/subnets (express `trust proxy`). */
  trustProxy?: boolean | number | string[];
  /** Approvals faster than this count as rubber stamps in /v1/metrics (RUBBER_STAMP_SECONDS; default 10). */
  rubberStampSeconds?: number;
  /** The reviewer console, Slack interactivity and email decision links. */
  reviewerChannels?: ReviewerChannelOptions;
  /** Where long-polls learn of changes (one LISTEN connection per process); default: the app's own. */
  changes?: ActionChangeFeed;
  /** METRICS_TOKEN: may scrape /metrics besides admin keys; absent: admin keys only. */
  metricsToken?: string;
  /** METRICS_LABEL_CAP (default 50). */
  metricsLabelCap?: number;
  /** MAX_OPEN_ACTIONS_PER_AGENT; absent: no cap. */
  maxOpenActionsPerAgent?: number;
  /** Agent callbacks (CALLBACK_ALLOWED_ORIGINS); absent: a submission naming a callbackUrl is refused. */
  callbacks?: { allowedOrigins: readonly string[]; resolve?: Resolve };
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // TRUST_PROXY: which hops' X-Forwarded-For names the client (rate-limit buckets are per client).
  app.set('trust proxy', options.trustProxy ?? false);
  const prometheus = createPrometheusMetrics({
    pool: options.pool,
    labelCap: options.metricsLabelCap,
    preferredLabelValues: () => options.policy.current().rulesByActionType.keys(),
  });
  app.use(prometheus.httpLatency);
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req, res) => {
        const offered = req.headers['x-request-id'];
        const id = typeof offered === 'string' && /^[\w.-]{1,100}$/.test(offered) ? offered : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: (req) => ({ principal: req.principal?.id }),
      // Email decision links carry their token in the query, and sign-in answers with the session cookie.
      serializers: {
        req: (req: { url?: string; query?: Record<string, unknown> }) => ({
          ...req,
          url: req.url?.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
          query: req.query && 'token' in req.query ? { ...req.query, token: '[redacted]' } : req.query,
        }),
        res: (res: { headers?: Record<string, unknown> }) => (res.headers?.['set-cookie'] ? { ...res, headers: { ...res.headers, 'set-cookie': '[redacted]' } } : res),
      },
    }),
  );
  app.use(requestDeadline());
  app.use(helmet());
  // Who is asking and how often, before any body is read: a refusal costs a header parse.
  const perMinute = options.rateLimitPerMinute ?? 600;
  const failures = new CredentialFailures(perMinute);
  app.use(authenticateRequests(options.pool, failures));
  app.use(consoleSessionAuth(options.pool, failures));
  app.use(requestRateLimit(perMinute));
  app.use(...requestBodies(options.bodyLimitBytes ?? 256 * 1024));

  const registry = createRegistry();
  const links = { base: options.publicUrl, temporalUi: options.temporalUiUrl, namespace: options.namespace };
  const actions = new ActionService({
    client: options.client,
    pool: options.pool,
    taskQueue: options.taskQueue,
    changes: options.changes,
    eligibility: reviewerEligibility(options.pool, options.policy.current),
  });
  app.use(metaRoutes(registry, { client: options.client, pool: options.pool, publicUrl: options.publicUrl }));
  const callbackTargets = new CallbackTargets(options.callbacks?.allowedOrigins ?? [], { resolve: options.callbacks?.resolve });
  const openActions = options.maxOpenActionsPerAgent ? openActionCap(options.pool, options.maxOpenActionsPerAgent) : undefined;
  app.use(actionRoutes(registry, { actions, queries: new ActionQueries(options.pool, links), links, callbackTargets, openActions }));
  app.use(policyRoutes(registry, { policy: options.policy.engine, current: options.policy.current, pool: options.pool }));
  app.use(metricsRoutes(registry, { pool: options.pool, prometheus, rubberStampSeconds: options.rubberStampSeconds ?? 10, metricsToken: options.metricsToken }));
  app.use(shadowRoutes(registry, { pool: options.pool }));
  app.use(reviewerChannelRoutes(registry, { ...options, actions }, options.reviewerChannels ?? {}));
  app.use((req, _res, next) => next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`)));
  app.use(problemMiddleware(options.logger));
  return app;
}
