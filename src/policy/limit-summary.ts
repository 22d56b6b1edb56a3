import type { JsonValue } from '../shared/action';
import type { LimitAggregate, PolicyDecision } from '../shared/policy';
import { isRedactedPayloadPath, REDACTED, type ReasonRedaction } from './reason-template';

function scopeText(scope: { [field: string]: JsonValue }): string {
  const parts = Object.entries(scope).map(([field, value]) => `${field} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return parts.length === 0 ? 'all actions' : parts.join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `refunds_per_customer: 5 actions, sum 480 in 24h (resource billing:cus_1)`, one per limit. */
export function describeAggregates(aggregates: readonly LimitAggregate[], redaction?: ReasonRedaction): string {
  const redact = redaction?.redactPayloadFields;
  const hidden = (field: string | undefined) => Boolean(redact?.size && field && isRedactedPayloadPath(field.split('.'), redact));
  return aggregates
    .map((aggregate) => {
      const sum = aggregate.sum === undefined ? '' : `, sum ${hidden(aggregate.field) ? REDACTED : aggregate.sum}`;
      const scope = Object.fromEntries(Object.entries(aggregate.scope).map(([field, value]) => [field, hidden(field) ? REDACTED : value]));
      return `${aggregate.limit}: ${plural(aggregate.count, 'action')}${sum} in ${aggregate.window} (${scopeText(scope)})`;
    })
    .join('; ');
}

/**
 * The decision as stored and shown to reviewers: its reason ends with the limits it counted, this
 * request included, on the same line (every channel renders `reason` as one line of text). Sums and
 * scope values of LOG_REDACT_PAYLOAD_FIELDS fields read `[redacted]` there.
 */
export function withAggregateSummary(decision: PolicyDecision, redaction?: ReasonRedaction): PolicyDecision {
  if (decision.aggregates === undefined || decision.aggregates.length === 0) return decision;
  return { ...decision, reason: `${decision.reason} [limits incl. this request: ${describeAggregates(decision.aggregates, redaction)}]` };
}
