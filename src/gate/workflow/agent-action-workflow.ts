import { allHandlersFinished, condition } from '@temporalio/workflow';
import type { ActionState, AgentActionInput } from '../../shared/action-state';
import { cancelled, policyAllowed, policyDenied } from '../../shared/evidence-steps';
import { ActionRun } from './action-run';
import { isEvidenceDataError } from './activity-proxies';
import { execute } from './execution';
import { registerHandlers } from './message-handlers';
import { review } from './review';

/** One agent action, from classification to executed (or refused), with every step recorded. */
export async function agentActionWorkflow(input: AgentActionInput): Promise<ActionState> {
  const run = new ActionRun(input);
  registerHandlers(run);
  try {
    await decideAndRun(run);
    await run.complete();
  } catch (err) {
    if (!isEvidenceDataError(err)) throw err;
    await run.failForGood(err);
  }
  await condition(allHandlersFinished);
  return run.state;
}

/** Admit → allow / deny / review → execute. */
async function decideAndRun(run: ActionRun): Promise<void> {
  const { state } = run;
  const policy = await run.admit();
  if (state.decision) {
    // Admission decided: an auto-allow, stored with the request and its execution start.
  } else if (run.cancellation) {
    await run.decide('cancelled', cancelled(run.cancellation, run.now()));
  } else if (policy.outcome === 'deny') {
    await run.decide('auto_denied', policyDenied(policy.reason, run.now()));
  } else if (policy.outcome === 'allow') {
    state.approvedPayload = state.request.payload;
    state.approvedPayloadHash = state.payloadHash;
    await run.decide('allowed', policyAllowed(policy.reason, run.now()));
  } else {
    await review(run);
  }
  if (state.decision?.verdict === 'approved' || state.decision?.verdict === 'allowed') await execute(run);
}
