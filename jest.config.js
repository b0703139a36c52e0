// Tests run as native ESM (fauxqs 2 is ESM-only); babel-jest only strips the types.
// (@swc/jest and jest 30 pull platform binaries that this project's registry does not serve for
// every platform, which leaves a lockfile that `npm ci` rejects; babel and jest 29 are plain JS.)
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
  // A worker per core (jest's default leaves one out): most suites wait on child processes,
  // sockets and timers rather than compute, so two run side by side in about two thirds of the time.
  maxWorkers: '100%',
};
