// Reading one shard (pullShard) against an in-memory member Log Service and a recording central
// sink, on the real checkpoint and lease repositories over the in-memory Tablestore double: the
// first cursor at consumeFrom, forwarding with the batch's id, tags and hash key before the
// checkpoint moves, the commit only under the lease, readonly shards finished, a gap recorded
// when the TTL removed unread logs, failures backed off (throttling shown only from the third in
// a row), stale work left alone, and the lag noted when time runs out.

import { beforeEach, describe, expect, it } from 'vitest';
import { CloudApiError } from '../../../shared/errors';
import {
  batchIdFor,
  centralHashKey,
  provenanceTags,
  type ShardSource,
} from '../../../shared/logs/forwarding';
import { DATA_SOURCE_TYPE, type EncodedLogGroup } from '../../../shared/logs/model';
import { shardLeaseName, type WorkItem } from '../../../shared/logs/planner';
import type { MemberLogsResult, ShardRef } from '../../../shared/logs/ports';
import {
  DEFAULT_PULLER_SETTINGS,
  type PullerDeps,
  pullChunk,
  pullShard,
} from '../../../shared/logs/puller';
import { createLogger } from '../../../shared/runtime/logger';
import { InMemoryShardLogs, logFailure, RecordingLogSink } from '../../support/log-member-fakes';
import { type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const A = '2000000000000001';
const REGION = 'cn-hangzhou';
const NAME = `WAF_${REGION}_${A}`;
const ADDRESS = { project: `waf-project-${A}-${REGION}`, logstore: 'waf-logstore' };
const CENTRAL = { project: 'central', logstore: 'integrated' };
const T0 = Date.UTC(2026, 0, 2, 0, 0, 0);
const S0 = T0 / 1000;
const iso = (ms: number) => new Date(ms).toISOString();

let f: LogStoreFixture;
let logs: InMemoryShardLogs;
let access: MemberLogsResult;
let sink: RecordingLogSink;
let warnings: Array<Record<string, unknown>>;
let deps: PullerDeps;

const group = (logCount: number, bytes = 100, topic = 't'): EncodedLogGroup => ({
  bytes: new Uint8Array(bytes),
  logCount,
  topic,
  tags: [],
});
const at = (seconds: number, g: EncodedLogGroup) => ({ time: S0 + seconds, group: g });

beforeEach(async () => {
  f = await logStoreFixture();
  f.clock.advance(T0 + 600_000 - f.clock.now());
  logs = new InMemoryShardLogs(A, REGION);
  access = { ok: true, logs };
  sink = new RecordingLogSink();
  warnings = [];
  deps = {
    store: f.logs,
    memberLogs: async () => access,
    central: { sink, address: CENTRAL },
    clock: f.clock,
    logger: createLogger({
      level: 'warn',
      write: (line) => warnings.push(JSON.parse(line)),
    }),
    settings: { ...DEFAULT_PULLER_SETTINGS },
  };
  await f.logs.dataSources.create({
    name: NAME,
    type: DATA_SOURCE_TYPE,
    templateId: 'waf',
    accountId: A,
    region: REGION,
    enabled: true,
    autoAddNewLogstores: true,
    generation: 1,
    consumeFrom: iso(T0),
    logstores: [ADDRESS],
  });
});

const item = (extra: Partial<WorkItem> = {}): WorkItem => ({
  dataSource: NAME,
  templateId: 'waf',
  accountId: A,
  region: REGION,
  ...ADDRESS,
  shardId: 0,
  readonly: false,
  generation: 1,
  consumeFrom: iso(T0),
  ...extra,
});
const ref = (shardId = 0): ShardRef => ({ dataSource: NAME, ...ADDRESS, shardId });
const source = (shardId = 0): ShardSource => ({
  dataSource: NAME,
  accountId: A,
  templateId: 'waf',
  region: REGION,
  ...ADDRESS,
  shardId,
});
const later = () => f.clock.now() + 120_000;

describe('reading a shard', () => {
  it('starts at consumeFrom, forwards with the batch id, tags and hash key, then commits', async () => {
    logs.shard(ADDRESS, 0, [at(-10, group(5)), at(1, group(2, 30)), at(2, group(3, 70))]);
    const result = await pullShard(deps, item(), later());
    expect(result).toEqual({
      dataSource: NAME,
      ...ADDRESS,
      shardId: 0,
      outcome: 'caught-up',
      logs: 5,
      bytes: 100,
      batches: 1,
      gaps: 0,
    });
    expect(logs.calls.filter((c) => !c.startsWith('getLogstore'))).toEqual([
      `cursor 0 ${S0}`,
      'pull 0 c1 16',
    ]);
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]).toEqual({
      address: CENTRAL,
      batch: {
        group: [group(2, 30), group(3, 70)],
        tags: provenanceTags(source()),
        batchId: batchIdFor(source(), 'c1'),
        hashKey: centralHashKey(source()),
      },
    });
    const now = iso(f.clock.now());
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({
      generation: 1,
      cursor: 'c3',
      finished: false,
      positionTime: Math.floor(f.clock.now() / 1000),
      logsForwarded: 5,
      bytesForwarded: 100,
      firstCommitAt: now,
      committedAt: now,
      lastPullAt: now,
      lastDataAt: now,
      lagSeconds: 0,
      failures: 0,
      window: [{ minute: Math.floor(f.clock.now() / 60_000), logs: 5, bytes: 100 }],
      gaps: [],
      // 4 MB over 50 bytes a group, at most 1000.
      pullCount: 1000,
    });
  });

  it('pulls on while full batches come, adapting the count to the group size', async () => {
    const groups = Array.from({ length: 20 }, (_, i) => at(i, group(1, 1024 * 1024)));
    logs.shard(ADDRESS, 0, groups);
    const result = await pullShard(deps, item(), later());
    expect(result).toMatchObject({ outcome: 'caught-up', logs: 20, batches: 2 });
    // 16 at first; then 4 MB over 1 MB groups.
    expect(logs.calls.filter((c) => c.startsWith('pull'))).toEqual([
      'pull 0 c0 16',
      'pull 0 c16 4',
      'pull 0 c20 4',
    ]);
    const checkpoint = await f.logs.checkpoints.get(ref());
    expect(checkpoint).toMatchObject({ cursor: 'c20', pullCount: 4, logsForwarded: 20 });
    // A full batch does not move the position to now; the last (empty) pull did.
    expect(checkpoint?.lagSeconds).toBe(0);
  });

  it('an empty pull marks a readwrite shard caught up, and a readonly one finished', async () => {
    logs.shard(ADDRESS, 0, []);
    expect((await pullShard(deps, item(), later())).outcome).toBe('caught-up');
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({
      finished: false,
      lastPullAt: iso(f.clock.now()),
      lagSeconds: 0,
    });
    logs.shard(ADDRESS, 1, [at(1, group(1))], 'readonly');
    const first = await pullShard(deps, item({ shardId: 1, readonly: true }), later());
    expect(first).toMatchObject({ outcome: 'finished', logs: 1, batches: 1 });
    expect(await f.logs.checkpoints.get(ref(1))).toMatchObject({ finished: true, cursor: 'c1' });
    const again = await pullShard(deps, item({ shardId: 1, readonly: true }), later());
    expect(again).toMatchObject({ outcome: 'finished', logs: 0 });
    expect(logs.calls.filter((c) => c.startsWith('pull 1'))).toEqual([
      'pull 1 c0 16',
      'pull 1 c1 1000',
    ]);
  });

  it('goes on from the committed cursor next time', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await pullShard(deps, item(), later());
    logs.append(ADDRESS, 0, [at(5, group(4))]);
    f.clock.advance(60_000);
    const result = await pullShard(deps, item(), later());
    expect(result).toMatchObject({ outcome: 'caught-up', logs: 4 });
    expect(sink.batches.map((b) => b.batch.batchId)).toEqual([
      batchIdFor(source(), 'c0'),
      batchIdFor(source(), 'c1'),
    ]);
    const checkpoint = await f.logs.checkpoints.get(ref());
    expect(checkpoint).toMatchObject({ logsForwarded: 5, firstCommitAt: iso(T0 + 600_000) });
    expect(checkpoint?.committedAt).toBe(iso(T0 + 660_000));
  });

  it('leaves stale work alone: a disabled data source or another generation', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    expect((await pullShard(deps, item({ generation: 2 }), later())).outcome).toBe('stale');
    const stored = await f.logs.dataSources.get(NAME);
    if (!stored) throw new Error('no data source');
    await f.logs.dataSources.update({ ...stored, enabled: false });
    expect((await pullShard(deps, item(), later())).outcome).toBe('stale');
    expect(logs.calls).toEqual([]);
    expect(await f.logs.checkpoints.get(ref())).toBeUndefined();
  });

  it('starts a new generation again at consumeFrom, keeping the gaps', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1)), at(100, group(2))]);
    await pullShard(deps, item(), later());
    const stored = await f.logs.dataSources.get(NAME);
    if (!stored) throw new Error('no data source');
    await f.logs.dataSources.update({ ...stored, generation: 2, consumeFrom: iso(T0 + 50_000) });
    const result = await pullShard(
      deps,
      item({ generation: 2, consumeFrom: iso(T0 + 50_000) }),
      later(),
    );
    expect(result).toMatchObject({ outcome: 'caught-up', logs: 2 });
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({
      generation: 2,
      cursor: 'c2',
      logsForwarded: 2,
    });
  });

  it('answers busy while another worker holds the shard', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await f.logs.leases.acquire(shardLeaseName(item()), 'other', { ttlMs: 60_000 });
    expect((await pullShard(deps, item(), later())).outcome).toBe('busy');
    expect(sink.batches).toEqual([]);
  });

  it('answers no-time without reading when the slice is over', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    expect((await pullShard(deps, item(), f.clock.now())).outcome).toBe('no-time');
    expect(logs.calls).toEqual([]);
  });
});

describe('the checkpoint moves only after forwarding, and only under the lease', () => {
  it('a forward that fails leaves the checkpoint where it was and backs off', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    sink.failNext(new CloudApiError(logFailure('PutLogs', 'failed', 'InternalServerError')));
    const result = await pullShard(deps, item(), later());
    expect(result).toMatchObject({ outcome: 'failed', logs: 0, batches: 0 });
    expect(result.error).toMatch(/InternalServerError/);
    const checkpoint = await f.logs.checkpoints.get(ref());
    expect(checkpoint).toMatchObject({
      cursor: 'c0',
      logsForwarded: 0,
      failures: 1,
      backoffUntil: iso(f.clock.now() + 5_000),
      lastError: { code: 'InternalServerError', at: iso(f.clock.now()) },
    });
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'log shard pull failed',
        dataSource: NAME,
        shard: `${ADDRESS.project}/${ADDRESS.logstore}/0`,
        failures: 1,
        code: 'InternalServerError',
      }),
    ]);
    // The next run forwards the same batch under the same id, then moves on.
    const retry = await pullShard(deps, item(), later());
    expect(retry).toMatchObject({ outcome: 'caught-up', logs: 1 });
    expect(sink.batches.map((b) => b.batch.batchId)).toEqual([batchIdFor(source(), 'c0')]);
    const after = await f.logs.checkpoints.get(ref());
    expect(after?.failures).toBe(0);
    expect(after).not.toHaveProperty('lastError');
    expect(after).not.toHaveProperty('backoffUntil');
  });

  it('a lease that ran out while forwarding commits nothing: superseded', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await pullShard(deps, item(), later());
    logs.append(ADDRESS, 0, [at(2, group(7))]);
    sink.beforePut = () => f.clock.advance(DEFAULT_PULLER_SETTINGS.leaseTtlMs);
    const result = await pullShard(deps, item(), f.clock.now() + 600_000);
    expect(result.outcome).toBe('superseded');
    expect(sink.batches).toHaveLength(2);
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({ cursor: 'c1', logsForwarded: 1 });
  });

  it('a later holder that wrote the checkpoint fences this one out', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await pullShard(deps, item(), later());
    logs.append(ADDRESS, 0, [at(2, group(7))]);
    sink.beforePut = async () => {
      expect(await f.logs.checkpoints.claim(ref(), 1n << 60n)).toBe('claimed');
    };
    const result = await pullShard(deps, item(), later());
    expect(result.outcome).toBe('superseded');
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({ cursor: 'c1', logsForwarded: 1 });
  });
});

describe('failures and backoff', () => {
  const throttled = () => new CloudApiError(logFailure('PullLogs', 'throttled', 'Throttling.User'));

  it('doubles the backoff per failure in a row up to 5 minutes; throttling shows from the third', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    const backoffs: number[] = [];
    for (let i = 1; i <= 8; i += 1) {
      logs.failNext('pull', throttled());
      expect((await pullShard(deps, item(), later())).outcome).toBe('failed');
      const checkpoint = await f.logs.checkpoints.get(ref());
      expect(checkpoint?.failures).toBe(i);
      backoffs.push(Date.parse(checkpoint?.backoffUntil ?? '') - f.clock.now());
      if (i < 3) expect(checkpoint).not.toHaveProperty('lastError');
      else expect(checkpoint?.lastError?.code).toBe('Throttling.User');
    }
    expect(backoffs).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('records a member it cannot reach on a blank checkpoint at consumeFrom', async () => {
    access = {
      ok: false,
      roleArn: `acs:ram::${A}:role/access`,
      reason: 'no trust',
      code: 'NoPermission',
    };
    const result = await pullShard(deps, item(), later());
    expect(result.outcome).toBe('failed');
    expect(result.error).toContain(`acs:ram::${A}:role/access`);
    const checkpoint = await f.logs.checkpoints.get(ref());
    expect(checkpoint).toMatchObject({
      generation: 1,
      finished: false,
      positionTime: S0,
      pullCount: 16,
      failures: 1,
      logsForwarded: 0,
      lastError: { code: 'NoPermission' },
    });
    expect(checkpoint).not.toHaveProperty('cursor');
    // Reached again, it starts at consumeFrom (the row has no cursor yet).
    access = { ok: true, logs };
    logs.shard(ADDRESS, 0, [at(1, group(3))]);
    expect(await pullShard(deps, item(), later())).toMatchObject({ outcome: 'caught-up', logs: 3 });
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({ failures: 0, cursor: 'c1' });
  });

  it('a failure before the first cursor counts on from the failures recorded', async () => {
    logs.shard(ADDRESS, 0, []);
    logs.failNext('cursor', throttled());
    await pullShard(deps, item(), later());
    logs.failNext('cursor', throttled());
    await pullShard(deps, item(), later());
    expect((await f.logs.checkpoints.get(ref()))?.failures).toBe(2);
  });

  it('lets a programming error through', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    logs.failNext('pull', new TypeError('bug'));
    await expect(pullShard(deps, item(), later())).rejects.toThrow('bug');
  });
});

describe('gaps', () => {
  it('records the logs the TTL removed before they were read and goes on from the oldest kept', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await pullShard(deps, item(), later());
    logs.append(ADDRESS, 0, [at(100, group(2)), at(200, group(3)), at(300, group(4))]);
    logs.expire(ADDRESS, 0, 3);
    const positionTime = (await f.logs.checkpoints.get(ref()))?.positionTime ?? 0;
    f.clock.advance(1_000);
    const result = await pullShard(deps, item(), later());
    expect(result).toMatchObject({ outcome: 'caught-up', gaps: 1, logs: 4 });
    const checkpoint = await f.logs.checkpoints.get(ref());
    const gap = {
      ...ADDRESS,
      shardId: 0,
      from: positionTime,
      to: Math.max(positionTime, S0 + 300),
      // Only one commit so far: no rate to estimate from.
      estimatedCount: null,
      recordedAt: iso(f.clock.now()),
    };
    expect(checkpoint?.gaps).toEqual([gap]);
    expect(checkpoint?.cursor).toBe('c4');
    expect(f.appended).toEqual([
      expect.objectContaining({
        action: 'log-integration.gap-recorded',
        outcome: 'failed',
        accountId: A,
        cause: { kind: 'timer', trigger: 'log-worker' },
        target: { type: 'data-source', id: NAME },
        detail: expect.stringContaining(
          `shard 0 of ${ADDRESS.project}/${ADDRESS.logstore}: logs received from ${iso(gap.from * 1000)} to ${iso(gap.to * 1000)} fell out of the Logstore's TTL before they were read (estimated unknown)`,
        ),
      }),
    ]);
    expect(warnings).toEqual([
      expect.objectContaining({ message: 'log gap recorded', dataSource: NAME, from: gap.from }),
    ]);
  });

  it('estimates the lost logs from the rate forwarded over at least a minute', async () => {
    logs.shard(ADDRESS, 0, [at(0, group(60))]);
    await pullShard(deps, item(), later());
    f.clock.advance(60_000);
    logs.append(ADDRESS, 0, [at(60, group(60))]);
    await pullShard(deps, item(), later());
    // 120 logs over 60 s of commits: 2 a second.
    const before = await f.logs.checkpoints.get(ref());
    logs.append(ADDRESS, 0, [at(1000, group(1)), at(1100, group(1))]);
    logs.expire(ADDRESS, 0, 3);
    f.clock.advance(1_000);
    await pullShard(deps, item(), later());
    const gaps = (await f.logs.checkpoints.get(ref()))?.gaps ?? [];
    const from = before?.positionTime ?? 0;
    const to = Math.max(from, S0 + 1100);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ from, to, estimatedCount: Math.round(2 * (to - from)) });
  });
});

describe('running out of time', () => {
  it('stops behind and notes how far behind the shard end it is', async () => {
    const groups = Array.from({ length: 40 }, (_, i) => at(i * 10, group(1)));
    logs.shard(ADDRESS, 0, groups);
    let puts = 0;
    sink.beforePut = () => {
      puts += 1;
      if (puts === 1) f.clock.advance(10_000);
    };
    const end = f.clock.now() + 5_000;
    const result = await pullShard(deps, item(), end);
    expect(result).toMatchObject({ outcome: 'behind', logs: 16, batches: 1 });
    const checkpoint = await f.logs.checkpoints.get(ref());
    // The checkpoint is at group 16 (received at +160 s); the shard ends at +390 s.
    expect(checkpoint).toMatchObject({ cursor: 'c16', lagSeconds: 230, positionTime: S0 + 160 });
  });

  it('a lag it cannot measure leaves the checkpoint as committed', async () => {
    logs.shard(
      ADDRESS,
      0,
      Array.from({ length: 40 }, (_, i) => at(i, group(1))),
    );
    sink.beforePut = () => f.clock.advance(10_000);
    const first = logs.cursor.bind(logs);
    let calls = 0;
    logs.cursor = async (...args) => {
      calls += 1;
      if (calls === 2) throw new CloudApiError(logFailure('GetCursor', 'throttled', 'Throttling'));
      return first(...args);
    };
    const result = await pullShard(deps, item(), f.clock.now() + 5_000);
    expect(result.outcome).toBe('behind');
    const checkpoint = await f.logs.checkpoints.get(ref());
    expect(checkpoint).toMatchObject({ cursor: 'c16', failures: 0 });
    expect(checkpoint).not.toHaveProperty('lagSeconds');
  });
});

describe('a chunk', () => {
  it('reads every shard and sums what they forwarded', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(2, 10))]).shard(ADDRESS, 1, [at(1, group(3, 20))]);
    const outcome = await pullChunk(
      deps,
      { runId: 'r', chunk: 1, chunks: 2, items: [item(), item({ shardId: 1 })] },
      f.clock.now() + 300_000,
    );
    expect(outcome).toMatchObject({ runId: 'r', chunk: 1, logs: 5, bytes: 30 });
    expect(outcome.shards.map((s) => [s.shardId, s.outcome])).toEqual([
      [0, 'caught-up'],
      [1, 'caught-up'],
    ]);
  });
});

describe('a chunk', () => {
  /** 20,000 one-log groups: more than a shard can forward in the time it is given. */
  const backlog = () => Array.from({ length: 20_000 }, (_, i) => at(i, group(1)));

  it('shares the time left among its rounds of shards, so a backlog does not starve the others', async () => {
    logs.shard(ADDRESS, 0, backlog()).shard(ADDRESS, 1, backlog());
    deps.settings = { ...DEFAULT_PULLER_SETTINGS, concurrency: 1, reserveMs: 5_000 };
    sink.beforePut = () => f.clock.advance(10_000);
    const start = f.clock.now();
    // 60 s of budget over two rounds: 30 s each.
    const outcome = await pullChunk(
      deps,
      { runId: 'r', chunk: 0, chunks: 1, items: [item(), item({ shardId: 1 })] },
      start + 65_000,
    );
    expect(outcome.shards.map((s) => [s.shardId, s.outcome, s.batches])).toEqual([
      [0, 'behind', 3],
      [1, 'behind', 3],
    ]);
    expect(f.clock.now()).toBe(start + 60_000);
  });

  it('counts rounds of lanes: three shards in two lanes share the budget in halves', async () => {
    logs.shard(ADDRESS, 0, backlog()).shard(ADDRESS, 1, backlog()).shard(ADDRESS, 2, backlog());
    deps.settings = { ...DEFAULT_PULLER_SETTINGS, concurrency: 2, reserveMs: 5_000 };
    sink.beforePut = () => f.clock.advance(5_000);
    const start = f.clock.now();
    const outcome = await pullChunk(
      deps,
      {
        runId: 'r',
        chunk: 0,
        chunks: 1,
        items: [item(), item({ shardId: 1 }), item({ shardId: 2 })],
      },
      start + 45_000,
    );
    // Two rounds of 20 s: shards 0 and 1 side by side (each put moves the one clock 5 s), then
    // shard 2 alone; nobody is left without time.
    expect(outcome.shards.map((s) => [s.shardId, s.outcome, s.batches])).toEqual([
      [0, 'behind', 2],
      [1, 'behind', 2],
      [2, 'behind', 4],
    ]);
    expect(f.clock.now()).toBe(start + 40_000);
  });

  it('gives each shard at least five seconds, and never past the deadline less the reserve', async () => {
    logs.shard(ADDRESS, 0, backlog()).shard(ADDRESS, 1, backlog());
    deps.settings = { ...DEFAULT_PULLER_SETTINGS, concurrency: 1, reserveMs: 5_000 };
    sink.beforePut = () => f.clock.advance(1_000);
    const start = f.clock.now();
    // 8 s of budget over two rounds would be 4 s each: five seconds go to the first shard, the
    // second gets what is left before the reserve.
    const outcome = await pullChunk(
      deps,
      { runId: 'r', chunk: 0, chunks: 1, items: [item(), item({ shardId: 1 })] },
      start + 13_000,
    );
    expect(outcome.shards.map((s) => [s.shardId, s.batches])).toEqual([
      [0, 5],
      [1, 3],
    ]);
    expect(f.clock.now()).toBe(start + 8_000);
  });
});

describe('edges', () => {
  it('a data source gone is stale work', async () => {
    expect(
      (await pullShard(deps, item({ dataSource: `WAF_${REGION}_2000000000000009` }), later()))
        .outcome,
    ).toBe('stale');
  });

  it('a row a later holder claimed: superseded, and a failure is not recorded over it', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    expect(await f.logs.checkpoints.create(checkpoint0(1n << 60n))).toBe(true);
    expect((await pullShard(deps, item(), later())).outcome).toBe('superseded');
    access = { ok: false, roleArn: 'arn', reason: 'r', code: 'NoPermission' };
    expect((await pullShard(deps, item(), later())).outcome).toBe('failed');
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({ failures: 0, cursor: 'c0' });
    expect(sink.batches).toEqual([]);
  });

  it('a failure found after the lease ran out is not recorded', async () => {
    logs.shard(ADDRESS, 0, [at(1, group(1))]);
    await pullShard(deps, item(), later());
    logs.append(ADDRESS, 0, [at(2, group(1))]);
    sink.beforePut = () => {
      f.clock.advance(DEFAULT_PULLER_SETTINGS.leaseTtlMs);
      throw new CloudApiError(logFailure('PutLogs', 'failed', 'InternalServerError'));
    };
    const result = await pullShard(deps, item(), f.clock.now() + 600_000);
    expect(result.outcome).toBe('failed');
    expect(await f.logs.checkpoints.get(ref())).toMatchObject({ failures: 0, cursor: 'c1' });
  });

  it('stops behind exactly at the end of its slice', async () => {
    logs.shard(
      ADDRESS,
      0,
      Array.from({ length: 40 }, (_, i) => at(i, group(1))),
    );
    const end = f.clock.now() + 10_000;
    sink.beforePut = () => f.clock.advance(10_000);
    expect(await pullShard(deps, item(), end)).toMatchObject({ outcome: 'behind', batches: 1 });
  });

  it('an empty pull moves the position to now', async () => {
    logs.shard(ADDRESS, 0, []);
    await pullShard(deps, item(), later());
    expect((await f.logs.checkpoints.get(ref()))?.positionTime).toBe(
      Math.floor(f.clock.now() / 1000),
    );
  });

  it('lets a programming error in measuring the lag through', async () => {
    logs.shard(
      ADDRESS,
      0,
      Array.from({ length: 40 }, (_, i) => at(i, group(1))),
    );
    sink.beforePut = () => f.clock.advance(10_000);
    const first = logs.cursor.bind(logs);
    let calls = 0;
    logs.cursor = async (...args) => {
      calls += 1;
      if (calls === 2) throw new TypeError('lag bug');
      return first(...args);
    };
    await expect(pullShard(deps, item(), f.clock.now() + 5_000)).rejects.toThrow('lag bug');
  });

  it('keeps the last ten gaps, and estimates none from under a minute of commits', async () => {
    logs.shard(ADDRESS, 0, [at(0, group(10))]);
    await pullShard(deps, item(), later());
    f.clock.advance(30_000);
    logs.append(ADDRESS, 0, [at(1, group(10))]);
    await pullShard(deps, item(), later());
    for (let i = 0; i < 11; i += 1) {
      const stored = await f.logs.checkpoints.get(ref());
      logs.append(ADDRESS, 0, [at(10 + i, group(1)), at(10 + i, group(1))]);
      logs.expire(ADDRESS, 0, Number((stored?.cursor ?? 'c0').slice(1)) + 1);
      f.clock.advance(1_000);
      await pullShard(deps, item(), later());
    }
    const gaps = (await f.logs.checkpoints.get(ref()))?.gaps ?? [];
    expect(gaps).toHaveLength(10);
    expect(gaps[0]?.recordedAt).toBe(iso(T0 + 600_000 + 30_000 + 2_000));
    expect(gaps.every((g) => g.estimatedCount === null)).toBe(true);
  });
});

function checkpoint0(fenceToken: bigint) {
  return {
    ...ref(),
    generation: 1,
    cursor: 'c0',
    pullCount: 16,
    finished: false,
    fenceToken,
    positionTime: S0,
    logsForwarded: 0,
    bytesForwarded: 0,
    window: [],
    failures: 0,
    gaps: [],
  };
}
