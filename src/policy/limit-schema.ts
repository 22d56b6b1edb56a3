import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../shared/duration';
import { LIMIT_STATUSES, SCOPE_FIELD_NAMES } from './limits';

// A limit id is a CEL identifier, so a rule can read `limits.refunds_per_customer.sum`.
const LIMIT_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PAYLOAD_PATH_PATTERN = /^payload(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 90 * 86_400_000;

const windowSchema = z
  .string({ error: 'expected a window such as 30m, 24h or 7d' })
  .regex(DURATION_PATTERN, 'expected a window such as 30m, 24h or 7d')
  // Longer than parseDuration reads (100 years) is outside the range too.
  .transform((text) => ({ text, ms: parseDuration(text) ?? Number.POSITIVE_INFINITY }))
  .refine((window) => window.ms >= MIN_WINDOW_MS && window.ms <= MAX_WINDOW_MS, 'a window is from 1m to 90d');

const scopeFieldSchema = z.string().superRefine((field, ctx) => {
  if ((SCOPE_FIELD_NAMES as readonly string[]).includes(field) || PAYLOAD_PATH_PATTERN.test(field)) return;
  ctx.addIssue({
    code: 'custom',
    message: `unknown scope field "${field}": use ${SCOPE_FIELD_NAMES.join(', ')} or payload.<field>`,
  });
});

export const limitSchema = z.strictObject({
  description: z.string().optional(),
  /** Action types counted; absent: every type. */
  actions: z.array(z.string().min(1)).min(1, 'list at least one action type, or leave `actions` out').optional(),
  /** Fields whose values must be equal for two actions to count together; `[]`: one scope for all. */
  scope: z.array(scopeFieldSchema).refine((fields) => new Set(fields).size === fields.length, 'a scope field is listed twice'),
  window: windowSchema,
  sum: z.string().regex(PAYLOAD_PATH_PATTERN, 'sum takes a payload field, e.g. payload.amount').optional(),
  statuses: z.array(z.enum(LIMIT_STATUSES)).min(1, 'list at least one status, or leave `statuses` out for the default').optional(),
});

export const limitsSchema = z.record(z.string().regex(LIMIT_ID_PATTERN), limitSchema, {
  error: (issue) =>
    issue.code === 'invalid_key' ? `limit id "${String(issue.input)}": use letters, digits and _ (it is read in CEL as limits.<id>)` : undefined,
});

export type LimitDocument = z.output<typeof limitSchema>;
