// A Vitest reporter for mutation runs only (test/mutation/vitest.config.ts). Stryker's Vitest
// runner counts failed tests, and only tests: a mutant that makes a test file throw while it
// loads (code under test called at module level or in a describe body) or makes a file-level
// beforeAll throw leaves that file with no failed test, so the mutant would count as survived.
// This reporter gives each such file one failed test carrying the file's error, so the mutant
// counts as killed, as it should.

import type { RunnerTestCase, RunnerTestFile } from 'vitest';
import type { Reporter, Vitest } from 'vitest/node';

export default class LoadFailuresReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.vitest?.state.getFiles() ?? []) markLoadFailure(file);
  }
}

function markLoadFailure(file: RunnerTestFile): void {
  const errors = file.result?.errors;
  if (file.result?.state !== 'fail' || !errors?.length) return;
  const name = 'loads, and its top-level hooks run';
  if (file.tasks.some((task) => task.name === name)) return;
  const failed = {
    type: 'test',
    id: `${file.id}_load`,
    name,
    fullName: `${file.name} ${name}`,
    mode: 'run',
    file,
    suite: file,
    meta: {},
    timeout: 0,
    annotations: [],
    artifacts: [],
    context: {},
    result: { state: 'fail', errors, duration: 0 },
  } as unknown as RunnerTestCase;
  file.tasks.push(failed);
}
