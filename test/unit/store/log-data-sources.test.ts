// The log integration data sources and the planner's snapshots (shared/store/log-data-sources.ts)
// on the in-memory double: records read back with exactly the fields they hold, refusals name the
// data source, data sources page in name order, and a snapshot is kept only over an older one.

import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCursor } from '../../../shared/domain/cursor';
import {
  DATA_SOURCE_TYPE,
  type DataSource,
  type DataSourceSnapshot,
} from '../../../shared/logs/model';
import type { Store } from '../../../shared/store';
import { type HookedTablestore, throttled } from '../../support/hooked-tablestore';
import type { ManualClock } from '../../support/manual-clock';
import { iso, memoryStore, T0 } from '../../support/memory-store';

let client: HookedTablestore;
let clock: ManualClock;
let store: Store;

beforeEach(async () => {
  ({ client, clock, store } = await memoryStore());
});

function source(
  name: string,
  extra: Partial<DataSource> = {},
): Omit<DataSource, 'version' | 'createdAt' | 'updatedAt'> {
  return {
    name,
    type: DATA_SOURCE_TYPE,
    templateId: 'WAF',
    accountId: '1111111111111111',
    region: 'cn-hangzhou',
    enabled: true,
    autoAddNewLogstores: false,
    generation: 2,
    consumeFrom: iso(T0 - 86_400_000),
    logstores: [{ project: 'p1', logstore: 'waf-log' }],
    ...extra,
  };
}

describe('data sources', () => {
  it('a bare data source reads back with exactly its fields', async () => {
    const created = await store.logDataSources.create(source('WAF_cn-hangzhou_1'));
    expect(created).toStrictEqual({
      ...source('WAF_cn-hangzhou_1'),
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    const read = await store.logDataSources.get('WAF_cn-hangzhou_1');
    expect(read).toStrictEqual(created);
    expect(read).not.toHaveProperty('accountName');
    expect(read).not.toHaveProperty('discoveredAt');
  });

  it('every optional field and flag reads back as written', async () => {
    const full = source('SLB_cn-beijing_2', {
      accountName: 'member two',
      enabled: false,
      autoAddNewLogstores: true,
      generation: 9,
      templateId: 'SLB',
      accountId: '2222222222222222',
      region: 'cn-beijing',
      logstores: [
        { project: 'p1', logstore: 'a' },
        { project: 'p2', logstore: 'b' },
      ],
      discoveredAt: iso(T0 - 1_000),
    });
    const created = await store.logDataSources.create(full);
    expect(await store.logDataSources.get('SLB_cn-beijing_2')).toStrictEqual(created);
    expect(created).toMatchObject({ accountName: 'member two', discoveredAt: iso(T0 - 1_000) });

    clock.advance(5_000);
    const { accountName: _dropped, ...withoutName } = created;
    const updated = await store.logDataSources.update(withoutName);
    expect(updated).toMatchObject({ version: 2, updatedAt: iso(T0 + 5_000) });
    const reread = await store.logDataSources.get('SLB_cn-beijing_2');
    expect(reread).toStrictEqual(updated);
    expect(reread).not.toHaveProperty('accountName');
  });

  it('refusals name the data source, and times must be ISO 8601', async () => {
    const created = await store.logDataSources.create(source('A'));
    await expect(store.logDataSources.create(source('A'))).rejects.toMatchObject({
      message: 'data source A already exists',
    });
    await store.logDataSources.update(created);
    await expect(store.logDataSources.update(created)).rejects.toMatchObject({
      details: { record: 'data source A', expectedVersion: 1 },
    });
    await expect(store.logDataSources.delete('A', 1)).rejects.toMatchObject({
      details: { record: 'data source A' },
    });
    await expect(
      store.logDataSources.create(source('B', { discoveredAt: 'later' })),
    ).rejects.toThrow('discoveredAt: "later" is not an ISO 8601 time');
    await expect(store.logDataSources.create(source('B', { consumeFrom: 'now' }))).rejects.toThrow(
      'consumeFrom: "now" is not an ISO 8601 time',
    );
    await expect(
      store.logDataSources.update({ ...created, version: 2, createdAt: 'x' }),
    ).rejects.toThrow('createdAt: "x" is not an ISO 8601 time');
  });

  it('pages in name order, following the cursor to the end', async () => {
    for (const name of ['C', 'A', 'D', 'B', 'E']) await store.logDataSources.create(source(name));
    const first = await store.logDataSources.page({ limit: 2 });
    expect(first.items.map((d) => d.name)).toEqual(['A', 'B']);
    expect(first.items[0]).toStrictEqual(await store.logDataSources.get('A'));
    const second = await store.logDataSources.page({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((d) => d.name)).toEqual(['C', 'D']);
    const last = await store.logDataSources.page({ limit: 2, cursor: second.nextCursor });
    expect(last).toStrictEqual({ items: [expect.objectContaining({ name: 'E' })] });
    // A cursor of another listing is refused.
    const policies = store.logPolicies;
    for (const account of ['1', '2']) {
      await policies.create({
        templateId: 'WAF',
        accountId: account,
        enabled: true,
        autoAddNewLogstores: false,
        consumeFrom: iso(T0),
        generation: 1,
        changedBy: 'a',
      });
    }
    const foreign = await policies.pageForTemplate('WAF', { limit: 1 });
    await expect(
      store.logDataSources.page({ limit: 2, cursor: foreign.nextCursor }),
    ).rejects.toThrow(/issued for another query/);
    await expect(store.logDataSources.page({ limit: 2, cursor: 'nope' })).rejects.toBeInstanceOf(
      InvalidCursor,
    );
  });
});

function snapshot(at: number, extra: Partial<DataSourceSnapshot> = {}): DataSourceSnapshot {
  return {
    name: 'WAF_cn-hangzhou_1',
    at: iso(at),
    generation: 2,
    shards: 4,
    shardsFinished: 1,
    logsPerMinute: 12.5,
    bytesPerMinute: 2048.25,
    logsForwarded: 1000,
    gapCount: 0,
    ...extra,
  };
}

describe('snapshots', () => {
  it('a bare snapshot and a full one read back with exactly their fields', async () => {
    await store.logSnapshots.put(snapshot(T0));
    const bare = await store.logSnapshots.get('WAF_cn-hangzhou_1');
    expect(bare).toStrictEqual(snapshot(T0));
    const full = snapshot(T0, {
      name: 'SLB_cn-beijing_2',
      lastPullAt: iso(T0 - 2_000),
      lastDataAt: iso(T0 - 3_000),
      lagSeconds: 42,
      gapCount: 2,
      error: { code: 'Unauthorized', message: 'denied', at: iso(T0 - 1_000) },
      planningError: { code: 'ProjectNotExist', message: 'gone', at: iso(T0 - 500) },
    });
    await store.logSnapshots.put(full);
    expect(await store.logSnapshots.get('SLB_cn-beijing_2')).toStrictEqual(full);
    expect(await store.logSnapshots.get('none')).toBeUndefined();
  });

  it('lag is kept in whole seconds', async () => {
    await store.logSnapshots.put(snapshot(T0, { lagSeconds: 41.6 }));
    expect(await store.logSnapshots.get('WAF_cn-hangzhou_1')).toMatchObject({ lagSeconds: 42 });
  });

  it('is kept only over an older snapshot', async () => {
    await store.logSnapshots.put(snapshot(T0 + 2_000, { logsForwarded: 2 }));
    await store.logSnapshots.put(snapshot(T0 + 1_000, { logsForwarded: 1 }));
    await store.logSnapshots.put(snapshot(T0 + 2_000, { logsForwarded: 3 }));
    expect(await store.logSnapshots.get('WAF_cn-hangzhou_1')).toMatchObject({
      logsForwarded: 2,
    });
    await store.logSnapshots.put(snapshot(T0 + 3_000, { logsForwarded: 4 }));
    expect(await store.logSnapshots.get('WAF_cn-hangzhou_1')).toMatchObject({
      logsForwarded: 4,
      at: iso(T0 + 3_000),
    });
  });

  it('a failure other than a newer snapshot is thrown', async () => {
    client.before = (op) => {
      if (op === 'PutRow') throw throttled('PutRow', 't_log_snapshots');
    };
    await expect(store.logSnapshots.put(snapshot(T0))).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
  });

  it('times that are not ISO 8601 are refused naming the field', async () => {
    await expect(store.logSnapshots.put(snapshot(T0, { lastPullAt: 'a' }))).rejects.toThrow(
      'lastPullAt: "a" is not an ISO 8601 time',
    );
    await expect(store.logSnapshots.put(snapshot(T0, { lastDataAt: 'b' }))).rejects.toThrow(
      'lastDataAt: "b" is not an ISO 8601 time',
    );
    await expect(store.logSnapshots.put({ ...snapshot(T0), at: 'c' })).rejects.toThrow(
      'at: "c" is not an ISO 8601 time',
    );
  });

  it('lists every snapshot in name order and deletes one', async () => {
    await store.logSnapshots.put(snapshot(T0, { name: 'B' }));
    await store.logSnapshots.put(snapshot(T0, { name: 'A' }));
    await store.logSnapshots.put(snapshot(T0, { name: 'C' }));
    expect(await store.logSnapshots.list()).toStrictEqual([
      snapshot(T0, { name: 'A' }),
      snapshot(T0, { name: 'B' }),
      snapshot(T0, { name: 'C' }),
    ]);
    await store.logSnapshots.delete('B');
    expect((await store.logSnapshots.list()).map((s) => s.name)).toEqual(['A', 'C']);
    expect(await store.logSnapshots.get('B')).toBeUndefined();
    await store.logSnapshots.delete('missing');
    expect(await store.logSnapshots.list()).toHaveLength(2);
  });
});
