/**
 * Data Postgres refuses (here a lone UTF-16 surrogate, which `jsonb` cannot
 * hold) made the evidence activities fail the same way on every retry, forever. They now fail
 * the step with a non-retryable EvidenceDataError. The activities run directly against Postgres.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createAdmissionActivities } from '../../src/gate/activities/admission-activities';
import { failOnDataError } from '../../src/gate/activities/evidence-data-error';
import { createEvidenceActivities } from '../../src/gate/activities/evidence-activities';
import { insertAction, type EvidenceEvent } from '../../src/evidence/evidence-repository';
import { canonicalHash } from '../../src/evidence/payload-hash';
import { loadPolicy } from '../../src/policy/policy-loader';
import { evaluate } from '../../src/policy/policy-evaluator';
import type { ActionRequest } from '../../src/shared/action';
import { actionWorkflowId } from '../../src/shared/action-state';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { FIXTURE_POLICY_DIR, silentLogger, uniqueKey } from '../support/workflow-harness';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const LONE_SURROGATE = 'a\ud800b';
const request = (payload: ActionRequest['payload']): ActionRequest => ({
  agent: { id: 'support-bot' },
  action: { type: 'test.refund' },
  resource: { type: 'billing', id: 'cus_1' },
  payload,
});

async function storedAction(): Promise<string> {
  const key = uniqueKey('data');
  const actionId = actionWorkflowId('support-bot', key);
  const submitted = request({ amount: 1 });
  await insertAction(db.pool, { actionId, idempotencyKey: key, request: submitted, requestHash: canonicalHash(submitted), payloadHash: canonicalHash(submitted.payload), submittedAt: new Date().toISOString() });
  return actionId;
}

const event = (actionId: string, eventKey: string, data: EvidenceEvent['data']): EvidenceEvent => ({
  actionId,
  eventKey,
  type: `test.${eventKey}`,
  actor: 'holdpoint',
  data,
  occurredAt: new Date().toISOString(),
});

async function expectEvidenceDataError(work: Promise<unknown>): Promise<void> {
  const failure = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'EvidenceDataError', nonRetryable: true });
  expect((failure as ApplicationFailure).message).toMatch(/SQLSTATE 22/);
}

const eventCount = async (actionId: string) => (await db.pool.query('SELECT count(*)::int AS n FROM action_events WHERE action_id = $1', [actionId])).rows[0].n;

describe('a permanent data error fails the evidence step instead of retrying', () => {
  const evidence = () => createEvidenceActivities({ pool: db.pool });

  it('recordStep', async () => {
    const actionId = await storedAction();
    await expectEvidenceDataError(evidence().recordStep({ event: event(actionId, 'noted', { note: LONE_SURROGATE }) }));
    expect(await eventCount(actionId)).toBe(0);
  });

  it('recordSteps', async () => {
    const actionId = await storedAction();
    const steps = [{ event: event(actionId, 'first', { ok: true }) }, { event: event(actionId, 'second', { [LONE_SURROGATE]: 1 }) }];
    await expectEvidenceDataError(evidence().recordSteps(steps));
    expect(await eventCount(actionId)).toBe(0); // all or nothing
  });

  it('recordExecutionReport', async () => {
    const actionId = await storedAction();
    const executedPayload = { note: LONE_SURROGATE };
    await expectEvidenceDataError(
      evidence().recordExecutionReport({ event: event(actionId, 'execution-reported', { succeeded: true, executedPayload }), executedPayload }),
    );
    expect(await eventCount(actionId)).toBe(0);
  });

  it('admitAction stores nothing and fails at once', async () => {
    const policy = loadPolicy(FIXTURE_POLICY_DIR);
    const admission = createAdmissionActivities({ pool: db.pool, policy: { evaluate: (r) => evaluate(policy, r) }, logger: silentLogger });
    const key = uniqueKey('admit');
    const submitted = request({ amount: 1, note: LONE_SURROGATE });
    const actionId = actionWorkflowId('support-bot', key);
    await expectEvidenceDataError(
      admission.admitAction({
        actionId,
        submissionId: 's1',
        idempotencyKey: key,
        request: submitted,
        requestHash: canonicalHash(submitted),
        submittedAt: new Date().toISOString(),
        runId: 'run-1',
        occurredAt: new Date().toISOString(),
      }),
    );
    expect((await db.pool.query('SELECT count(*)::int AS n FROM actions WHERE id = $1', [actionId])).rows[0].n).toBe(0);
  });

  it('leaves other failures (a lost connection, a missing action) retryable', async () => {
    const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    await expect(failOnDataError('evidence x', () => Promise.reject(lost))).rejects.toBe(lost);
    const missing = await evidence()
      .recordStep({ event: event('action-0--nobody', 'noted', {}) })
      .catch((err: unknown) => err);
    expect(missing).not.toBeInstanceOf(ApplicationFailure);
  });
});
