'use strict';
// Writes jest's own totals where .ci/run reads them, so CI reports exactly what jest counted.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.file = path.join(globalConfig.rootDir, 'test-artifacts', 'jest-summary.json');
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const { numPassedTests, numFailedTests, numPendingTests, numTotalTests, numFailedTestSuites, numRuntimeErrorTestSuites, success } = results;
    fs.writeFileSync(
      this.file,
      JSON.stringify({ numPassedTests, numFailedTests, numPendingTests, numTotalTests, numFailedTestSuites, numRuntimeErrorTestSuites, success }),
    );
  }
}

module.exports = SummaryReporter;
