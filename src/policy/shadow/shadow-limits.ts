import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import { readLimits, readLimitsFromActions } from '../limit-ledger';
import type { LoadedPolicy } from '../loaded-policy';
import { scopedLimitsFor, type LimitReadings, type ScopedLimit } from '../limits';
import type { LimitAggregate } from '../../shared/policy';
import type { ActionRequest } from '../../shared/action';

/**
 * A shadow candidate's limits for one admission, as of the admission's time. Limits whose ledger
 * rows the live policy keeps (same action types and scope fields) are read from the ledger; others
 * straight from `actions`. Behind a savepoint: a failed read leaves the candidate without limits
 * (its limit rules fail closed, recorded as such) and never fails the admission.
 */
export async function readCandidateLimits(
  client: PoolClient,
  candidate: LoadedPolicy,
  request: ActionRequest,
  live: readonly ScopedLimit[],
  options: { at: number; actionId: string },
  logger: Pick<Logger, 'warn'>,
): Promise<LimitReadings | undefined> {
  const scoped = scopedLimitsFor(candidate, request);
  if (scoped.length === 0) return undefined;
  const kept = new Set(live.map((entry) => entry.scopeKey));
  const read = { at: options.at, excludeActionId: options.actionId };
  await client.query('SAVEPOINT shadow_limits');
  try {
    const fromLedger = await readLimits(client, scoped.filter((entry) => kept.has(entry.scopeKey)), read);
    const fromActions = await readLimitsFromActions(client, scoped.filter((entry) => !kept.has(entry.scopeKey)), request, read);
    await client.query('RELEASE SAVEPOINT shadow_limits');
    const readings = new Map<string, LimitAggregate>();
    // Candidate order, so its decision lists the aggregates as its policy declares them.
    for (const entry of scoped) {
      const aggregate = fromLedger.get(entry.limit.id) ?? fromActions.get(entry.limit.id);
      if (aggregate) readings.set(entry.limit.id, aggregate);
    }
    return readings;
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT shadow_limits');
    logger.warn({ err, actionType: request.action.type }, 'shadow policy limits not read; the candidate is evaluated without them');
    return undefined;
  }
}
