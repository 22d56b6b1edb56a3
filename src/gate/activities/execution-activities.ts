import { ApplicationFailure } from '@temporalio/activity';
import { ExecutionRejectedError, type ExecutionCall, type ExecutionOutcome } from '../executors/executor';
import { ExecutionFailure } from '../../shared/messages';
import type { ActivityDeps } from './deps';

export function createExecutionActivities({ executors }: Pick<ActivityDeps, 'executors'>) {
  return {
    /**
     * Runs the approved payload through the policy's executor, together with the request it was
     * routed on (agent, action, resource, context); idempotent by actionId.
     */
    async executeAction(input: ExecutionCall & { executor: string }): Promise<ExecutionOutcome> {
      const executor = executors.get(input.executor);
      if (!executor) {
        throw ApplicationFailure.nonRetryable(`no executor named "${input.executor}" is configured`, ExecutionFailure.UnknownExecutor);
      }
      try {
        return await executor.execute({ actionId: input.actionId, request: input.request, payload: input.payload });
      } catch (err) {
        if (err instanceof ExecutionRejectedError) {
          throw ApplicationFailure.nonRetryable(err.message, ExecutionFailure.ExecutionRejected, { status: err.status, result: err.result });
        }
        throw err;
      }
    },
  };
}
