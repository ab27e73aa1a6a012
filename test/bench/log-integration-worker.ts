// One log worker instance for the log-integration benchmark, in a process of its own so its CPU
// and memory are its own: it builds the worker's dependencies over the benchmark's local cloud
// (test/support/log-connection.ts), reads and forwards one planned chunk, then times
// the bare decode + encode of the same groups (the backlog's sample groups) in this process.
// Prints one JSON line. Argument: JSON {connection, clockOffsetMs, chunk, puller, seconds,
// samplesFile}.

import { readFileSync } from 'node:fs';
import { decodeLogGroup, encodeLogGroup } from '../../shared/cloud/sls/codec';
import type { WorkerChunk } from '../../shared/logs/planner';
import { DEFAULT_PULLER_SETTINGS, type PullerSettings, pullChunk } from '../../shared/logs/puller';
import { silentLogger } from '../../shared/runtime/logger';
import { connectLogDeps, type LogConnection } from '../support/log-connection';

interface Arguments {
  connection: LogConnection;
  clockOffsetMs: number;
  chunk: WorkerChunk;
  puller: Partial<PullerSettings>;
  seconds: number;
  samplesFile: string;
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

/** CPU per log of decoding and re-encoding the groups, the best of three rounds of `logs` logs. */
function bareDecodeEncode(samples: Buffer[], logs: number): number {
  const perGroup = decodeLogGroup(samples[0] as Buffer).logs.length;
  const rounds = Math.max(1, Math.ceil(logs / perGroup));
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = process.cpuUsage();
    let count = 0;
    for (let i = 0; i < rounds; i++) {
      const group = decodeLogGroup(samples[i % samples.length] as Buffer);
      encodeLogGroup(group);
      count += group.logs.length;
    }
    best = Math.min(best, (cpuMs(process.cpuUsage(before)) * 1000) / count);
  }
  return best;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Arguments;
  const clock = { now: () => Date.now() + args.clockOffsetMs };
  const { logs, memberLogs, central } = connectLogDeps(args.connection, clock);
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  let peakHeap = process.memoryUsage().heapUsed;
  let peakBuffers = process.memoryUsage().arrayBuffers;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  }, 20);
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const outcome = await pullChunk(
    {
      store: logs,
      memberLogs,
      central: { sink: central.service, address: central.address },
      clock,
      logger: silentLogger,
      settings: { ...DEFAULT_PULLER_SETTINGS, ...args.puller },
    },
    args.chunk,
    clock.now() + args.seconds * 1000,
  );
  const cpu = cpuMs(process.cpuUsage(cpuStart));
  const wallMs = performance.now() - wallStart;
  clearInterval(sampler);
  const samples = (JSON.parse(readFileSync(args.samplesFile, 'utf8')) as string[]).map((s) =>
    Buffer.from(s, 'base64'),
  );
  const outcomes: Record<string, number> = {};
  for (const shard of outcome.shards) outcomes[shard.outcome] = (outcomes[shard.outcome] ?? 0) + 1;
  const report = {
    logs: outcome.logs,
    bytes: outcome.bytes,
    shards: outcome.shards.length,
    outcomes,
    wallMs,
    cpuMs: cpu,
    baselineRssMb: baselineRss / 2 ** 20,
    peakRssMb: peakRss / 2 ** 20,
    peakHeapMb: peakHeap / 2 ** 20,
    peakBuffersMb: peakBuffers / 2 ** 20,
    bareCpuPerLogUs: bareDecodeEncode(samples, Math.min(200_000, Math.max(20_000, outcome.logs))),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
