import type { Client } from '@temporalio/client';
import express from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { PolicyEngine } from '../activities/deps';
import type { LoadedPolicy } from '../policy/loaded-policy';
import { authenticateRequests } from './auth/authenticate';
import { consoleSessionAuth } from './auth/console-session';
import { FORM_ENDPOINTS } from './form-endpoints';
import { reviewerChannelRoutes, type ReviewerChannelOptions } from './reviewer-channel-routes';
import { createRegistry } from './openapi-registry';
import { HttpProblem, problemMiddleware } from './problem';
import { actionRoutes } from './routes/action-routes';
import { metaRoutes } from './routes/meta-routes';
import { policyRoutes } from './routes/policy-routes';
import { metricsRoutes } from './routes/metrics-routes';
import { shadowRoutes } from './routes/shadow-routes';
import { createPrometheusMetrics } from '../metrics/prometheus-metrics';
import { ActionQueries } from './services/action-queries';
import { ActionService } from './services/action-service';

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
  /** Approvals faster than this count as rubber stamps in /v1/metrics (RUBBER_STAMP_SECONDS; default 10). */
  rubberStampSeconds?: number;
  /** The reviewer console, Slack interactivity and email decision links (issue 5). */
  reviewerChannels?: ReviewerChannelOptions;
}

/** Rejects bodies that are not JSON before parsing (the API speaks JSON only). */
const requireJsonBodies: express.RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  const formEndpoint = FORM_ENDPOINTS.has(req.path) && req.is('application/x-www-form-urlencoded');
  if (hasBody && !req.is('application/json') && !formEndpoint) {
    return next(new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'send request bodies as application/json'));
  }
  next();
};

/**
 * Postgres text and jsonb cannot hold U+0000: a body carrying it would be accepted here and then
 * fail every write, leaving the submission hanging and its activity retrying forever. Refused as
 * malformed JSON instead.
 */
function refuseNul(key: string, value: unknown): unknown {
  if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) {
    throw new SyntaxError('strings may not contain U+0000 (NUL)');
  }
  return value;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const prometheus = createPrometheusMetrics({ pool: options.pool });
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
  app.use(helmet());
  app.use(requireJsonBodies);
  app.use(express.json({ limit: options.bodyLimitBytes ?? 256 * 1024, strict: true, reviver: refuseNul }));
  app.use(authenticateRequests(options.pool));
  app.use(consoleSessionAuth(options.pool));
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: options.rateLimitPerMinute ?? 600,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // Per principal once authenticated, so one noisy agent cannot starve the others behind a NAT.
      keyGenerator: (req) => (req.principal ? `principal:${req.principal.id}` : `ip:${ipKeyGenerator(req.ip ?? '')}`),
      handler: (_req, _res, next, limiter) =>
        next(new HttpProblem(429, 'rate-limited', 'Too many requests', `at most ${limiter.limit} requests a minute`, { retryAfterSeconds: 60 })),
    }),
  );

  const registry = createRegistry();
  const links = { base: options.publicUrl, temporalUi: options.temporalUiUrl, namespace: options.namespace };
  const actions = new ActionService({ client: options.client, pool: options.pool, taskQueue: options.taskQueue });
  app.use(metaRoutes(registry, { client: options.client, pool: options.pool, publicUrl: options.publicUrl }));
  app.use(actionRoutes(registry, { actions, queries: new ActionQueries(options.pool, links), links }));
  app.use(policyRoutes(registry, { policy: options.policy.engine, current: options.policy.current }));
  app.use(metricsRoutes(registry, { pool: options.pool, prometheus, rubberStampSeconds: options.rubberStampSeconds ?? 10 }));
  app.use(shadowRoutes(registry, { pool: options.pool }));
  app.use(reviewerChannelRoutes(registry, { ...options, actions }, options.reviewerChannels ?? {}));
  app.use((req, _res, next) => next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`)));
  app.use(problemMiddleware(options.logger));
  return app;
}
