/**
 * Replays every stored history in test/histories against the current workflow code.
 *
 * The histories are real runs of each workflow path, recorded by agent-action-workflow.test.ts.
 * Re-record them (after adding a path, or once old runs can no longer be in flight) with:
 *
 *   RECORD_HISTORIES=1 npx jest --selectProjects workflow -- test/workflow/agent-action-workflow.test.ts
 *
 * A change that fails this test would break workflows already running in production: gate it with
 * `patched('<change-id>')` (and later `deprecatePatch`) instead of re-recording to make it pass.
 * Before re-recording a path a patch changed, copy its old history into a subdirectory named after
 * the patch (e.g. before-deciding-vote-batch/), so the unpatched branch stays guarded too.
 * No server is needed: replay runs the workflow code against the recorded events only.
 */
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadStoredHistory, storedHistoryFiles } from '../support/histories';

const files = storedHistoryFiles();
let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quiet as never });
});

it('has a stored history for each workflow path', () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
  // Both branches of every patch are guarded: histories recorded before it and after it.
  for (const before of ['before-deciding-vote-batch/', 'before-steps-stored-together/', 'before-admission-and-approval-writes/']) {
    expect(files.filter((file) => file.startsWith(before)).length).toBeGreaterThan(0);
  }
});

it.each(files)('replays %s without a determinism error', async (file) => {
  const workflowId = `replay-${file.replace(/\.json$/, '').replace(/[\\/]/g, '-')}`;
  const results = Worker.runReplayHistories({ workflowBundle }, [{ workflowId, history: loadStoredHistory(file) }]);
  const outcomes = [];
  for await (const result of results) outcomes.push(result);
  expect(outcomes).toHaveLength(1);
  expect(outcomes[0]!.error).toBeUndefined();
});
