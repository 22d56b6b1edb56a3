import { ChaosStack } from '../support/chaos-stack';
import { crashWorkerAndDevServer } from '../support/chaos-scenarios';

/**
 * Reduced chaos suite for CI: worker, API and Temporal dev server are separate processes and are
 * killed with SIGKILL. The fuller numbers run under `npm run test:chaos` (test/chaos/).
 */
jest.setTimeout(150_000);

let stack: ChaosStack;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const started = Date.now();
  stack = await ChaosStack.start();
  figures.stackStartMs = Date.now() - started;
});

afterAll(async () => {
  await stack?.close();
  console.log(`chaos-ci figures ${JSON.stringify(figures)}`);
});

test('SIGKILL worker with reviews pending and executions in flight, then the dev server during waits; decisions race timeouts', async () => {
  await crashWorkerAndDevServer(stack, { pending: 20, inFlight: 10, quick: 6, races: 8, holdMs: 4_000, patience: 1 }, figures);
});
