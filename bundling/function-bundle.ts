// How a function's TypeScript becomes what FC runs: where its source is for a code path in
// s.yaml, where its bundle goes, and the one esbuild recipe. The deploy build (scripts/build.ts)
// and the local function host's watch builds (localcloud/host/bundler.ts) both use it, so what
// runs locally is bundled exactly as what is deployed, while neither imports the other (the
// deploy build never depends on the emulator). Only node and esbuild are imported here.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';

/** Native addons esbuild cannot bundle. None is shipped: a bundle that needs one fails to load. */
export const NATIVE_EXTERNALS = ['*.node'];

/**
 * The SLS SDK's gateway requires the native addon `lz4-napi` when it loads. The SLS adapter
 * compresses and decompresses bodies itself (zlib deflate, and its own TypeScript lz4), so the
 * bundle gives the SDK the project's TypeScript lz4 under that name instead of shipping a native
 * addon beside it (README "Dependencies": the figures of `npm run bench -- sls-adapter`).
 * Referenced by path, not imported: bundling imports no application code.
 */
export const LZ4_NAPI_REPLACEMENT = fileURLToPath(
  new URL('../shared/cloud/sls/lz4-napi.ts', import.meta.url),
);
const lz4NapiInTypeScript: Plugin = {
  name: 'lz4-napi-in-typescript',
  setup(build) {
    build.onResolve({ filter: /^lz4-napi$/ }, () => ({ path: LZ4_NAPI_REPLACEMENT }));
  },
};

// CommonJS dependencies inside an ESM bundle call `require` for node built-ins; ESM has none.
// Aliased import so it cannot collide with a bundled module's own `createRequire` binding.
export const CREATE_REQUIRE_BANNER =
  "import { createRequire as __rdgCreateRequire } from 'node:module'; const require = __rdgCreateRequire(import.meta.url);";

/**
 * The tablestore SDK assigns variables it never declares (`for (pro in ...)` in filter.js,
 * `size = ...` in plian_buffer_builder.js, ...): harmless in sloppy CommonJS, a ReferenceError
 * once bundled into a strict ES module. Declaring them at the top of each of its files keeps
 * them local to that file, as the SDK intends. A unit test finds them with the TypeScript
 * checker, so an SDK upgrade that adds one fails the tests.
 */
export const TABLESTORE_UNDECLARED = ['cell_type', 'combinator', 'key', 'pro', 'size', 'sub'];
const declareSdkLoopVariables: Plugin = {
  name: 'declare-tablestore-loop-variables',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]node_modules[\\/]tablestore[\\/]lib[\\/].*\.js$/ },
      async (args) => ({
        contents: `var ${TABLESTORE_UNDECLARED.join(', ')};\n${await readFile(args.path, 'utf8')}`,
        loader: 'js',
      }),
    );
  },
};

/** The one recipe for a function bundle. */
export function functionBundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    external: NATIVE_EXTERNALS,
    banner: { js: CREATE_REQUIRE_BANNER },
    plugins: [declareSdkLoopVariables, lz4NapiInTypeScript],
    legalComments: 'none',
    logLevel: 'silent',
  };
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/**
 * The source of a function whose s.yaml `code` is `code` and whose handler module is `module`:
 * ./dist/<name> maps back to functions/<name>/; any other code path is its own source.
 * undefined when no source file exists.
 */
export function functionSourceEntry(
  projectDir: string,
  code: string,
  module: string,
): string | undefined {
  const normalized = code.replace(/^\.\//, '').replace(/\/+$/, '');
  const distMatch = normalized.match(/^dist\/([^/]+)$/);
  const sourceDir = distMatch
    ? join(projectDir, 'functions', distMatch[1] ?? '')
    : resolve(projectDir, code);
  for (const extension of SOURCE_EXTENSIONS) {
    const candidate = join(sourceDir, `${module}${extension}`);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Where the bundle of a handler module goes in its code directory: <codeDir>/<module>.mjs. */
export function functionBundleFile(codeDir: string, module: string): string {
  return join(codeDir, `${module}.mjs`);
}
