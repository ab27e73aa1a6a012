import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', '**/node_modules/**'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Every answer of the API a test receives through fetch is checked against the OpenAPI
    // document (test/support/api-contract-setup.ts).
    setupFiles: ['./test/support/api-contract-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration and e2e suites each start their own localcloud on an ephemeral port.
    fileParallelism: true,
  },
});
