import { defineFuzzSuite } from '../support/fuzz-suite';

/** CI-sized schema-driven fuzzing from GET /openapi.json; the 10,000-case run is test/chaos/fuzz.test.ts. */
defineFuzzSuite({ cases: 1_500, seed: 20261124, timeoutMs: 90_000 });
