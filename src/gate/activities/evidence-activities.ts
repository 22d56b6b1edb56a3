import { recordStep, recordSteps } from '../../evidence/evidence-repository';
import { canonicalHash } from '../../evidence/payload-hash';
import type { JsonObject } from '../../shared/action';
import type { StepRecord } from '../../shared/evidence-steps';
import type { ActivityDeps } from './deps';
import { failOnDataError } from './evidence-data-error';

export type { StepRecord } from '../../shared/evidence-steps';

export function createEvidenceActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  return {
    /** Appends one evidence event and updates the action row; keyed by (action, step). */
    async recordStep({ event, projection }: StepRecord): Promise<void> {
      await failOnDataError(`evidence ${event.eventKey}`, () => recordStep(pool, event, projection));
    },

    /** Appends several events of one action atomically, in order (a deciding vote and its decision). */
    async recordSteps(steps: StepRecord[]): Promise<void> {
      await failOnDataError(`evidence ${steps.map((step) => step.event.eventKey).join(', ')}`, () => recordSteps(pool, steps));
    },

    /** Records what the agent says it executed; returns the canonical hash of that payload. */
    async recordExecutionReport(input: StepRecord & { executedPayload: JsonObject }): Promise<string> {
      const executedPayloadHash = canonicalHash(input.executedPayload);
      await failOnDataError(`evidence ${input.event.eventKey}`, () =>
        recordStep(pool, { ...input.event, data: { ...input.event.data, executedPayloadHash } }, { ...input.projection, executedPayloadHash }),
      );
      return executedPayloadHash;
    },
  };
}
