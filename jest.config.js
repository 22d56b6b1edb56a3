// Three projects so a unit-only run never boots servers; the others share one
// global set-up that starts Postgres and Temporal once per run and always stops them.
const transform = { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
// cel-js ships ESM only; jest's module system needs it as CommonJS.
const transformIgnorePatterns = ['/node_modules/(?!@marcbachmann/cel-js/)'];
const common = { transform, transformIgnorePatterns, testEnvironment: 'node' };

module.exports = {
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'workflow',
      setupFiles: ['<rootDir>/test/support/temporal-runtime.ts'],
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'integration',
      setupFiles: ['<rootDir>/test/support/temporal-runtime.ts'],
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
