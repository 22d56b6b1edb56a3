import type { LoadedPolicy } from './loaded-policy';
import { loadPolicy } from './policy-loader';

/**
 * The policy with LOG_REDACT_PAYLOAD_FIELDS applied to the reasons it renders:
 * `{{payload.<field>}}` of a listed field, and the sum of a limit over one, render `[redacted]`.
 * Evaluation itself still reads the real values; the policy version is unchanged.
 */
export function withReasonRedaction(policy: LoadedPolicy, redactPayloadFields: readonly string[]): LoadedPolicy {
  if (redactPayloadFields.length === 0) return policy;
  const limitSumFields = Object.fromEntries(policy.limits.flatMap((limit) => (limit.sum ? [[limit.id, limit.sum.field]] : [])));
  return Object.freeze({ ...policy, reasonRedaction: Object.freeze({ redactPayloadFields: new Set(redactPayloadFields), limitSumFields }) });
}

/** A PolicyStore `load` that applies the redaction to every policy it loads, reloads included. */
export function redactedPolicyLoader(redactPayloadFields: readonly string[]): (dir: string) => LoadedPolicy {
  return (dir) => withReasonRedaction(loadPolicy(dir), redactPayloadFields);
}
