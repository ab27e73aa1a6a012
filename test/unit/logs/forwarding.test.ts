// What the puller forwards for one pulled batch: batch ids and central hash keys stable across
// releases (a batch re-pulled after an upgrade must carry the same id), every field of the
// source shard counted apart, and the merge limits at their exact boundaries.

import { describe, expect, it } from 'vitest';
import {
  batchIdFor,
  centralHashKey,
  DEFAULT_MERGE_LIMITS,
  mergeForPut,
  type ShardSource,
} from '../../../shared/logs/forwarding';
import type { EncodedLogGroup } from '../../../shared/logs/model';

const source: ShardSource = {
  dataSource: 'WAF_cn-hangzhou_2000000000000001',
  accountId: '2000000000000001',
  templateId: 'waf',
  region: 'cn-hangzhou',
  project: 'waf-project-2000000000000001-cn-hangzhou',
  logstore: 'waf-logstore',
  shardId: 1,
};

describe('batch ids', () => {
  it('are the same across releases for the same data source, shard and cursor', () => {
    // sha256("<dataSource>\n<project>\n<logstore>\n<shardId>\n<cursor>"), first 32 hex digits.
    expect(batchIdFor(source, 'MTAw')).toBe('d0e946ab020a1807b9d962092dd92f6c');
  });

  it('differ when any part of the shard or the cursor differs, fields kept apart', () => {
    const base = batchIdFor(source, 'MTAw');
    for (const changed of [
      { dataSource: 'WAF_cn-hangzhou_2000000000000002' },
      { project: 'other' },
      { logstore: 'other' },
      { shardId: 2 },
    ]) {
      expect(batchIdFor({ ...source, ...changed }, 'MTAw')).not.toBe(base);
    }
    expect(batchIdFor({ ...source, project: 'ab', logstore: 'c' }, 'x')).not.toBe(
      batchIdFor({ ...source, project: 'a', logstore: 'bc' }, 'x'),
    );
    expect(batchIdFor({ ...source, shardId: 1 }, '2x')).not.toBe(
      batchIdFor({ ...source, shardId: 12 }, 'x'),
    );
  });
});

describe('central hash keys', () => {
  it("are fixed per source shard (member, region, project, Logstore, shard), whatever the data source's name", () => {
    expect(centralHashKey(source)).toBe('19c830fa0a87493cd12937b37a9a3ed2');
    expect(centralHashKey({ ...source, dataSource: 'x', templateId: 'y' })).toBe(
      '19c830fa0a87493cd12937b37a9a3ed2',
    );
    for (const changed of [
      { accountId: '2000000000000002' },
      { region: 'cn-shanghai' },
      { project: 'other' },
      { logstore: 'other' },
      { shardId: 0 },
    ]) {
      expect(centralHashKey({ ...source, ...changed })).not.toBe(centralHashKey(source));
    }
    expect(centralHashKey({ ...source, project: 'ab', logstore: 'c' })).not.toBe(
      centralHashKey({ ...source, project: 'a', logstore: 'bc' }),
    );
  });
});

function group(
  logCount: number,
  bytes: number,
  extra: Partial<EncodedLogGroup> = {},
): EncodedLogGroup {
  return { bytes: Buffer.alloc(bytes), logCount, topic: 't', tags: [], ...extra };
}

describe('merging for PutLogs', () => {
  it("keeps the service's limits: 4,096 logs and 4 MB raw by default", () => {
    expect(DEFAULT_MERGE_LIMITS).toEqual({ maxLogs: 4096, maxBytes: 4 * 1024 * 1024 });
    const a = group(2048, 10);
    const b = group(2048, 10);
    const c = group(1, 10);
    expect(mergeForPut([a, b, c])).toEqual([[a, b], [c]]);
    const big = group(1, 2 * 1024 * 1024);
    const bigger = group(1, 2 * 1024 * 1024 + 1);
    expect(mergeForPut([big, big])).toEqual([[big, big]]);
    expect(mergeForPut([big, bigger])).toEqual([[big], [bigger]]);
  });

  it('merges up to exactly the limits and starts a new request past them', () => {
    const limits = { maxLogs: 10, maxBytes: 100 };
    const g = [group(4, 40), group(6, 60), group(1, 1)];
    expect(mergeForPut(g, limits)).toEqual([[g[0], g[1]], [g[2]]]);
    const h = [group(4, 40), group(7, 10)];
    expect(mergeForPut(h, limits)).toEqual([[h[0]], [h[1]]]);
    const k = [group(1, 50), group(1, 51)];
    expect(mergeForPut(k, limits)).toEqual([[k[0]], [k[1]]]);
    // A single group over the limits goes alone, as it came.
    const huge = group(50, 500);
    expect(mergeForPut([huge, group(1, 1)], limits)).toEqual([[huge], [group(1, 1)]]);
  });

  it('keeps groups of another topic, source or tags apart, and leaves empty groups out', () => {
    const a = group(1, 1);
    const otherSource = group(1, 1, { source: '10.0.0.1' });
    const otherTopic = group(1, 1, { topic: 'u' });
    const noTopic = group(1, 1, { topic: undefined });
    const otherTags = group(1, 1, { tags: [{ key: 'k', value: 'v' }] });
    const empty = group(0, 0);
    const again = group(2, 2);
    expect(mergeForPut([a, otherSource, empty, otherTopic, noTopic, otherTags, again])).toEqual([
      [a, again],
      [otherSource],
      [otherTopic],
      [noTopic],
      [otherTags],
    ]);
    expect(mergeForPut([empty])).toEqual([]);
  });
});
