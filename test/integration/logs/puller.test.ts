// The planner and the worker against localcloud's SLS and STS through the production adapters:
// real-time consumption from the moment of integration (or a start time), provenance tags,
// parents read to their end before their children across a split and a merge, a TTL gap recorded
// and never silent, throttling backing off per shard, a member that cannot be reached failing
// alone, leases skipping held shards, and a holder that lost its lease unable to commit.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import { LeaseLost } from '../../../shared/domain/lease';
import { BATCH_ID_TAG } from '../../../shared/logs/model';
import { shardLeaseName } from '../../../shared/logs/planner';
import { LogIntegrationQueries } from '../../../shared/logs/queries';
import { type LogHarness, REGION, startLogHarness } from '../../support/log-harness';

const caller: Caller = { cause: { kind: 'user', identity: 'alice' } };
const LOW = '00000000000000000000000000000000';
const HIGH = 'ffffffffffffffffffffffffffffff00';

let h: LogHarness;

beforeAll(async () => {
  h = await startLogHarness({
    members: 7,
    extraMembers: [{ name: 'no-role', id: '3000000000009999', withoutAccessRole: true }],
    retry: { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} },
    puller: { leaseTtlMs: 2_000 },
  });
});
afterAll(async () => {
  await h?.stop();
});

function queries() {
  return new LogIntegrationQueries({
    store: h.logs,
    settings: { functionsAccountId: h.managementId, noDataAfterMs: 3_600_000 },
    clock: h.clock,
  });
}

const uidsOf = (logs: Array<{ uid: string }>) => logs.map((l) => l.uid);

describe('reading members’ shards into the central Logstore', () => {
  it('starts at the shard’s end when integrated, and forwards what comes after with its provenance', async () => {
    const [member = ''] = h.memberIds;
    const waf = h.wafOf(member);
    const before = h.write(waf, 5, { hashKey: LOW });
    h.cloud.clock.advance(2);
    await h.integration.addAccounts('waf', { accountIds: [member], enabled: true }, caller);
    h.cloud.clock.advance(2);
    const after = [...h.write(waf, 7, { hashKey: LOW }), ...h.write(waf, 3, { hashKey: HIGH })];
    await h.drain();
    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(central).sort()).toEqual([...after].sort());
    expect(central.some((l) => before.includes(l.uid))).toBe(false);
    const first = central[0];
    expect(first?.tags).toMatchObject({
      __product__: 'waf',
      rdgov_owner_account: member,
      rdgov_template: 'waf',
      rdgov_region: REGION,
      rdgov_source_project: waf.project,
      rdgov_source_logstore: waf.logstore,
    });
    expect(first?.tags.rdgov_source_shard).toMatch(/^[01]$/);
    expect(first?.tags[BATCH_ID_TAG]).toMatch(/^[0-9a-f]{32}$/);
    const detail = await queries().dataSource(`WAF_${REGION}_${member}`);
    expect(detail.dataSource).toMatchObject({
      status: 'normal',
      shards: 2,
      logsForwarded: 10,
      logstores: [waf],
    });
    expect(detail.shards.map((s) => s.logsForwarded).sort()).toEqual([3, 7]);
  });

  it('reads from the start time the caller asked for, logs before the integration included', async () => {
    const member = h.memberIds[1] ?? '';
    const waf = h.wafOf(member);
    h.write(waf, 4, { hashKey: LOW });
    h.cloud.clock.advance(120);
    const start = new Date(h.clock.now()).toISOString();
    h.cloud.clock.advance(1);
    const since = h.write(waf, 6, { hashKey: HIGH });
    h.cloud.clock.advance(60);
    await h.integration.addAccounts(
      'waf',
      { accountIds: [member], enabled: true, startTime: start },
      caller,
    );
    await h.drain();
    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(central).sort()).toEqual([...since].sort());
  });

  it('reads a parent to its end before its children, across a split and then a merge', async () => {
    const member = h.memberIds[2] ?? '';
    const waf = h.wafOf(member);
    await h.integration.addAccounts('waf', { accountIds: [member], enabled: true }, caller);
    await h.drain();
    const parentLogs = h.write(waf, 8, { hashKey: LOW });
    // Shard 0 splits before its last logs were read: its children take the next writes.
    const { model } = h.cloud.sls;
    const project = model.project(REGION, waf.project);
    const logstore = model.logstore(project, waf.logstore);
    const [, left, right] = model.splitShard(project, logstore, 0, 1n << 125n);
    const childLogs = [...h.write(waf, 5, { hashKey: LOW }), ...h.write(waf, 4, { hashKey: '30' })];
    expect(left?.id).toBe(2);
    expect(right?.id).toBe(3);

    const first = await h.plan();
    expect(first.summary.waitingForParents).toBeGreaterThanOrEqual(2);
    const mine = (chunks: typeof first.chunks) =>
      chunks
        .flatMap((c) => c.items)
        .filter((i) => i.accountId === member)
        .map((i) => i.shardId)
        .sort();
    const planned = mine(first.chunks);
    expect(planned).toEqual([0, 1]);
    for (const chunk of first.chunks) await h.pull(chunk);
    const afterParent = h
      .read(h.central.address)
      .filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(afterParent).sort()).toEqual([...parentLogs].sort());
    const parent = (await h.logs.checkpoints.listForDataSource(`WAF_${REGION}_${member}`)).find(
      (c) => c.shardId === 0,
    );
    expect(parent?.finished).toBe(true);

    await h.drain();
    // Children 2 and 3 merge into 4, which waits for both.
    const mergedBefore = h.write(waf, 3, { hashKey: '10' });
    model.mergeShards(project, logstore, 2);
    const mergedLogs = h.write(waf, 6, { hashKey: LOW });
    const next = await h.plan();
    expect(mine(next.chunks)).toEqual([1, 2, 3]);
    await h.drain();
    const all = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(all).sort()).toEqual(
      [...parentLogs, ...childLogs, ...mergedBefore, ...mergedLogs].sort(),
    );
    expect(new Set(all.map((l) => l.tags.rdgov_source_shard))).toEqual(
      new Set(['0', '2', '3', '4']),
    );
  });

  it('records a gap when the checkpoint fell out of the TTL, and goes on from the oldest retained log', async () => {
    const member = h.memberIds[3] ?? '';
    const waf = h.wafOf(member);
    await h.integration.addAccounts('waf', { accountIds: [member], enabled: true }, caller);
    await h.drain();
    const { model } = h.cloud.sls;
    const project = model.project(REGION, waf.project);
    const logstore = model.logstore(project, waf.logstore);
    model.setTtl(project, logstore, 1);
    const lost = h.write(waf, 9, { hashKey: LOW });
    h.cloud.clock.advance(2 * 86_400);
    const kept = h.write(waf, 4, { hashKey: LOW });
    await h.drain();
    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(central).sort()).toEqual([...kept].sort());
    expect(central.some((l) => lost.includes(l.uid))).toBe(false);
    const detail = await queries().dataSource(`WAF_${REGION}_${member}`);
    expect(detail.gaps).toHaveLength(1);
    expect(detail.gaps[0]).toMatchObject({
      project: waf.project,
      logstore: waf.logstore,
      shardId: 0,
    });
    expect((detail.gaps[0]?.to ?? 0) - (detail.gaps[0]?.from ?? 0)).toBeGreaterThanOrEqual(86_400);
    const activity = await h.store.activity.list({ accountId: member, limit: 20 });
    const gap = activity.items.find((e) => e.action === 'log-integration.gap-recorded');
    expect(gap).toMatchObject({
      outcome: 'failed',
      target: { type: 'data-source', id: `WAF_${REGION}_${member}` },
    });
    expect(gap?.detail).toMatch(/fell out of the Logstore's TTL/);
  });

  it('backs a throttled shard off, fails a member it cannot reach alone, and goes on with the rest', async () => {
    const member = h.memberIds[4] ?? '';
    const waf = h.wafOf(member);
    await h.integration.addAccounts(
      'waf',
      { accountIds: [member, '3000000000009999'], enabled: true },
      caller,
    );
    await h.drain().catch(() => undefined);
    const logs = h.write(waf, 5, { hashKey: LOW });
    h.cloud.control.addFault({ service: 'sls', action: 'PullLogs', kind: 'throttle', rate: 1 });
    const { chunks } = await h.plan();
    const outcomes = [];
    for (const chunk of chunks) outcomes.push(...(await h.pull(chunk)).shards);
    h.cloud.control.clearFaults();
    expect(outcomes.filter((o) => o.outcome === 'failed').length).toBeGreaterThan(0);
    const throttled = await h.logs.checkpoints.listForDataSource(`WAF_${REGION}_${member}`);
    expect(throttled.every((c) => c.failures === 1 && c.backoffUntil !== undefined)).toBe(true);
    // One throttle is not yet a failing data source.
    expect(throttled.every((c) => c.lastError === undefined)).toBe(true);
    const backingOff = await h.plan();
    expect(backingOff.summary.backingOff).toBeGreaterThanOrEqual(2);
    expect(backingOff.chunks.flatMap((c) => c.items).some((i) => i.accountId === member)).toBe(
      false,
    );
    // The member without its access role: failed with the role and STS's refusal.
    const noRole = backingOff.summary.failures.find((f) =>
      f.dataSource.endsWith('3000000000009999'),
    );
    expect(noRole?.reason).toMatch(
      /AssumeRole into acs:ram::3000000000009999:role\/ResourceDirectoryAccountAccessRole failed/,
    );
    const view = (await queries().dataSources({ limit: 100, accountId: '3000000000009999' }))
      .items[0];
    expect(view?.status).toBe('failed');
    h.cloud.clock.advance(10);
    await h.drain();
    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(uidsOf(central).sort()).toEqual([...logs].sort());
  });

  it('skips a shard another worker holds, and a holder that lost its lease commits nothing', async () => {
    const member = h.memberIds[5] ?? '';
    const waf = h.wafOf(member);
    await h.integration.addAccounts('waf', { accountIds: [member], enabled: true }, caller);
    await h.drain();
    const logs = h.write(waf, 6, { hashKey: LOW });
    const { chunks } = await h.plan();
    const item = chunks
      .flatMap((c) => c.items)
      .find((i) => i.accountId === member && i.shardId === 0);
    if (!item) throw new Error('shard 0 planned');
    const single = { runId: 'r', chunk: 0, chunks: 1, items: [item] };

    // Held by someone else: not planned, and a worker given it anyway leaves it alone.
    const other = await h.logs.leases.acquire(shardLeaseName(item), 'other/1', { ttlMs: 60_000 });
    if (!other.acquired) throw new Error('acquired');
    const whileHeld = await h.plan();
    expect(whileHeld.summary.held).toBeGreaterThanOrEqual(1);
    expect(
      whileHeld.chunks
        .flatMap((c) => c.items)
        .some((i) => i.accountId === member && i.shardId === 0),
    ).toBe(false);
    expect((await h.pull(single)).shards[0]?.outcome).toBe('busy');
    await h.logs.leases.release(other.lease);

    // Worker A forwards a batch, then stalls (renewals included, as a paused process) before it
    // commits; its lease runs out and worker B takes the shard over.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let forwarded!: () => void;
    const hasForwarded = new Promise<void>((resolve) => {
      forwarded = resolve;
    });
    const leases = h.logs.leases;
    const workerA = h.pull(single, {
      store: {
        ...h.logs,
        leases: {
          acquire: (name, owner, options) => leases.acquire(name, owner, options),
          renew: (lease, options) => gate.then(() => leases.renew(lease, options)),
          release: (lease) => leases.release(lease),
          heldNames: (prefix) => leases.heldNames(prefix),
          current: (name) => leases.current(name),
        },
      },
      central: {
        address: h.central.address,
        sink: {
          async put(address, batch) {
            const outcome = await h.central.service.put(address, batch);
            forwarded();
            await gate;
            return outcome;
          },
        },
      },
    });
    await hasForwarded;
    h.cloud.clock.advance(3);
    const workerB = await h.pull(single);
    expect(workerB.shards[0]).toMatchObject({ outcome: 'caught-up', logs: 6 });
    open();
    expect((await workerA).shards[0]?.outcome).toBe('superseded');

    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(new Set(uidsOf(central))).toEqual(new Set(logs));
    // The one batch A forwarded is there twice, both copies under the same batch id.
    const copies = new Map<string, Set<string>>();
    for (const log of central)
      copies.set(log.uid, (copies.get(log.uid) ?? new Set()).add(log.batchId));
    expect(central).toHaveLength(12);
    expect([...copies.values()].every((ids) => ids.size === 1)).toBe(true);
    const checkpoint = (await h.logs.checkpoints.listForDataSource(`WAF_${REGION}_${member}`)).find(
      (c) => c.shardId === 0,
    );
    expect(checkpoint?.logsForwarded).toBe(6);
  });

  it('a holder whose renewal finds its lease lost stops that shard alone, and the others go on', async () => {
    const member = h.memberIds[6] ?? '';
    const waf = h.wafOf(member);
    await h.integration.addAccounts('waf', { accountIds: [member], enabled: true }, caller);
    await h.drain();
    const written = [...h.write(waf, 4, { hashKey: LOW }), ...h.write(waf, 5, { hashKey: HIGH })];
    const { chunks } = await h.plan();
    const items = chunks.flatMap((c) => c.items).filter((i) => i.accountId === member);
    expect(items.map((i) => i.shardId).sort()).toEqual([0, 1]);
    const first = items.find((i) => i.shardId === 0);
    if (!first) throw new Error('shard 0 planned');
    const lostName = shardLeaseName(first);

    let renewed!: () => void;
    const renewalRefused = new Promise<void>((resolve) => {
      renewed = resolve;
    });
    const leases = h.logs.leases;
    const outcome = await h.pull(
      { runId: 'r', chunk: 0, chunks: 1, items },
      {
        settings: { ...h.pullerDeps().settings, leaseTtlMs: 300 },
        store: {
          ...h.logs,
          leases: {
            acquire: (name, owner, options) => leases.acquire(name, owner, options),
            renew: (lease, options) => {
              if (lease.name !== lostName) return leases.renew(lease, options);
              renewed();
              return Promise.reject(new LeaseLost(lease, 'renew'));
            },
            release: (lease) => leases.release(lease),
            heldNames: (prefix) => leases.heldNames(prefix),
            current: (name) => leases.current(name),
          },
        },
        central: {
          address: h.central.address,
          sink: {
            async put(address, batch) {
              const result = await h.central.service.put(address, batch);
              // Shard 0's batch is forwarded, then its renewal (every 100 ms) says the lease is lost.
              if (batch.tags?.some((t) => t.key === 'rdgov_source_shard' && t.value === '0')) {
                await renewalRefused;
                await new Promise((resolve) => setImmediate(resolve));
              }
              return result;
            },
          },
        },
      },
    );
    const byShard = new Map(outcome.shards.map((s) => [s.shardId, s]));
    expect(byShard.get(0)).toMatchObject({ outcome: 'superseded', logs: 0 });
    expect(byShard.get(1)).toMatchObject({ outcome: 'caught-up', logs: 5 });
    // Shard 0's checkpoint did not move: once its lease runs out, the next run forwards its batch
    // again, under its id.
    h.cloud.clock.advance(1);
    await h.drain();
    const central = h.read(h.central.address).filter((l) => l.tags.rdgov_owner_account === member);
    expect(new Set(uidsOf(central))).toEqual(new Set(written));
    expect(central).toHaveLength(13);
    const ids = new Map<string, Set<string>>();
    for (const log of central) ids.set(log.uid, (ids.get(log.uid) ?? new Set()).add(log.batchId));
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
  });
});
