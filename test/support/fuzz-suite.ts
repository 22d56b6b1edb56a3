import { startApiStack, type ApiStack } from './api-stack';
import { seedActions } from './fuzz-seed';
import { readJson } from './http';
import { operationsOf, runFuzz } from './openapi-fuzz';

export interface FuzzSuiteOptions {
  /** Default number of generated requests; FUZZ_CASES overrides it. */
  cases: number;
  /** Default fast-check seed; FUZZ_SEED overrides it. */
  seed: number;
  timeoutMs: number;
  /** Log the per-operation breakdown too (long; the full run wants it). */
  byOperation?: boolean;
}

/** Schema-driven fuzzing of every operation in GET /openapi.json against a real API stack. */
export function defineFuzzSuite({ cases: defaultCases, seed, timeoutMs, byOperation = false }: FuzzSuiteOptions): void {
  jest.setTimeout(timeoutMs);
  const cases = Number(process.env.FUZZ_CASES ?? defaultCases);

  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack();
  });
  afterAll(() => stack?.close());

  test(`${cases} generated requests across every documented operation: no 5xx, problem+json errors, nothing recorded on rejection`, async () => {
    const ids = await seedActions(stack);
    const doc = await readJson(await stack.request('GET', '/openapi.json'));
    const operations = operationsOf(doc, ids);
    const report = await runFuzz(stack, operations, cases, Number(process.env.FUZZ_SEED ?? seed));
    const figures = { cases: report.cases, operations: operations.length, ms: report.ms, byStatus: report.byStatus, ...(byOperation ? { byOperation: report.byOperation } : {}) };
    console.log(`fuzz figures ${JSON.stringify(figures)}`);
    expect(report.hung.slice(0, 3)).toEqual([]);
    expect(report.cases).toBe(cases);
    expect(report.serverErrors.slice(0, 5)).toEqual([]);
    expect(report.notProblemJson.slice(0, 5)).toEqual([]);
    expect(report.offSchema.slice(0, 5)).toEqual([]);
    expect(report.recordedOnRejection.slice(0, 5)).toEqual([]);
  });
}
