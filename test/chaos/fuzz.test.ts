import { defineFuzzSuite } from '../support/fuzz-suite';

/** 10,000 schema-driven cases from GET /openapi.json (the CI variant, test/integration/fuzz-ci.test.ts, runs 1,500). */
defineFuzzSuite({ cases: 10_000, seed: 9, timeoutMs: 600_000, byOperation: true });
