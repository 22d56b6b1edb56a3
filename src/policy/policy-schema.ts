import { z } from 'zod';
import { NOTIFICATION_CHANNELS, OUTCOMES, RISK_TIERS } from '../shared/policy';
import { DURATION_PATTERN, formatDuration, MAX_DURATION_MS, parseDuration } from '../shared/duration';
import { limitsSchema } from './limit-schema';

// Strict objects everywhere: a misspelt key (`on_timout`) must refuse the file rather than
// silently fall back to a default that may be more permissive.

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const PAYLOAD_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const durationSchema = z
  .string({ error: 'expected a duration such as 90s, 30m, 4h or 2d' })
  .regex(DURATION_PATTERN, 'expected a duration such as 90s, 30m, 4h or 2d')
  .transform((text, ctx) => parseDuration(text) ?? (ctx.addIssue({ code: 'custom', message: `a duration is at most ${formatDuration(MAX_DURATION_MS)}` }), z.NEVER));

const nameSchema = z.string().regex(NAME_PATTERN, 'expected a name of letters, digits, and . _ : -');
const groupNameSchema = nameSchema;
const principalIdSchema = z.string().min(1).regex(/^\S+$/, 'principal ids contain no whitespace');

export const outcomeSchema = z.enum(OUTCOMES);
export const riskSchema = z.enum(RISK_TIERS);
export const timeoutOutcomeSchema = z.enum(['deny', 'allow']);
export const channelNameSchema = z.enum(NOTIFICATION_CHANNELS);
const channelListSchema = z.array(channelNameSchema).min(1, 'list at least one channel');

export const routeSchema = z
  .strictObject({
    group: groupNameSchema.optional(),
    owner_of: z.literal('resource').optional(),
  })
  .refine((route) => (route.group === undefined) !== (route.owner_of === undefined), {
    message: 'route needs exactly one of `group` or `owner_of: resource`',
  });

export const executionSchema = z
  .strictObject({
    mode: z.enum(['server', 'agent']),
    executor: nameSchema.optional(),
    report_window: durationSchema.optional(),
  })
  .superRefine((execution, ctx) => {
    if (execution.mode === 'server' && execution.executor === undefined) {
      ctx.addIssue({ code: 'custom', path: ['executor'], message: 'server mode needs an `executor`' });
    }
    if (execution.mode === 'agent' && execution.executor !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['executor'], message: '`executor` only applies to server mode' });
    }
    if (execution.mode === 'server' && execution.report_window !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['report_window'], message: '`report_window` only applies to agent mode' });
    }
  });

export const escalationTierSchema = z.strictObject({
  to: groupNameSchema,
  after: durationSchema,
});

export const ruleSchema = z.strictObject({
  id: nameSchema,
  description: z.string().optional(),
  when: z.string().refine((text) => text.trim().length > 0, 'a CEL condition is required'),
  outcome: outcomeSchema,
  risk: riskSchema.optional(),
  reason: z.string().optional(),
  route: routeSchema.optional(),
  sla: durationSchema.optional(),
  remind_before: durationSchema.optional(),
  escalation: z.array(escalationTierSchema).optional(),
  on_timeout: timeoutOutcomeSchema.optional(),
  approvals: z.int().min(1).optional(),
  allow_edit: z.array(z.string().regex(PAYLOAD_FIELD_PATTERN, 'expected a top-level payload field name')).optional(),
  execution: executionSchema.optional(),
  /** false: an admin may not approve this action outside its routed tiers (break-glass). Default true. */
  break_glass: z.boolean({ error: 'break_glass must be true or false' }).optional(),
});

export const defaultsSchema = z.strictObject({
  unmatched: outcomeSchema.optional(),
  risk: riskSchema.optional(),
  reason: z.string().optional(),
  on_timeout: timeoutOutcomeSchema.optional(),
  sla: durationSchema.optional(),
  remind_before: durationSchema.optional(),
  approvals: z.int().min(1).optional(),
  // Only a group: the default route is also the fallback for owner routing, so it cannot itself depend on owners.
  route: z.strictObject({ group: groupNameSchema }).optional(),
  execution: executionSchema.optional(),
  /** Reviewer channels for groups the top-level `channels` map does not name; absent: every configured channel. */
  channels: channelListSchema.optional(),
});

export const ownerSchema = z.strictObject({
  resource: z.string().min(1),
  group: groupNameSchema,
});

export const policyFileSchema = z.strictObject({
  version: z.literal(1),
  defaults: defaultsSchema.optional(),
  groups: z.record(groupNameSchema, z.array(principalIdSchema).min(1, 'a group needs at least one member')).optional(),
  owners: z.array(ownerSchema).optional(),
  /** Which reviewer channels reach each group. */
  channels: z.record(groupNameSchema, channelListSchema).optional(),
  rules: z.array(ruleSchema).optional(),
  /** Windowed counts and sums over earlier actions, read by rules as `limits.<id>`. */
  limits: limitsSchema.optional(),
});

export type PolicyFileDocument = z.output<typeof policyFileSchema>;
export type PolicyRuleDocument = z.output<typeof ruleSchema>;
export type PolicyDefaultsDocument = z.output<typeof defaultsSchema>;
export type ExecutionDocument = z.output<typeof executionSchema>;
export type RouteDocument = z.output<typeof routeSchema>;
