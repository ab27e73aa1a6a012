// TablestoreLeaseStore on the in-memory double: tokens, expiry at its exact bound, renewals that
// extend from now, releases that keep the token, contention that outlasts the acquire's rounds,
// and failures that are not a lost condition (throttling) reaching the caller as they are.

import { beforeEach, describe, expect, it } from 'vitest';
import { LeaseLost } from '../../../shared/domain/lease';
import { storeTables, TablestoreLeaseStore } from '../../../shared/store';
import { ensureStoreTables } from '../../../shared/store/tables';
import { type HookedOperation, HookedTablestore, throttled } from '../../support/hooked-tablestore';
import { ManualClock } from '../../support/manual-clock';

const tables = storeTables('t_');
let client: HookedTablestore;
let clock: ManualClock;
let leases: TablestoreLeaseStore;

beforeEach(async () => {
  client = new HookedTablestore();
  await ensureStoreTables(client, { prefix: 't_' });
  clock = new ManualClock(1_000_000);
  leases = new TablestoreLeaseStore(client, tables, clock);
});

async function storedRow(name: string) {
  const row = await client.getRow(tables.leases.name, tables.leases.key({ leaseName: name }));
  return row && tables.leases.decode(row);
}

describe('acquire', () => {
  it('creates a free lease at token 1, expiring ttl from now, and records when', async () => {
    expect(await leases.acquire('job', 'a', { ttlMs: 5_000 })).toEqual({
      acquired: true,
      lease: { name: 'job', owner: 'a', token: 1n, expiresAt: 1_005_000 },
    });
    expect(await storedRow('job')).toEqual({
      leaseName: 'job',
      owner: 'a',
      token: 1n,
      expiresAt: 1_005_000n,
      acquiredAt: 1_000_000n,
    });
  });

  it('refuses a live lease, naming its holder, expiry and token, until the very ms it expires', async () => {
    await leases.acquire('job', 'a', { ttlMs: 5_000 });
    clock.advance(4_999);
    expect(await leases.acquire('job', 'b', { ttlMs: 5_000 })).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: 1_005_000,
      token: 1n,
    });
    clock.advance(1);
    expect(await leases.acquire('job', 'b', { ttlMs: 7_000 })).toEqual({
      acquired: true,
      lease: { name: 'job', owner: 'b', token: 2n, expiresAt: 1_012_000 },
    });
    expect(await storedRow('job')).toMatchObject({ owner: 'b', token: 2n, acquiredAt: 1_005_000n });
  });

  it('refuses a live lease to its own owner too', async () => {
    await leases.acquire('job', 'a', { ttlMs: 5_000 });
    expect(await leases.acquire('job', 'a', { ttlMs: 5_000 })).toMatchObject({ acquired: false });
  });

  it('requires an owner id', async () => {
    await expect(leases.acquire('job', '', { ttlMs: 5_000 })).rejects.toThrow(
      'lease job: an owner id is required',
    );
  });

  it('a renewal landing between the read and the takeover makes the takeover lose', async () => {
    const first = await leases.acquire('job', 'a', { ttlMs: 1_000 });
    if (!first.acquired) throw new Error('fixture');
    clock.advance(2_000);
    let renewed = false;
    client.before = async (op) => {
      if (op === 'PutRow' && !renewed) {
        renewed = true;
        await leases.renew(first.lease, { ttlMs: 10_000 });
      }
    };
    // The renewal is seen on the next round: the lease is live again, held by a.
    expect(await leases.acquire('job', 'b', { ttlMs: 1_000 })).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: 1_012_000,
      token: 1n,
    });
  });

  it('gives up after five rounds of losing to contenders, answering with the last holder seen', async () => {
    await leases.acquire('job', 'a', { ttlMs: 1_000 });
    clock.advance(5_000);
    let round = 0;
    let reads = 0;
    const contend = async (op: HookedOperation, table: string) => {
      if (table !== tables.leases.name) return;
      if (op === 'GetRow') reads++;
      if (op !== 'PutRow') return;
      // Each time, another contender takes the expired lease over and lets it lapse at once.
      round++;
      client.before = undefined;
      const row = await storedRow('job');
      if (!row) throw new Error('fixture');
      const { primaryKey, columns } = tables.leases.encode({
        ...row,
        owner: `c${round}`,
        token: row.token + 1n,
        expiresAt: 1_000n + BigInt(round),
      });
      await client.putRow(tables.leases.name, primaryKey, columns);
      client.before = contend;
    };
    client.before = contend;
    expect(await leases.acquire('job', 'b', { ttlMs: 1_000 })).toEqual({
      acquired: false,
      holder: 'c4',
      expiresAt: 1_004,
      token: 5n,
    });
    expect(round).toBe(5);
    expect(reads).toBe(5);
  });

  it('answers "held by nobody known" when the lease vanished after every round it lost', async () => {
    // A contender creates the row just before each of our writes and it is gone before each read.
    client.before = async (op, table) => {
      if (table !== tables.leases.name) return;
      const hook = client.before;
      client.before = undefined;
      const key = tables.leases.key({ leaseName: 'job' });
      if (op === 'PutRow') {
        const { primaryKey, columns } = tables.leases.encode({
          leaseName: 'job',
          owner: 'ghost',
          token: 1n,
          expiresAt: 0n,
          acquiredAt: 0n,
        });
        await client.putRow(table, primaryKey, columns);
      } else if (op === 'GetRow' && (await client.getRow(table, key))) {
        await client.deleteRow(table, key);
      }
      client.before = hook;
    };
    expect(await leases.acquire('job', 'b', { ttlMs: 1_000 })).toEqual({
      acquired: false,
      holder: '',
      expiresAt: 0,
      token: 0n,
    });
  });

  it('a throttled read or write fails the acquire; it is not read as contention', async () => {
    client.before = (op, table) => {
      if (op === 'PutRow') throw throttled(op, table);
    };
    await expect(leases.acquire('job', 'a', { ttlMs: 1_000 })).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
    client.before = (op, table) => {
      if (op === 'GetRow') throw throttled(op, table);
    };
    await expect(leases.acquire('job', 'a', { ttlMs: 1_000 })).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
    client.before = undefined;
    expect(await storedRow('job')).toBeUndefined();
  });
});

describe('renew and release', () => {
  it('renew extends the lease to now + ttl, forwards or backwards, and keeps token and owner', async () => {
    const got = await leases.acquire('job', 'a', { ttlMs: 60_000 });
    if (!got.acquired) throw new Error('fixture');
    clock.advance(10_000);
    const renewed = await leases.renew(got.lease, { ttlMs: 5_000 });
    expect(renewed).toEqual({ name: 'job', owner: 'a', token: 1n, expiresAt: 1_015_000 });
    expect(await leases.current('job')).toEqual(renewed);
    expect((await storedRow('job'))?.acquiredAt).toBe(1_000_000n);
  });

  it('a holder whose lease ran out may renew it while nobody took it over', async () => {
    const got = await leases.acquire('job', 'a', { ttlMs: 1_000 });
    if (!got.acquired) throw new Error('fixture');
    clock.advance(3_000);
    expect(await leases.renew(got.lease, { ttlMs: 1_000 })).toMatchObject({ expiresAt: 1_004_000 });
  });

  it('renew and release are refused once another owner or token holds the row', async () => {
    const got = await leases.acquire('job', 'a', { ttlMs: 1_000 });
    if (!got.acquired) throw new Error('fixture');
    const sameTokenOtherOwner = { ...got.lease, owner: 'b' };
    const error = await leases.renew(sameTokenOtherOwner, { ttlMs: 1_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(LeaseLost);
    expect((error as LeaseLost).message).toMatch(/^Cannot renew lease job: b no longer holds it/);
    const otherToken = { ...got.lease, token: 2n };
    await expect(leases.renew(otherToken, { ttlMs: 1_000 })).rejects.toBeInstanceOf(LeaseLost);
    const released = await leases.release(otherToken).catch((e) => e);
    expect(released).toBeInstanceOf(LeaseLost);
    expect((released as LeaseLost).message).toMatch(/^Cannot release lease job/);
    await expect(leases.release(sameTokenOtherOwner)).rejects.toBeInstanceOf(LeaseLost);
    // Nothing moved.
    expect(await leases.current('job')).toEqual(got.lease);
  });

  it('renew and release of a lease never acquired are refused', async () => {
    const ghost = { name: 'ghost', owner: 'a', token: 1n, expiresAt: 0 };
    await expect(leases.renew(ghost, { ttlMs: 1_000 })).rejects.toBeInstanceOf(LeaseLost);
    await expect(leases.release(ghost)).rejects.toBeInstanceOf(LeaseLost);
    expect(await leases.current('ghost')).toBeUndefined();
  });

  it('release ends the lease now and keeps its token: the next holder gets the next token at once', async () => {
    const got = await leases.acquire('job', 'a', { ttlMs: 60_000 });
    if (!got.acquired) throw new Error('fixture');
    clock.advance(1_000);
    await leases.release(got.lease);
    expect(await leases.current('job')).toEqual({ ...got.lease, expiresAt: 1_001_000 });
    expect(await leases.acquire('job', 'b', { ttlMs: 1_000 })).toMatchObject({
      acquired: true,
      lease: { token: 2n },
    });
  });

  it('a throttled renew or release reaches the caller as throttling, not as a lost lease', async () => {
    const got = await leases.acquire('job', 'a', { ttlMs: 60_000 });
    if (!got.acquired) throw new Error('fixture');
    client.before = (op, table) => {
      if (op === 'UpdateRow') throw throttled(op, table);
    };
    const renew = await leases.renew(got.lease, { ttlMs: 1_000 }).catch((e) => e);
    expect(renew).not.toBeInstanceOf(LeaseLost);
    expect(renew).toMatchObject({ code: 'OTSServerBusy' });
    const release = await leases.release(got.lease).catch((e) => e);
    expect(release).not.toBeInstanceOf(LeaseLost);
    expect(release).toMatchObject({ code: 'OTSServerBusy' });
  });
});

describe('heldNames', () => {
  it('lists the unexpired leases whose names start with the prefix, in name order', async () => {
    // '/' + 1 is '0': the range ends just before `shard0`; `shard.` sorts before the prefix.
    for (const name of ['shard/b', 'shard/a', 'shard/', 'shard0', 'shard.', 'other/a']) {
      await leases.acquire(name, 'o', { ttlMs: 5_000 });
    }
    expect(await leases.heldNames('shard/')).toEqual(['shard/', 'shard/a', 'shard/b']);
    expect(await leases.heldNames('other/')).toEqual(['other/a']);
    expect(await leases.heldNames('none/')).toEqual([]);
  });

  it('leaves out a lease that expires now, was released, or is not a lease row', async () => {
    const a = await leases.acquire('shard/a', 'o', { ttlMs: 5_000 });
    await leases.acquire('shard/b', 'o', { ttlMs: 10_000 });
    const c = await leases.acquire('shard/c', 'o', { ttlMs: 20_000 });
    if (!c.acquired || !a.acquired) throw new Error('not acquired');
    await leases.release(c.lease);
    clock.advance(4_999);
    expect(await leases.heldNames('shard/')).toEqual(['shard/a', 'shard/b']);
    clock.advance(1);
    expect(await leases.heldNames('shard/')).toEqual(['shard/b']);
    // A row whose expiry is no int64 is held by nobody, even one that reads as a later time.
    await client.putRow(tables.leases.name, tables.leases.key({ leaseName: 'shard/x' }), {
      expiresAt: '99999999999999',
    });
    expect(await leases.heldNames('shard/')).toEqual(['shard/b']);
  });

  it('needs a prefix', async () => {
    await expect(leases.heldNames('')).rejects.toThrow(new TypeError('heldNames needs a prefix'));
  });
});
