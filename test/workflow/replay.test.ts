/**
 * Replays every stored history in test/histories against the current workflow code.
 *
 * The histories are real runs of each workflow path, recorded by agent-action-workflow.test.ts.
 * Re-record them (after adding a path, or once old runs can no longer be in flight) with:
 *
 *   RECORD_HISTORIES=1 npx jest --selectProjects workflow -- test/workflow/agent-action-workflow.test.ts
 *
 * Before 1.0 nothing is deployed, so no old run can be in flight: a change that fails this test is
 * made freely and the histories are re-recorded. From 1.0 on, such a change would break running
 * workflows: gate it with `patched('<change-id>')`, keep the old histories in a subdirectory named
 * after the patch, then `deprecatePatch`, then remove it once no run from before can exist.
 * No server is needed: replay runs the workflow code against the recorded events only.
 */
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadStoredHistory, storedHistoryFiles } from '../support/histories';

const files = storedHistoryFiles();
let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/gate/workflow'), logger: quiet as never });
});

it('has a stored history for each workflow path', () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
});

it.each(files)('replays %s without a determinism error', async (file) => {
  const workflowId = `replay-${file.replace(/\.json$/, '').replace(/[\\/]/g, '-')}`;
  const results = Worker.runReplayHistories({ workflowBundle }, [{ workflowId, history: loadStoredHistory(file) }]);
  const outcomes = [];
  for await (const result of results) outcomes.push(result);
  expect(outcomes).toHaveLength(1);
  expect(outcomes[0]!.error).toBeUndefined();
});
