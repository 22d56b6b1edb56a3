import { ChaosStack } from '../support/chaos-stack';
import { crashWorkerAndDevServer } from '../support/chaos-scenarios';

/** 200 pending reviews and 50 executions in flight when the worker is killed. */
jest.setTimeout(600_000);

let stack: ChaosStack;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  stack = await ChaosStack.start();
});

afterAll(async () => {
  await stack?.close();
  console.log(`chaos crash figures ${JSON.stringify(figures)}`);
});

test('SIGKILL worker (200 pending, 50 in flight), SIGKILL dev server during waits, decisions racing timeouts', async () => {
  await crashWorkerAndDevServer(stack, { pending: 200, inFlight: 50, quick: 20, races: 20, holdMs: 30_000, patience: 4, quickType: 'test.quick-full' }, figures);
});
