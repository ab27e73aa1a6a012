// Bundles every FC function declared in s.yaml into what `s deploy` uploads:
// functions/<name>/index.ts -> dist/<name>/index.mjs (ESM, node20, minified, linked source map).
// s.yaml is the source of truth: a resource's `code: ./dist/<name>` names the function's folder.
//
//   npx tsx scripts/build.ts [--s-yaml path] [--no-verify]
//
// Prints each bundle's size and the npm packages in it, and fails when a bundle carries a
// service SDK (@alicloud/<service><version>, tablestore) that no module of the project imports:
// esbuild includes only what is reachable from the function's imports, so an SDK the project
// does not import can only arrive as a surprise dependency of another package.

import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import {
  functionBundleFile,
  functionBundleOptions,
  functionSourceEntry,
} from '../bundling/function-bundle';

/** A function of s.yaml as the build sees it: where its source is and where its bundle goes. */
export interface DeployedFunction {
  /** FC function name (`props.functionName`). */
  name: string;
  /** `props.code` resolved against the s.yaml directory: what `s deploy` uploads. */
  codeDir: string;
  /** Module path inside the code directory, without extension: `index`. */
  handlerModule: string;
  /** Exported function name: `handler`. */
  handlerExport: string;
  /** The TypeScript source the bundle is built from; undefined when none exists. */
  sourceEntry: string | undefined;
  /** <codeDir>/<module>.mjs */
  bundleFile: string;
  /** `props.environmentVariables` as written (a cold start reads them). */
  environmentVariables: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A props field the build needs as a literal: interpolations are resolved only at deploy time. */
function literal(props: Record<string, unknown>, field: string, where: string): string | undefined {
  const value = props[field];
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value);
  if (text.includes('${')) {
    throw new Error(`${where}.${field} must be written out for the build, not ${text}`);
  }
  return text;
}

/** The fc3 functions of s.yaml: name, code directory and handler of each (the build's view). */
export function readDeployedFunctions(sYamlPath: string): {
  projectDir: string;
  functions: DeployedFunction[];
} {
  const document: unknown = parse(readFileSync(sYamlPath, 'utf8'));
  const projectDir = dirname(sYamlPath);
  const resources = isRecord(document) && isRecord(document.resources) ? document.resources : {};
  const functions: DeployedFunction[] = [];
  for (const [resourceName, resource] of Object.entries(resources)) {
    if (!isRecord(resource)) continue;
    const component = String(resource.component ?? '');
    if (component !== 'fc3' && !component.startsWith('fc3@')) continue;
    const where = `${sYamlPath}: resources.${resourceName}.props`;
    const props = isRecord(resource.props) ? resource.props : {};
    const name = literal(props, 'functionName', where);
    const code = literal(props, 'code', where);
    if (!name || !code) throw new Error(`${where} needs functionName and code`);
    const handler = literal(props, 'handler', where) ?? 'index.handler';
    const dot = handler.lastIndexOf('.');
    if (dot <= 0 || dot === handler.length - 1) {
      throw new Error(
        `${where}.handler "${handler}" must be <module>.<export>, e.g. index.handler`,
      );
    }
    const handlerModule = handler.slice(0, dot);
    const codeDir = isAbsolute(code) ? code : resolve(projectDir, code);
    const environmentVariables: Record<string, string> = {};
    if (isRecord(props.environmentVariables)) {
      for (const [key, value] of Object.entries(props.environmentVariables)) {
        if (value !== undefined && value !== null) environmentVariables[key] = String(value);
      }
    }
    functions.push({
      name,
      codeDir,
      handlerModule,
      handlerExport: handler.slice(dot + 1),
      sourceEntry: functionSourceEntry(projectDir, code, handlerModule),
      bundleFile: functionBundleFile(codeDir, handlerModule),
      environmentVariables,
    });
  }
  return { projectDir, functions };
}

export interface BundledPackage {
  name: string;
  bytes: number;
}

export interface SdkUse {
  name: string;
  /** Project files (functions/, shared/) that import the SDK directly. */
  importedBy: string[];
}

export interface FunctionBundle {
  fn: DeployedFunction;
  file: string;
  bytes: number;
  packages: BundledPackage[];
  sdks: SdkUse[];
  metafile: Metafile;
}

const SERVICE_SDK = /^(@alicloud\/[a-z-]+\d{8}|tablestore)$/;

/** The npm package a metafile input path belongs to, or undefined for project files. */
export function packageOf(inputPath: string): string | undefined {
  const marker = 'node_modules/';
  const index = inputPath.lastIndexOf(marker);
  if (index === -1) return undefined;
  const parts = inputPath.slice(index + marker.length).split('/');
  const first = parts[0] ?? '';
  return first.startsWith('@') ? `${first}/${parts[1] ?? ''}` : first;
}

export function packagesInBundle(metafile: Metafile): BundledPackage[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      if (name) totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** Service SDKs in the bundle and the project files that import each of them. */
export function sdksInBundle(metafile: Metafile): SdkUse[] {
  const bundled = new Set(packagesInBundle(metafile).map((p) => p.name));
  const importers = new Map<string, Set<string>>();
  for (const name of bundled) if (SERVICE_SDK.test(name)) importers.set(name, new Set());
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (packageOf(path)) continue;
    for (const imported of input.imports) {
      const name = packageOf(imported.path);
      if (name && importers.has(name)) importers.get(name)?.add(path);
    }
  }
  return [...importers]
    .map(([name, files]) => ({ name, importedBy: [...files].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const run = promisify(execFile);

/**
 * The environment a cold start sees, with every endpoint pointing nowhere: the application reads
 * its configuration at module load, so a bundle can only be loaded with one. s.yaml's values
 * that are written out are kept; interpolated ones (resolved only by \`s deploy\`) are left to
 * their defaults, and the endpoints, the token issuer and FC's own variables get placeholders.
 */
export function verificationEnvironment(fn: DeployedFunction): Record<string, string> {
  const nowhere = '127.0.0.1:9';
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'build' };
  const written = Object.entries(fn.environmentVariables).filter(([, v]) => !v.includes('${'));
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    ...Object.fromEntries(written),
    CLOUD_PROTOCOL: 'http',
    STS_ENDPOINT: nowhere,
    RESOURCEMANAGER_ENDPOINT: nowhere,
    RAM_ENDPOINT: nowhere,
    FUNCTION_COMPUTE_ENDPOINT: nowhere,
    SLS_ENDPOINT: '{region}.log.invalid',
    SLS_OWN_REGION_ENDPOINT: '{region}-intranet.log.invalid',
    LOG_CENTRAL_PROJECT: 'rdgov-logs-1000000000000001-cn-hangzhou',
    TABLESTORE_ENDPOINT: `http://${nowhere}`,
    TABLESTORE_INSTANCE: 'rdgov',
    AUTH_ISSUER: 'https://issuer.invalid',
    AUTH_AUDIENCE: 'rd-governance',
    AUTH_JWKS: JSON.stringify({ keys: [jwk] }),
    FC_FUNCTION_NAME: fn.name,
    FC_REGION: 'cn-hangzhou',
    FC_ACCOUNT_ID: '1000000000000001',
  };
}

/** Loads the bundle in a fresh node process (as FC would) and checks the handler export. */
export async function verifyBundleLoads(
  bundle: string,
  exportName: string,
  env: Record<string, string>,
): Promise<void> {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); if (typeof m[${JSON.stringify(exportName)}] !== 'function') { console.error('no exported function ${exportName}'); process.exit(2); }`;
  try {
    await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dirname(bundle),
      env,
      timeout: 30_000,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    const lines = stderr.trim().split('\n');
    // Minified lines are long: keep the error lines, not the source excerpt.
    const message = lines
      .filter((l) => l.length < 400)
      .slice(0, 8)
      .join('\n');
    throw new Error(`${bundle} does not load in node: ${message}`);
  }
}

export interface BuildOptionsInput {
  sYamlPath: string;
  verify?: boolean;
  /** Only these function names (default: all). */
  only?: string[];
}

export async function buildFunctions(input: BuildOptionsInput): Promise<FunctionBundle[]> {
  const spec = readDeployedFunctions(input.sYamlPath);
  const distRoot = resolve(spec.projectDir, 'dist') + sep;
  const selected = spec.functions.filter((fn) => !input.only || input.only.includes(fn.name));
  const bundles: FunctionBundle[] = [];
  for (const fn of selected) {
    if (!fn.sourceEntry) {
      throw new Error(
        `function ${fn.name}: no source for code ${relative(spec.projectDir, fn.codeDir)} (expected functions/<name>/${fn.handlerModule}.ts)`,
      );
    }
    // Only ever clean inside dist/: a code path elsewhere is the user's directory.
    if (`${fn.codeDir}${sep}`.startsWith(distRoot))
      rmSync(fn.codeDir, { recursive: true, force: true });
    mkdirSync(dirname(fn.bundleFile), { recursive: true });
    const result = await build(functionBundleOptions(fn.sourceEntry, fn.bundleFile));
    const metafile = result.metafile;
    if (!metafile) throw new Error(`esbuild returned no metafile for ${fn.name}`);
    const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs'));
    bundles.push({
      fn,
      file: fn.bundleFile,
      bytes: output?.[1].bytes ?? 0,
      packages: packagesInBundle(metafile),
      sdks: sdksInBundle(metafile),
      metafile,
    });
    if (input.verify !== false) {
      await verifyBundleLoads(fn.bundleFile, fn.handlerExport, verificationEnvironment(fn));
    }
  }
  return bundles;
}

/** Service SDKs in a bundle that no project module imports. */
export function unexpectedSdks(bundle: FunctionBundle): SdkUse[] {
  return bundle.sdks.filter((sdk) => sdk.importedBy.length === 0);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

export function formatBuildReport(bundles: FunctionBundle[], projectDir: string): string {
  const lines: string[] = [];
  const nameWidth = Math.max(8, ...bundles.map((b) => b.fn.name.length));
  lines.push(
    `${'function'.padEnd(nameWidth)}  ${'bundle KB'.padStart(9)}  npm packages (KB in bundle)`,
  );
  for (const bundle of bundles) {
    const packages = bundle.packages.map((p) => `${p.name} ${kb(p.bytes)}`).join(', ') || '(none)';
    lines.push(`${bundle.fn.name.padEnd(nameWidth)}  ${kb(bundle.bytes).padStart(9)}  ${packages}`);
    for (const sdk of bundle.sdks) {
      const via = sdk.importedBy.length
        ? sdk.importedBy.map((f) => relative(projectDir, resolve(f))).join(', ')
        : 'NOT IMPORTED BY THE PROJECT';
      lines.push(`${''.padEnd(nameWidth)}  ${''.padStart(9)}  SDK ${sdk.name} <- ${via}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sYamlIndex = args.indexOf('--s-yaml');
  const sYamlPath = resolve(sYamlIndex === -1 ? 's.yaml' : (args[sYamlIndex + 1] ?? 's.yaml'));
  const bundles = await buildFunctions({ sYamlPath, verify: !args.includes('--no-verify') });
  console.log(formatBuildReport(bundles, dirname(sYamlPath)));
  const surprises = bundles.flatMap((b) => unexpectedSdks(b).map((s) => `${b.fn.name}: ${s.name}`));
  if (surprises.length > 0) {
    console.error(
      `\nbuild failed: bundles contain service SDKs no project module imports (a dependency pulled them in): ${surprises.join('; ')}`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
