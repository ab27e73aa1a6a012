// TablestoreIdempotencyStore on the in-memory double: the record each step writes, the answers
// acquire gives for each state of an existing record, takeovers conditional on the token read,
// contention that outlasts the acquire's rounds, and failures that are not a lost condition
// (throttling) reaching the caller as they are.

import { beforeEach, describe, expect, it } from 'vitest';
import {
  IdempotencyInProgress,
  IdempotencyLockLost,
  IdempotencyPayloadMismatch,
} from '../../../shared/domain/idempotency';
import { storeTables, TablestoreIdempotencyStore } from '../../../shared/store';
import { ensureStoreTables } from '../../../shared/store/tables';
import { type HookedOperation, HookedTablestore, throttled } from '../../support/hooked-tablestore';
import { ManualClock } from '../../support/manual-clock';

const tables = storeTables('t_');
const T0 = 1_000_000;
let client: HookedTablestore;
let clock: ManualClock;
let records: TablestoreIdempotencyStore;
const opts = { lockMs: 10_000, ttlMs: 60_000 };

beforeEach(async () => {
  client = new HookedTablestore();
  await ensureStoreTables(client, { prefix: 't_' });
  clock = new ManualClock(T0);
  records = new TablestoreIdempotencyStore(client, tables, clock);
});

async function acquired(key = 'k', hash = 'h', now?: number) {
  const outcome = await records.acquire(key, hash, {
    ...opts,
    ...(now === undefined ? {} : { now }),
  });
  if (outcome.kind !== 'acquired') throw new Error(`expected to acquire ${key}`);
  return outcome;
}

describe('acquire', () => {
  it('creates an in-progress record holding a fresh lock token', async () => {
    const a = await acquired('k', 'h');
    expect(a.tookOver).toBe(false);
    expect(a.lock).toEqual({
      recordKey: 'k',
      token: expect.stringMatching(/^[0-9a-f-]{36}$/),
      lockExpiresAt: T0 + 10_000,
    });
    expect(await records.get('k')).toEqual({
      recordKey: 'k',
      status: 'in_progress',
      lockToken: a.lock.token,
      lockExpiresAt: T0 + 10_000,
      expiresAt: T0 + 60_000,
      payloadHash: 'h',
      startedAt: T0,
    });
    const b = await acquired('k2');
    expect(b.lock.token).not.toBe(a.lock.token);
  });

  it('takes `now` from the caller when given', async () => {
    const a = await acquired('k', 'h', 5_000);
    expect(a.lock.lockExpiresAt).toBe(15_000);
    expect(await records.get('k')).toMatchObject({ startedAt: 5_000, expiresAt: 65_000 });
  });

  it('answers a live run with in-progress and the time its lock has left', async () => {
    await acquired('k', 'h');
    clock.advance(4_000);
    const error = await records.acquire('k', 'h', opts).catch((e) => e);
    expect(error).toBeInstanceOf(IdempotencyInProgress);
    expect(error).toMatchObject({ recordKey: 'k', retryAfterMs: 6_000 });
  });

  it('answers a completed record with its result, with or without one', async () => {
    const a = await acquired('k', 'h');
    await records.complete(a.lock, '{"n":1}', { ttlMs: 60_000 });
    expect(await records.acquire('k', 'h', opts)).toEqual({
      kind: 'completed',
      resultJson: '{"n":1}',
    });
    const b = await acquired('k2', 'h');
    await records.complete(b.lock, undefined, { ttlMs: 60_000 });
    expect(await records.acquire('k2', 'h', opts)).toEqual({
      kind: 'completed',
      resultJson: undefined,
    });
  });

  it('refuses another payload under a live key, completed or in progress', async () => {
    const a = await acquired('k', 'h');
    await expect(records.acquire('k', 'other', opts)).rejects.toBeInstanceOf(
      IdempotencyPayloadMismatch,
    );
    await records.complete(a.lock, '1', { ttlMs: 60_000 });
    await expect(records.acquire('k', 'other', opts)).rejects.toBeInstanceOf(
      IdempotencyPayloadMismatch,
    );
  });

  it('takes over a record whose lock ran out (at its exact ms), for any payload, with a new token', async () => {
    const a = await acquired('k', 'h');
    clock.advance(10_000);
    const b = await records.acquire('k', 'other', opts);
    expect(b).toMatchObject({
      kind: 'acquired',
      tookOver: true,
      lock: { lockExpiresAt: T0 + 20_000 },
    });
    if (b.kind !== 'acquired') throw new Error('unreachable');
    expect(b.lock.token).not.toBe(a.lock.token);
    expect(await records.get('k')).toMatchObject({
      lockToken: b.lock.token,
      payloadHash: 'other',
      startedAt: T0 + 10_000,
    });
  });

  it('takes over a completed record once it expired', async () => {
    const a = await acquired('k', 'h');
    await records.complete(a.lock, '"old"', { ttlMs: 60_000 });
    clock.advance(60_000);
    expect(await records.acquire('k', 'h', opts)).toMatchObject({
      kind: 'acquired',
      tookOver: true,
    });
    expect((await records.get('k'))?.resultJson).toBeUndefined();
  });

  it('a takeover loses to a contender that took the record over first, and then sees its run', async () => {
    await acquired('k', 'h');
    clock.advance(10_000);
    let contended = false;
    client.before = async (op) => {
      if (op === 'PutRow' && !contended) {
        // Our first put (expect-not-exist) fails anyway; take the record over before the second.
        contended = true;
        client.before = undefined;
        await records.acquire('k', 'h', opts);
      }
    };
    const error = await records.acquire('k', 'h', opts).catch((e) => e);
    expect(error).toBeInstanceOf(IdempotencyInProgress);
  });

  it('a record released between its put and its read is created on the next round', async () => {
    const a = await acquired('k', 'h');
    let released = false;
    client.before = async (op) => {
      if (op === 'GetRow' && !released) {
        released = true;
        client.before = undefined;
        await records.release(a.lock);
      }
    };
    expect(await records.acquire('k', 'h', opts)).toMatchObject({
      kind: 'acquired',
      tookOver: false,
    });
  });

  it('gives up after five rounds of contention with in-progress, retry after the lock last seen', async () => {
    await acquired('k', 'h');
    clock.advance(20_000);
    let puts = 0;
    // Before each takeover, a contender takes the record over with a lock that ran out already.
    const contend = async (op: HookedOperation) => {
      if (op !== 'PutRow') return;
      puts++;
      if (puts % 2 === 1) return; // the expect-not-exist put of each round
      client.before = undefined;
      await records.acquire('k', 'h', { ...opts, lockMs: 0, now: T0 + 15_000 });
      client.before = contend;
    };
    client.before = contend;
    const error = await records.acquire('k', 'h', opts).catch((e) => e);
    expect(puts).toBe(10);
    expect(error).toBeInstanceOf(IdempotencyInProgress);
    // The lock last seen ran out 5 s ago: retry at once, not after a negative time.
    expect((error as IdempotencyInProgress).retryAfterMs).toBe(0);
  });

  it('gives up after five rounds of a record that vanishes each time, retry after a second', async () => {
    await acquired('k', 'h');
    let reads = 0;
    const vanish = async (op: HookedOperation, table: string) => {
      if (op !== 'GetRow') return;
      reads++;
      client.before = undefined;
      // Released before each read, and re-created before the next put.
      await client.deleteRow(table, tables.idempotency.key({ recordKey: 'k' }));
      client.before = recreate;
    };
    const recreate = async (op: HookedOperation) => {
      if (op !== 'PutRow') return;
      client.before = undefined;
      await records.acquire('k', 'h', opts);
      client.before = vanish;
    };
    client.before = vanish;
    const error = await records.acquire('k', 'h', opts).catch((e) => e);
    expect(reads).toBe(5);
    expect(error).toBeInstanceOf(IdempotencyInProgress);
    expect((error as IdempotencyInProgress).retryAfterMs).toBe(1_000);
  });

  it('a throttled write fails the acquire; it is not read as contention', async () => {
    client.before = (op, table) => {
      if (op === 'PutRow') throw throttled(op, table);
    };
    await expect(records.acquire('k', 'h', opts)).rejects.toMatchObject({ code: 'OTSServerBusy' });
  });
});

describe('complete and release', () => {
  it('complete stores the result, ends the lock now and keeps the record ttl from now', async () => {
    const a = await acquired('k', 'h');
    clock.advance(3_000);
    await records.complete(a.lock, '"r"', { ttlMs: 120_000 });
    expect(await records.get('k')).toEqual({
      recordKey: 'k',
      status: 'completed',
      lockToken: a.lock.token,
      lockExpiresAt: T0 + 3_000,
      expiresAt: T0 + 123_000,
      payloadHash: 'h',
      startedAt: T0,
      resultJson: '"r"',
    });
    await records.complete(a.lock, undefined, { ttlMs: 120_000, now: T0 + 5_000 });
    const again = await records.get('k');
    expect(again).toMatchObject({ lockExpiresAt: T0 + 5_000, expiresAt: T0 + 125_000 });
    expect(again).not.toHaveProperty('resultJson');
  });

  it('complete and release are refused to a run whose record another run took over', async () => {
    const a = await acquired('k', 'h');
    clock.advance(10_000);
    const b = await acquired('k', 'h');
    const completion = await records.complete(a.lock, '"stale"', { ttlMs: 60_000 }).catch((e) => e);
    expect(completion).toBeInstanceOf(IdempotencyLockLost);
    expect(completion).toMatchObject({ recordKey: 'k', step: 'complete' });
    const release = await records.release(a.lock).catch((e) => e);
    expect(release).toBeInstanceOf(IdempotencyLockLost);
    expect(release).toMatchObject({ recordKey: 'k', step: 'release' });
    expect(await records.get('k')).toMatchObject({
      status: 'in_progress',
      lockToken: b.lock.token,
    });
  });

  it('complete and release of a record that is gone are refused', async () => {
    const a = await acquired('k', 'h');
    await records.release(a.lock);
    expect(await records.get('k')).toBeUndefined();
    await expect(records.complete(a.lock, '1', { ttlMs: 1 })).rejects.toBeInstanceOf(
      IdempotencyLockLost,
    );
    await expect(records.release(a.lock)).rejects.toBeInstanceOf(IdempotencyLockLost);
  });

  it('a throttled complete or release reaches the caller as throttling, not as a lost lock', async () => {
    const a = await acquired('k', 'h');
    client.before = (op, table) => {
      if (op === 'UpdateRow' || op === 'DeleteRow') throw throttled(op, table);
    };
    const completion = await records.complete(a.lock, '1', { ttlMs: 1 }).catch((e) => e);
    expect(completion).not.toBeInstanceOf(IdempotencyLockLost);
    expect(completion).toMatchObject({ code: 'OTSServerBusy' });
    const release = await records.release(a.lock).catch((e) => e);
    expect(release).not.toBeInstanceOf(IdempotencyLockLost);
    expect(release).toMatchObject({ code: 'OTSServerBusy' });
    client.before = undefined;
    expect(await records.get('k')).toMatchObject({ status: 'in_progress' });
  });
});
