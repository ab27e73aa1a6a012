// `npm run bench [name ...]`: runs every test/bench/*.bench.ts (or the named ones) one after
// another, each in its own process so one benchmark's warm caches never help the next.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const split = argv.indexOf('--');
  const names = split === -1 ? argv.filter((a) => !a.startsWith('-')) : argv.slice(0, split);
  const passThrough = split === -1 ? argv.filter((a) => a.startsWith('-')) : argv.slice(split + 1);
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

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
