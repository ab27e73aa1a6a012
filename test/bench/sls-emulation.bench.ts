// SLS emulation throughput over HTTP with the test's raw v1-signed client: PutLogs (log groups of
// 1,000 WAF-like logs) and PullLogs (20 groups per call), lz4, deflate and none, as MB/s of raw
// (uncompressed) protobuf and logs/s, in memory and durable (a data directory: segment files and a
// journal). Bodies are encoded and compressed before the clock starts and pulled bodies are not
// decoded, so the figures are the emulator's (signature check, decompression, protobuf
// validation, storage; compression on the way out) plus HTTP on loopback. Quotas are lifted so
// the emulator, not the throttle, is measured. Then the time to reopen a data directory holding
// 1M logs (startLocalCloud to ready), after a clean stop and as after kill -9 (no segment
// indexes: every record header is walked), with the heap and array buffers it then holds.
// Run: npm run bench -- sls-emulation

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { deflateSync } from 'node:zlib';
import { type LocalCloud, startLocalCloud } from '../../localcloud/index';
import { encodeGroup, lz4Block, RawSlsClient, type TestLogGroup } from '../support/sls-client';

const GROUPS = 120;
/** Runs per mode, alternating; the best of each is reported (the machine is shared). */
const RUNS = 3;
const LOGS_PER_GROUP = 1000;
const PUT_CONCURRENCY = 4;
const TYPES = ['lz4', 'deflate', 'none'] as const;

function group(g: number): TestLogGroup {
  const now = Math.floor(Date.now() / 1000);
  return {
    topic: 'waf_access_log',
    source: '10.0.0.1',
    tags: { bench: 'sls' },
    logs: Array.from({ length: LOGS_PER_GROUP }, (_, i) => ({
      time: now,
      contents: {
        host: 'shop.example.com',
        request_method: i % 4 === 0 ? 'POST' : 'GET',
        request_path: `/api/orders/${g * LOGS_PER_GROUP + i}`,
        status: i % 10 === 0 ? '404' : '200',
        real_client_ip: `203.0.${i % 250}.${g % 250}`,
        user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0',
        request_time_msec: String((i * 7) % 900),
        final_action: i % 13 === 0 ? 'block' : 'pass',
      },
    })),
  };
}

interface Row {
  compress: string;
  operation: string;
  mbPerSecond: number;
  logsPerSecond: number;
}

// A full collection before each memory reading (npm run bench starts node without --expose-gc).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

const ORGANIZATION = {
  seed: 'sls-bench',
  management: { name: 'm' },
  members: [{ name: 'bench' }],
};
const NO_QUOTAS = {
  writeBytesPerSecond: 1e12,
  writeRequestsPerSecond: 1e9,
  readBytesPerSecond: 1e12,
  readRequestsPerSecond: 1e9,
};

/** PutLogs and PullLogs throughput of one localcloud (in memory, or on `dataDir`). */
async function throughput(dataDir?: string): Promise<{ rows: Row[]; rawBytes: number }> {
  const cloud: LocalCloud = await startLocalCloud({
    port: 0,
    organization: ORGANIZATION,
    slsQuotas: NO_QUOTAS,
    ...(dataDir ? { dataDir } : {}),
  });
  const member = cloud.env.accounts.find((a) => a.name === 'bench');
  if (!member) throw new Error('no member');
  const client = new RawSlsClient(cloud.url, member);
  const project = `bench-${member.id}`;
  const created = cloud.sls.model.createProject({
    region: 'cn-hangzhou',
    name: project,
    owner: member.id,
  });
  const groups = Array.from({ length: GROUPS }, (_, g) => group(g));
  const rawBytes = groups.reduce((sum, g) => sum + encodeGroup(g).length, 0);
  const rows: Row[] = [];
  try {
    for (const compress of TYPES) {
      const logstore = `bench-${compress}`;
      cloud.sls.model.createLogstore(created, { name: logstore, shardCount: 1, ttl: 1 });
      const bodies = groups.map((g) => {
        const raw = encodeGroup(g);
        const body =
          compress === 'lz4' ? lz4Block(raw) : compress === 'deflate' ? deflateSync(raw) : raw;
        return { raw, body };
      });
      let next = 0;
      let started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: PUT_CONCURRENCY }, async () => {
          while (next < GROUPS) {
            const { raw, body } = bodies[next++] as { raw: Buffer; body: Buffer };
            const res = await client.request({
              method: 'POST',
              project,
              path: `/logstores/${logstore}/shards/lb`,
              headers: {
                'content-type': 'application/x-protobuf',
                'x-log-bodyrawsize': String(raw.length),
                ...(compress === 'none' ? {} : { 'x-log-compresstype': compress }),
              },
              body,
            });
            if (res.status !== 200) throw new Error(`PutLogs ${res.status} ${res.body.toString()}`);
          }
        }),
      );
      let seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rows.push({
        compress,
        operation: 'PutLogs',
        mbPerSecond: rawBytes / 1e6 / seconds,
        logsPerSecond: (GROUPS * LOGS_PER_GROUP) / seconds,
      });
      const passes = 3;
      started = process.hrtime.bigint();
      let pulledLogs = 0;
      for (let pass = 0; pass < passes; pass++) {
        let cursor = await client.cursor(project, logstore, 0, 'begin');
        for (;;) {
          const res = await client.request({
            method: 'GET',
            project,
            path: `/logstores/${logstore}/shards/0`,
            query: { type: 'log', cursor, count: '20' },
            headers: {
              accept: 'application/x-protobuf',
              ...(compress === 'none' ? {} : { 'accept-encoding': compress }),
            },
          });
          if (res.status !== 200) throw new Error(`PullLogs ${res.status}`);
          pulledLogs += Number(res.headers['x-log-count']) * LOGS_PER_GROUP;
          const nextCursor = String(res.headers['x-log-cursor']);
          if (nextCursor === cursor) break;
          cursor = nextCursor;
        }
      }
      seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (pulledLogs !== passes * GROUPS * LOGS_PER_GROUP) {
        throw new Error(`pulled ${pulledLogs} logs, expected ${passes * GROUPS * LOGS_PER_GROUP}`);
      }
      rows.push({
        compress,
        operation: 'PullLogs',
        mbPerSecond: (passes * rawBytes) / 1e6 / seconds,
        logsPerSecond: pulledLogs / seconds,
      });
    }
  } finally {
    await cloud.stop();
  }
  return { rows, rawBytes };
}

const megabytes = (bytes: number) => (bytes / 1e6).toFixed(0);

/** Heap and array buffers after a full collection. */
function heldBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A localcloud started on a data directory: time to ready, and what it holds after. */
async function startHolding(
  dataDir: string,
): Promise<{ cloud: LocalCloud; ms: number; held: number }> {
  const before = heldBytes();
  const started = process.hrtime.bigint();
  const cloud = await startLocalCloud({
    port: 0,
    organization: ORGANIZATION,
    slsQuotas: NO_QUOTAS,
    dataDir,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { cloud, ms, held: heldBytes() - before };
}

/** Writes `logs` logs in groups of `perGroup` into a data directory, stops, and times reopening
 *  it after a clean stop and without segment indexes (as after kill -9); memory is what the
 *  reopened localcloud holds beyond one started on an empty data directory. */
async function reopen(logs: number, perGroup: number): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sls-bench-reopen-'));
  const emptyDir = mkdtempSync(join(tmpdir(), 'sls-bench-empty-'));
  try {
    const empty = await startHolding(emptyDir);
    await empty.cloud.stop();
    const start = () =>
      startLocalCloud({ port: 0, organization: ORGANIZATION, slsQuotas: NO_QUOTAS, dataDir });
    const cloud = await start();
    const member = cloud.env.accounts.find((a) => a.name === 'bench');
    if (!member) throw new Error('no member');
    const model = cloud.sls.model;
    const project = model.createProject({
      region: 'cn-hangzhou',
      name: `bench-${member.id}`,
      owner: member.id,
    });
    const logstore = model.createLogstore(project, { name: 'central', shardCount: 4, ttl: 30 });
    // A few distinct groups, appended in turn (the model's own append, not HTTP: this is setup).
    const samples = Array.from({ length: 16 }, (_, g) => {
      const full = group(g);
      return encodeGroup({ ...full, logs: full.logs.slice(0, perGroup) });
    });
    let bytes = 0;
    for (let g = 0; g < logs / perGroup; g++) {
      const sample = samples[g % samples.length] as Buffer;
      model.append(
        project,
        logstore,
        model.writeShard(logstore),
        { bytes: sample, logCount: perGroup },
        { quota: false },
      );
      bytes += sample.length;
    }
    await cloud.stop();
    const lines: string[] = [];
    for (const crash of [false, true]) {
      if (crash) {
        const shards = join(dataDir, 'sls', 'shards');
        for (const store of readdirSync(shards)) {
          for (const shard of readdirSync(join(shards, store))) {
            for (const file of readdirSync(join(shards, store, shard))) {
              if (file.endsWith('.idx')) rmSync(join(shards, store, shard, file));
            }
          }
        }
      }
      const { cloud: reopened, ms, held } = await startHolding(dataDir);
      const store = reopened.sls.model.logstore(
        reopened.sls.model.project('cn-hangzhou', project.name),
        'central',
      );
      const kept = reopened.sls.model
        .shards(store)
        .reduce((sum, shard) => sum + shard.log.nextSeq - shard.log.firstSeq, 0);
      if (kept * perGroup !== logs)
        throw new Error(`reopened ${kept} groups of ${logs / perGroup}`);
      lines.push(
        `| ${logs.toLocaleString('en-US')} logs in ${(logs / perGroup).toLocaleString('en-US')} groups of ${perGroup} (${megabytes(bytes)} MB) | ${crash ? 'no indexes (as after kill -9)' : 'clean stop'} | ${ms.toFixed(0)} | ${((held - empty.held) / 1e6).toFixed(1)} |`,
      );
      await reopened.stop();
    }
    return lines;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  }
}

/** The best figure of each row over several runs. */
function best(runs: Row[][]): Row[] {
  return (runs[0] as Row[]).map((_, i) =>
    runs.map((rows) => rows[i] as Row).reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a)),
  );
}

async function main(): Promise<void> {
  const memoryRuns: Row[][] = [];
  const durableRuns: Row[][] = [];
  let rawBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const inMemory = await throughput();
    memoryRuns.push(inMemory.rows);
    rawBytes = inMemory.rawBytes;
    const dataDir = mkdtempSync(join(tmpdir(), 'sls-bench-'));
    try {
      durableRuns.push((await throughput(dataDir)).rows);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const memory = { rows: best(memoryRuns) };
  const durable = best(durableRuns);
  console.log(
    `SLS emulation, ${GROUPS} groups x ${LOGS_PER_GROUP} logs (${(rawBytes / 1e6).toFixed(1)} MB raw protobuf), one shard, ${PUT_CONCURRENCY} concurrent writers, one reader, best of ${RUNS} runs per mode; durable = a data directory (segment files, one write per PutLogs, no fsync)`,
  );
  console.log(
    '| compression | operation | MB/s in memory | MB/s durable | logs/s in memory | logs/s durable |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const [i, row] of memory.rows.entries()) {
    const other = durable[i] as Row;
    const logsPerSecond = (value: number) => Math.round(value).toLocaleString('en-US');
    console.log(
      `| ${row.compress} | ${row.operation} | ${row.mbPerSecond.toFixed(1)} | ${other.mbPerSecond.toFixed(1)} | ${logsPerSecond(row.logsPerSecond)} | ${logsPerSecond(other.logsPerSecond)} |`,
    );
  }
  console.log('');
  console.log(
    'Reopening a data directory (startLocalCloud to ready; MB held = heap + array buffers after a full collection, beyond a localcloud on an empty data directory)',
  );
  console.log('| data | reopened after | ms | MB held |');
  console.log('| --- | --- | ---: | ---: |');
  for (const line of await reopen(1_000_000, 1000)) console.log(line);
  for (const line of await reopen(1_000_000, 10)) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
