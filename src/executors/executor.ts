import type { JsonObject, JsonValue } from '../shared/action';

export interface ExecutionCall {
  actionId: string;
  actionType: string;
  payload: JsonObject;
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
