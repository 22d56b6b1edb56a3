import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { metricsReport, TIME_BUCKETS, VOLUME_DIMENSIONS, type VolumeDimension } from './metrics-report';
import type { PrometheusMetrics } from './prometheus-metrics';
import { principalOf } from '../access/authenticate';
import { DocumentedRouter, problem } from '../platform/http/documented-router';
import { HttpProblem } from '../platform/http/problem';
import { parseInput } from '../platform/http/validate';

export interface MetricsRouteOptions {
  pool: Pool;
  prometheus: PrometheusMetrics;
  /** Default threshold of the rubber-stamp signal (RUBBER_STAMP_SECONDS). */
  rubberStampSeconds: number;
  /** METRICS_TOKEN: a bearer token that may scrape /metrics besides admin API keys. */
  metricsToken?: string;
}

function sameSecret(offered: string, expected: string): boolean {
  const a = createHash('sha256').update(offered).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** /metrics for the scraper's token or an admin key (issue 15): it describes the whole deployment. */
function scrapers(metricsToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const offered = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (metricsToken && offered && sameSecret(offered, metricsToken)) return next();
    if (req.principal?.role === 'admin') return next();
    if (req.principal) return next(new HttpProblem(403, 'forbidden', 'Forbidden', `the ${req.principal.role} role may not read /metrics (the metrics token or an admin key may)`));
    next(
      new HttpProblem(401, 'unauthorized', 'Unauthorized', 'this endpoint needs the metrics token (METRICS_TOKEN) or an admin API key', {
        headers: { 'WWW-Authenticate': 'Bearer realm="holdpoint-metrics"' },
      }),
    );
  };
}

const DEFAULT_WINDOW_MS = 30 * 86_400_000;
const dimensions = Object.keys(VOLUME_DIMENSIONS) as VolumeDimension[];
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const metricsQuery = z.strictObject({
  from: instant.optional().openapi({ description: 'Start of the window (inclusive): actions created from then on. Default: 30 days before `to`' }),
  to: instant.optional().openapi({ description: 'End of the window (exclusive). Default: now' }),
  groupBy: z
    .string()
    .regex(new RegExp(`^(${dimensions.join('|')})(,(${dimensions.join('|')}))*$`), `comma-separated: ${dimensions.join(', ')}`)
    .optional()
    .openapi({ description: `Dimensions of \`volume.rows\` (default actionType,risk,outcome); any of ${dimensions.join(', ')}` }),
  bucket: z.enum(TIME_BUCKETS).default('day').openapi({ description: 'Interval of `volumeOverTime` (UTC)' }),
  rubberStampSeconds: z.coerce.number().int().min(1).max(3_600).optional().openapi({ description: 'Approvals faster than this count as rubber stamps' }),
});

const metricsResponse = z
  .object({
    window: z.object({ from: z.string(), to: z.string(), bucket: z.enum(TIME_BUCKETS), groupBy: z.array(z.string()) }),
    scope: z.enum(['all', 'readable']),
    volume: z.object({ total: z.number(), rows: z.array(z.record(z.string(), z.union([z.string(), z.number()]))) }),
    volumeOverTime: z.array(z.object({ start: z.string(), counts: z.record(z.string(), z.number()) })),
    responseTimes: z.record(z.string(), z.unknown()),
    slaBreaches: z.record(z.string(), z.unknown()),
    denialReasons: z.array(z.record(z.string(), z.unknown())),
    executionProblems: z.record(z.string(), z.unknown()),
    rubberStamp: z.record(z.string(), z.unknown()),
    ruleSuggestions: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('Metrics');

/** `/v1/metrics` (JSON for the console dashboard) and `/metrics` (Prometheus text). */
export function metricsRoutes(registry: OpenAPIRegistry, options: MetricsRouteOptions) {
  const api = new DocumentedRouter(registry);

  api.get(
    {
      path: '/v1/metrics',
      summary: 'Approval metrics over actions created in a window: volume, response times, SLA breaches, denial reasons, execution problems, rubber stamps and rule suggestions',
      description: 'Admins see every action; reviewers see the actions routed to them or their groups.',
      tags: ['metrics'],
      roles: ['reviewer', 'admin'],
      request: { query: metricsQuery },
      responses: { 200: { description: 'The metrics', content: { 'application/json': { schema: metricsResponse } } } },
    },
    async (req, res) => {
      const query = parseInput(metricsQuery, req.query, 'query');
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_WINDOW_MS);
      if (from >= to) {
        throw new HttpProblem(400, 'validation', 'Invalid request', 'query.from: must be before `to`', { issues: [{ path: 'query.from', message: 'must be before `to`' }] });
      }
      const groupBy = (query.groupBy ?? 'actionType,risk,outcome').split(',') as VolumeDimension[];
      res.json(
        await metricsReport(options.pool, principalOf(req), {
          from,
          to,
          groupBy: [...new Set(groupBy)],
          bucket: query.bucket,
          rubberStampSeconds: query.rubberStampSeconds ?? options.rubberStampSeconds,
        }),
      );
    },
  );

  api.get(
    {
      path: '/metrics',
      summary: 'Prometheus metrics: API latency, action outcomes, review response times, executions, waiting work',
      description:
        'Needs `Authorization: Bearer <METRICS_TOKEN>` or an admin API key. Labels never carry ids; action types beyond METRICS_LABEL_CAP (those the policy names first) are counted as `other`.',
      tags: ['operations'],
      security: [{ bearer: [] }],
      responses: {
        200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
        401: problem('Neither the metrics token nor an API key'),
        403: problem('An API key of a role other than admin'),
      },
    },
    scrapers(options.metricsToken),
    async (_req, res) => {
      const body = await options.prometheus.registry.metrics();
      res.type(options.prometheus.registry.contentType).send(body);
    },
  );

  return api.router;
}
