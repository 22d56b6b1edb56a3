import { TestWorkflowEnvironment } from '@temporalio/testing';

export function testServerPath(): string {
  const executable = process.env.HOLDPOINT_TEST_SERVER_PATH;
  if (!executable) throw new Error('HOLDPOINT_TEST_SERVER_PATH is not set: run through jest (global set-up resolves it)');
  return executable;
}

/** Java time-skipping test server resolved from Maven by scripts/toolchain.js. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
}

export function devServerAddress(): string {
  const address = process.env.HOLDPOINT_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('HOLDPOINT_TEST_TEMPORAL_ADDRESS is not set: run through jest (global set-up starts the dev server)');
  return address;
}

/** A client/worker environment on the shared real dev server (no time skipping). */
export function connectToDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: devServerAddress() });
}
