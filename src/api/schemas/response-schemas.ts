import { z } from 'zod';
import '../../platform/http/openapi-registry';
import { jsonValueSchema } from '../../platform/http/json-schemas';
import { problemSchema } from '../../platform/http/problem-schema';
import { actionRequestSchema } from '../../gate/action-request';
import type { ExecutionMode, JsonObject } from '../../shared/action';
import type { FinalDecision } from '../../shared/action-state';
import { OUTCOMES, RISK_TIERS, type TimeoutOutcome } from '../../shared/policy';
import type { ActionPage, ActionSummary, ActionView, Assert, EvidenceBundle, EvidenceRecord, Exactly } from '../../shared/wire-types';
import { actionStatusSchema } from './api-inputs';

export { problemSchema };

// Built from JSON the API already holds: only the static type says so (no recursive check, as for request bodies).
const jsonObject = z.record(z.string(), z.unknown()).transform((value) => value as JsonObject);
const outcome = z.enum(OUTCOMES);
const risk = z.enum(RISK_TIERS);
const verdict = z.enum(['approved', 'denied', 'expired', 'cancelled', 'allowed', 'auto_denied'] satisfies FinalDecision['verdict'][]);
const agent = z.object({ id: z.string(), onBehalfOf: z.string().optional() });
const executionMode = z.enum(['server', 'agent'] satisfies ExecutionMode[]);

export const actionViewSchema = z
  .object({
    id: z.string(),
    status: actionStatusSchema,
    outcome: outcome.nullable(),
    risk: risk.nullable(),
    matchedRules: z.array(z.string()),
    reason: z.string().nullable(),
    policyVersion: z.string().nullable(),
    agent,
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
    decision: z.object({ verdict, by: z.array(z.string()), rationale: z.string().nullable(), at: z.string(), breakGlass: z.boolean().optional() }).nullable(),
    approvedPayload: jsonObject.nullable(),
    approvedPayloadHash: z.string().nullable(),
    execution: z
      .object({
        mode: executionMode,
        executor: z.string().optional(),
        result: jsonValueSchema.optional(),
        error: z.string().optional(),
        executedPayloadHash: z.string().optional(),
        reportedAt: z.string().optional(),
      })
      .nullable(),
    links: z.object({ self: z.string(), wait: z.string(), evidence: z.string(), temporal: z.string().optional() }),
  })
  .openapi('Action') satisfies z.ZodType<ActionView>;

export const actionSummarySchema = z
  .object({
    id: z.string(),
    status: actionStatusSchema,
    outcome: outcome.nullable(),
    risk: risk.nullable(),
    actionType: z.string(),
    agent,
    resource: z.object({ type: z.string(), id: z.string() }),
    reason: z.string().nullable(),
    matchedRules: z.array(z.string()),
    assignees: z.array(z.string()),
    reviewGroups: z.array(z.string()),
    dueAt: z.string().nullable(),
    decidedBy: z.array(z.string()),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
    links: z.object({ self: z.string() }),
  })
  .openapi('ActionSummary') satisfies z.ZodType<ActionSummary>;

export const actionPageSchema = z
  .object({ items: z.array(actionSummarySchema), nextCursor: z.string().nullable() })
  .openapi('ActionPage') satisfies z.ZodType<ActionPage>;

const int = z.number().int();
const strings = z.array(z.string());

/** The classification recorded with the action (src/shared/policy.ts PolicyDecision). */
const policyDecision = z.object({
  outcome,
  risk,
  matchedRules: strings,
  reason: z.string(),
  policyVersion: z.string(),
  aggregates: z
    .array(
      z.object({
        limit: z.string(),
        scope: z.record(z.string(), jsonValueSchema),
        scopeKey: z.string(),
        window: z.string(),
        since: z.string(),
        count: int,
        field: z.string().optional(),
        sum: z.number().optional(),
      }),
    )
    .optional()
    .openapi({ description: 'The policy limits this action counts toward, as read when it was classified' }),
  review: z
    .object({
      tiers: z.array(z.object({ groups: strings, reviewers: strings, durationMs: int, channels: strings.optional() })),
      remindBeforeMs: int.optional(),
      onTimeout: z.enum(['deny', 'allow'] satisfies TimeoutOutcome[]),
      approvals: int,
      editableFields: strings,
    })
    .optional(),
  execution: z.object({ mode: executionMode, executor: z.string().optional(), reportWindowMs: int.optional() }),
  breakGlass: z.boolean(),
});

export const evidenceRecordSchema = z
  .object({
    actionId: z.string(),
    eventKey: z.string(),
    type: z.string(),
    actor: z.string().optional(),
    data: jsonObject,
    occurredAt: z.string(),
    seq: int,
    prevHash: z.string().nullable(),
    hash: z.string(),
    recordedAt: z.string(),
  })
  .openapi('EvidenceRecord') satisfies z.ZodType<EvidenceRecord>;

const records = z.array(evidenceRecordSchema);

export const evidenceBundleSchema = z
  .object({
    action: actionSummarySchema,
    request: z
      .object({ request: actionRequestSchema, requestHash: z.string(), payloadHash: z.string() })
      .nullable()
      .openapi({ description: 'The request as submitted (the `requested` step)' }),
    policyDecision: z
      .object({ decision: policyDecision, payloadHash: z.string() })
      .nullable()
      .openapi({ description: 'The policy decision (the `classified` step)' }),
    notifications: records,
    reviewerActions: records,
    escalations: records,
    execution: records,
    hashes: z.object({ payload: z.string(), approvedPayload: z.string().nullable(), executedPayload: z.string().nullable() }),
    events: records.openapi({ description: 'Every recorded step, in chain order' }),
    chain: z.object({ ok: z.boolean(), events: int, breaks: z.array(z.object({ seq: int, problem: z.string() })) }),
    temporal: z.object({ namespace: z.string(), workflowId: z.string(), runId: z.string().nullable(), url: z.string().optional() }),
  })
  .openapi('EvidenceBundle') satisfies z.ZodType<EvidenceBundle>;

type _Exact = [
  Assert<Exactly<z.output<typeof actionViewSchema>, ActionView>>,
  Assert<Exactly<z.output<typeof actionSummarySchema>, ActionSummary>>,
  Assert<Exactly<z.output<typeof actionPageSchema>, ActionPage>>,
  Assert<Exactly<z.output<typeof evidenceRecordSchema>, EvidenceRecord>>,
  Assert<Exactly<z.output<typeof evidenceBundleSchema>, EvidenceBundle>>,
];
