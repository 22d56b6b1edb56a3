import { z } from 'zod';
import '../../platform/http/openapi-registry';
import { problemSchema } from '../../platform/http/problem-schema';

export { problemSchema };


const jsonObject = z.record(z.string(), z.unknown());

export const actionViewSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    outcome: z.enum(['allow', 'require_approval', 'deny']).nullable(),
    risk: z.enum(['low', 'medium', 'high', 'critical']).nullable(),
    matchedRules: z.array(z.string()),
    reason: z.string().nullable(),
    policyVersion: z.string().nullable(),
    agent: z.object({ id: z.string(), onBehalfOf: z.string().optional() }),
    action: z.object({ type: z.string(), tool: z.string().optional(), step: z.string().optional() }),
    resource: z.object({ type: z.string(), id: z.string(), attributes: jsonObject.optional() }),
    payload: jsonObject,
    payloadHash: z.string().nullable(),
    review: z
      .object({
        tier: z.number().int(),
        tiers: z.number().int(),
        assignees: z.array(z.string()),
        dueAt: z.string().nullable(),
        approvals: z.number().int(),
        approvalsNeeded: z.number().int(),
        editableFields: z.array(z.string()),
        candidatePayload: jsonObject.openapi({ description: 'The payload approvals currently apply to (the submitted one, or a reviewer edit)' }),
        candidatePayloadHash: z.string().openapi({ description: 'Send it as payloadHash when approving' }),
      })
      .nullable(),
    decision: z
      .object({ verdict: z.string(), by: z.array(z.string()), rationale: z.string().nullable(), at: z.string(), breakGlass: z.boolean().optional() })
      .nullable(),
    approvedPayload: jsonObject.nullable(),
    approvedPayloadHash: z.string().nullable(),
    execution: jsonObject.nullable(),
    links: z.object({ self: z.string(), wait: z.string(), evidence: z.string(), temporal: z.string().optional() }),
  })
  .openapi('Action');

export const actionPageSchema = z
  .object({ items: z.array(actionViewSchema.or(z.record(z.string(), z.unknown()))), nextCursor: z.string().nullable() })
  .openapi('ActionPage');
