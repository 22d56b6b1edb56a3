import type { ActionRequest } from '../shared/action';
import type { PolicyDecision } from '../shared/policy';
import type { LoadedPolicy } from './loaded-policy';
import { LimitHistory, type PastAction } from './limit-history';
import type { LimitReadings } from './limits';
import type { PolicyTestCase, PolicyTestExpectation } from './policy-test-schema';

/** Policy tests evaluate at a fixed instant, so a case's history is the same on every run. */
export const POLICY_TEST_INSTANT = Date.UTC(2025, 0, 1, 12);

/** The limits a case reads: its stated history (oldest first), plus the case itself. */
export function caseLimitReadings(policy: LoadedPolicy, testCase: PolicyTestCase): LimitReadings {
  const request = testCase.input as ActionRequest;
  const history = new LimitHistory(policy);
  const past: PastAction[] = [];
  for (const entry of testCase.history ?? []) {
    const { ago, status, repeat, ...fields } = entry;
    const earlier = { ...request, ...fields, payload: fields.payload ?? request.payload } as ActionRequest;
    for (let index = 0; index < repeat; index++) past.push({ request: earlier, at: POLICY_TEST_INSTANT - ago, status });
  }
  for (const action of past.sort((a, b) => a.at - b.at)) history.add(action);
  return history.read(request, POLICY_TEST_INSTANT);
}

/** `expect.limits`: the count and sum each named limit read, this request included. */
export function limitsDiff(expected: PolicyTestExpectation, decision: PolicyDecision): string | undefined {
  if (expected.limits === undefined) return undefined;
  const lines: string[] = [];
  for (const [id, want] of Object.entries(expected.limits)) {
    const got = decision.aggregates?.find((aggregate) => aggregate.limit === id);
    for (const field of ['count', 'sum'] as const) {
      if (want[field] === undefined) continue;
      const actual = got?.[field];
      if (actual !== want[field]) lines.push(`- limits.${id}.${field}: ${want[field]}`, `+ limits.${id}.${field}: ${actual ?? '(not read)'}`);
    }
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}
