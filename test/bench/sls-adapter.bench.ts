// The project's SLS adapter (shared/cloud/sls): CPU per log of its codec alone and through the
// adapter over HTTP, and what loading it costs a cold start.
//
// 1. Bare codec, in process, on the same data (WAF-like logs, 20 fields): LogGroup encode,
//    scan and full decode, beside protobufjs; body compression per codec (the project's
//    TypeScript lz4, native lz4-napi, zlib deflate at levels 1 and 6, none): CPU per log and
//    size; and the two paths a puller can take per log: decode + encode (read every log, write
//    it again) and forward (scan, append tags, recompress the group's own bytes).
// 2. Through the adapter, against localcloud in another process (its CPU is not counted; this
//    process's is): PutLogs of built groups (encode, compress, sign, HTTP), PullLogs + decode
//    (HTTP, decompress, scan, decode), and forwarding (pull, then put each group as pulled with
//    provenance tags), each beside the bare codec's CPU for the same work.
// 3. Cold start: importing the SDK as installed (loads native lz4-napi), lz4-napi alone, and a
//    bundle of the adapter built by the project's recipe (lz4-napi replaced by the project's
//    lz4) next to the same bundle with lz4-napi left external (native, loaded from
//    node_modules): median time of `await import()` in fresh node processes.
// CPU is process.cpuUsage (user + system, GC included); the best of --runs is reported, as the
// machine is shared. Run: npm run bench -- sls-adapter [--groups 100] [--logs-per-group 100]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import { build } from 'esbuild';
import { functionBundleOptions } from '../../bundling/function-bundle';
import { createLogService, type SlsWireCompression } from '../../shared/cloud/sls/client';
import {
  appendLogTags,
  decodeLogGroup,
  encodeLogGroup,
  scanLogGroupList,
} from '../../shared/cloud/sls/codec';
import { compressBody, decompressBody } from '../../shared/cloud/sls/compression';
import { lz4Compress, lz4Decompress } from '../../shared/cloud/sls/lz4';
import type { LogGroup, LogTag } from '../../shared/logs/model';
import { type CloudProcess, startCloudProcess } from '../support/localcloud-process';
import { seededRandom } from '../support/seeded-random';
import { LogGroupType, lz4Block, lz4Unblock } from '../support/sls-client';
import { BenchArgs } from './support/args';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const args = new BenchArgs();
const GROUPS = args.integer('--groups', 100, 1);
const LOGS_PER_GROUP = args.integer('--logs-per-group', 100, 1);
const RUNS = args.integer('--runs', 3, 1);
const LOGS = GROUPS * LOGS_PER_GROUP;
const PROVENANCE: LogTag[] = [
  { key: 'owner_account', value: '1234567890123456' },
  { key: 'template', value: 'waf' },
  { key: 'region', value: 'cn-hangzhou' },
  { key: 'source_project', value: 'waf-project-1234567890123456-cn-hangzhou' },
  { key: 'source_logstore', value: 'waf-logstore' },
  { key: 'source_shard', value: '3' },
  { key: 'rdgov_batch_id', value: '3:MTcwMDAwMDAwMDAwMDAwMA==:17' },
];

// ------------------------------------------------------------------------------------- data

function wafGroups(): LogGroup[] {
  const random = seededRandom(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const ip = () =>
    `${100 + Math.floor(random() * 100)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  const start = 1_700_000_000;
  return Array.from({ length: GROUPS }, (_, g) => ({
    topic: 'waf_access_log',
    source: '10.0.0.1',
    tags: [{ key: '__product__', value: 'waf' }],
    logs: Array.from({ length: LOGS_PER_GROUP }, (_, i) => {
      const fields: Array<[string, string]> = [
        ['time', new Date((start + g * 60 + i) * 1000).toISOString()],
        ['host', pick(['shop.example.com', 'api.example.com', 'www.example.cn'])],
        ['matched_host', pick(['*.example.com', 'www.example.cn'])],
        ['request_method', pick(['GET', 'GET', 'GET', 'POST', 'PUT'])],
        [
          'request_path',
          `/api/${pick(['orders', 'cart', 'users', 'items'])}/${Math.floor(random() * 1e6)}`,
        ],
        ['querystring', random() < 0.5 ? '' : `page=${Math.floor(random() * 40)}&sort=desc`],
        ['status', pick(['200', '200', '200', '304', '404', '403', '502'])],
        ['real_client_ip', ip()],
        ['src_ip', ip()],
        ['src_port', String(1024 + Math.floor(random() * 60000))],
        [
          'user_agent',
          pick([
            'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
            'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
            'curl/8.5.0',
          ]),
        ],
        ['http_referer', random() < 0.6 ? '-' : 'https://www.example.cn/'],
        ['final_action', random() < 0.05 ? 'block' : 'pass'],
        ['final_plugin', pick(['waf', 'acl', 'cc', ''])],
        ['final_rule_id', String(Math.floor(random() * 200000))],
        [
          'request_traceid',
          Math.floor(random() * 2 ** 52)
            .toString(16)
            .padStart(13, '0'),
        ],
        ['body_bytes_sent', String(Math.floor(random() * 50000))],
        ['request_time_msec', String(Math.floor(random() * 900))],
        ['upstream_status', pick(['200', '200', '-', '502'])],
        ['region', 'cn-hangzhou'],
      ];
      return {
        time: start + g * 60 + Math.floor(i / 2),
        contents: fields.map(([key, value]) => ({ key, value })),
      };
    }),
  }));
}

// ---------------------------------------------------------------------------------- measuring

/** CPU nanoseconds per log of `work` (which handles LOGS logs), best of RUNS. */
function cpuPerLog(work: () => void, logs = LOGS): number {
  work();
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    const iterations = 5;
    const before = process.cpuUsage();
    for (let i = 0; i < iterations; i++) work();
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / (iterations * logs));
  }
  return best;
}

async function cpuPerLogAsync(
  work: () => Promise<number>,
): Promise<{ ns: number; logsPerSecond: number }> {
  await work();
  let best = Number.POSITIVE_INFINITY;
  let fastest = 0;
  for (let run = 0; run < RUNS; run++) {
    const before = process.cpuUsage();
    const started = process.hrtime.bigint();
    const logs = await work();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / logs);
    fastest = Math.max(fastest, logs / seconds);
  }
  return { ns: best, logsPerSecond: fastest };
}

function table(rows: Array<Record<string, string>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(columns), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}

const ns = (value: number) => value.toFixed(0);

// ------------------------------------------------------------------------------- bare codec

function logGroupList(encoded: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const group of encoded) {
    const header: number[] = [0x0a];
    let length = group.length;
    while (length >= 0x80) {
      header.push((length & 0x7f) | 0x80);
      length >>>= 7;
    }
    header.push(length);
    parts.push(Buffer.from(header), group);
  }
  return Buffer.concat(parts);
}

interface Codec {
  name: string;
  compress: (raw: Buffer) => Buffer;
  decompress: (body: Buffer, rawSize: number) => Buffer;
}

const CODECS: Codec[] = [
  { name: 'lz4 (project, TypeScript)', compress: lz4Compress, decompress: lz4Decompress },
  {
    name: 'lz4 (lz4-napi, native)',
    compress: lz4Block,
    decompress: lz4Unblock,
  },
  {
    name: 'deflate level 1 (zlib)',
    compress: (raw) => deflateSync(raw, { level: 1 }),
    decompress: (body) => inflateSync(body),
  },
  {
    name: 'deflate level 6 (zlib default)',
    compress: (raw) => deflateSync(raw),
    decompress: (body) => inflateSync(body),
  },
  { name: 'none', compress: (raw) => raw, decompress: (body) => body },
];

interface Bare {
  encode: number;
  decodeByCompression: Record<SlsWireCompression, number>;
  encodeByCompression: Record<SlsWireCompression, number>;
}

function bareCodec(groups: LogGroup[]): Bare {
  const encoded = groups.map(encodeLogGroup);
  const list = logGroupList(encoded);
  const pbMessages = encoded.map((bytes) => LogGroupType.decode(bytes));
  process.stdout.write(
    `\ndata: ${GROUPS} groups x ${LOGS_PER_GROUP} logs, ${(list.length / LOGS).toFixed(0)} bytes of protobuf per log\n\n`,
  );

  const encode = cpuPerLog(() => {
    for (const group of groups) encodeLogGroup(group);
  });
  const scan = cpuPerLog(() => void scanLogGroupList(list));
  const decode = cpuPerLog(() => {
    for (const group of encoded) decodeLogGroup(group);
  });
  const pbEncode = cpuPerLog(() => {
    for (const message of pbMessages) LogGroupType.encode(message).finish();
  });
  const pbDecode = cpuPerLog(() => {
    for (const group of encoded) LogGroupType.toObject(LogGroupType.decode(group));
  });
  process.stdout.write(
    `${table([
      {
        'LogGroup protobuf': 'encode',
        'CPU ns/log': ns(encode),
        'protobufjs ns/log': ns(pbEncode),
      },
      {
        'LogGroup protobuf': 'decode (every log and field)',
        'CPU ns/log': ns(decode),
        'protobufjs ns/log': ns(pbDecode),
      },
      {
        'LogGroup protobuf': 'scan (counts, topic, source, tags)',
        'CPU ns/log': ns(scan),
        'protobufjs ns/log': '',
      },
    ])}\n\n`,
  );

  const compressionRows: Array<Record<string, string>> = [];
  const compressed = new Map<string, Buffer[]>();
  for (const codec of CODECS) {
    const bodies = encoded.map((raw) => codec.compress(raw));
    compressed.set(codec.name, bodies);
    const size = bodies.reduce((sum, b) => sum + b.length, 0);
    const listBody = codec.compress(list);
    compressionRows.push({
      compression: codec.name,
      'compress ns/log': ns(cpuPerLog(() => void codec.compress(list))),
      'decompress ns/log': ns(cpuPerLog(() => void codec.decompress(listBody, list.length))),
      'bytes/log': (size / LOGS).toFixed(0),
      ratio: (list.length / listBody.length).toFixed(1),
    });
  }
  process.stdout.write(
    `body compression (a PullLogs body of all ${GROUPS} groups; bytes/log per group compressed alone):\n${table(compressionRows)}\n\n`,
  );

  const pathRows: Array<Record<string, string>> = [];
  const decodeByCompression = {} as Record<SlsWireCompression, number>;
  const encodeByCompression = {} as Record<SlsWireCompression, number>;
  for (const compression of ['deflate', 'lz4'] as const) {
    const body = compressBody(compression, list);
    const decodeAll = cpuPerLog(() => {
      for (const group of scanLogGroupList(decompressBody(compression, body, list.length))) {
        decodeLogGroup(group.bytes);
      }
    });
    const encodeAll = cpuPerLog(() => {
      for (const group of groups) compressBody(compression, encodeLogGroup(group));
    });
    decodeByCompression[compression] = decodeAll;
    encodeByCompression[compression] = encodeAll;
    const decodeEncode = cpuPerLog(() => {
      for (const group of scanLogGroupList(decompressBody(compression, body, list.length))) {
        const decoded = decodeLogGroup(group.bytes);
        compressBody(
          compression,
          encodeLogGroup({ ...decoded, tags: [...decoded.tags, ...PROVENANCE] }),
        );
      }
    });
    const forward = cpuPerLog(() => {
      for (const group of scanLogGroupList(decompressBody(compression, body, list.length))) {
        compressBody(compression, appendLogTags(group.bytes, PROVENANCE));
      }
    });
    pathRows.push(
      {
        'per log (bare codec)': 'read: decompress + scan + decode',
        wire: compression,
        'CPU ns/log': ns(decodeAll),
        'x decode + encode': '',
      },
      {
        'per log (bare codec)': 'write: encode + compress',
        wire: compression,
        'CPU ns/log': ns(encodeAll),
        'x decode + encode': '',
      },
      {
        'per log (bare codec)': 'decode + encode (with tags added)',
        wire: compression,
        'CPU ns/log': ns(decodeEncode),
        'x decode + encode': '1.00',
      },
      {
        'per log (bare codec)': 'forward: scan + append tags + recompress',
        wire: compression,
        'CPU ns/log': ns(forward),
        'x decode + encode': (forward / decodeEncode).toFixed(2),
      },
    );
  }
  process.stdout.write(`${table(pathRows)}\n\n`);
  return { encode, decodeByCompression, encodeByCompression };
}

// ------------------------------------------------------------------------------------ adapter

async function adapter(groups: LogGroup[], bare: Bare): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sls-adapter-bench-'));
  const orgFile = join(dir, 'org.yaml');
  writeFileSync(
    orgFile,
    'seed: sls-adapter-bench\nmanagement:\n  name: m\nmembers:\n  - name: bench\n',
  );
  let cloud: CloudProcess | undefined;
  try {
    cloud = await startCloudProcess(join(dir, 'data'), join(dir, 'env.json'), {
      organization: orgFile,
    });
    const control = `${cloud.url}/__localcloud/sls`;
    const member = cloud.env.accounts.find((a) => a.name === 'bench');
    if (!member) throw new Error('no member in the bench organization');
    const project = `bench-${member.id}`;
    const put = async (path: string, method: string, body: unknown) => {
      const res = await fetch(`${control}/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    };
    await put('quotas', 'PUT', {
      writeBytesPerSecond: 1e12,
      writeRequestsPerSecond: 1e9,
      readBytesPerSecond: 1e12,
      readRequestsPerSecond: 1e9,
    });
    await put('projects', 'POST', { name: project, accountId: member.id });
    const host = new URL(cloud.url).host;
    const rows: Array<Record<string, string>> = [];
    const connect = (put: SlsWireCompression, pull: SlsWireCompression) =>
      createLogService({
        endpoint: `cn-hangzhou.log.aliyuncs.com@${host}`,
        protocol: 'http',
        region: 'cn-hangzhou',
        credentials: { accessKeyId: member.accessKeyId, accessKeySecret: member.accessKeySecret },
        accountId: member.id,
        putCompression: put,
        pullCompression: pull,
        readTimeoutMs: 60_000,
      });
    const row = (
      operation: string,
      wire: string,
      run: { ns: number; logsPerSecond: number },
      bareNs: number,
    ) => ({
      'through the adapter': operation,
      wire,
      'CPU ns/log': ns(run.ns),
      'bare codec ns/log': ns(bareNs),
      'x bare': (run.ns / bareNs).toFixed(2),
      'logs/s': run.logsPerSecond.toFixed(0),
    });
    const source = { project, logstore: 'source' };
    let batch = 0;
    for (const put of ['deflate', 'lz4'] as const) {
      const logs = connect(put, 'lz4');
      await logs.createLogstore(source, { ttlDays: 1, shardCount: 1 });
      const run = await cpuPerLogAsync(async () => {
        for (const group of groups) await logs.put(source, { group, batchId: String(batch++) });
        return LOGS;
      });
      rows.push(row('PutLogs of built groups', put, run, bare.encodeByCompression[put]));
    }
    // What one request costs whatever it carries: the SDK, signing, HTTP on loopback.
    const single: LogGroup = { logs: [groups[0]?.logs[0] ?? { time: 1, contents: [] }], tags: [] };
    const requests = 200;
    const singles = connect('deflate', 'lz4');
    const perRequest = await cpuPerLogAsync(async () => {
      for (let i = 0; i < requests; i++) {
        await singles.put(source, { group: single, batchId: `single-${batch++}` });
      }
      return requests;
    });
    const requestRow = {
      'through the adapter': 'PutLogs of one-log groups, per request',
      wire: 'deflate',
      'CPU ns/log': ns(perRequest.ns),
      'bare codec ns/log': '',
      'x bare': '',
      'logs/s': perRequest.logsPerSecond.toFixed(0),
    };
    type Logs = ReturnType<typeof connect>;
    const pullAll = async (
      logs: Logs,
      onGroup: (group: Parameters<Logs['decode']>[0], cursor: string, index: number) => unknown,
    ) => {
      let cursor = await logs.cursor(source, 0, 'begin');
      let count = 0;
      for (;;) {
        const pulled = await logs.pull(source, 0, { cursor, count: GROUPS });
        for (const [index, group] of pulled.groups.entries()) await onGroup(group, cursor, index);
        count += pulled.logCount;
        if (pulled.nextCursor === cursor) return count;
        cursor = pulled.nextCursor;
      }
    };
    for (const pull of ['lz4', 'deflate'] as const) {
      const logs = connect('deflate', pull);
      const run = await cpuPerLogAsync(() => pullAll(logs, (group) => logs.decode(group)));
      rows.push(row('PullLogs + decode', pull, run, bare.decodeByCompression[pull]));
    }
    for (const [pull, put] of [
      ['lz4', 'deflate'],
      ['lz4', 'lz4'],
      ['deflate', 'deflate'],
    ] as const) {
      const logs = connect(put, pull);
      const target = { project, logstore: `central-${pull}-${put}` };
      await logs.createLogstore(target, { ttlDays: 1, shardCount: 4 });
      const run = await cpuPerLogAsync(() =>
        pullAll(logs, (group, cursor, index) =>
          logs.put(target, { group, tags: PROVENANCE.slice(0, -1), batchId: `${cursor}:${index}` }),
        ),
      );
      rows.push(
        row(
          'forward: PullLogs + PutLogs as pulled',
          `${pull} -> ${put}`,
          run,
          bare.decodeByCompression[pull] + bare.encodeByCompression[put],
        ),
      );
    }
    rows.push(requestRow);
    process.stdout.write(
      `through the adapter and the SDK over HTTP to localcloud (another process), one group per PutLogs, ${GROUPS} groups per PullLogs;\n'bare codec' is the same work without HTTP: encode + compress, decompress + scan + decode, and both for a forward (what decode + encode would cost):\n${table(rows)}\n\n`,
    );
  } finally {
    if (cloud) {
      const exited = new Promise((ok) => cloud?.child.once('exit', ok));
      cloud.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// --------------------------------------------------------------------------------- cold start

/** Median CPU and wall milliseconds of `await import(specifier)` in fresh node processes. */
function importCost(specifier: string, cwd: string, runs = 7): { cpu: number; wall: number } {
  const script = `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(specifier)}); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1000 }));`;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`import ${specifier} failed: ${result.stderr}`);
    const measured = JSON.parse(result.stdout) as { cpu: number; wall: number };
    cpu.push(measured.cpu);
    wall.push(measured.wall);
  }
  const median = (values: number[]) =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { cpu: median(cpu), wall: median(wall) };
}

async function coldStart(): Promise<void> {
  // Under the repo's node_modules so that node resolves external packages from it.
  const dir = join(REPO, 'node_modules', '.cache', 'rdg-bench-sls-adapter');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { createLogService } from ${JSON.stringify(join(REPO, 'shared/cloud/sls/client.ts'))};\n`,
  );
  const projectBundle = join(dir, 'project', 'index.mjs');
  const nativeBundle = join(dir, 'native', 'index.mjs');
  await build(functionBundleOptions(entry, projectBundle));
  const recipe = functionBundleOptions(entry, nativeBundle);
  await build({
    ...recipe,
    plugins: (recipe.plugins ?? []).filter((p) => !p.name.startsWith('lz4-napi')),
    external: [...(recipe.external ?? []), 'lz4-napi'],
  });
  const kb = (file: string) => (statSync(file).size / 1024).toFixed(0);
  const rows = [
    ['@alicloud/sls20201230 as installed (native lz4-napi)', '@alicloud/sls20201230', REPO, ''],
    ['lz4-napi alone', 'lz4-napi', REPO, ''],
    ['adapter bundle, lz4-napi native beside it', nativeBundle, dir, kb(nativeBundle)],
    [
      "adapter bundle, the project's recipe (TypeScript lz4)",
      projectBundle,
      dir,
      kb(projectBundle),
    ],
  ].map(([label, specifier, cwd, size]) => {
    const cost = importCost(specifier ?? '', cwd ?? REPO);
    return {
      'await import() in a fresh node process': label ?? '',
      'CPU ms': cost.cpu.toFixed(0),
      'wall ms': cost.wall.toFixed(0),
      'bundle KB': size ?? '',
    };
  });
  process.stdout.write(`cold start (median of 7 processes each):\n${table(rows)}\n`);
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  process.stdout.write('figures are CPU on a shared machine: noisy, the best of --runs\n');
  const groups = wafGroups();
  const bare = bareCodec(groups);
  await adapter(groups, bare);
  await coldStart();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
