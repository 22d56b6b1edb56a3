import { condition } from '@temporalio/workflow';
import type { ActionStatus } from '../../shared/action-state';
import { canonicalJson } from '../../shared/canonical-json';
import {
  awaitingReportStep,
  executionFailedStep,
  executionReportedStep,
  executionSucceededStep,
  unconfirmedStep,
} from '../../shared/evidence-steps';
import { serverExecutor } from '../../shared/policy';
import type { ActionRun } from './action-run';
import { activityErrorMessage, evidence, executors, isEvidenceDataError } from './activity-proxies';

const DEFAULT_REPORT_WINDOW_MS = 60 * 60 * 1000;

/** Runs the approved payload: through the policy's executor, or by the agent, which then reports what it ran. */
export async function execute(run: ActionRun): Promise<void> {
  const executor = serverExecutor(run.state.policy!);
  if (executor) await executeOnServer(run, executor);
  else await awaitAgentReport(run);
}

async function executeOnServer(run: ActionRun, executor: string): Promise<void> {
  const { actionId, state } = run;
  // Started in the same write as the decision (see ActionRun.decide).
  const execution = state.execution!;
  try {
    const outcome = await executors.executeAction({ actionId, request: state.request, payload: state.approvedPayload!, executor });
    execution.result = outcome.result;
    execution.executedPayloadHash = state.approvedPayloadHash;
    await run.recordLast(executionSucceededStep(actionId, executor, outcome, state.approvedPayloadHash!, run.now()));
  } catch (err) {
    if (isEvidenceDataError(err)) throw err;
    const message = activityErrorMessage(err);
    execution.error = message;
    await run.record(executionFailedStep(actionId, executor, message, run.now()));
  }
}

async function awaitAgentReport(run: ActionRun): Promise<void> {
  const { actionId, state } = run;
  const reportWindowMs = state.policy!.execution.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS;
  state.execution = { mode: 'agent' };
  await run.record(awaitingReportStep(actionId, state.approvedPayloadHash!, run.now()));
  const reported = await condition(() => run.report !== undefined, reportWindowMs);
  const report = run.report;
  if (!reported || !report) {
    await run.record(unconfirmedStep(actionId, reportWindowMs, run.now()));
    return;
  }
  const matches = canonicalJson(report.payload) === canonicalJson(state.approvedPayload!);
  const status: ActionStatus = !matches ? 'mismatch' : report.succeeded ? 'executed' : 'execution_failed';
  state.execution.result = report.result ?? null;
  state.execution.error = report.error;
  state.execution.reportedAt = run.now();
  const step = executionReportedStep(actionId, state.request.agent.id, report, { status, matches, approvedPayloadHash: state.approvedPayloadHash! }, state.execution.reportedAt);
  // The activity stores the executed payload's hash with the step and returns it.
  state.execution.executedPayloadHash = await run.advance(status, (readModel) =>
    evidence.recordExecutionReport({ ...step, projection: { ...step.projection, ...readModel }, executedPayload: report.payload }),
  );
}
