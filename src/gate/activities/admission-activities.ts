import type { Pool } from 'pg';
import { appendEvents, insertAction, mergeProjections, updateProjection } from '../../evidence/evidence-repository';
import { inTransaction } from '../../platform/postgres/transaction';
import { canonicalHash } from '../../evidence/payload-hash';
import type { JsonObject } from '../../shared/action';
import type { ActionState, AgentActionInput } from '../../shared/action-state';
import { decidedStep, executionStartStep, policyAllowed, type StepRecord } from '../../shared/evidence-steps';
import { autoAllowExecutor, type PolicyDecision } from '../../shared/policy';
import { lockAndReadLimits, readLimits } from '../../policy/limit-ledger';
import { scopedLimitsFor } from '../../policy/limits';
import { withAggregateSummary } from '../../policy/limit-summary';
import { evaluate } from '../../policy/policy-evaluator';
import { readCandidateLimits } from '../../policy/shadow/shadow-limits';
import { recordShadowComparison, shadowCompare } from '../../policy/shadow/shadow-repository';
import type { ActivityDeps } from './deps';
import { failOnDataError } from './evidence-data-error';

export interface Admission {
  decision: PolicyDecision;
  payloadHash: string;
}

async function recordedClassification(pool: Pool, actionId: string): Promise<Admission | undefined> {
  const { rows } = await pool.query<{ data: { decision: PolicyDecision; payloadHash: string } }>(
    `SELECT data FROM action_events WHERE action_id = $1 AND event_key = 'classified'`,
    [actionId],
  );
  return rows[0] ? { decision: rows[0].data.decision, payloadHash: rows[0].data.payloadHash } : undefined;
}

export function createAdmissionActivities({ pool, policy, shadowPolicy, logger }: Pick<ActivityDeps, 'pool' | 'policy' | 'shadowPolicy' | 'logger'>) {
  return {
    /**
     * Stores the request and classifies it by policy, in one round trip. A retry returns the
     * classification already recorded, so a policy reload between attempts cannot change it.
     */
    async admitAction(input: AgentActionInput & { runId: string; occurredAt: string }): Promise<Admission> {
      const previous = await recordedClassification(pool, input.actionId);
      // Everything below commits at once: a stored classification means its auto-allow was stored too.
      if (previous) return previous;
      const payloadHash = canonicalHash(input.request.payload);
      const at = Date.parse(input.occurredAt);
      return failOnDataError('admission', () => inTransaction(pool, async (client) => {
        // Cumulative limits: lock the action's limit scopes, record it in their ledger while reading
        // what came before it, then decide. Parallel admissions of one scope queue on the lock, so
        // each sees every earlier one (pending included) and none can split a total past a limit.
        const live = policy.current?.();
        const scoped = live ? scopedLimitsFor(live, input.request) : [];
        const limits = await lockAndReadLimits(client, scoped, { actionId: input.actionId, submittedAt: input.submittedAt, at });
        const decision = withAggregateSummary(live ? evaluate(live, input.request, undefined, limits) : policy.evaluate(input.request), live?.reasonRedaction);
        // Shadow mode runs inside this activity, so the workflow's commands are the same with or without it.
        const candidate = shadowPolicy?.current();
        const candidateLimits = candidate && (await readCandidateLimits(client, candidate, input.request, scoped, { at, actionId: input.actionId }, logger));
        const shadow = candidate && shadowCompare({ current: () => candidate }, input.request, decision, logger, candidateLimits);
        await insertAction(client, { ...input, payloadHash });
        const steps: StepRecord[] = [
          {
            event: {
              actionId: input.actionId,
              eventKey: 'requested',
              type: 'action.requested',
              actor: input.request.agent.id,
              data: { request: input.request as unknown as JsonObject, requestHash: input.requestHash, payloadHash },
              occurredAt: input.submittedAt,
            },
          },
          {
            event: {
              actionId: input.actionId,
              eventKey: 'classified',
              type: 'policy.classified',
              actor: 'policy',
              data: { decision: decision as unknown as JsonObject, payloadHash },
              occurredAt: input.occurredAt,
            },
            projection: {
              runId: input.runId,
              outcome: decision.outcome,
              risk: decision.risk,
              matchedRules: decision.matchedRules,
              reason: decision.reason,
              policyVersion: decision.policyVersion,
            },
          },
        ];
        // The read model's first state: what the workflow holds once admission returns.
        const state: ActionState = {
          actionId: input.actionId,
          submissionId: input.submissionId,
          requestHash: input.requestHash,
          request: input.request,
          status: 'classifying',
          payloadHash,
          policy: decision,
        };
        const executor = autoAllowExecutor(decision);
        if (executor) {
          // The same events the workflow would store next, one local activity earlier.
          const approved = { payload: input.request.payload, payloadHash };
          const allowed = policyAllowed(decision.reason, input.occurredAt);
          steps.push(
            decidedStep(input.actionId, 'allowed', allowed, approved),
            executionStartStep(input.actionId, executor, payloadHash, input.occurredAt),
          );
          Object.assign(state, { status: 'executing', decision: allowed, approvedPayload: approved.payload, approvedPayloadHash: payloadHash, execution: { mode: 'server', executor } });
        }
        steps[steps.length - 1]!.projection = { ...steps[steps.length - 1]!.projection, state, stateRevision: 0 };
        await appendEvents(client, steps.map((step) => step.event));
        await updateProjection(client, input.actionId, mergeProjections(steps.map((step) => step.projection)));
        if (shadow) await recordShadowComparison(client, input.actionId, shadow, logger);
        return { decision, payloadHash };
      }));
    },

    /** Re-classifies a reviewer's edit: an edit may never escape a stricter rule. Records nothing. */
    async classifyEdit(input: AgentActionInput & { editedPayload: JsonObject }): Promise<Admission> {
      const request = { ...input.request, payload: input.editedPayload };
      const payloadHash = canonicalHash(input.editedPayload);
      const live = policy.current?.();
      if (!live) return { decision: policy.evaluate(request), payloadHash };
      // The action already counts in its scopes: read them without it, then add the edited amount.
      const limits = await readLimits(pool, scopedLimitsFor(live, request), { at: Date.now(), excludeActionId: input.actionId });
      return { decision: withAggregateSummary(evaluate(live, request, undefined, limits), live.reasonRedaction), payloadHash };
    },
  };
}
