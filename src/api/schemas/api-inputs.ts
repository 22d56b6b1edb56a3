import { z } from 'zod';
import { jsonObjectSchema, jsonValueSchema } from '../../platform/http/json-schemas';
import '../../platform/http/openapi-registry';
import { identifier } from '../../gate/action-request';
import { parseActionId } from '../../shared/action-id';
import { RISK_TIERS } from '../../shared/policy';
import { ACTION_STATUSES, type Assert, type DecisionRequest, type Exactly, type ExecutionReport, type WaitMilestone } from '../../shared/wire-types';

/** `action-<length of agent id>-<agent id>-<key>`: only ids some (agent, key) pair encodes to. */
export const actionIdParams = z.strictObject({
  id: z
    .string()
    .max(300)
    .regex(/^action-[1-9][0-9]*-[A-Za-z0-9._:@-]+$/, 'not an action id')
    .refine((id) => {
      const parts = parseActionId(id);
      return parts !== undefined && identifier.safeParse(parts.agentId).success && identifier.safeParse(parts.idempotencyKey).success;
    }, 'not an action id'),
});

const seconds = (max: number) => z.coerce.number().int().min(0).max(max);

const milestone = z.enum(['decided', 'completed'] satisfies WaitMilestone[]).default('decided').openapi({
  description: 'decided: allowed, approved or refused; completed: finished, including a server-side execution and its evidence',
});

export const submitQuery = z.strictObject({
  wait: seconds(60).optional().openapi({ description: 'Hold the response up to this many seconds for the milestone in ?until' }),
  until: milestone,
});

export const waitQuery = z.strictObject({
  timeout: seconds(60).default(30).openapi({ description: 'Seconds to wait for the milestone (max 60)' }),
  until: milestone,
});

const filters = {
  risk: z.enum(RISK_TIERS).optional(),
  actionType: z.string().min(1).max(200).optional(),
  agentId: identifier.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(500).optional(),
};

export const actionStatusSchema = z.enum(ACTION_STATUSES);

export const listQuery = z.strictObject({
  status: actionStatusSchema.optional(),
  ...filters,
});

export const inboxQuery = z.strictObject(filters);

export const decisionBody = z
  .strictObject({
    verdict: z.enum(['approve', 'deny']),
    rationale: z.string().trim().min(1).max(2_000).optional(),
    reasonCode: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'lower-case letters, digits, _ and -').optional(),
    editedPayload: jsonObjectSchema.optional(),
    payloadHash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<hex>, the hash of the payload shown (review.candidatePayloadHash)')
      .optional()
      .openapi({ description: 'Hash of the candidate payload you were shown; an approval of any other payload is refused with 409' }),
    breakGlass: z.boolean().optional().openapi({ description: 'Admins only: approve outside the routed tiers (rationale required; recorded as break-glass)' }),
  })
  .refine((body) => body.verdict === 'approve' || body.rationale, { message: 'a deny needs a rationale', path: ['rationale'] })
  .refine((body) => body.verdict === 'approve' || !body.editedPayload, { message: 'only an approval can carry an edited payload', path: ['editedPayload'] })
  .refine((body) => !body.breakGlass || body.rationale, { message: 'a break-glass approval needs a rationale', path: ['rationale'] })
  .openapi('Decision') satisfies z.ZodType<DecisionRequest>;

export const cancelBody = z.strictObject({ reason: z.string().trim().min(1).max(2_000).optional() }).openapi('CancelRequest');

export const executionReportBody = z
  .strictObject({
    payload: jsonObjectSchema.openapi({ description: 'The payload the agent actually executed' }),
    succeeded: z.boolean(),
    result: jsonValueSchema.optional(),
    error: z.string().max(4_000).optional(),
  })
  .openapi('ExecutionReport') satisfies z.ZodType<ExecutionReport>;

type _Exact = [Assert<Exactly<z.output<typeof decisionBody>, DecisionRequest>>, Assert<Exactly<z.output<typeof executionReportBody>, ExecutionReport>>];
