/**
 * Reason codes reviewers pick from in the console, Slack and email pages, so decisions can be
 * counted by cause. The API accepts any code matching its pattern; these are the offered ones.
 */
export const REASON_CODES = [
  { code: 'verified', label: 'Verified against the source system', verdict: 'approve' },
  { code: 'customer_goodwill', label: 'Customer goodwill', verdict: 'approve' },
  { code: 'amount_too_high', label: 'Amount too high', verdict: 'deny' },
  { code: 'insufficient_context', label: 'Not enough context to decide', verdict: 'deny' },
  { code: 'policy_violation', label: 'Violates company policy', verdict: 'deny' },
  { code: 'suspected_fraud', label: 'Suspected fraud or abuse', verdict: 'deny' },
  { code: 'other', label: 'Other (see rationale)', verdict: 'any' },
] as const;

export type ReasonCode = (typeof REASON_CODES)[number]['code'];

export function reasonCodesFor(verdict: 'approve' | 'deny'): (typeof REASON_CODES)[number][] {
  return REASON_CODES.filter((reason) => reason.verdict === verdict || reason.verdict === 'any');
}
