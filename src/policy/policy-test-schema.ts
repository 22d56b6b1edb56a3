import { z } from 'zod';
import type { JsonObject } from '../shared/action';
import { durationSchema, outcomeSchema, riskSchema, timeoutOutcomeSchema } from './policy-schema';
import { LIMIT_STATUSES } from './limits';

const jsonObjectSchema = z.record(z.string(), z.json()) as unknown as z.ZodType<JsonObject>;

// The input mirrors ActionRequest field for field, so a case can be pasted from a real request.
export const policyTestInputSchema = z.strictObject({
  agent: z.strictObject({ id: z.string().min(1), onBehalfOf: z.string().optional() }),
  action: z.strictObject({ type: z.string().min(1), tool: z.string().optional(), step: z.string().optional() }),
  resource: z.strictObject({ type: z.string().min(1), id: z.string().min(1), attributes: jsonObjectSchema.optional() }),
  payload: jsonObjectSchema.default({}),
  context: jsonObjectSchema.optional(),
  deadline: z.string().optional(),
  executionMode: z.enum(['server', 'agent']).optional(),
  callbackUrl: z.string().optional(),
});

/** One review tier as the decision routes it; fields left out are not checked. */
export const policyTestTierSchema = z.strictObject({
  /** Exactly these groups, in any order. */
  groups: z.array(z.string().min(1)).min(1),
  /** Exactly these principals may decide in this tier, in any order. */
  reviewers: z.array(z.string().min(1)).optional(),
  /** How long this tier waits before escalating or timing out. */
  sla: durationSchema.optional(),
});

export const policyTestExpectationSchema = z.strictObject({
  outcome: outcomeSchema,
  /** Exactly the rules that must match, in any order. */
  rules: z.array(z.string()).optional(),
  risk: riskSchema.optional(),
  /** The exact rendered reason. */
  reason: z.string().optional(),
  /** Aggregates the decision read, this request included: `{ refunds_per_customer: { count: 6, sum: 600 } }`. */
  limits: z.record(z.string(), z.strictObject({ count: z.int().min(1).optional(), sum: z.number().optional() })).optional(),
  /** Exactly these review tiers, in escalation order. */
  route: z.array(policyTestTierSchema).min(1).optional(),
  approvals: z.int().min(1).optional(),
  on_timeout: timeoutOutcomeSchema.optional(),
  /** Whether an admin may approve outside the routed tiers (the decision's breakGlass). */
  break_glass: z.boolean().optional(),
});

/**
 * Earlier actions the case's limits count: each field left out is the case's input's, so
 * `{ repeat: 5, ago: 2h, payload: { amount: 100 } }` is five such refunds two hours before the case.
 */
export const policyTestHistorySchema = z.strictObject({
  agent: policyTestInputSchema.shape.agent.optional(),
  action: policyTestInputSchema.shape.action.optional(),
  resource: policyTestInputSchema.shape.resource.optional(),
  payload: jsonObjectSchema.optional(),
  context: jsonObjectSchema.optional(),
  /** How long before the case the action was submitted (default 1m). */
  ago: durationSchema.default(60_000),
  /** Its status now (default executed). */
  status: z.enum(LIMIT_STATUSES).default('executed'),
  /** That many identical actions (default 1). */
  repeat: z.int().min(1).max(1000).default(1),
});

export const policyTestCaseSchema = z.strictObject({
  name: z.string().min(1),
  /** Earlier actions, for rules that read `limits`. */
  history: z.array(policyTestHistorySchema).optional(),
  input: policyTestInputSchema,
  expect: policyTestExpectationSchema,
});

export const policyTestFileSchema = z.strictObject({
  tests: z.array(policyTestCaseSchema),
});

export type PolicyTestCase = z.output<typeof policyTestCaseSchema>;
export type PolicyTestExpectation = z.output<typeof policyTestExpectationSchema>;
export type PolicyTestTier = z.output<typeof policyTestTierSchema>;
export type PolicyTestHistoryEntry = z.output<typeof policyTestHistorySchema>;
