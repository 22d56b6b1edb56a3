import { proxyActivities } from '@temporalio/workflow';

/** The floor activity: does nothing, so its cost is the server's and the SDK's alone. */
export interface FloorActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });

/** The physical floor of the stack: one workflow task, one activity, one completion. */
export async function floorWorkflow(): Promise<void> {
  await noop();
}
