// Unit tests: pure functions and argv builders; no Docker, no network.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  reporters: [
    'default',
    ['<rootDir>/scripts/jest-totals-reporter.cjs', { file: '.jest-results/unit.json' }]
  ],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] }
}
