import { condition, log, setHandler } from '@temporalio/workflow';
import { hasReached, isTerminal, type ActionState } from '../../shared/action-state';
import {
  cancelSignal,
  cancelUpdate,
  DecisionRejection,
  decideUpdate,
  decisionSignal,
  reportExecutionUpdate,
  stateQuery,
  type CancelRequest,
  type ExecutionReport,
} from '../../shared/messages';
import type { ActionRun } from './action-run';
import { refuseUnstorable, reject } from './rejections';
import { castVote, validateDecision } from './review-votes';

/**
 * Decisions, cancels and execution reports are Updates with synchronous validators, so the caller
 * hears why a message was refused; the signals are the operators' variants (Temporal CLI / Web UI),
 * which log a refusal instead. The query never changes anything.
 */
export function registerHandlers(run: ActionRun): void {
  const { actionId, state } = run;
  setHandler(stateQuery, () => state);

  setHandler(decideUpdate, (decision) => castVote(run, decision), { validator: (decision) => validateDecision(run, decision) });
  setHandler(decisionSignal, async (decision) => {
    try {
      validateDecision(run, decision);
      await castVote(run, decision);
    } catch (err) {
      log.warn('decision signal ignored', { actionId, reviewer: decision.reviewer, error: String(err) });
    }
  });

  setHandler(cancelUpdate, (request) => cancel(run, request), { validator: (request) => validateCancel(run, request) });
  setHandler(cancelSignal, (request) => {
    try {
      validateCancel(run, request);
      run.cancellation ??= request;
    } catch (err) {
      log.info('cancel ignored', { actionId, status: state.status, error: String(err) });
    }
  });

  setHandler(reportExecutionUpdate, (report) => acceptReport(run, report), { validator: (report) => validateReport(run, report) });
}

/** Only a pending action can be cancelled: once decided (or while a deciding vote is stored), the cancel comes too late. */
function validateCancel(run: ActionRun, request: CancelRequest): void {
  const { state } = run;
  if ((state.status !== 'classifying' && state.status !== 'pending_review') || state.decision) {
    throw reject(`the action is ${state.status}; only pending actions can be cancelled`, DecisionRejection.NotPending);
  }
  if (typeof request?.by !== 'string' || !request.by) throw reject('a cancel names who cancels it (by)', DecisionRejection.InvalidDecision);
  refuseUnstorable(request);
}

/**
 * The first cancel wins (a later one attaches to it); the main flow stores it. Answers once the
 * outcome is stored: cancelled, or an auto-allow that admission stored before the cancel could count.
 */
async function cancel(run: ActionRun, request: CancelRequest): Promise<ActionState> {
  run.cancellation ??= request;
  await condition(() => hasReached(run.state.status, 'decided'));
  return run.state;
}

function validateReport(run: ActionRun, report: ExecutionReport): void {
  const { state } = run;
  // The agent may report as soon as it sees the approval, before the workflow records that it waits.
  const approvedForAgent =
    state.policy?.execution.mode === 'agent' && (state.status === 'approved' || state.status === 'allowed' || state.status === 'awaiting_report');
  if (!approvedForAgent || run.report) {
    throw reject(`action is ${state.status}, not awaiting an execution report`, DecisionRejection.NotAwaitingReport);
  }
  if (typeof report?.payload !== 'object' || report.payload === null || Array.isArray(report.payload)) {
    throw reject('payload must be a JSON object', DecisionRejection.InvalidDecision);
  }
  refuseUnstorable(report);
}

/** Hands the report to the execution step; answers once the action has finished. */
async function acceptReport(run: ActionRun, report: ExecutionReport): Promise<ActionState> {
  run.report = report;
  await condition(() => isTerminal(run.state.status));
  return run.state;
}
