import type { Pool } from 'pg';
import { appendEvents, inTransaction, insertAction, mergeProjections, updateProjection } from '../db/evidence-repository';
import { canonicalHash } from '../evidence/payload-hash';
import type { JsonObject } from '../shared/action';
import type { AgentActionInput } from '../shared/action-state';
import { decidedStep, executionStartStep, policyAllowed, type StepRecord } from '../shared/evidence-steps';
import { autoAllowExecutor, type PolicyDecision } from '../shared/policy';
import { recordShadowComparison, shadowCompare } from '../policy-shadow/shadow-repository';
import type { ActivityDeps } from './deps';

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
    async admitAction(input: AgentActionInput & { runId: string; occurredAt: string; storeAutoAllow?: boolean }): Promise<Admission> {
      const previous = await recordedClassification(pool, input.actionId);
      // Everything below commits at once: a stored classification means its auto-allow was stored too.
      if (previous) return previous;
      const payloadHash = canonicalHash(input.request.payload);
      const decision = policy.evaluate(input.request);
      // Shadow mode runs inside this activity, so the workflow's commands are the same with or without it.
      const shadow = shadowPolicy && shadowCompare(shadowPolicy, input.request, decision, logger);
      return inTransaction(pool, async (client) => {
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
        const executor = input.storeAutoAllow ? autoAllowExecutor(decision) : undefined;
        if (executor) {
          // The same events the workflow would store next, one local activity earlier.
          const approved = { payload: input.request.payload, payloadHash };
          steps.push(
            decidedStep(input.actionId, 'allowed', policyAllowed(decision.reason, input.occurredAt), approved),
            executionStartStep(input.actionId, executor, payloadHash, input.occurredAt),
          );
        }
        await appendEvents(client, steps.map((step) => step.event));
        await updateProjection(client, input.actionId, mergeProjections(steps.map((step) => step.projection)));
        if (shadow) await recordShadowComparison(client, input.actionId, shadow, logger);
        return { decision, payloadHash };
      });
    },

    /** Re-classifies a reviewer's edit: an edit may never escape a stricter rule. Records nothing. */
    async classifyEdit(input: AgentActionInput & { editedPayload: JsonObject }): Promise<Admission> {
      const request = { ...input.request, payload: input.editedPayload };
      return { decision: policy.evaluate(request), payloadHash: canonicalHash(input.editedPayload) };
    },
  };
}
