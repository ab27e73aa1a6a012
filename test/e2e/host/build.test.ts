// scripts/build.ts: one ESM bundle per s.yaml function that plain node can load and run.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_REQUIRE_BANNER } from '../../../bundling/function-bundle';
import {
  buildFunctions,
  type FunctionBundle,
  formatBuildReport,
  packageOf,
  unexpectedSdks,
} from '../../../scripts/build';

const fixtureDir = fileURLToPath(new URL('../../fixtures/host-app/', import.meta.url));
const repoDir = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

describe('function build', () => {
  let bundles: FunctionBundle[];
  const byName = (name: string) => {
    const bundle = bundles.find((b) => b.fn.name === name);
    if (!bundle) throw new Error(`no bundle for ${name}`);
    return bundle;
  };

  beforeAll(async () => {
    bundles = await buildFunctions({ sYamlPath: `${fixtureDir}s.yaml` });
  }, 60_000);

  afterAll(() => {
    rmSync(`${fixtureDir}dist`, { recursive: true, force: true });
  });

  it('bundles every function of s.yaml to dist/<name>/index.mjs with a linked source map', () => {
    expect(bundles.map((b) => b.file.replace(fixtureDir, ''))).toEqual([
      'dist/host-http/index.mjs',
      'dist/host-timer/index.mjs',
      'dist/host-events/index.mjs',
      'dist/host-logs/index.mjs',
    ]);
    for (const bundle of bundles) {
      const text = readFileSync(bundle.file, 'utf8');
      expect(text.startsWith(CREATE_REQUIRE_BANNER)).toBe(true);
      expect(text).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(JSON.parse(readFileSync(`${bundle.file}.map`, 'utf8')).sources.length).toBeGreaterThan(
        0,
      );
      expect(bundle.bytes).toBe(Buffer.byteLength(text));
    }
  });

  it('includes an SDK only where the function imports it, and says through which file', () => {
    const http = byName('host-http');
    expect(http.packages.map((p) => p.name)).toContain('@alicloud/sts20150401');
    expect(http.sdks).toEqual([
      {
        name: '@alicloud/sts20150401',
        importedBy: [expect.stringMatching(/test\/fixtures\/host-app\/shared\/caller\.ts$/)],
      },
    ]);
    expect(unexpectedSdks(http)).toEqual([]);
    expect(byName('host-timer').packages).toEqual([]);
    expect(byName('host-events').sdks).toEqual([]);
    expect(formatBuildReport(bundles, fixtureDir)).toMatch(
      /host-http .*@alicloud\/sts20150401[\s\S]*SDK @alicloud\/sts20150401 <- shared\/caller\.ts/,
    );
  });

  it('produces bundles plain node runs (CommonJS dependencies included)', async () => {
    const bundle = pathToFileURL(byName('host-http').file).href;
    const script = `
      const { handler } = await import(${JSON.stringify(bundle)});
      const event = Buffer.from(JSON.stringify({ rawPath: '/binary', queryParameters: {} }));
      const result = await handler(event, {});
      process.stdout.write(JSON.stringify(result));
      // The STS SDK (CommonJS) loaded inside the ESM bundle:
      process.stdout.write('\\n' + typeof (await import(${JSON.stringify(bundle)})).handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: '/',
      env: { PATH: process.env.PATH ?? '' },
    });
    const [first, second] = stdout.split('\n');
    expect(JSON.parse(first ?? '')).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(second).toBe('function');
  });

  it('names npm packages from metafile paths', () => {
    expect(packageOf('node_modules/@alicloud/tea-util/dist/client.js')).toBe('@alicloud/tea-util');
    expect(packageOf('node_modules/a/node_modules/b/index.js')).toBe('b');
    expect(packageOf('shared/cloud/sts.ts')).toBeUndefined();
  });
});

describe("the project's own build (what `s deploy` runs first)", () => {
  // The repository's s.yaml and sources, built into a scratch dist/ so the test leaves the
  // repository's own untouched.
  const project = mkdtempSync(join(tmpdir(), 'rdgov-build-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('bundles every function, each loads with a configuration like the deployed one, and none carries an SDK the project does not import', async () => {
    for (const entry of [
      's.yaml',
      'functions',
      'shared',
      'bundling',
      'node_modules',
      'package.json',
    ]) {
      symlinkSync(join(repoDir, entry), join(project, entry));
    }
    const built = await buildFunctions({ sYamlPath: join(project, 's.yaml') });
    expect(built.map((b) => b.fn.name)).toEqual(
      expect.arrayContaining(['rdgov-api', 'rdgov-log-worker', 'rdgov-session-index']),
    );
    expect(
      built.flatMap((b) => unexpectedSdks(b).map((sdk) => `${b.fn.name}: ${sdk.name}`)),
    ).toEqual([]);
  }, 180_000);
});
