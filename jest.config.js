// Jest runs the compiled tests (dist/test, built by `npm run build`) as native ES modules: no transformer.
// `npm test` builds first; see README "Tests".
/** @type {import('jest').Config} */
export default {
  rootDir: '.',
  // dist/ holds what runs; src/, views/ and test/ are there for `jest --watch`, which looks for the tests related to
  // the .ts files changed since the last commit (scripts/jest-dependencies.mjs links each compiled file to its source).
  roots: ['<rootDir>/dist', '<rootDir>/src', '<rootDir>/views', '<rootDir>/test'],
  dependencyExtractor: '<rootDir>/scripts/jest-dependencies.mjs',
  testMatch: ['<rootDir>/dist/test/**/*.test.js'],
  testEnvironment: 'node',
  // One file at a time: the tests share loopback ports, Redis and PostgreSQL, and the machines have 2 cores.
  maxWorkers: 1,
  // The compiled output is plain ESM that Node runs as it is; no Babel.
  transform: {},
  // Unit tests first (fast feedback), then integration, then end-to-end.
  testSequencer: '<rootDir>/scripts/jest-sequencer.mjs',
  // Integration and end-to-end tests start servers, proxies and a browser: slow on 2 cores.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/scripts/jest-summary.mjs'],
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/dist/src/**/*.js', '<rootDir>/dist/views/**/*.js'],
  coverageDirectory: '<rootDir>/coverage',
  coverageReporters: ['text-summary', 'text', 'html', 'lcov'],
};
