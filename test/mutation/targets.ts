// What `npm run mutation` mutates, and which tests must notice. One line per area: a source
// folder (every .ts file in it with runtime code) or a list of files, and the unit tests that
// are run against each of its mutants. A new capability is one more line here, as shared/logs
// and shared/sessions are.
//
// Unit tests only: they run in milliseconds per mutant. The integration suites check the same
// behaviour against localcloud in another process, and starting that for each of thousands of
// mutants is not practical on two cores. One unit test file does start localcloud's Tablestore,
// in the test's own process (about 200 ms): the session index's (test/unit/store/sessions.test.ts),
// because the search engine it checks has no in-memory double.

export interface MutationArea {
  /** Names the area in the summary and in `npm run mutation -- <area>`. */
  name: string;
  /** A folder (every .ts file under it) or a list of files. */
  sources: string | readonly string[];
  /** Vitest include globs: the tests each mutant of these sources is run against. */
  tests: readonly string[];
}

export const MUTATION_AREAS: readonly MutationArea[] = [
  { name: 'directory', sources: 'shared/directory', tests: ['test/unit/directory/**/*.test.ts'] },
  {
    name: 'onboarding',
    sources: 'shared/onboarding',
    tests: ['test/unit/onboarding/**/*.test.ts'],
  },
  { name: 'roles', sources: 'shared/roles', tests: ['test/unit/roles/**/*.test.ts'] },
  { name: 'logs', sources: 'shared/logs', tests: ['test/unit/logs/**/*.test.ts'] },
  { name: 'sessions', sources: 'shared/sessions', tests: ['test/unit/sessions/**/*.test.ts'] },
  { name: 'store', sources: 'shared/store', tests: ['test/unit/store/**/*.test.ts'] },
  {
    name: 'domain',
    sources: [
      'shared/domain/lease.ts',
      'shared/domain/idempotency.ts',
      'shared/domain/cursor.ts',
      'shared/domain/paging.ts',
    ],
    tests: ['test/unit/domain/**/*.test.ts'],
  },
  { name: 'auth', sources: ['shared/http/auth.ts'], tests: ['test/unit/http/auth.test.ts'] },
];

/** Every file must reach this mutation score (killed and timed-out over all valid mutants). */
export const MIN_SCORE_PERCENT = 85;

/** The environment variable through which test/mutation/vitest.config.ts learns its tests. */
export const TESTS_VARIABLE = 'MUTATION_TESTS';
