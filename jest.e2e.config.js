// End-to-end tests: real Docker in the lab (test/lab). Run serially: they share one engine.
import unit from './jest.unit.config.js'
export default {
  ...unit,
  roots: ['<rootDir>/e2e'],
  reporters: [
    'default',
    ['<rootDir>/scripts/jest-totals-reporter.cjs', { file: '.jest-results/e2e.json' }]
  ],
  testTimeout: 15 * 60 * 1000
}
