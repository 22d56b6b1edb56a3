import { z } from 'zod';
import type { ActionView } from '../client';
import { isRefusedStatus, toRefusal } from '../client/refusal';
import { isDecided } from '../../shared/action-state';

/** What the approval tools answer with: the action's state, shaped for a model to act on. */
export const approvalStatusShape = {
  actionId: z.string(),
  status: z.string(),
  decided: z.boolean(),
  outcome: z.enum(['allow', 'require_approval', 'deny']).nullable().describe("the policy's classification"),
  risk: z.enum(['low', 'medium', 'high', 'critical']).nullable(),
  reason: z.string().nullable(),
  review: z.object({ assignees: z.array(z.string()), dueAt: z.string().nullable(), approvals: z.number(), approvalsNeeded: z.number() }).nullable(),
  decision: z.object({ verdict: z.string(), by: z.array(z.string()), rationale: z.string().nullable() }).nullable(),
  approvedPayload: z.record(z.string(), z.unknown()).nullable().describe('execute exactly this payload (a reviewer may have edited it)'),
  edited: z.boolean(),
  executionMode: z.enum(['agent', 'server']).nullable().describe('agent: you execute and report; server: Holdpoint executes'),
  execution: z.record(z.string(), z.unknown()).nullable(),
  refusal: z.object({ outcome: z.string(), canAskAgain: z.boolean(), message: z.string() }).nullable(),
  next: z.string().describe('what to do next'),
};

export const approvalStatusSchema = z.object(approvalStatusShape);
export type ApprovalStatus = z.infer<typeof approvalStatusSchema>;

export function toApprovalStatus(action: ActionView): ApprovalStatus {
  const decided = isDecided(action.status);
  const refusal = decided && isRefusedStatus(action.status) ? toRefusal(action) : undefined;
  const executionMode = action.execution?.mode ?? null;
  const edited = action.approvedPayloadHash !== null && action.approvedPayloadHash !== action.payloadHash;
  return {
    actionId: action.id,
    status: action.status,
    decided,
    outcome: action.outcome,
    risk: action.risk,
    reason: action.reason,
    review: action.review
      ? { assignees: action.review.assignees, dueAt: action.review.dueAt, approvals: action.review.approvals, approvalsNeeded: action.review.approvalsNeeded }
      : null,
    decision: action.decision ? { verdict: action.decision.verdict, by: action.decision.by, rationale: action.decision.rationale } : null,
    approvedPayload: action.approvedPayload,
    edited,
    executionMode,
    execution: (action.execution as Record<string, unknown> | null) ?? null,
    refusal: refusal ? { outcome: refusal.outcome, canAskAgain: refusal.canAskAgain, message: refusal.message } : null,
    next: refusal ? refusal.message : nextStep(action, edited),
  };
}

function nextStep(action: ActionView, edited: boolean): string {
  const id = JSON.stringify(action.id);
  switch (action.status) {
    case 'classifying':
    case 'pending_review': {
      const who = action.review?.assignees.length ? ` by ${action.review.assignees.join(', ')}` : '';
      const due = action.review?.dueAt ? ` (due ${action.review.dueAt})` : '';
      return `Waiting for a decision${who}${due}. Do not execute it yet. Call get_approval_status with actionId ${id} and waitSeconds to keep waiting.`;
    }
    case 'approved':
    case 'allowed':
    case 'awaiting_report':
      if (action.execution?.mode === 'server') return `Approved; Holdpoint executes it. Do not execute it yourself. Call get_approval_status with actionId ${id} and until "completed" for the result.`;
      return (
        `${action.decision?.verdict === 'allowed' ? 'Allowed by policy' : `Approved${edited ? ' with changes by the reviewer' : ''}`}. ` +
        `Execute it now with exactly approvedPayload${edited ? ' (not your original payload)' : ''}, then call report_execution with actionId ${id}, that payload, and whether it succeeded.`
      );
    case 'executing':
      return `Holdpoint is executing it. Do not execute it yourself. Call get_approval_status with actionId ${id} and until "completed" for the result.`;
    case 'executed':
      return action.execution?.mode === 'server' ? 'Done: Holdpoint executed it; the result is in execution.' : 'Done: the execution report is recorded.';
    case 'execution_failed':
      return `It was approved but the execution failed${action.execution?.error ? `: ${action.execution.error}` : ''}. Tell the user; do not retry without asking.`;
    default:
      return `The action is ${action.status.replace(/_/g, ' ')}.`;
  }
}
