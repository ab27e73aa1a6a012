// Cold start of each function: from process start to the first response of a representative
// invocation, bundled vs unbundled. Each run is a fresh `node` process that loads the handler
// and invokes it once with the environment and credentials the local host would give it,
// against one in-memory local cloud (for `api`: GET /v1/directory on the demo organization).
//
// Variants, per function:
//   bundled         dist/<fn>/index.mjs (npm run build) with plain node — what FC runs
//   unbundled (js)  the project's own code transpiled ahead of time by esbuild into one file,
//                   with every npm package left external and loaded by node from node_modules:
//                   no transpiler at run time, so the gap to `bundled` is the cost of loading
//                   node_modules module by module (the fair baseline; the target applies to it)
//   unbundled (tsx) functions/<fn>/index.ts from sources through `node --import tsx`: what
//                   running the sources directly costs, transpiler included
//
//   npm run bench -- [--runs N] [--s-yaml path] [--function name]

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { functionBundleOptions } from '../../bundling/function-bundle';
import type { LocalCloudEnv } from '../../localcloud/core/contracts';
import { createLocalIssuer, type LocalIssuer } from '../../localcloud/host/auth';
import {
  AssumeRoleFailedError,
  type FunctionCredentials,
  RoleCredentialProvider,
} from '../../localcloud/host/credentials';
import { functionEnvironment } from '../../localcloud/host/environment';
import { fcTimestamp, toHttpTriggerEvent } from '../../localcloud/host/http-event';
import { type FunctionSpec, loadServerlessSpec } from '../../localcloud/host/s-yaml';
import { type LocalCloud, startLocalCloud } from '../../localcloud/index';
import { buildFunctions, type FunctionBundle } from '../../scripts/build';
import { managementStore } from '../support/local-store';
import { BenchArgs } from './support/args';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TARGET_RATIO = 0.8;

/** A representative HTTP request per s.yaml resource key (default: GET /). */
const HTTP_REQUESTS: Record<string, { method: string; path: string }> = {
  api: { method: 'GET', path: '/v1/directory' },
};

interface Args {
  runs: number;
  sYamlPath: string;
  only: string[] | undefined;
}

function parseArgs(argv: string[]): Args {
  const args = new BenchArgs(argv);
  const fn = args.text('--function');
  return {
    runs: args.integer('--runs', 7, 5),
    sYamlPath: resolve(args.text('--s-yaml') ?? join(REPO, 's.yaml')),
    only: fn ? [fn] : undefined,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The event a representative invocation of this function receives. */
function representativeEvent(fn: FunctionSpec, cloud: LocalCloudEnv, token: string): Buffer {
  const trigger = fn.triggers[0];
  if (fn.resourceName === 'role-check-worker') {
    // Invoked by role-sweep with one chunk of members (FC async invocation).
    const member = cloud.accounts.find((a) => a.kind === 'member');
    return Buffer.from(
      JSON.stringify({ sweepId: 'bench', chunk: 0, chunks: 1, accountIds: [member?.id ?? '1'] }),
    );
  }
  if (fn.resourceName === 'onboarding-worker') {
    // Invoked by the api to plan a run (FC async invocation); an unknown run is skipped after
    // one read of the runs table, which is the cold start without the members' work.
    return Buffer.from(
      JSON.stringify({ step: 'plan', runId: '00000000-0000-4000-8000-000000000000' }),
    );
  }
  if (fn.resourceName === 'log-worker') {
    // Invoked by log-planner with a chunk of shards (FC async invocation); a shard of a data
    // source that no longer exists is dropped after one read, which is the cold start without
    // the pulling.
    const member = cloud.accounts.find((a) => a.kind === 'member')?.id ?? '1';
    return Buffer.from(
      JSON.stringify({
        runId: 'bench',
        chunk: 0,
        chunks: 1,
        items: [
          {
            dataSource: `WAF_${cloud.region}_${member}`,
            templateId: 'waf',
            accountId: member,
            region: cloud.region,
            project: `waf-project-${member}-${cloud.region}`,
            logstore: 'waf-logstore',
            shardId: 0,
            readonly: false,
            generation: 1,
            consumeFrom: new Date().toISOString(),
          },
        ],
      }),
    );
  }
  if (trigger?.type === 'timer') {
    return Buffer.from(
      JSON.stringify({
        triggerTime: fcTimestamp(new Date()),
        triggerName: trigger.name,
        payload: trigger.payload,
      }),
    );
  }
  if (trigger?.type === 'eventbridge') {
    return Buffer.from(
      JSON.stringify({
        specversion: '1.0',
        id: 'bench-event',
        source: 'acs.resourcemanager',
        type: 'resourcemanager:ActionTrail:ApiCall',
        time: new Date().toISOString(),
        data: { eventName: 'MoveAccount' },
      }),
    );
  }
  const request = HTTP_REQUESTS[fn.resourceName] ?? { method: 'GET', path: '/' };
  const event = toHttpTriggerEvent(
    {
      method: request.method,
      target: request.path,
      httpVersion: '1.1',
      rawHeaders: ['Authorization', `Bearer ${token}`, 'User-Agent', 'startup-bench'],
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
    },
    {
      requestId: 'bench',
      accountId: cloud.managementAccountId,
      domainName: '127.0.0.1',
      domainPrefix: fn.name,
      now: new Date(),
    },
  );
  return Buffer.from(JSON.stringify(event));
}

// The measured process reports on stdout after this marker (functions log to stdout too).
const RESULT_MARKER = '@@startup-bench-result ';

// Runs in the measured process: load, invoke once, report. Arguments: module URL, export name,
// event (base64), context (JSON).
const INVOKE_ONCE = `
const [moduleUrl, exportName, eventBase64, contextJson] = process.argv.slice(1);
const loaded = await import(moduleUrl);
const result = await loaded[exportName](Buffer.from(eventBase64, 'base64'), JSON.parse(contextJson));
const status = result && typeof result === 'object' && 'statusCode' in result ? result.statusCode : 'ok';
process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify({ status }) + '\\n');
`;

interface Sample {
  wallMs: number;
  status: unknown;
}

function measure(execArgv: string[], args: string[], env: Record<string, string>): Promise<Sample> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child: ChildProcess = spawn(
      process.execPath,
      [...execArgv, '--input-type=module', '-e', INVOKE_ONCE, ...args],
      { env, cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let answered: Sample | undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const at = out.indexOf(RESULT_MARKER);
      const end = at === -1 ? -1 : out.indexOf('\n', at);
      if (!answered && end !== -1) {
        const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
        const line = JSON.parse(out.slice(at + RESULT_MARKER.length, end)) as { status: unknown };
        answered = { wallMs, status: line.status };
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => {
      if (answered) resolvePromise(answered);
      else
        reject(
          new Error(`invocation process exited ${code} without answering:\n${err.slice(0, 2000)}`),
        );
    });
  });
}

const FC_TRUST_POLICY = JSON.stringify({
  Version: '1',
  Statement: [
    { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
  ],
});

/**
 * The function's role credentials. A role the organization lacks is created (trusting FC), as
 * deploying would require: the bench measures start-up, not the fixture's completeness.
 */
async function roleCredentials(
  fn: FunctionSpec,
  cloud: LocalCloud,
  provider: RoleCredentialProvider,
): Promise<FunctionCredentials | undefined> {
  if (!fn.role) return undefined;
  try {
    return await provider.forRole(fn.role, fn.name);
  } catch (error) {
    const arn = fn.role.match(/^acs:ram::(\d+):role\/(.+)$/);
    if (!(error instanceof AssumeRoleFailedError) || error.code !== 'EntityNotExist.Role' || !arn) {
      throw error;
    }
    process.stdout.write(
      `note: role ${fn.role} is not in the organization; the bench creates it\n`,
    );
    cloud.control.addRole(arn[1] ?? '', { name: arn[2] ?? '', trustPolicy: FC_TRUST_POLICY });
    return provider.forRole(fn.role, fn.name);
  }
}

interface Variant {
  label: string;
  execArgv: string[];
  moduleUrl: string;
}

async function unbundledJs(fn: FunctionSpec, outDir: string): Promise<string> {
  const outfile = join(outDir, fn.name, 'index.mjs');
  mkdirSync(dirname(outfile), { recursive: true });
  // Same recipe as the bundle, except that every npm package stays external.
  await build({ ...functionBundleOptions(fn.sourceEntry ?? '', outfile), packages: 'external' });
  return outfile;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.stdout.write(`building bundles (${args.sYamlPath})...\n`);
  const bundles: FunctionBundle[] = await buildFunctions({
    sYamlPath: args.sYamlPath,
    verify: false,
    ...(args.only ? { only: args.only } : {}),
  });
  // Under node_modules so that node resolves the external packages from the repo's node_modules.
  const jsDir = join(REPO, 'node_modules', '.cache', 'rdg-bench');
  rmSync(jsDir, { recursive: true, force: true });

  const cloud = await startLocalCloud({
    port: 0,
    organization: join(REPO, 'localcloud', 'fixtures', 'demo-organization.yaml'),
  });
  // The store's tables, as s.yaml's post-deploy action creates them.
  await managementStore(cloud.env);
  const issuer: LocalIssuer = await createLocalIssuer();
  const credentials = new RoleCredentialProvider({ cloud: cloud.env });
  const rows: Array<Record<string, string | number>> = [];
  let missed = false;
  try {
    const bare = [] as number[];
    for (let i = 0; i < args.runs; i++) {
      const started = process.hrtime.bigint();
      await new Promise((ok) => spawn(process.execPath, ['-e', '0']).on('exit', ok));
      bare.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    process.stdout.write(`bare node start-up (node -e 0): median ${median(bare).toFixed(0)} ms\n`);

    // The build reads s.yaml without a cloud; resolve it again now that the account is known.
    const spec = loadServerlessSpec(args.sYamlPath, {
      config: { AccountID: cloud.env.managementAccountId },
    });
    for (const bundle of bundles) {
      const fn = spec.functions.find((f) => f.name === bundle.fn.name);
      if (!fn) throw new Error(`${bundle.fn.name} is built but not in ${args.sYamlPath}`);
      if (fn.triggers[0]?.type === 'log') {
        // Its event names a central Logstore this bench's cloud does not have.
        process.stdout.write(`${fn.name}: not measured (an SLS log trigger's function)\n`);
        continue;
      }
      const creds = await roleCredentials(fn, cloud, credentials);
      const env = functionEnvironment({
        fn,
        cloud: cloud.env,
        auth: {
          issuer: issuer.issuer,
          audience: issuer.audience,
          rolesClaim: issuer.rolesClaim,
          jwks: issuer.jwks,
        },
        credentials: creds,
        instanceId: 'bench',
        codePath: dirname(bundle.file),
      });
      const context = JSON.stringify({
        requestId: 'bench',
        credentials: {
          accessKeyId: creds?.accessKeyId ?? '',
          accessKeySecret: creds?.accessKeySecret ?? '',
          securityToken: creds?.securityToken ?? '',
        },
        function: {
          name: fn.name,
          handler: fn.handler,
          memory: fn.memorySize,
          timeout: fn.timeoutSeconds,
        },
        region: cloud.env.region,
        accountId: cloud.env.managementAccountId,
      });
      const event = representativeEvent(fn, cloud.env, issuer.tokens.operator).toString('base64');
      const variants: Variant[] = [
        { label: 'bundled', execArgv: [], moduleUrl: pathToFileURL(bundle.file).href },
        {
          label: 'unbundled (js)',
          execArgv: [],
          moduleUrl: pathToFileURL(await unbundledJs(fn, jsDir)).href,
        },
        {
          label: 'unbundled (tsx)',
          execArgv: ['--import', 'tsx'],
          moduleUrl: pathToFileURL(fn.sourceEntry ?? '').href,
        },
      ];
      const samples = new Map<string, number[]>(variants.map((v) => [v.label, []]));
      const statuses = new Set<string>();
      // One warm-up round (disk cache), then rounds that interleave the variants so that
      // machine noise spreads over all of them alike.
      for (let round = 0; round <= args.runs; round++) {
        for (const variant of variants) {
          const sample = await measure(
            variant.execArgv,
            [variant.moduleUrl, fn.handlerExport, event, context],
            env,
          );
          statuses.add(`${variant.label}: ${String(sample.status)}`);
          if (round > 0) samples.get(variant.label)?.push(sample.wallMs);
        }
      }
      const bundled = median(samples.get('bundled') ?? []);
      const js = median(samples.get('unbundled (js)') ?? []);
      const tsx = median(samples.get('unbundled (tsx)') ?? []);
      const ratio = bundled / js;
      // With no npm package in it, a bundle has nothing to save: the target does not apply.
      const applies = bundle.packages.length > 0;
      if (applies && ratio > TARGET_RATIO) missed = true;
      const failedStatuses = [...statuses].filter((s) => /: [45]\d\d$/.test(s));
      if (failedStatuses.length > 0) {
        process.stdout.write(
          `${fn.name}: the representative invocation failed (${failedStatuses.join(', ')}); figures are not representative\n`,
        );
        missed = true;
      }
      rows.push({
        function: fn.name,
        'bundle KB': (bundle.bytes / 1024).toFixed(1),
        'bundled ms': bundled.toFixed(0),
        'unbundled js ms': js.toFixed(0),
        'ratio js': ratio.toFixed(2),
        'unbundled tsx ms': tsx.toFixed(0),
        'ratio tsx': (bundled / tsx).toFixed(2),
        target: applies
          ? `≤ ${TARGET_RATIO} ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`
          : 'n/a (no npm packages)',
        responses: [...new Set([...statuses].map((s) => s.split(': ')[1]))].join('/'),
      });
      const sdks = bundle.sdks.map((s) => s.name).join(', ') || 'none';
      process.stdout.write(`${fn.name}: service SDKs in bundle: ${sdks}\n`);
    }
  } finally {
    await cloud.stop();
    rmSync(jsDir, { recursive: true, force: true });
  }

  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(
    `\nstart-up to first response, median of ${args.runs} fresh processes each (ratio = bundled / unbundled)\n`,
  );
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c])))}\n`);
  if (missed) {
    process.stdout.write(
      `\nTarget missed: a bundle starts slower than ${TARGET_RATIO} x its unbundled (js) baseline.\n`,
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
