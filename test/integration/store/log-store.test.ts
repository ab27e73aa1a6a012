// Log integration's repositories through the official SDK against localcloud's Tablestore:
// policies (versioned, paged per template), data sources, snapshots (newer kept), checkpoints
// fenced by lease tokens (a superseded holder can neither claim nor commit), and the held shard
// leases the planner skips.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUnderLease } from '../../../shared/domain/lease';
import { ConcurrentModification } from '../../../shared/domain/records';
import type { DataSourceSnapshot, ShardCheckpoint } from '../../../shared/logs/model';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
import { type StoreFixture, storeFixture } from '../../support/store-scenarios';

let local: LocalTablestore;
let fixture: StoreFixture;

beforeAll(async () => {
  local = await startLocalTablestore();
  fixture = await storeFixture({ client: await local.freshInstance(), prefix: local.prefix });
});
afterAll(async () => {
  await local?.stop();
});

const shard = {
  dataSource: 'WAF_cn-hangzhou_1000000000000001',
  project: 'p',
  logstore: 'l',
  shardId: 3,
};

function checkpoint(fenceToken: bigint, overrides: Partial<ShardCheckpoint> = {}): ShardCheckpoint {
  return {
    ...shard,
    generation: 1,
    cursor: 'MTU=',
    pullCount: 16,
    finished: false,
    fenceToken,
    positionTime: 1_700_000_000,
    logsForwarded: 0,
    bytesForwarded: 0,
    window: [],
    failures: 0,
    gaps: [],
    ...overrides,
  };
}

describe('log integration store', () => {
  it('keeps policies versioned and pages them per template in account order', async () => {
    const { logPolicies } = fixture.store;
    for (const accountId of ['1000000000000003', '1000000000000001', '1000000000000002']) {
      await logPolicies.create({
        templateId: 'waf',
        accountId,
        enabled: true,
        autoAddNewLogstores: true,
        consumeFrom: '2025-01-01T00:00:00.000Z',
        generation: 1,
        changedBy: 'user:alice',
      });
    }
    await logPolicies.create({
      templateId: 'bastionhost',
      accountId: '1000000000000001',
      enabled: false,
      autoAddNewLogstores: false,
      consumeFrom: '2025-01-01T00:00:00.000Z',
      generation: 1,
      changedBy: 'user:alice',
    });
    const first = await logPolicies.pageForTemplate('waf', { limit: 2 });
    expect(first.items.map((p) => p.accountId)).toEqual(['1000000000000001', '1000000000000002']);
    const second = await logPolicies.pageForTemplate('waf', { limit: 2, cursor: first.nextCursor });
    expect(second.items.map((p) => p.accountId)).toEqual(['1000000000000003']);
    expect(second.nextCursor).toBeUndefined();
    // A cursor of one template's listing is refused for another's.
    await expect(
      logPolicies.pageForTemplate('bastionhost', { limit: 2, cursor: first.nextCursor }),
    ).rejects.toMatchObject({ code: 'InvalidCursor' });

    const policy = await logPolicies.get('waf/1000000000000002');
    if (!policy) throw new Error('stored');
    const updated = await logPolicies.update({ ...policy, enabled: false });
    expect(updated.version).toBe(2);
    await expect(logPolicies.update({ ...policy, enabled: true })).rejects.toBeInstanceOf(
      ConcurrentModification,
    );
    expect((await logPolicies.get('waf/1000000000000002'))?.enabled).toBe(false);
  });

  it('keeps data sources with their Logstores, and the newer of two snapshots', async () => {
    const { logDataSources, logSnapshots } = fixture.store;
    const created = await logDataSources.create({
      name: shard.dataSource,
      type: 'custom-log-service',
      templateId: 'waf',
      accountId: '1000000000000001',
      accountName: 'Payments',
      region: 'cn-hangzhou',
      enabled: true,
      autoAddNewLogstores: true,
      generation: 2,
      consumeFrom: '2025-01-01T00:00:00.000Z',
      logstores: [
        { project: 'waf-project-1000000000000001-cn-hangzhou', logstore: 'waf-logstore' },
      ],
      discoveredAt: '2025-01-01T00:01:00.000Z',
    });
    expect(await logDataSources.get(shard.dataSource)).toEqual(created);
    const snapshot: DataSourceSnapshot = {
      name: shard.dataSource,
      at: '2025-01-01T00:05:00.000Z',
      generation: 2,
      shards: 2,
      shardsFinished: 0,
      lastPullAt: '2025-01-01T00:04:59.000Z',
      logsPerMinute: 12.5,
      bytesPerMinute: 4000,
      logsForwarded: 70,
      gapCount: 1,
      error: { code: 'ShardReadQuotaExceed', message: 'throttled', at: '2025-01-01T00:04:00.000Z' },
    };
    await logSnapshots.put(snapshot);
    await logSnapshots.put({ ...snapshot, at: '2025-01-01T00:04:00.000Z', logsForwarded: 1 });
    expect(await logSnapshots.get(shard.dataSource)).toEqual(snapshot);
    expect(await logSnapshots.list()).toEqual([snapshot]);
    await logSnapshots.delete(shard.dataSource);
    expect(await logSnapshots.get(shard.dataSource)).toBeUndefined();
  });

  it('fences checkpoints by lease token: claimed by the newest holder, committed only by it', async () => {
    const { logCheckpoints } = fixture.store;
    expect(await logCheckpoints.claim(shard, 5n)).toBe('absent');
    expect(await logCheckpoints.create(checkpoint(5n))).toBe(true);
    expect(await logCheckpoints.create(checkpoint(6n))).toBe(false);
    // Holder 5 commits; holder 7 claims; holder 5's next commit and a claim by 6 are refused.
    expect(await logCheckpoints.commit(checkpoint(5n, { cursor: 'MjA=', logsForwarded: 3 }))).toBe(
      true,
    );
    expect(await logCheckpoints.claim(shard, 7n)).toBe('claimed');
    expect(await logCheckpoints.commit(checkpoint(5n, { cursor: 'MzA=' }))).toBe(false);
    expect(await logCheckpoints.claim(shard, 6n)).toBe('superseded');
    expect(await logCheckpoints.claim(shard, 7n)).toBe('superseded');
    const seen = await logCheckpoints.get(shard);
    expect(seen).toMatchObject({ cursor: 'MjA=', fenceToken: 7n, logsForwarded: 3 });
    expect(
      await logCheckpoints.commit(
        checkpoint(7n, {
          cursor: 'NDA=',
          finished: true,
          lastPullAt: '2025-01-01T00:00:01.000Z',
          window: [{ minute: 29_000_000, logs: 4, bytes: 400 }],
          gaps: [
            {
              project: 'p',
              logstore: 'l',
              shardId: 3,
              from: 1,
              to: 2,
              estimatedCount: null,
              recordedAt: '2025-01-01T00:00:01.000Z',
            },
          ],
        }),
      ),
    ).toBe(true);
    const [listed] = await logCheckpoints.listForDataSource(shard.dataSource);
    expect(listed).toMatchObject({ cursor: 'NDA=', finished: true, gaps: [{ from: 1, to: 2 }] });
    expect(await logCheckpoints.deleteForDataSource(shard.dataSource)).toBe(1);
    expect(await logCheckpoints.listForDataSource(shard.dataSource)).toEqual([]);
  });

  it('lists the shard leases held now, and not expired or released ones', async () => {
    const { leases } = fixture.store;
    const held = await leases.acquire('log-shard:A/p/l/1', 'w/1', { ttlMs: 60_000 });
    await leases.acquire('log-shard:A/p/l/2', 'w/2', { ttlMs: 1_000 });
    await leases.acquire('log-planner', 'p/1', { ttlMs: 60_000 });
    await runUnderLease(
      leases,
      'log-shard:A/p/l/3',
      { ownerPrefix: 'w', what: 'test', ttlMs: 60_000, waitMs: 0, clock: fixture.clock },
      async () => undefined,
    );
    fixture.clock.advance(2_000);
    expect(held.acquired).toBe(true);
    expect(await leases.heldNames('log-shard:')).toEqual(['log-shard:A/p/l/1']);
  });
});
