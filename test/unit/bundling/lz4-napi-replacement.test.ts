// A function bundle that loads the SLS SDK carries no native addon: the recipe
// (bundling/function-bundle.ts) resolves `lz4-napi` to the project's TypeScript lz4, so the bundle
// loads and compresses where no node_modules exist, as FC runs it, and what it compresses is
// what the real lz4-napi reads.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { uncompressSync } from 'lz4-napi';
import { afterAll, describe, expect, it } from 'vitest';
import { functionBundleOptions, LZ4_NAPI_REPLACEMENT } from '../../../bundling/function-bundle';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rdg-lz4-bundle-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lz4-napi in a function bundle', () => {
  it('is the project’s TypeScript lz4: no native addon, and the SDK loads without node_modules', async () => {
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      [
        "import * as Sls from '@alicloud/sls20201230';",
        "import { compress } from 'lz4-napi';",
        "const framed = await compress(Buffer.from('forwarded '.repeat(40)));",
        "process.stdout.write(JSON.stringify({ sdk: typeof (Sls.default.default ?? Sls.default), framed: framed.toString('base64') }));",
      ].join('\n'),
    );
    const outfile = join(dir, 'out', 'index.mjs');
    // The entry lives outside the repository: packages resolve from the repository's node_modules.
    const result = await build({
      ...functionBundleOptions(entry, outfile),
      nodePaths: [join(process.cwd(), 'node_modules')],
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs.some((path) => path.includes('node_modules/lz4-napi/'))).toBe(false);
    expect(inputs.some((path) => LZ4_NAPI_REPLACEMENT.endsWith(path))).toBe(true);
    const { stdout } = await run(process.execPath, [outfile], { cwd: join(dir, 'out') });
    const answer = JSON.parse(stdout) as { sdk: string; framed: string };
    expect(answer.sdk).toBe('function');
    expect(uncompressSync(Buffer.from(answer.framed, 'base64')).toString()).toBe(
      'forwarded '.repeat(40),
    );
  }, 60_000);
});
