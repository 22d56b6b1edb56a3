import { startApiStack, type ApiStack } from '../support/api-stack';
import { seedActions } from '../support/fuzz-seed';
import { readJson } from '../support/http';
import { operationsOf, runFuzz } from '../support/openapi-fuzz';

/** 10,000 schema-driven cases from GET /openapi.json (the CI variant runs 1,500). */
jest.setTimeout(600_000);
const CASES = Number(process.env.FUZZ_CASES ?? 10_000);

let stack: ApiStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.close());

test(`${CASES} generated requests: no 5xx, problem+json errors, nothing recorded on rejection`, async () => {
  const ids = await seedActions(stack);
  const doc = await readJson(await stack.request('GET', '/openapi.json'));
  const operations = operationsOf(doc, ids);
  const report = await runFuzz(stack, operations, CASES, Number(process.env.FUZZ_SEED ?? 9));
  console.log(`fuzz figures ${JSON.stringify({ cases: report.cases, operations: operations.length, ms: report.ms, byStatus: report.byStatus, byOperation: report.byOperation })}`);
  expect(report.hung.slice(0, 3)).toEqual([]);
  expect(report.cases).toBe(CASES);
  expect(report.serverErrors.slice(0, 5)).toEqual([]);
  expect(report.notProblemJson.slice(0, 5)).toEqual([]);
  expect(report.offSchema.slice(0, 5)).toEqual([]);
  expect(report.recordedOnRejection.slice(0, 5)).toEqual([]);
});
