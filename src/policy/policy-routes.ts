import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { PolicyEngine } from './policy-engine';
import type { LoadedPolicy } from './loaded-policy';
import { DocumentedRouter } from '../platform/http/documented-router';
import { actionRequestSchema } from '../gate/action-request';
import { parseInput } from '../platform/http/validate';
import type { Pool } from 'pg';
import { readLimits } from './limit-ledger';
import { scopedLimitsFor } from './limits';
import { withAggregateSummary } from './limit-summary';
import { evaluate } from './policy-evaluator';

export interface PolicyRouteOptions {
  policy: PolicyEngine;
  current: () => LoadedPolicy;
  /** Reads the policy's limits for dry runs; without it, rules on limits fail closed. */
  pool?: Pool;
}

const policyDecisionSchema = z.record(z.string(), z.unknown()).openapi('PolicyDecision');

export function policyRoutes(registry: OpenAPIRegistry, { policy, current, pool }: PolicyRouteOptions) {
  const api = new DocumentedRouter(registry);

  api.post(
    {
      path: '/v1/policy/evaluate',
      summary: 'Dry run: how the loaded policy would classify an action (no workflow, nothing recorded)',
      description: 'For reviewers and admins: an agent could otherwise probe the policy for its allow boundaries.',
      tags: ['policy'],
      roles: ['reviewer', 'admin'],
      request: { body: { content: { 'application/json': { schema: actionRequestSchema } } } },
      responses: { 200: { description: 'The decision', content: { 'application/json': { schema: policyDecisionSchema } } } },
    },
    async (req, res) => {
      const request = parseInput(actionRequestSchema, req.body, 'body');
      const loaded = current();
      const scoped = scopedLimitsFor(loaded, request);
      if (pool === undefined || scoped.length === 0) {
        res.json(policy.evaluate(request));
        return;
      }
      // As if submitted now: the limits count what is stored, plus this request. Nothing is locked or recorded.
      const limits = await readLimits(pool, scoped, { at: Date.now() });
      res.json(withAggregateSummary(evaluate(loaded, request, undefined, limits), loaded.reasonRedaction));
    },
  );

  api.get(
    {
      path: '/v1/policy',
      summary: 'The loaded policy: version, files, groups and rules',
      tags: ['policy'],
      roles: ['reviewer', 'admin'],
      responses: { 200: { description: 'The policy', content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi('Policy') } } } },
    },
    (_req, res) => {
      const loaded = current();
      res.json({
        policyVersion: loaded.policyVersion,
        files: loaded.files,
        groups: Object.fromEntries(loaded.groups),
        owners: loaded.owners.map((owner) => ({ resource: owner.pattern, group: owner.group })),
        defaults: { outcome: loaded.unmatched.outcome, risk: loaded.unmatched.risk, execution: loaded.unmatched.execution },
        rules: loaded.rules.map((rule) => ({
          id: rule.id,
          file: rule.file,
          description: rule.description ?? null,
          when: rule.when,
          outcome: rule.outcome,
          risk: rule.risk,
          execution: rule.execution,
        })),
        limits: loaded.limits.map((limit) => ({
          id: limit.id,
          file: limit.file,
          description: limit.description ?? null,
          actions: limit.actionTypes ?? null,
          scope: limit.scope.map((field) => field.name),
          window: limit.window,
          sum: limit.sum?.field ?? null,
          statuses: limit.statuses,
        })),
      });
    },
  );

  return api.router;
}
