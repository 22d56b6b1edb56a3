import { z } from 'zod';
import { jsonObjectSchema } from '../platform/http/json-schemas';

/** Ids that become part of workflow ids and URLs: no spaces, no slashes. */
export const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - only, starting with a letter or digit');


export const actionRequestSchema = z.strictObject({
  agent: z.strictObject({ id: identifier, onBehalfOf: identifier.optional() }),
  action: z.strictObject({
    type: z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'a dotted action type such as payments.refund'),
    tool: z.string().min(1).max(200).optional(),
    step: z.string().min(1).max(200).optional(),
  }),
  resource: z.strictObject({ type: z.string().min(1).max(100), id: z.string().min(1).max(300), attributes: jsonObjectSchema.optional() }),
  payload: jsonObjectSchema,
  context: jsonObjectSchema.optional(),
  deadline: z.iso.datetime({ offset: true }).optional(),
  executionMode: z.enum(['server', 'agent']).optional(),
  callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
});

export type ActionRequestBody = z.infer<typeof actionRequestSchema>;

export const idempotencyKeySchema = identifier;
