// A jest reporter that writes the run's totals to a JSON file, so that .ci/run can print one
// "N passed, N failed" line for the unit and e2e runs together.
const fs = require('node:fs')
const path = require('node:path')

class TotalsReporter {
  constructor(_globalConfig, options) {
    this.file = options.file
  }
  onRunComplete(_contexts, results) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const totals = {
      passed: results.numPassedTests,
      // A suite that fails to load runs no test; count it as a failure, not as nothing.
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests
    }
    fs.writeFileSync(this.file, JSON.stringify(totals))
  }
}
module.exports = TotalsReporter
