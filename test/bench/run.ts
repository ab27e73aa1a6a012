// `npm run bench [name ...]`: runs every test/bench/*.bench.ts (or the named ones) one after
// another, each in its own process so one benchmark's warm caches never help the next.
// `npm run bench -- sessions --sessions 1000`: the names come first; from the first flag on,
// everything goes to the benchmarks (npm swallows the first `--`, so a second one is optional).

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

function selected(names: string[]): string[] {
  const all = readdirSync(benchDir)
    .filter((file) => file.endsWith('.bench.ts'))
    .sort();
  if (names.length === 0) return all;
  return names.map((name) => {
    const file = all.find((f) => f === name || basename(f, '.bench.ts') === name);
    if (!file) throw new Error(`no benchmark ${name} in ${benchDir} (have: ${all.join(', ')})`);
    return file;
  });
}

function runOne(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, file), ...args], {
      stdio: 'inherit',
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Benchmark names, then what is passed to each: from the first `--` or flag on. */
export function splitArguments(argv: readonly string[]): {
  names: string[];
  passThrough: string[];
} {
  const cut = argv.findIndex((a) => a.startsWith('-'));
  if (cut === -1) return { names: [...argv], passThrough: [] };
  return { names: argv.slice(0, cut), passThrough: argv.slice(argv[cut] === '--' ? cut + 1 : cut) };
}

async function main(): Promise<void> {
  const { names, passThrough } = splitArguments(process.argv.slice(2));
  const failed: string[] = [];
  for (const file of selected(names)) {
    process.stdout.write(`\n=== ${file} ===\n`);
    const code = await runOne(file, passThrough);
    if (code !== 0) failed.push(file);
  }
  if (failed.length > 0) {
    process.stderr.write(`\nbenchmarks that failed or missed their target: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
