import type { Client } from '@temporalio/client';
import express from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import { HttpProblem, problemMiddleware } from './problem';
import { actionRoutes } from './routes/action-routes';
import { healthRoutes } from './routes/health-routes';
import { ActionService } from './services/action-service';

export interface AppOptions {
  client: Client;
  pool: Pool;
  logger: Logger;
  taskQueue: string;
  namespace: string;
  publicUrl: string;
  temporalUiUrl?: string;
  bodyLimitBytes?: number;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (req, res) => {
        const offered = req.headers['x-request-id'];
        const id = typeof offered === 'string' && /^[\w.-]{1,100}$/.test(offered) ? offered : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
    }),
  );
  app.use(express.json({ limit: options.bodyLimitBytes ?? 256 * 1024, strict: true }));

  const actions = new ActionService({ client: options.client, pool: options.pool, taskQueue: options.taskQueue });
  app.use(healthRoutes({ client: options.client, pool: options.pool }));
  app.use(
    actionRoutes({
      actions,
      links: { base: options.publicUrl, temporalUi: options.temporalUiUrl, namespace: options.namespace },
    }),
  );
  app.use((req, _res, next) => next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`)));
  app.use(problemMiddleware(options.logger));
  return app;
}
