import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { PolicyEngine } from '../../activities/deps';
import type { LoadedPolicy } from '../../policy/loaded-policy';
import { DocumentedRouter } from '../documented-router';
import { actionRequestSchema } from '../schemas/action-request';
import { parseInput } from '../validate';

export interface PolicyRouteOptions {
  policy: PolicyEngine;
  current: () => LoadedPolicy;
}

const policyDecisionSchema = z.record(z.string(), z.unknown()).openapi('PolicyDecision');

export function policyRoutes(registry: OpenAPIRegistry, { policy, current }: PolicyRouteOptions) {
  const api = new DocumentedRouter(registry);

  api.post(
    {
      path: '/v1/policy/evaluate',
      summary: 'Dry run: how the loaded policy would classify an action (no workflow, nothing recorded)',
      tags: ['policy'],
      roles: ['agent', 'reviewer', 'admin'],
      request: { body: { content: { 'application/json': { schema: actionRequestSchema } } } },
      responses: { 200: { description: 'The decision', content: { 'application/json': { schema: policyDecisionSchema } } } },
    },
    (req, res) => {
      res.json(policy.evaluate(parseInput(actionRequestSchema, req.body, 'body')));
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
      });
    },
  );

  return api.router;
}
