import { ApplicationFailure } from '@temporalio/workflow';
import { DecisionRejection, type DecisionRejectionType } from '../../shared/messages';
import { findUnsafeJson, jsonPath } from '../../shared/json-safety';

/** A refusal the API maps to an HTTP status (see src/gate/service/workflow-errors.ts). */
export function reject(message: string, type: DecisionRejectionType): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/** Whatever channel a message came through, what the evidence store would refuse must not end the action. */
export function refuseUnstorable(value: unknown): void {
  const issue = findUnsafeJson(value);
  if (issue) throw reject(`${jsonPath('body', issue.path)} ${issue.message}`, DecisionRejection.InvalidDecision);
}
