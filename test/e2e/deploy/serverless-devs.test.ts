// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are s.yaml interpolations, not templates
// The pinned Serverless Devs CLI (node_modules/.bin/s) reads s.yaml as `s deploy` would, offline:
// an access configured with `s config add` (README "Deploying"), then `s preview`, which renders
// the whole file (vars, resources, actions) with the access's credentials and needs no
// component. Every `${...}` must resolve; an unresolved one is what stopped `s deploy`, `s plan`
// and `s verify` with "config('AccountID') not found" when `access:` was an expression.
//
// Offline: the CLI runs with NODE_ENV=test, which its daemon launcher reads as "spawn nothing"
// (no telemetry report.js, no update-cli/update-component/update-templates checks against the
// npm registry), and with test/support/refuse-network.cjs preloaded, which makes every outgoing
// connection fail at once and records it. `s preview` must try none. `s config add` asks STS who
// the keys belong to (GetCallerIdentity); refused here, it keeps the AccountID it was given, as it
// does whenever that call fails. `s verify` and `s plan` need the fc3 component, which the CLI
// downloads from its registry, so they are not run here.

import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerlessSpec } from '../../../localcloud/host/s-yaml';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const S_BIN = join(REPO, 'node_modules', '.bin', 's');
const REFUSE_NETWORK = join(REPO, 'test', 'support', 'refuse-network.cjs');
const DEFAULT_ACCOUNT = '1234567890123456';
const PROD_ACCOUNT = '6543210987654321';
/** What the deployer exports before `s deploy` (README "Deploying", step 5). */
const DEPLOY_ENV = {
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
};

let home: string;

function networkLog(name: string): string {
  return join(home, `network-${name}.log`);
}

function runS(args: string[], logName: string, cwd = REPO): SpawnSyncReturns<string> {
  const log = networkLog(logName);
  writeFileSync(log, '');
  return spawnSync(S_BIN, args, {
    cwd,
    encoding: 'utf8',
    timeout: 20_000,
    // Nothing of the developer's environment: no real access, no ALIBABA_CLOUD_* keys.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      NODE_ENV: 'test',
      NODE_OPTIONS: `--require ${REFUSE_NETWORK}`,
      REFUSE_NETWORK_LOG: log,
      ...DEPLOY_ENV,
    },
  });
}

function attempts(logName: string): string[] {
  return readFileSync(networkLog(logName), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

function configAdd(alias: string, accountId: string): void {
  const result = runS(
    [
      'config',
      'add',
      '--AccessKeyID',
      `LTAI${alias}fakekeyid`,
      '--AccessKeySecret',
      `${alias}-fake-secret`,
      '--AccountID',
      accountId,
      '-a',
      alias,
      '-f',
    ],
    `config-${alias}`,
  );
  expect(result.status, result.stdout + result.stderr).toBe(0);
  // Only the identity check, refused.
  for (const line of attempts(`config-${alias}`)) expect(line).toMatch(/ connect sts\./);
}

/** `s preview -o json` parsed; the CLI prints a warning line before the JSON when run as root. */
function preview(args: string[], logName: string, cwd = REPO): Record<string, unknown> {
  const result = runS(['preview', '-o', 'json', ...args], logName, cwd);
  expect(result.status, result.stdout + result.stderr).toBe(0);
  const start = result.stdout.indexOf('{');
  expect(start, result.stdout).toBeGreaterThanOrEqual(0);
  return JSON.parse(result.stdout.slice(start)) as Record<string, unknown>;
}

/** Every string in the rendered file that still holds `${`, with its path. */
function unresolved(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes('${') ? [`${path}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unresolved(item, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => unresolved(item, `${path}.${key}`));
  }
  return [];
}

interface RenderedResource {
  component: string;
  props: { functionName: string; role: string; environmentVariables: Record<string, string> };
}

function resources(rendered: Record<string, unknown>): Record<string, RenderedResource> {
  return rendered.resources as Record<string, RenderedResource>;
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'rdg-s-home-'));
  configAdd('default', DEFAULT_ACCOUNT);
  configAdd('prod', PROD_ACCOUNT);
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('Serverless Devs (pinned s) reads s.yaml offline', () => {
  it('s preview resolves every ${...} with the default access, trying no network', () => {
    const rendered = preview([], 'preview-default');
    expect(attempts('preview-default')).toEqual([]);
    expect(unresolved(rendered)).toEqual([]);
    const api = resources(rendered).api;
    expect(api?.props.role).toBe(`acs:ram::${DEFAULT_ACCOUNT}:role/rd-governance-fc`);
    expect(api?.props.environmentVariables.FUNCTION_COMPUTE_ENDPOINT).toBe(
      `${DEFAULT_ACCOUNT}.cn-hangzhou-internal.fc.aliyuncs.com`,
    );
    expect(api?.props.environmentVariables.AUTH_ISSUER).toBe(DEPLOY_ENV.AUTH_ISSUER);
    // `{region}` is the adapter's placeholder, not Serverless Devs syntax: it stays as written.
    expect(api?.props.environmentVariables.SLS_ENDPOINT).toBe('{region}.log.aliyuncs.com');
    expect(api?.props.environmentVariables.SLS_OWN_REGION_ENDPOINT).toBe(
      '{region}-intranet.log.aliyuncs.com',
    );
  });

  it('s preview -a <alias> deploys into the account of that access', () => {
    const rendered = preview(['-a', 'prod'], 'preview-prod');
    expect(attempts('preview-prod')).toEqual([]);
    expect(unresolved(rendered)).toEqual([]);
    for (const resource of Object.values(resources(rendered))) {
      expect(resource.props.role).toBe(`acs:ram::${PROD_ACCOUNT}:role/rd-governance-fc`);
    }
  });

  it("renders every function's environment as the local function host reads it", () => {
    const rendered = resources(preview([], 'preview-host'));
    const spec = loadServerlessSpec(join(REPO, 's.yaml'), {
      env: DEPLOY_ENV,
      config: { AccountID: DEFAULT_ACCOUNT },
    });
    expect(Object.keys(rendered).sort()).toEqual(spec.functions.map((f) => f.resourceName).sort());
    for (const fn of spec.functions) {
      const resource = rendered[fn.resourceName];
      expect(resource?.props.functionName).toBe(fn.name);
      expect(resource?.props.role).toBe(fn.role);
      expect(resource?.props.environmentVariables).toEqual(fn.environmentVariables);
    }
  });

  it('the check can fail: an access given as an expression leaves ${config(...)} unresolved', () => {
    // s.yaml as it was: `access: ${env('ALIYUN_ACCESS', 'default')}`, which s 3.1.10 takes as
    // the literal name of an access, so no credential is found.
    const dir = mkdtempSync(join(home, 'broken-'));
    copyFileSync(join(REPO, 's.yaml'), join(dir, 's.yaml'));
    const text = readFileSync(join(dir, 's.yaml'), 'utf8');
    writeFileSync(
      join(dir, 's.yaml'),
      text.replace(/^name: (.*)$/m, "name: $1\naccess: ${env('ALIYUN_ACCESS', 'default')}"),
    );
    const rendered = preview([], 'preview-broken', dir);
    expect(unresolved(rendered)).toContainEqual(
      expect.stringMatching(/^\.vars\.functionRole: acs:ram::\$\{config\('AccountID'\)\}/),
    );
  });
});
