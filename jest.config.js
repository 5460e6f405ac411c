/**
 * Two projects. `unit`: tests beside their code, with no servers (`npx jest activities/spec/loader.test.ts`
 * starts nothing). `integration`: test/ and every `*.integration.test.ts`, against the real Temporal dev server,
 * PostgreSQL and the S3 server their global setup starts (only when one of them runs). `npm test` runs both.
 */
const common = {
  rootDir: __dirname,
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test', '<rootDir>/contracts', '<rootDir>/activities', '<rootDir>/workflows', '<rootDir>/workers', '<rootDir>/scripts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 180000,
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/', '\\.integration\\.test\\.ts$', '/node_modules/'],
      setupFiles: ['<rootDir>/test/support/unit-env.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts', '**/*.integration.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
