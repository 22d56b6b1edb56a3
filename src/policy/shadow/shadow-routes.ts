import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Pool } from 'pg';
import { z } from 'zod';
import { INSTANT_OR_DURATION_PATTERN, parseInstant } from '../../shared/duration';
import { shadowReport } from './shadow-repository';
import { principalOf } from '../../access/authenticate';
import { DocumentedRouter } from '../../platform/http/documented-router';
import { HttpProblem } from '../../platform/http/problem';
import { parseInput } from '../../platform/http/validate';

export const shadowQuery = z.strictObject({
  since: z
    .string()
    .regex(INSTANT_OR_DURATION_PATTERN, 'a duration such as 30d, or an ISO-8601 date or time')
    .default('30d')
    .openapi({ description: 'Actions evaluated since: a duration back from now (30d) or an ISO-8601 time' }),
  candidateVersion: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a policy version (sha256:…)').optional().openapi({ description: 'Default: the candidate evaluated most recently' }),
  examples: z.coerce.number().int().min(0).max(50).default(5).openapi({ description: 'Example actions per rule' }),
});

const shadowResponse = z
  .object({
    source: z.literal('shadow'),
    candidateVersion: z.string().nullable(),
    candidates: z.array(z.object({ version: z.string(), evaluated: z.number(), lastEvaluatedAt: z.string() })),
    since: z.string(),
    until: z.string(),
    evaluated: z.number(),
    differing: z.number(),
    byRule: z.array(
      z.object({
        rule: z.string(),
        liveOutcome: z.string(),
        candidateOutcome: z.string(),
        count: z.number(),
        examples: z.array(z.record(z.string(), z.unknown())),
      }),
    ),
  })
  .openapi('ShadowReport');

/** `/v1/policy/shadow`: what the candidate policy (SHADOW_POLICY_PATH) would have decided differently. */
export function shadowRoutes(registry: OpenAPIRegistry, options: { pool: Pool }) {
  const api = new DocumentedRouter(registry);

  api.get(
    {
      path: '/v1/policy/shadow',
      summary: 'Shadow mode: how many actions the candidate policy would have decided differently, by rule, with examples',
      description: 'Reviewers see results for the actions they may read. Results are recorded by the worker when SHADOW_POLICY_PATH is set; they are never enforced.',
      tags: ['policy'],
      roles: ['reviewer', 'admin'],
      request: { query: shadowQuery },
      responses: { 200: { description: 'The report', content: { 'application/json': { schema: shadowResponse } } } },
    },
    async (req, res) => {
      const query = parseInput(shadowQuery, req.query, 'query');
      const until = new Date();
      const since = parseInstant(query.since, until);
      if (!since) {
        throw new HttpProblem(400, 'validation', 'Invalid request', 'query.since: not a valid time', { issues: [{ path: 'query.since', message: 'not a valid time' }] });
      }
      res.json(await shadowReport(options.pool, principalOf(req), { since, until, candidateVersion: query.candidateVersion, examplesPerGroup: query.examples }));
    },
  );

  return api.router;
}
