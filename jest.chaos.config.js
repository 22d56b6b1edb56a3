// `npm run test:chaos`: the fuller fault, load and fuzz suites of issue 9 (test/chaos/), one file
// at a time so the load figures are not shared with other suites. Same global set-up as the
// integration project (one Postgres and one dev server for the run; the suites start their own
// servers for whatever they kill).
const transform = { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  testTimeout: 600_000,
  maxWorkers: 1,
  transform,
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
  testEnvironment: 'node',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  setupFiles: ['<rootDir>/test/support/temporal-runtime.ts'],
  testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
