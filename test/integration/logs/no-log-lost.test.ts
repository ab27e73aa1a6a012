// No log is lost: a worker killed at any point repeats at most the batch it was forwarding, and
// that batch carries the same id both times.
//
// 120 seeded trials against localcloud's SLS and STS through the production adapters, each: new
// logs written to random members and shards (sometimes with a shard split or merged first, so
// parents and children are read across the crash), a planning run, the worker killed at a random
// crash point (after taking a lease, after a pull, between the parts of a forward, between the
// forward and the checkpoint commit, after the commit), everything it would still do refused as
// a dead process's calls are; then the lease runs out and a clean run catches up. After every
// trial the source Logstores and the central one are compared log by log: every log written is
// there, and every log there twice is twice under one batch id, at most one batch per crash. The
// in-process worker reads one shard at a time here (a crash interrupts one batch); three more
// trials kill a real worker process (SIGKILL) reading several shards at once: each may then
// repeat one batch per shard it was reading.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import type { WorkerChunk } from '../../../shared/logs/planner';
import type { LogIntegrationStore, MemberLogAccess } from '../../../shared/logs/ports';
import type { CrashPoint, PullerDeps } from '../../../shared/logs/puller';
import {
  type LogConnection,
  type LogHarness,
  REGION,
  reconcile,
  startLogHarness,
} from '../../support/log-harness';
import { seededRandom } from '../../support/seeded-random';

const caller: Caller = { cause: { kind: 'user', identity: 'trials' } };
const TRIALS = 120;
const LEASE_TTL_MS = 2_000;
const CRASH_POINTS: CrashPoint[] = [
  'lease-taken',
  'pulled',
  'forwarded-part',
  'forwarded',
  'committed',
];

class Crash extends Error {}
class Killed extends Error {}

/** A worker's life: once it is dead, every call it makes is refused, as a killed process makes none. */
class Life {
  dead = false;
  #inFlight = 0;
  #idle: Array<() => void> = [];

  async call<T>(run: () => Promise<T> | T): Promise<T> {
    if (this.dead) throw new Killed('the worker is dead');
    this.#inFlight++;
    try {
      return await run();
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Resolves once the calls sent before the death have come back. */
  idle(): Promise<void> {
    return this.#inFlight === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idle.push(resolve));
  }

  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          this.call(() => (value as (...a: unknown[]) => unknown).apply(object, args));
      },
    });
  }
}

function mortalDeps(
  h: LogHarness,
  life: Life,
  crashAt: { point: CrashPoint; hit: number },
): Partial<PullerDeps> {
  const logs = h.logs;
  const store: LogIntegrationStore = {
    policies: life.wrap(logs.policies),
    dataSources: life.wrap(logs.dataSources),
    snapshots: life.wrap(logs.snapshots),
    checkpoints: life.wrap(logs.checkpoints),
    leases: life.wrap(logs.leases),
    activity: life.wrap(logs.activity),
    management: logs.management,
  };
  const memberLogs: MemberLogAccess = async (accountId, region) => {
    const access = await life.call(() => h.memberLogs(accountId, region));
    return access.ok ? { ok: true, logs: life.wrap(access.logs) } : access;
  };
  let hits = 0;
  return {
    store,
    memberLogs,
    central: { sink: life.wrap(h.central.service), address: h.central.address },
    crashPoint: (point) => {
      if (point !== crashAt.point || ++hits !== crashAt.hit) return;
      life.dead = true;
      throw new Crash(`killed at ${point} #${hits}`);
    },
  };
}

let h: LogHarness;
let written = new Set<string>();

/** A harness with every member integrated; the store in memory, or in localcloud's Tablestore
 *  where a worker process must share it. */
function useHarness(tablestore: 'memory' | 'localcloud'): void {
  beforeAll(async () => {
    written = new Set();
    h = await startLogHarness({
      members: 3,
      tablestore,
      puller: { leaseTtlMs: LEASE_TTL_MS, concurrency: 1, targetPullBytes: 1_500 },
    });
    await h.integration.addAccounts('waf', { accountIds: h.memberIds, enabled: true }, caller);
    await h.drain();
  });
  afterAll(async () => {
    await h?.stop();
  });
}

function hex(random: () => number): string {
  return Array.from({ length: 8 }, () => Math.floor(random() * 16).toString(16)).join('');
}

/** Splits a random readwrite shard, or merges two adjacent ones; keeps 1 to 6 readwrite shards. */
function reshard(random: () => number): 'split' | 'merge' | undefined {
  const { model } = h.cloud.sls;
  const accountId = h.memberIds[Math.floor(random() * h.memberIds.length)] ?? '';
  const waf = h.wafOf(accountId);
  const project = model.project(REGION, waf.project);
  const logstore = model.logstore(project, waf.logstore);
  const writable = model.shards(logstore).filter((s) => s.status === 'readwrite');
  const wantMerge = writable.length >= 6 || (writable.length > 1 && random() < 0.5);
  if (wantMerge) {
    const left = writable.find((s) => writable.some((r) => r.begin === s.end));
    if (!left) return undefined;
    model.mergeShards(project, logstore, left.id);
    return 'merge';
  }
  const shard = writable[Math.floor(random() * writable.length)];
  if (!shard || shard.end - shard.begin < 4n) return undefined;
  model.splitShard(project, logstore, shard.id, (shard.begin + shard.end) / 2n);
  return 'split';
}

function writeSome(random: () => number): void {
  const writes = 1 + Math.floor(random() * 3);
  for (let i = 0; i < writes; i++) {
    const accountId = h.memberIds[Math.floor(random() * h.memberIds.length)] ?? '';
    const uids = h.write(h.wafOf(accountId), 1 + Math.floor(random() * 40), {
      hashKey: hex(random),
      topic: random() < 0.5 ? 'access' : 'block',
    });
    for (const uid of uids) written.add(uid);
  }
}

describe('no log lost: a worker killed in process', () => {
  useHarness('memory');

  it(`${TRIALS} seeded trials killing the worker at random points: 0 lost, at most one batch repeated per crash`, async () => {
    const random = seededRandom(20_240_512);
    let crashes = 0;
    const fired = new Map<CrashPoint, number>();
    let acrossReshard = 0;
    let reshards = { split: 0, merge: 0 };
    const started = Date.now();
    for (let trial = 0; trial < TRIALS; trial++) {
      writeSome(random);
      const change = random() < 0.25 ? reshard(random) : undefined;
      if (change) {
        reshards = { ...reshards, [change]: reshards[change] + 1 };
        writeSome(random);
      }
      const { chunks } = await h.plan();
      const crashAt = {
        point: CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)] as CrashPoint,
        hit: 1 + Math.floor(random() * 3),
      };
      const life = new Life();
      let crashed = false;
      for (const chunk of chunks) {
        try {
          await h.pull(chunk, mortalDeps(h, life, crashAt));
        } catch (error) {
          if (!(error instanceof Crash || error instanceof Killed)) throw error;
          crashed = true;
          break;
        }
      }
      if (crashed) {
        crashes++;
        fired.set(crashAt.point, (fired.get(crashAt.point) ?? 0) + 1);
        if (change) acrossReshard++;
        await life.idle();
        // The dead worker's leases run out; a clean run takes its shards over.
        h.cloud.clock.advance(LEASE_TTL_MS / 1000 + 1);
      }
      await h.drain();
      const result = reconcile(written, h.read(h.central.address));
      expect(result.lost, `trial ${trial}: lost`).toEqual([]);
      expect(result.unrecognisable, `trial ${trial}: duplicates without a common batch id`).toEqual(
        [],
      );
      expect(result.unknown).toBe(0);
      expect(result.duplicatedBatches.size, `trial ${trial}: batches repeated`).toBeLessThanOrEqual(
        crashes,
      );
    }
    process.stdout.write(
      `no-log-lost: ${TRIALS} trials, ${crashes} crashes, ${written.size} logs in ${Date.now() - started} ms\n`,
    );
    // The trials did what they claim: every crash point, the one between forward and commit
    // included, and crashes right after a split or a merge.
    for (const point of CRASH_POINTS)
      expect(fired.get(point) ?? 0, point).toBeGreaterThanOrEqual(3);
    expect(crashes).toBeGreaterThanOrEqual(60);
    expect(acrossReshard).toBeGreaterThanOrEqual(5);
    expect(reshards.split).toBeGreaterThanOrEqual(3);
    expect(reshards.merge).toBeGreaterThanOrEqual(3);
    expect(written.size).toBeGreaterThan(3_000);
  }, 180_000);
});

describe('no log lost: a worker process killed', () => {
  useHarness('localcloud');

  it('a real worker process killed with SIGKILL mid-stream: 0 lost, at most one batch per shard it was reading', async () => {
    const management = h.cloud.env.accounts.find((a) => a.kind === 'management');
    if (!management) throw new Error('management');
    const connection: LogConnection = {
      url: h.cloud.url,
      sts: h.cloud.env.endpoints.sts,
      managementId: management.id,
      adminKeys: {
        accessKeyId: management.accessKeyId,
        accessKeySecret: management.accessKeySecret,
      },
      tablestoreInstance: 'logs',
    };
    const random = seededRandom(7);
    const concurrency = 4;
    for (let kill = 0; kill < 3; kill++) {
      const before = reconcile(written, h.read(h.central.address)).duplicatedBatches.size;
      for (const accountId of h.memberIds) {
        for (let i = 0; i < 6; i++) {
          for (const uid of h.write(h.wafOf(accountId), 40, { hashKey: hex(random) }))
            written.add(uid);
        }
      }
      const { chunks } = await h.plan();
      const chunk: WorkerChunk = {
        ...chunks[0],
        items: chunks.flatMap((c) => c.items),
      } as WorkerChunk;
      const afterLines = 2 + Math.floor(random() * 12);
      const killedAt = await runAndKill(connection, chunk, concurrency, afterLines);
      expect(killedAt).not.toMatch(/^finished/);
      h.cloud.clock.advance(LEASE_TTL_MS / 1000 + 1);
      await h.drain();
      const result = reconcile(written, h.read(h.central.address));
      expect(result.lost).toEqual([]);
      expect(result.unrecognisable).toEqual([]);
      expect(result.duplicatedBatches.size - before).toBeLessThanOrEqual(concurrency);
    }
  }, 120_000);
});

/** Starts the worker process on `chunk` and kills it (SIGKILL) at its `afterLines`th crash point. */
function runAndKill(
  connection: LogConnection,
  chunk: WorkerChunk,
  concurrency: number,
  afterLines: number,
): Promise<string> {
  const script = fileURLToPath(new URL('../../support/log-worker-process.ts', import.meta.url));
  const args = {
    connection,
    clockOffsetMs: h.cloud.clock.now() - Date.now(),
    chunk,
    puller: { leaseTtlMs: LEASE_TTL_MS, concurrency, targetPullBytes: 1_500 },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = 0;
    let last = '';
    let errors = '';
    let buffer = '';
    child.stderr.on('data', (data: Buffer) => {
      errors += data.toString();
    });
    child.stdout.on('data', (data: Buffer) => {
      buffer += data.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line === 'started') continue;
        last = line;
        if (++seen === afterLines) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else if (code === 0) resolve(`finished: ${last}`);
      else reject(new Error(`the worker process failed (${code}): ${errors}`));
    });
  });
}
