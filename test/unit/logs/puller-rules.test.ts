// The puller's pure rules: parents before children across splits and merges, how a pulled batch
// becomes PutLogs requests (merged by topic, source and tags within the service's limits), batch
// ids that repeat with the batch, provenance tags by their fixed names, worker chunks that keep a
// member's shards together, and a data source's status from its snapshot.

import { describe, expect, it } from 'vitest';
import {
  batchIdFor,
  centralHashKey,
  mergeForPut,
  provenanceTags,
  type ShardSource,
} from '../../../shared/logs/forwarding';
import type { DataSourceSnapshot, EncodedLogGroup, Shard } from '../../../shared/logs/model';
import { packChunks, type WorkItem } from '../../../shared/logs/planner';
import { deadlineFor } from '../../../shared/logs/puller';
import { shardReadiness } from '../../../shared/logs/shards';
import { countMinute, dataSourceStatus, ratePerMinute } from '../../../shared/logs/status';

const HEX = (n: bigint) => n.toString(16).padStart(32, '0');
const TOP = 1n << 128n;

function shard(shardId: number, begin: bigint, end: bigint, status: Shard['status']): Shard {
  return {
    shardId,
    status,
    inclusiveBeginKey: HEX(begin),
    // As the service prints it: the last shard ends at the largest key.
    exclusiveEndKey: HEX(end === TOP ? TOP - 1n : end),
    createTime: 0,
  };
}

describe('parents before children', () => {
  const half = TOP / 2n;
  const quarter = TOP / 4n;
  // 0 was split into 1 and 2; 1 and 2 were merged into 3; 4 is an unrelated second shard range.
  const shards = [
    shard(0, 0n, half, 'readonly'),
    shard(1, 0n, quarter, 'readonly'),
    shard(2, quarter, half, 'readonly'),
    shard(3, 0n, half, 'readwrite'),
    shard(4, half, TOP, 'readwrite'),
  ];

  it('reads the oldest ancestors first and a child only once every overlapping parent is finished', () => {
    let readiness = shardReadiness(shards, new Set());
    expect(readiness.ready.map((s) => s.shardId)).toEqual([0, 4]);
    expect(readiness.waiting.map((w) => [w.shard.shardId, w.parents])).toEqual([
      [1, [0]],
      [2, [0]],
      [3, [0, 1, 2]],
    ]);
    readiness = shardReadiness(shards, new Set([0]));
    expect(readiness.ready.map((s) => s.shardId)).toEqual([1, 2, 4]);
    readiness = shardReadiness(shards, new Set([0, 1]));
    expect(readiness.waiting.map((w) => [w.shard.shardId, w.parents])).toEqual([[3, [2]]]);
    readiness = shardReadiness(shards, new Set([0, 1, 2]));
    expect(readiness.ready.map((s) => s.shardId)).toEqual([3, 4]);
    expect(readiness.finished.map((s) => s.shardId)).toEqual([0, 1, 2]);
  });

  it('treats a parent gone from the Logstore as nothing to wait for', () => {
    const readiness = shardReadiness(shards.slice(1), new Set());
    expect(readiness.ready.map((s) => s.shardId)).toEqual([1, 2, 4]);
  });
});

function group(
  logCount: number,
  bytes: number,
  tags: Array<[string, string]>,
  topic = 't',
): EncodedLogGroup {
  return {
    bytes: Buffer.alloc(bytes),
    logCount,
    topic,
    tags: tags.map(([key, value]) => ({ key, value })),
  };
}

describe('forwarding a batch', () => {
  const source: ShardSource = {
    dataSource: 'WAF_cn-hangzhou_2000000000000001',
    accountId: '2000000000000001',
    templateId: 'waf',
    region: 'cn-hangzhou',
    project: 'waf-project-2000000000000001-cn-hangzhou',
    logstore: 'waf-logstore',
    shardId: 1,
  };

  it('merges groups sharing topic, source and tags, in order, within 4,096 logs and the byte limit', () => {
    const a = group(1000, 100, [['__product__', 'waf']]);
    const b = group(1000, 100, [['__product__', 'waf']]);
    const c = group(10, 100, [['__product__', 'other']]);
    const d = group(3000, 100, [['__product__', 'waf']]);
    const e = group(0, 10, [['__product__', 'waf']]);
    const f = group(5, 900, [['__product__', 'waf']], 'u');
    const merged = mergeForPut([a, b, c, d, e, f], { maxLogs: 4096, maxBytes: 1000 });
    expect(merged).toEqual([[a, b], [d], [c], [f]]);
    // Every log is in exactly one request.
    const logs = merged.flat().reduce((sum, g) => sum + g.logCount, 0);
    expect(logs).toBe(1000 + 1000 + 10 + 3000 + 5);
  });

  it('names a batch by data source, shard and cursor: a repeat carries the same id', () => {
    expect(batchIdFor(source, 'MTAw')).toBe(batchIdFor({ ...source }, 'MTAw'));
    expect(batchIdFor(source, 'MTAw')).toMatch(/^[0-9a-f]{32}$/);
    expect(batchIdFor(source, 'MTAx')).not.toBe(batchIdFor(source, 'MTAw'));
    expect(batchIdFor({ ...source, shardId: 2 }, 'MTAw')).not.toBe(batchIdFor(source, 'MTAw'));
    expect(centralHashKey(source)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('tags every group with its provenance, by the names session-audit indexing reads', () => {
    expect(Object.fromEntries(provenanceTags(source).map((t) => [t.key, t.value]))).toEqual({
      rdgov_owner_account: '2000000000000001',
      rdgov_template: 'waf',
      rdgov_region: 'cn-hangzhou',
      rdgov_source_project: 'waf-project-2000000000000001-cn-hangzhou',
      rdgov_source_logstore: 'waf-logstore',
      rdgov_source_shard: '1',
    });
  });
});

describe('planning and time', () => {
  const item = (accountId: string, shardId: number): WorkItem => ({
    dataSource: `WAF_cn-hangzhou_${accountId}`,
    templateId: 'waf',
    accountId,
    region: 'cn-hangzhou',
    project: 'p',
    logstore: 'l',
    shardId,
    readonly: false,
    generation: 1,
    consumeFrom: '2025-01-01T00:00:00.000Z',
  });

  it("packs work into chunks of at most the size, a member's shards together where they fit", () => {
    const items = [
      ...[0, 1, 2].map((s) => item('2000000000000002', s)),
      ...[0, 1].map((s) => item('2000000000000001', s)),
      ...[0, 1, 2, 3, 4, 5].map((s) => item('2000000000000003', s)),
    ];
    const chunks = packChunks(items, 4).map((c) =>
      c.map((i) => `${i.accountId.slice(-1)}:${i.shardId}`),
    );
    expect(chunks).toEqual([
      ['1:0', '1:1'],
      ['2:0', '2:1', '2:2'],
      ['3:0', '3:1', '3:2', '3:3'],
      ['3:4', '3:5'],
    ]);
  });

  it('keeps a tenth of the timeout, at least 10 s, for the last commits', () => {
    expect(deadlineFor(0, 300)).toBe(270_000);
    expect(deadlineFor(0, 60)).toBe(50_000);
    expect(deadlineFor(1_000, undefined)).toBe(271_000);
  });
});

describe('status', () => {
  const now = Date.UTC(2025, 0, 1, 12);
  const source = {
    enabled: true,
    generation: 2,
    consumeFrom: new Date(now - 7_200_000).toISOString(),
  };
  const snapshot = (extra: Partial<DataSourceSnapshot>): DataSourceSnapshot => ({
    name: 'n',
    at: new Date(now).toISOString(),
    generation: 2,
    shards: 2,
    shardsFinished: 0,
    logsPerMinute: 0,
    bytesPerMinute: 0,
    logsForwarded: 0,
    gapCount: 0,
    ...extra,
  });
  const ok = { ok: true } as const;
  const hour = 3_600_000;

  it('is disabled, failed, initializing, no-data or normal, in that order of precedence', () => {
    const recent = new Date(now - 60_000).toISOString();
    expect(dataSourceStatus({ ...source, enabled: false }, undefined, ok, now, hour).status).toBe(
      'disabled',
    );
    expect(
      dataSourceStatus(
        source,
        snapshot({ lastPullAt: recent }),
        { ok: false, reason: 'gone' },
        now,
        hour,
      ),
    ).toMatchObject({ status: 'failed', error: { code: 'NotIntegrable', message: 'gone' } });
    expect(dataSourceStatus(source, undefined, ok, now, hour).status).toBe('initializing');
    expect(
      dataSourceStatus(source, snapshot({ generation: 1, lastPullAt: recent }), ok, now, hour)
        .status,
    ).toBe('initializing');
    const error = { code: 'ProjectNotExist', message: 'no project', at: recent };
    expect(dataSourceStatus(source, snapshot({ error }), ok, now, hour)).toEqual({
      status: 'failed',
      error,
    });
    expect(dataSourceStatus(source, snapshot({ lastPullAt: recent }), ok, now, hour).status).toBe(
      'no-data',
    );
    expect(
      dataSourceStatus(source, snapshot({ lastPullAt: recent, lastDataAt: recent }), ok, now, hour)
        .status,
    ).toBe('normal');
  });

  it('counts logs and bytes per minute over the last five minutes', () => {
    let window = countMinute([], now - 6 * 60_000, 600, 6000);
    window = countMinute(window, now - 60_000, 100, 1000);
    window = countMinute(window, now - 59_000, 50, 500);
    window = countMinute(window, now, 350, 3500);
    expect(window.map((m) => m.logs)).toEqual([150, 350]);
    expect(ratePerMinute([window], now)).toEqual({ logs: 100, bytes: 1000 });
  });
});
