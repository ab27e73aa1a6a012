// runUnderLease: one runner at a time, a bounded wait for a held lease, the lease released after
// the work (also when it throws), and a run that lost its lease told so before it writes.

import { describe, expect, it } from 'vitest';
import { LeaseBusy, LeaseLost, runUnderLease } from '../../../shared/domain/lease';
import { createStore, ensureStoreTables } from '../../../shared/store';
import { MemoryTablestore } from '../../support/memory-tablestore';

async function leases() {
  const client = new MemoryTablestore();
  await ensureStoreTables(client);
  return createStore({ client }).leases;
}

const options = { ownerPrefix: 'test', what: 'A test run', ttlMs: 60_000, waitMs: 0 };

describe('runUnderLease', () => {
  it('runs the work holding the lease and releases it after, even when the work throws', async () => {
    const store = await leases();
    const result = await runUnderLease(store, 'job', options, async (guard) => {
      guard.stillHeld();
      const held = await store.current('job');
      expect(held?.owner).toBe(guard.lease.owner);
      expect(held?.expiresAt).toBeGreaterThan(Date.now());
      return 42;
    });
    expect(result).toBe(42);
    expect((await store.current('job'))?.expiresAt).toBeLessThanOrEqual(Date.now());
    await expect(
      runUnderLease(store, 'job', options, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.current('job'))?.expiresAt).toBeLessThanOrEqual(Date.now());
  });

  it('a second runner gets LeaseBusy naming the work, after waiting at most waitMs', async () => {
    const store = await leases();
    let now = 0;
    const slept: number[] = [];
    await runUnderLease(store, 'job', options, async () => {
      const second = runUnderLease(
        store,
        'job',
        {
          ...options,
          waitMs: 1_000,
          clock: { now: () => now },
          sleep: async (ms) => {
            slept.push(ms);
            now += ms;
          },
        },
        async () => 'ran',
      );
      await expect(second).rejects.toThrow(LeaseBusy);
      await expect(second).rejects.toThrow(/A test run is already running/);
    });
    expect(slept.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  it('waits for a held lease to be released, then runs', async () => {
    const store = await leases();
    let release: () => void = () => {};
    const first = runUnderLease(
      store,
      'job',
      options,
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await new Promise((r) => setTimeout(r, 20));
    const second = runUnderLease(
      store,
      'job',
      { ...options, waitMs: 5_000 },
      async () => 'second ran',
    );
    setTimeout(() => release(), 50);
    await first;
    expect(await second).toBe('second ran');
  });

  it('tells a run whose lease was taken over that it lost it', async () => {
    const client = new MemoryTablestore();
    await ensureStoreTables(client);
    let now = Date.now();
    const store = createStore({ client, clock: { now: () => now } }).leases;
    await expect(
      runUnderLease(store, 'job', { ...options, ttlMs: 300 }, async (guard) => {
        // The holder is paused past its lease (the lease store's clock jumps), and another
        // runner takes the lease over.
        now += 10_000;
        const taken = await store.acquire('job', 'test/other', { ttlMs: 60_000 });
        expect(taken.acquired).toBe(true);
        // The next renewal tick (every ttl/3) finds it gone; wait for it, however slow the machine.
        for (let tick = 0; tick < 100; tick++) {
          await new Promise((r) => setTimeout(r, 50));
          guard.stillHeld();
        }
      }),
    ).rejects.toThrow(LeaseLost);
    expect((await store.current('job'))?.owner).toBe('test/other');
  });
});
