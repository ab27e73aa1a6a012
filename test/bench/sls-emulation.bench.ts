// SLS emulation throughput over HTTP with the test's raw v1-signed client: PutLogs (log groups of
// 1,000 WAF-like logs) and PullLogs (20 groups per call), lz4, deflate and none, as MB/s of raw
// (uncompressed) protobuf and logs/s. Bodies are encoded and compressed before the clock starts
// and pulled bodies are not decoded, so the figures are the emulator's (signature check,
// decompression, protobuf validation, storage; compression on the way out) plus HTTP on
// loopback. Quotas are lifted so the emulator, not the throttle, is measured.
// Run: npm run bench -- sls-emulation

import { deflateSync } from 'node:zlib';
import { type LocalCloud, startLocalCloud } from '../../localcloud/index';
import { encodeGroup, lz4Block, RawSlsClient, type TestLogGroup } from '../support/sls-client';

const GROUPS = 60;
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

async function main(): Promise<void> {
  const cloud: LocalCloud = await startLocalCloud({
    port: 0,
    organization: { seed: 'sls-bench', management: { name: 'm' }, members: [{ name: 'bench' }] },
    slsQuotas: {
      writeBytesPerSecond: 1e12,
      writeRequestsPerSecond: 1e9,
      readBytesPerSecond: 1e12,
      readRequestsPerSecond: 1e9,
    },
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
  console.log(
    `SLS emulation, ${GROUPS} groups x ${LOGS_PER_GROUP} logs (${(rawBytes / 1e6).toFixed(1)} MB raw protobuf), one shard, ${PUT_CONCURRENCY} concurrent writers, one reader`,
  );
  console.log('| compression | operation | MB/s (raw) | logs/s |');
  console.log('| --- | --- | ---: | ---: |');
  for (const row of rows) {
    console.log(
      `| ${row.compress} | ${row.operation} | ${row.mbPerSecond.toFixed(1)} | ${Math.round(row.logsPerSecond).toLocaleString('en-US')} |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
