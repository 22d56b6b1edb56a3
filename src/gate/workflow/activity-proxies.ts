import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { HoldpointActivities } from '../activities';
import { ExecutionFailure } from '../../shared/messages';

// Evidence writes are local activities: one Postgres transaction each, run inside the workflow
// task instead of a round trip through the task queue (the gate's latency is mostly such hand-offs).
// They must land eventually (Postgres may be down for a while), so they retry without limit; a
// permanent data error (EvidenceDataError) is non-retryable and ends the action as `failed`.
// A local activity holds the workflow task while it runs and retries, and nothing else (a decision,
// a cancel) is delivered meanwhile. So during an outage: each attempt is short (the pool gives up
// connecting after 5 s), retries move to workflow timers after 2 s (the task completes and messages
// get through), and they come back at least every 10 s, which bounds convergence after the outage.
export const evidence = proxyLocalActivities<HoldpointActivities>({
  startToCloseTimeout: '15s',
  localRetryThreshold: '2s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Recording that an action failed for good: a few tries, then only the log and the Web UI show it. */
export const lastWords = proxyLocalActivities<HoldpointActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });

/** A notification that cannot be sent after a few tries is given up; timers go on regardless. */
export const notifications = proxyActivities<HoldpointActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Executors are retried on network errors and 5xx only; the activity marks 4xx non-retryable. */
export const executors = proxyActivities<HoldpointActivities>({
  // Just above the HTTP executor's own 15 s timeout: a call lost with a crashed worker is retried soon.
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: Object.values(ExecutionFailure),
  },
});

/** The activities' failure type for data Postgres refuses for good: retrying cannot help. */
const EVIDENCE_DATA_ERROR = 'EvidenceDataError';

export function isEvidenceDataError(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === EVIDENCE_DATA_ERROR;
}

/** An activity's own message, without the wrapping ActivityFailure's. */
export function activityErrorMessage(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
}
