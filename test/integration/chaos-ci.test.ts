import { ChaosPostgres, stopPostgresDuringDecisions } from '../support/chaos-postgres';
import { ChaosStack } from '../support/chaos-stack';
import { crashWorkerAndDevServer, unexpectedAnswers } from '../support/chaos-scenarios';

/**
 * Reduced chaos suite for CI: worker, API and Temporal dev server are separate processes and are
 * killed with SIGKILL. The fuller numbers run under `npm run test:chaos` (test/chaos/).
 */
jest.setTimeout(150_000);

let stack: ChaosStack;
let postgres: ChaosPostgres;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const started = Date.now();
  // Its own Postgres, so the outage below stops nobody else's database.
  postgres = await ChaosPostgres.start();
  stack = await ChaosStack.start(await postgres.database());
  figures.stackStartMs = Date.now() - started;
});

afterAll(async () => {
  await stack?.close();
  await postgres?.close();
  // Printed whatever happened above: a failed run's figures say how far it got.
  console.log(`chaos-ci figures ${JSON.stringify({ ...figures, unexpectedAnswers })}`);
});

test('SIGKILL worker with reviews pending and executions in flight, then the dev server during waits; decisions race timeouts', async () => {
  await crashWorkerAndDevServer(stack, { pending: 20, inFlight: 10, quick: 6, races: 8, holdMs: 4_000, patience: 1 }, figures);
});

test('Postgres stopped while 10 approvals are recorded: every request answers within its bound, retries are idempotent, all converge', async () => {
  const outage: Record<string, unknown> = {};
  figures.postgresOutage = outage;
  await stopPostgresDuringDecisions(stack, postgres, { actions: 10, downMs: 4_000, prefix: 'ci-pg', leadMs: 60, spreadMs: 20 }, outage);
});
