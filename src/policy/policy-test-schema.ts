import { z } from 'zod';
import type { JsonObject } from '../shared/action';
import { outcomeSchema, riskSchema } from './policy-schema';

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

export const policyTestExpectationSchema = z.strictObject({
  outcome: outcomeSchema,
  /** Exactly the rules that must match, in any order. */
  rules: z.array(z.string()).optional(),
  risk: riskSchema.optional(),
  /** The exact rendered reason. */
  reason: z.string().optional(),
});

export const policyTestCaseSchema = z.strictObject({
  name: z.string().min(1),
  input: policyTestInputSchema,
  expect: policyTestExpectationSchema,
});

export const policyTestFileSchema = z.strictObject({
  tests: z.array(policyTestCaseSchema),
});

export type PolicyTestCase = z.output<typeof policyTestCaseSchema>;
export type PolicyTestExpectation = z.output<typeof policyTestExpectationSchema>;
