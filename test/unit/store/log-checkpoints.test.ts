// Shard checkpoints fenced by lease tokens (shared/store/log-checkpoints.ts) on the in-memory
// double: a claim stamps a larger token only, a commit writes only while the row carries the
// committing holder's token, a checkpoint reads back with exactly its fields, and a data
// source's checkpoints are listed and deleted together (and only they).

import { beforeEach, describe, expect, it } from 'vitest';
import type { ShardCheckpoint } from '../../../shared/logs/model';
import type { ShardRef } from '../../../shared/logs/ports';
import { type Store, shardKey } from '../../../shared/store';
import { type HookedTablestore, throttled } from '../../support/hooked-tablestore';
import { freshCheckpoint } from '../../support/log-store';
import { iso, memoryStore, T0 } from '../../support/memory-store';

let client: HookedTablestore;
let store: Store;

beforeEach(async () => {
  ({ client, store } = await memoryStore());
});

const shard = (shardId: number, dataSource = 'WAF_cn-hangzhou_1'): ShardRef => ({
  dataSource,
  project: 'proj',
  logstore: 'waf',
  shardId,
});

const checkpoint = (ref: ShardRef, extra: Partial<ShardCheckpoint> = {}): ShardCheckpoint =>
  freshCheckpoint(ref, { positionTime: 1_767_225_600, ...extra });

describe('shard keys', () => {
  it('are project/logstore/shard id in six digits, so shards list in id order', () => {
    expect(shardKey({ project: 'p', logstore: 'l', shardId: 7 })).toBe('p/l/000007');
    expect(shardKey({ project: 'p', logstore: 'l', shardId: 1234567 })).toBe('p/l/1234567');
  });
});

describe('checkpoints', () => {
  it('a bare checkpoint and a full one read back with exactly their fields', async () => {
    const bare = checkpoint(shard(0));
    expect(await store.logCheckpoints.create(bare)).toBe(true);
    const read = await store.logCheckpoints.get(shard(0));
    expect(read).toStrictEqual(bare);

    const full = checkpoint(shard(1), {
      generation: 3,
      cursor: 'MTY5OTk5',
      pullCount: 250,
      finished: true,
      fenceToken: 9_007_199_254_740_993n,
      positionTime: 1_767_225_700,
      logsForwarded: 1234,
      bytesForwarded: 567_890,
      firstCommitAt: iso(T0 - 5_000),
      committedAt: iso(T0 - 4_000),
      lastPullAt: iso(T0 - 3_000),
      lastDataAt: iso(T0 - 2_000),
      lagSeconds: 17,
      window: [{ minute: 29_453_760, logs: 10, bytes: 2_000 }],
      lastError: { code: 'ShardNotExist', message: 'gone', at: iso(T0 - 1_000) },
      failures: 2,
      backoffUntil: iso(T0 + 60_000),
      gaps: [
        {
          project: 'proj',
          logstore: 'waf',
          shardId: 1,
          from: 1_767_000_000,
          to: 1_767_000_600,
          estimatedCount: null,
          recordedAt: iso(T0 - 500),
        },
      ],
    });
    expect(await store.logCheckpoints.create(full)).toBe(true);
    expect(await store.logCheckpoints.get(shard(1))).toStrictEqual(full);
    expect(await store.logCheckpoints.get(shard(2))).toBeUndefined();
  });

  it('lag is kept in whole seconds, and times must be ISO 8601', async () => {
    await store.logCheckpoints.create(checkpoint(shard(0), { lagSeconds: 2.5 }));
    expect(await store.logCheckpoints.get(shard(0))).toMatchObject({ lagSeconds: 3 });
    for (const field of [
      'firstCommitAt',
      'committedAt',
      'lastPullAt',
      'lastDataAt',
      'backoffUntil',
    ] as const) {
      await expect(
        store.logCheckpoints.create(checkpoint(shard(5), { [field]: 'soon' })),
      ).rejects.toThrow(`${field}: "soon" is not an ISO 8601 time`);
    }
  });

  it('a first row is created once', async () => {
    expect(await store.logCheckpoints.create(checkpoint(shard(0), { pullCount: 1 }))).toBe(true);
    expect(await store.logCheckpoints.create(checkpoint(shard(0), { pullCount: 2 }))).toBe(false);
    expect(await store.logCheckpoints.get(shard(0))).toMatchObject({ pullCount: 1 });
  });

  it('a claim stamps only a larger token, and tells absent from superseded', async () => {
    expect(await store.logCheckpoints.claim(shard(0), 5n)).toBe('absent');
    expect(await store.logCheckpoints.get(shard(0))).toBeUndefined();
    await store.logCheckpoints.create(checkpoint(shard(0), { fenceToken: 5n, pullCount: 7 }));
    expect(await store.logCheckpoints.claim(shard(0), 5n)).toBe('superseded');
    expect(await store.logCheckpoints.claim(shard(0), 4n)).toBe('superseded');
    expect(await store.logCheckpoints.claim(shard(0), 6n)).toBe('claimed');
    // Only the token moved.
    expect(await store.logCheckpoints.get(shard(0))).toStrictEqual(
      checkpoint(shard(0), { fenceToken: 6n, pullCount: 7 }),
    );
  });

  it("a commit writes only while the row carries the holder's token", async () => {
    await store.logCheckpoints.create(checkpoint(shard(0), { fenceToken: 1n }));
    expect(await store.logCheckpoints.commit(checkpoint(shard(1), { fenceToken: 1n }))).toBe(false);
    expect(await store.logCheckpoints.get(shard(1))).toBeUndefined();
    expect(await store.logCheckpoints.claim(shard(0), 2n)).toBe('claimed');
    // The holder of token 1 lost the shard: its commit is refused.
    expect(
      await store.logCheckpoints.commit(checkpoint(shard(0), { fenceToken: 1n, pullCount: 11 })),
    ).toBe(false);
    expect(
      await store.logCheckpoints.commit(
        checkpoint(shard(0), { fenceToken: 2n, pullCount: 22, cursor: 'c2' }),
      ),
    ).toBe(true);
    expect(await store.logCheckpoints.get(shard(0))).toStrictEqual(
      checkpoint(shard(0), { fenceToken: 2n, pullCount: 22, cursor: 'c2' }),
    );
  });

  it('a failure other than a condition is thrown, not taken for an answer', async () => {
    await store.logCheckpoints.create(checkpoint(shard(0)));
    client.before = (op) => {
      if (op !== 'GetRow') throw throttled(op, 't_log_checkpoints');
    };
    await expect(store.logCheckpoints.claim(shard(0), 9n)).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
    await expect(store.logCheckpoints.commit(checkpoint(shard(0)))).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
    await expect(store.logCheckpoints.create(checkpoint(shard(1)))).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
  });

  it("lists and deletes one data source's checkpoints in shard order, no other's", async () => {
    for (const id of [10, 2, 1]) await store.logCheckpoints.create(checkpoint(shard(id)));
    await store.logCheckpoints.create(checkpoint(shard(3, 'OTHER')));
    await store.logCheckpoints.create(checkpoint(shard(4, 'WAF_cn-hangzhou_10')));
    expect(
      (await store.logCheckpoints.listForDataSource('WAF_cn-hangzhou_1')).map((c) => c.shardId),
    ).toEqual([1, 2, 10]);
    expect(await store.logCheckpoints.listForDataSource('WAF_cn-hangzhou_1')).toContainEqual(
      checkpoint(shard(2)),
    );
    expect(await store.logCheckpoints.deleteForDataSource('WAF_cn-hangzhou_1')).toBe(3);
    expect(await store.logCheckpoints.listForDataSource('WAF_cn-hangzhou_1')).toEqual([]);
    expect(await store.logCheckpoints.listForDataSource('OTHER')).toEqual([
      checkpoint(shard(3, 'OTHER')),
    ]);
    expect(await store.logCheckpoints.get(shard(4, 'WAF_cn-hangzhou_10'))).toBeDefined();
    const batches = client.calls.get('BatchWriteRow');
    expect(await store.logCheckpoints.deleteForDataSource('WAF_cn-hangzhou_1')).toBe(0);
    expect(client.calls.get('BatchWriteRow')).toBe(batches);
  });

  it('a delete batch with a failed row throws', async () => {
    await store.logCheckpoints.create(checkpoint(shard(1)));
    await store.logCheckpoints.create(checkpoint(shard(2)));
    client.failRow = (write) =>
      write.primaryKey[1]?.[1] === shardKey(shard(2))
        ? throttled('BatchWriteRow', write.table)
        : undefined;
    await expect(store.logCheckpoints.deleteForDataSource('WAF_cn-hangzhou_1')).rejects.toThrow();
  });
});
