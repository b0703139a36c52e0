// Tests run as native ESM (fauxqs 2 is ESM-only); babel-jest only strips the types.
// (@swc/jest and jest 30 pull platform binaries that this project's registry does not serve for
// every platform, which leaves a lockfile that `npm ci` rejects; babel and jest 29 are plain JS.)
import { availableParallelism } from 'node:os';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      'babel-jest',
      { babelrc: false, configFile: false, presets: [['@babel/preset-typescript', { allowDeclareFields: true }]] },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 60_000,
  // Runtimes a failed or timed-out test left running are killed at the end of the run.
  globalSetup: '<rootDir>/test/support/runtimes-left-setup.mjs',
  globalTeardown: '<rootDir>/test/support/runtimes-left-teardown.mjs',
  // Three workers for two cores (jest's default leaves one out): most suites wait on child
  // processes, sockets and timers rather than compute (the e2e ladders sleep through their rungs).
  // Measured on 2 CPUs: one worker about 3 min 35 s, two 185 s, three 168 s, four 166 s; the
  // CPU is then nearly all in use (1.6 to 1.7 of 2 cores over the run). A number, not '150%':
  // jest 29 takes that for 150 workers (a percentage only up to 100% is read as one).
  maxWorkers: Math.ceil(availableParallelism() * 1.5),
  // A worker whose heap passes this after a test file is replaced by a fresh one. The CDK suites
  // leave 0.8-0.9 GB of heap behind (1.2-1.5 GB resident), and a process that large took 0.5 s
  // to exit, past jest's 500 ms: "A worker process has failed to exit gracefully" at the end of
  // most full runs, with nothing leaked (each worker had only its stdio pipes left). Measured
  // with the limit: exits in 0.1-0.25 s, npm test no slower.
  workerIdleMemoryLimit: '512MB',
};
