import type { ActionRequest, JsonObject, JsonValue } from '../../shared/action';

export interface ExecutionCall {
  actionId: string;
  /** The request as submitted and classified: the resource and agent the policy routed on. */
  request: ActionRequest;
  /** The approved payload (after any reviewer edit): what runs, in place of `request.payload`. */
  payload: JsonObject;
}

/**
 * What an executor's target is told to do: the routed request with the approved payload, so the
 * target acts on the resource the reviewers were shown. The agent's deadline and callback URL are
 * for Holdpoint, not the target, and stay out.
 */
export interface ExecutionRequestBody {
  actionId: string;
  actionType: string;
  agent: ActionRequest['agent'];
  action: ActionRequest['action'];
  resource: ActionRequest['resource'];
  payload: JsonObject;
  context?: JsonObject;
}

export function executionRequestBody({ actionId, request, payload }: ExecutionCall): ExecutionRequestBody {
  const body: ExecutionRequestBody = {
    actionId,
    actionType: request.action.type,
    agent: request.agent,
    action: request.action,
    resource: request.resource,
    payload,
  };
  if (request.context !== undefined) body.context = request.context;
  return body;
}

export interface ExecutionOutcome {
  status: number;
  result: JsonValue;
}

/** Runs an approved action against its target system. Must be safe to call again with the same actionId. */
export interface Executor {
  execute(call: ExecutionCall): Promise<ExecutionOutcome>;
}

/** Thrown when the target refuses the call for good (4xx): retrying cannot help. */
export class ExecutionRejectedError extends Error {
  override name = 'ExecutionRejectedError';
  constructor(
    message: string,
    readonly status: number,
    readonly result: JsonValue,
  ) {
    super(message);
  }
}

export type ExecutorRegistry = ReadonlyMap<string, Executor>;
