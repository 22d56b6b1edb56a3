import { createAdmissionActivities } from './admission-activities';
import type { ActivityDeps } from './deps';
import { createEvidenceActivities } from './evidence-activities';
import { createExecutionActivities } from './execution-activities';
import { createNotificationActivities } from './notification-activities';

export type { ActivityDeps } from './deps';

/** Every activity the worker registers, closed over its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAdmissionActivities(deps),
    ...createEvidenceActivities(deps),
    ...createNotificationActivities(deps),
    ...createExecutionActivities(deps),
  };
}

export type HoldpointActivities = ReturnType<typeof createActivities>;
