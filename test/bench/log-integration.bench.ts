// Log integration's puller at scale: 1,000 shards across 200 members (each member's WAF with its
// three default Logstores: waf 2 shards, wafng 2, wafnew 1) holding a backlog of 5 million
// WAF-like logs, all integrated with a start time before the backlog.
//
// 1. Planning: one planning run over every shard, through the production planner and adapters
//    against localcloud: wall time, and AssumeRole calls (target: at most one per member).
// 2. The worker: each of `--chunks` planned chunks (`--shards-per-worker` shards) read and
//    forwarded by a worker in a process of its own (test/bench/log-integration-worker.ts,
//    bundled by the functions' esbuild recipe and run by plain node), as one FC instance would: its CPU time per forwarded log beside the bare decode + encode of
//    the same groups in the same process (target: at most 2x), its peak memory (RSS, target
//    < 256 MB: the pull size bounds it, not the backlog), and logs/s per worker instance.
//
// localcloud (SLS, STS, Tablestore) runs in this process, so its CPU is not the worker's; its
// per-shard quotas are lifted (they would throttle the one-machine run, not the code measured).
// The backlog's groups share a few buffers (each shard holds references), so 5 million logs fit
// in memory. Figures are noisy on a shared machine. Run: npm run bench -- log-integration
// [--members 200] [--logs 5000000] [--logs-per-group 500] [--chunks 2] [--shards-per-worker 40]
// [--concurrency 8] [--seconds 60]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { functionBundleOptions } from '../../bundling/function-bundle';
import { encodeLogGroup } from '../../shared/cloud/sls/codec';
import type { Caller } from '../../shared/domain/caller';
import type { LogGroup } from '../../shared/logs/model';
import type { WorkerChunk } from '../../shared/logs/planner';
import { type LogConnection, REGION, startLogHarness } from '../support/log-harness';
import { seededRandom } from '../support/seeded-random';
import { BenchArgs } from './support/args';

const args = new BenchArgs();
const MEMBERS = args.integer('--members', 200, 1);
const BACKLOG = args.integer('--logs', 5_000_000, 1);
const LOGS_PER_GROUP = args.integer('--logs-per-group', 500, 1);
const CHUNKS = args.integer('--chunks', 2, 1);
const SHARDS_PER_WORKER = args.integer('--shards-per-worker', 40, 1);
const CONCURRENCY = args.integer('--concurrency', 8, 1);
const SECONDS = args.integer('--seconds', 60, 1);
const SAMPLE_GROUPS = 8;
const MEMORY_LIMIT_MB = 256;
const CPU_RATIO_LIMIT = 2;

const caller: Caller = { cause: { kind: 'user', identity: 'bench' } };

/** WAF-like access logs: the fields WAF writes (localcloud/README.md), realistic values. */
function wafGroup(random: () => number, count: number, now: number): LogGroup {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const ip = () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');
  const logs = Array.from({ length: count }, () => {
    const fields: Record<string, string> = {
      time: new Date((now - Math.floor(random() * 60)) * 1000).toISOString(),
      host: pick(['shop.example.com', 'api.example.com', 'pay.example.com']),
      matched_host: pick(['*.example.com', 'api.example.com']),
      request_method: pick(['GET', 'POST', 'PUT']),
      request_path: `/${pick(['cart', 'items', 'login', 'search', 'checkout'])}/${Math.floor(random() * 1e6)}`,
      querystring: random() < 0.5 ? '' : `q=${Math.floor(random() * 1e9).toString(36)}&page=2`,
      status: pick(['200', '200', '200', '302', '404', '403', '500']),
      real_client_ip: ip(),
      src_ip: ip(),
      src_port: String(1024 + Math.floor(random() * 60000)),
      user_agent: pick([
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
        'curl/8.4.0',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15',
      ]),
      http_referer: pick(['-', 'https://www.example.com/', 'https://search.example.net/?q=x']),
      final_action: pick(['pass', 'pass', 'block', 'captcha']),
      final_plugin: pick(['waf', 'acl', 'cc', '']),
      final_rule_id: String(Math.floor(random() * 200000)),
      request_traceid: Math.floor(random() * 2 ** 52).toString(16),
      body_bytes_sent: String(Math.floor(random() * 50000)),
      request_time_msec: String(Math.floor(random() * 800)),
      upstream_status: pick(['200', '502', '-']),
      region: REGION,
    };
    return {
      time: now,
      contents: Object.entries(fields).map(([key, value]) => ({ key, value })),
    };
  });
  return {
    logs,
    topic: 'waf_access_log',
    source: '10.0.0.1',
    tags: [{ key: '__product__', value: 'waf' }],
  };
}

interface WorkerReport {
  logs: number;
  bytes: number;
  shards: number;
  outcomes: Record<string, number>;
  wallMs: number;
  cpuMs: number;
  baselineRssMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  peakBuffersMb: number;
  bareCpuPerLogUs: number;
}

/** The worker as FC runs it: bundled by the project's recipe, started by plain node. */
async function bundleWorker(dir: string): Promise<string> {
  const entry = fileURLToPath(new URL('./log-integration-worker.ts', import.meta.url));
  const outfile = join(dir, 'worker', 'index.mjs');
  await build(functionBundleOptions(entry, outfile));
  return outfile;
}

function runWorker(bundle: string, input: object): Promise<WorkerReport> {
  // RDG_BENCH_CPU_PROF=<dir> writes the worker's CPU profile there.
  const profile = process.env.RDG_BENCH_CPU_PROF;
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...flags, bundle, JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (data: Buffer) => {
    out += data.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`the worker process failed (${code}): ${out}`));
      else resolve(JSON.parse(last) as WorkerReport);
    });
  });
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  const started = Date.now();
  const h = await startLogHarness({
    members: MEMBERS,
    tablestore: 'localcloud',
    shardsPerWorker: SHARDS_PER_WORKER,
    slsQuotas: {
      writeBytesPerSecond: 1e12,
      writeRequestsPerSecond: 1e9,
      readBytesPerSecond: 1e12,
      readRequestsPerSecond: 1e9,
    },
  });
  // Each member's WAF in its three default Logstores: 2 + 2 + 1 shards.
  const { model } = h.cloud.sls;
  for (const accountId of h.memberIds) {
    for (const [prefix, shardCount] of [
      ['wafng', 2],
      ['wafnew', 1],
    ] as const) {
      const project = model.createProject({
        region: REGION,
        name: `${prefix}-project-${accountId}-${REGION}`,
        owner: accountId,
      });
      model.createLogstore(project, { name: `${prefix}-logstore`, shardCount, ttl: 30 });
    }
  }
  const startTime = new Date(h.clock.now() - 60_000).toISOString();
  h.cloud.clock.advance(1);
  // The backlog: every shard gets the same number of groups, drawn from a few sample groups.
  const random = seededRandom(12_345);
  const now = Math.floor(h.clock.now() / 1000);
  const samples = Array.from({ length: SAMPLE_GROUPS }, () =>
    encodeLogGroup(wafGroup(random, LOGS_PER_GROUP, now)),
  );
  const shards: Array<{ project: string; logstore: string }> = [];
  for (const accountId of h.memberIds) {
    for (const prefix of ['waf', 'wafng', 'wafnew']) {
      shards.push({
        project: `${prefix}-project-${accountId}-${REGION}`,
        logstore: `${prefix}-logstore`,
      });
    }
  }
  let totalShards = 0;
  for (const address of shards) {
    totalShards += model.shards(
      model.logstore(model.project(REGION, address.project), address.logstore),
    ).length;
  }
  const groupsPerShard = Math.ceil(BACKLOG / totalShards / LOGS_PER_GROUP);
  let backlog = 0;
  let backlogBytes = 0;
  let g = 0;
  for (const address of shards) {
    const project = model.project(REGION, address.project);
    const logstore = model.logstore(project, address.logstore);
    for (const shard of model.shards(logstore)) {
      for (let i = 0; i < groupsPerShard; i++) {
        const bytes = samples[g++ % SAMPLE_GROUPS] as Buffer;
        model.append(
          project,
          logstore,
          shard,
          { bytes, logCount: LOGS_PER_GROUP },
          { quota: false },
        );
        backlog += LOGS_PER_GROUP;
        backlogBytes += bytes.length;
      }
    }
  }
  await h.integration.addAccounts(
    'waf',
    { accountIds: h.memberIds, enabled: true, startTime },
    caller,
  );
  process.stdout.write(
    `setup: ${MEMBERS} members, ${totalShards} shards, backlog ${backlog.toLocaleString('en')} logs (${fmt(backlogBytes / 1e9, 2)} GB encoded) in ${fmt((Date.now() - started) / 1000)} s\n`,
  );

  // 1. Planning.
  h.cloud.control.clearCalls();
  const planStart = performance.now();
  const { summary, chunks } = await h.plan();
  const planMs = performance.now() - planStart;
  const assumeRoles = h.cloud.control
    .calls({ service: 'sts' })
    .filter((c) => c.action === 'AssumeRole').length;
  process.stdout.write(
    `planning: ${summary.shards} shards of ${summary.dataSources} data sources, ${summary.planned} planned in ${chunks.length} chunks, ${fmt(planMs / 1000, 2)} s; AssumeRole ${assumeRoles} for ${MEMBERS} members (${fmt(assumeRoles / MEMBERS, 2)} per member)\n`,
  );

  // 2. Workers, one process (instance) per chunk.
  const dir = mkdtempSync(join(tmpdir(), 'rdgov-log-bench-'));
  const samplesFile = join(dir, 'samples.json');
  writeFileSync(samplesFile, JSON.stringify(samples.map((s) => s.toString('base64'))));
  const management = h.cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('no management account');
  const connection: LogConnection = {
    url: h.cloud.url,
    sts: h.cloud.env.endpoints.sts,
    managementId: management.id,
    adminKeys: { accessKeyId: management.accessKeyId, accessKeySecret: management.accessKeySecret },
    tablestoreInstance: 'logs',
  };
  const reports: WorkerReport[] = [];
  const bundle = await bundleWorker(dir);
  try {
    for (const chunk of chunks.slice(0, CHUNKS) as WorkerChunk[]) {
      const report = await runWorker(bundle, {
        connection,
        clockOffsetMs: h.clock.now() - Date.now(),
        chunk,
        puller: { concurrency: CONCURRENCY },
        seconds: SECONDS,
        samplesFile,
      });
      reports.push(report);
      const perLogUs = (report.cpuMs * 1000) / Math.max(1, report.logs);
      process.stdout.write(
        `worker chunk ${chunk.chunk}: ${report.shards} shards (${Object.entries(report.outcomes)
          .map(([k, v]) => `${v} ${k}`)
          .join(
            ', ',
          )}), ${report.logs.toLocaleString('en')} logs, ${fmt(report.bytes / 1e6)} MB raw in ${fmt(report.wallMs / 1000, 2)} s = ${Math.round(report.logs / (report.wallMs / 1000)).toLocaleString('en')} logs/s; CPU ${fmt(perLogUs, 2)} us/log vs bare decode+encode ${fmt(report.bareCpuPerLogUs, 2)} us/log (${fmt(perLogUs / report.bareCpuPerLogUs, 2)}x); peak RSS ${fmt(report.peakRssMb)} MB (${fmt(report.baselineRssMb)} MB before the first pull), heap ${fmt(report.peakHeapMb)} MB, Buffers ${fmt(report.peakBuffersMb)} MB\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await h.stop();
  }

  const missed: string[] = [];
  if (assumeRoles > MEMBERS) missed.push(`AssumeRole ${assumeRoles} > ${MEMBERS} members`);
  for (const r of reports) {
    const ratio = (r.cpuMs * 1000) / Math.max(1, r.logs) / r.bareCpuPerLogUs;
    if (ratio > CPU_RATIO_LIMIT) missed.push(`CPU per log ${fmt(ratio, 2)}x > ${CPU_RATIO_LIMIT}x`);
    if (r.peakRssMb >= MEMORY_LIMIT_MB) missed.push(`peak RSS ${fmt(r.peakRssMb)} MB`);
    if (r.logs === 0) missed.push('a worker forwarded nothing');
  }
  if (missed.length > 0) {
    process.stdout.write(`missed: ${missed.join('; ')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('targets met\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
