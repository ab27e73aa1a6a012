// `npm run mutation [-- <file or area> ...] [--survivors] [--force]`: mutation testing with
// StrykerJS over the areas of test/mutation/targets.ts (or only the files or areas named), one
// Stryker run per file, each against its area's tests only. Incremental: a mutant whose code and
// covering test files did not change since the last run keeps its result
// (reports/mutation/incremental/). Stryker does not see changes to modules the tests import
// (test/support): after changing one, run with --force. Ends with one table of scores per
// file, and fails when a file is under MIN_SCORE_PERCENT.
//
// Outside `npm test`: a full run takes tens of minutes on two cores (README "Tests and benchmarks").
// MUTATION_CONCURRENCY sets Stryker's test runner processes (default 2).

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import ts from 'typescript';
import { MIN_SCORE_PERCENT, MUTATION_AREAS, type MutationArea, TESTS_VARIABLE } from './targets';

type StrykerOptions = ConstructorParameters<typeof Stryker>[0];
type MutantResult = Awaited<ReturnType<Stryker['runMutationTest']>>[number];

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const REPORTS = 'reports/mutation';

interface FileScore {
  file: string;
  area: string;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  /** Killed and timed out over killed, timed out, survived and uncovered; undefined with none. */
  score: number | undefined;
  seconds: number;
}

/** True when the file compiles to nothing (types and interfaces only): it has no mutants. */
function typesOnly(file: string): boolean {
  const out = ts.transpileModule(readFileSync(join(ROOT, file), 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      removeComments: true,
      verbatimModuleSyntax: false,
    },
  }).outputText;
  return out.replace(/export\s*\{\s*\};?/g, '').trim() === '';
}

function filesOf(area: MutationArea): string[] {
  if (typeof area.sources !== 'string') return [...area.sources];
  const dir = area.sources;
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && statSync(join(ROOT, f)).isFile())
    .sort();
}

/** The (file, area) pairs named on the command line: files, folders or area names. */
function selected(args: readonly string[]): Array<{ file: string; area: MutationArea }> {
  const all = MUTATION_AREAS.flatMap((area) => filesOf(area).map((file) => ({ file, area })));
  if (args.length === 0) return all;
  return args.flatMap((arg) => {
    const wanted = relative(ROOT, resolve(arg));
    const picked = all.filter(
      ({ file, area }) =>
        area.name === arg || file === wanted || file.startsWith(`${wanted.replace(/\/$/, '')}/`),
    );
    if (picked.length === 0) {
      throw new Error(
        `${arg} is neither an area (${MUTATION_AREAS.map((a) => a.name).join(', ')}) nor a file under one`,
      );
    }
    return picked;
  });
}

function slug(file: string): string {
  return file.replace(/\.ts$/, '').replace(/[/\\]/g, '__');
}

function score(file: string, area: string, results: MutantResult[], seconds: number): FileScore {
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    file,
    area,
    mutants: results.length,
    killed,
    timeout,
    survived,
    noCoverage,
    errors: count('RuntimeError') + count('CompileError'),
    score: valid === 0 ? undefined : (100 * (killed + timeout)) / valid,
    seconds,
  };
}

function survivorLines(results: MutantResult[]): string[] {
  return results
    .filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
    .sort((a, b) => a.location.start.line - b.location.start.line)
    .map((r) => {
      const replacement = (r.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100);
      return `${r.fileName}:${r.location.start.line}:${r.location.start.column + 1} ${r.status} ${r.mutatorName}: ${replacement}`;
    });
}

async function mutate(file: string, area: MutationArea, force: boolean): Promise<MutantResult[]> {
  process.env[TESTS_VARIABLE] = JSON.stringify(area.tests);
  const name = slug(file);
  const stryker = new Stryker({
    mutate: [file],
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
    coverageAnalysis: 'perTest',
    incremental: true,
    force,
    incrementalFile: `${REPORTS}/incremental/${name}.json`,
    reporters: ['json', 'html', 'progress'],
    jsonReporter: { fileName: `${REPORTS}/${name}.json` },
    htmlReporter: { fileName: `${REPORTS}/${name}.html` },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    ignorePatterns: ['.localcloud', 'dist', 'coverage', 'reports'],
    concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
    timeoutMS: 10_000,
    thresholds: { high: MIN_SCORE_PERCENT, low: MIN_SCORE_PERCENT, break: null },
    logLevel: 'warn' as NonNullable<StrykerOptions['logLevel']>,
  });
  return stryker.runMutationTest();
}

function table(scores: readonly FileScore[]): string {
  const head = ['file', 'mutants', 'killed', 'timeout', 'survived', 'no cov', 'score', 'time'];
  const rows = scores.map((s) => [
    s.file,
    String(s.mutants),
    String(s.killed),
    String(s.timeout),
    String(s.survived),
    String(s.noCoverage),
    s.score === undefined ? 'n/a' : `${s.score.toFixed(1)}%`,
    `${Math.round(s.seconds)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const showSurvivors = argv.includes('--survivors');
  const force = argv.includes('--force');
  const targets = selected(argv.filter((a) => !a.startsWith('--')));
  process.chdir(ROOT);
  mkdirSync(`${REPORTS}/incremental`, { recursive: true });
  const started = Date.now();
  const scores: FileScore[] = [];
  const skipped: string[] = [];
  for (const { file, area } of targets) {
    if (typesOnly(file)) {
      skipped.push(file);
      continue;
    }
    process.stdout.write(`\n=== ${file} (${area.name}: ${area.tests.join(' ')}) ===\n`);
    const t0 = Date.now();
    const results = await mutate(file, area, force);
    const s = score(file, area.name, results, (Date.now() - t0) / 1000);
    scores.push(s);
    const survivors = survivorLines(results);
    writeFileSync(`${REPORTS}/${slug(file)}.survivors.txt`, `${survivors.join('\n')}\n`);
    if (showSurvivors && survivors.length > 0) process.stdout.write(`${survivors.join('\n')}\n`);
  }
  const minutes = (Date.now() - started) / 60_000;
  const summary = [
    '',
    table(scores),
    '',
    ...(skipped.length > 0 ? [`types only, no mutants: ${skipped.join(', ')}`] : []),
    `${scores.length} files in ${minutes.toFixed(1)} min; survivors per file in ${REPORTS}/*.survivors.txt, reports in ${REPORTS}/*.html`,
  ].join('\n');
  process.stdout.write(`${summary}\n`);
  writeFileSync(`${REPORTS}/summary.txt`, `${summary}\n`);
  const low = scores.filter((s) => s.score !== undefined && s.score < MIN_SCORE_PERCENT);
  if (low.length > 0) {
    process.stderr.write(
      `\nunder ${MIN_SCORE_PERCENT}%: ${low.map((s) => `${s.file} (${s.score?.toFixed(1)}%)`).join(', ')}\n`,
    );
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
