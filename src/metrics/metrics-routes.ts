import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { metricsReport, TIME_BUCKETS, VOLUME_DIMENSIONS } from './metrics-report';
import type { PrometheusMetrics } from './prometheus-metrics';
import { principalOf } from '../access/authenticate';
import { DocumentedRouter, problem } from '../platform/http/documented-router';
import { HttpProblem } from '../platform/http/problem';
import { parseInput } from '../platform/http/validate';
import type { Assert, Exactly, MetricsDimension, MetricsReport } from '../shared/wire-types';

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
const dimensions = Object.keys(VOLUME_DIMENSIONS) as MetricsDimension[];
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

const count = z.number().int();
const share = z.number().openapi({ description: 'A fraction from 0 to 1' });
const responseStats = {
  decisions: count,
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
};
const executionCounts = {
  executions: count,
  executed: count,
  failed: count,
  mismatched: count,
  unconfirmed: count,
  inProgress: count,
  problemRate: share.openapi({ description: '(failed + mismatched + unconfirmed) / finished executions' }),
};

const metricsResponse = z
  .object({
    window: z.object({ from: z.string(), to: z.string(), bucket: z.enum(TIME_BUCKETS), groupBy: z.array(z.enum(dimensions)) }),
    scope: z.enum(['all', 'readable']).openapi({ description: 'all for admins; reviewers see the actions routed to them or their groups' }),
    volume: z.object({
      total: count,
      rows: z
        .array(
          z.object({
            actionType: z.string().optional(),
            risk: z.string().optional(),
            outcome: z.string().optional(),
            agentId: z.string().optional(),
            count,
          }),
        )
        .openapi({ description: 'One row per combination of the groupBy dimensions (only those are present)' }),
    }),
    volumeOverTime: z.array(z.object({ start: z.string(), counts: z.record(z.string(), count) })),
    responseTimes: z.object({
      ...responseStats,
      histogram: z
        .array(z.object({ upToSeconds: z.number().nullable(), count }))
        .openapi({ description: 'Votes per response-time bucket; upToSeconds null is beyond the last bound' }),
      byGroup: z.array(z.object({ ...responseStats, group: z.string() })),
      byReviewer: z.array(z.object({ ...responseStats, reviewer: z.string() })),
    }),
    slaBreaches: z.object({
      byTier: z.array(z.object({ tier: count, reached: count, breached: count, rate: share })),
      byRisk: z.array(z.object({ risk: z.string(), reviewed: count, breached: count, rate: share })),
    }),
    denialReasons: z.array(
      z.object({
        actionType: z.string(),
        denials: count,
        reasons: z.array(z.object({ reasonCode: z.string(), count, rationales: z.array(z.string()) })),
      }),
    ),
    executionProblems: z.object({
      total: z.object(executionCounts),
      byActionType: z.array(z.object({ ...executionCounts, actionType: z.string() })),
    }),
    rubberStamp: z.object({
      thresholdSeconds: count,
      byReviewer: z.array(z.object({ reviewer: z.string(), approvals: count, fast: count, share })),
    }),
    ruleSuggestions: z.array(
      z.object({ rule: z.string(), suggestion: z.enum(['allow', 'deny']), decisions: count, approved: count, denied: count, share }),
    ),
  })
  .openapi('Metrics') satisfies z.ZodType<MetricsReport>;
type _Exact = Assert<Exactly<z.output<typeof metricsResponse>, MetricsReport>>;

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
      const groupBy = (query.groupBy ?? 'actionType,risk,outcome').split(',') as MetricsDimension[];
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
