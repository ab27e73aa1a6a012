// The Vitest configuration Stryker runs for one mutated file: only the tests its area lists
// (test/mutation/targets.ts), handed over by test/mutation/run.ts in MUTATION_TESTS. Each file
// gets its own test list this way rather than through Stryker's `testFiles` option, which
// mis-scores code that runs when a module loads.

import { defineConfig } from 'vitest/config';
import { TESTS_VARIABLE } from './targets';

const listed = process.env[TESTS_VARIABLE];
if (!listed) {
  throw new Error(`${TESTS_VARIABLE} is not set: run this configuration through npm run mutation`);
}

export default defineConfig({
  test: {
    include: JSON.parse(listed) as string[],
    // A file that fails to load counts as a failed test (see the reporter).
    reporters: ['default', './test/mutation/load-failures-reporter.ts'],
    exclude: ['test/bench/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
