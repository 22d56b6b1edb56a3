import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DecisionRejection } from '../../shared/messages';
import { HttpProblem } from '../../platform/http/problem';

const STATUS_BY_REJECTION: Record<string, number> = {
  [DecisionRejection.NotPending]: 409,
  [DecisionRejection.DuplicateVote]: 409,
  [DecisionRejection.NotAwaitingReport]: 409,
  [DecisionRejection.NotEligible]: 403,
  [DecisionRejection.SelfApproval]: 403,
  [DecisionRejection.InvalidDecision]: 422,
  [DecisionRejection.EditNotAllowed]: 422,
  [DecisionRejection.EditRejectedByPolicy]: 422,
  [DecisionRejection.PayloadChanged]: 409,
  [DecisionRejection.BreakGlassRequired]: 403,
  [DecisionRejection.BreakGlassForbidden]: 403,
};

const kebab = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** Maps a workflow's refusal of an Update to the HTTP status the API documents. */
export function toHttpProblem(err: unknown): unknown {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { type?: string; message?: string } | undefined;
    const status = cause?.type ? STATUS_BY_REJECTION[cause.type] : undefined;
    if (status) return new HttpProblem(status, kebab(cause!.type!), cause!.type!.replace(/([a-z])([A-Z])/g, '$1 $2'), cause!.message ?? 'refused');
  }
  if (err instanceof WorkflowNotFoundError || /workflow execution already completed/i.test(String((err as Error)?.message))) {
    return new HttpProblem(409, 'not-pending', 'Not pending', 'the action has already finished');
  }
  return err;
}
