import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

/** The running activity's attempt, when called from one (tests also call the writes directly). */
function currentAttempt(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}

function activityLog() {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}

export const EVIDENCE_DATA_ERROR = 'EvidenceDataError';

/**
 * SQLSTATEs that say the data itself cannot be stored: class 22 (data exception: untranslatable
 * character, bad JSON, numeric out of range…), NOT NULL and CHECK violations. Retrying the same
 * write can never succeed, and evidence activities otherwise retry without limit.
 */
function isPermanentDataError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22[0-9A-Z]{3}|23502|23514)$/.test(code);
}

/** Every this many failed attempts of one write, the worker says the action cannot progress. */
const STUCK_REPORT_EVERY = 10;

/**
 * Runs an evidence write; a permanent data error fails the step at once instead of being retried
 * forever. A transient one is retried; each tenth attempt is logged, so an action that cannot
 * progress (Postgres down for long) shows in the worker log as well as in holdpoint_actions_stalled.
 */
export async function failOnDataError<T>(step: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isPermanentDataError(err)) {
      const attempt = currentAttempt();
      if (attempt !== undefined && attempt % STUCK_REPORT_EVERY === 0) {
        activityLog()?.warn(`${step}: still failing after ${attempt} attempts; the action cannot progress until it is stored`, { error: String(err), attempt });
      }
      throw err;
    }
    throw ApplicationFailure.create({
      type: EVIDENCE_DATA_ERROR,
      message: `${step}: Postgres refused the data (SQLSTATE ${err.code}): ${err.message}`,
      nonRetryable: true,
      details: [{ sqlState: err.code }],
      cause: err,
    });
  }
}
