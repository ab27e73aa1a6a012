// runUnderLease: one runner at a time, a bounded wait for a held lease, the lease released after
// the work (also when it throws), and a run that lost its lease told so before it writes.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AcquireLeaseResult,
  type Lease,
  LeaseBusy,
  type LeaseGuard,
  LeaseLost,
  type LeaseStore,
  leaseOwnerId,
  runUnderLease,
} from '../../../shared/domain/lease';
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

// The same rules against a scripted lease store, with the renewal timer and the waiting clock in
// the test's hands: what is renewed when, what a failed renewal means, what is released.

interface LeaseCall {
  op: 'acquire' | 'renew' | 'release';
  at: number;
  ttlMs?: number;
  lease?: Lease;
  owner?: string;
}

function scriptedLeases(script: {
  acquire?: (n: number) => AcquireLeaseResult | undefined;
  renew?: (lease: Lease, n: number) => Lease | Error;
  release?: () => Error | undefined;
}) {
  const calls: LeaseCall[] = [];
  let acquired = 0;
  let renewed = 0;
  const store: LeaseStore = {
    async acquire(name, owner, { ttlMs }) {
      calls.push({ op: 'acquire', at: Date.now(), ttlMs, owner });
      const scripted = script.acquire?.(acquired++);
      return (
        scripted ?? {
          acquired: true,
          lease: { name, owner, token: 7n, expiresAt: Date.now() + ttlMs },
        }
      );
    },
    async renew(lease, { ttlMs }) {
      calls.push({ op: 'renew', at: Date.now(), ttlMs, lease });
      const answer = script.renew?.(lease, renewed++) ?? {
        ...lease,
        expiresAt: Date.now() + ttlMs,
      };
      if (answer instanceof Error) throw answer;
      return answer;
    },
    async release(lease) {
      calls.push({ op: 'release', at: Date.now(), lease });
      const error = script.release?.();
      if (error) throw error;
    },
    async current() {
      // runUnderLease never reads the stored lease; a test that made it would fail here.
      throw new Error('not scripted: current');
    },
  };
  return { store, calls };
}

class Throttled extends Error {}

describe('runUnderLease with a scripted store and fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('acquires under `<ownerPrefix>/<uuid>` with the ttl, and releases the lease it holds', async () => {
    const { store, calls } = scriptedLeases({});
    const out = await runUnderLease(store, 'job', { ...options, ttlMs: 9_000 }, async (guard) => {
      expect(guard.lease).toMatchObject({ name: 'job', token: 7n, expiresAt: 1_009_000 });
      return 'done';
    });
    expect(out).toBe('done');
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'release']);
    expect(calls[0]?.ttlMs).toBe(9_000);
    expect(calls[0]?.owner).toMatch(/^test\/[0-9a-f-]{36}$/);
    expect(calls[1]?.lease?.owner).toBe(calls[0]?.owner);
  });

  it('names the owner `runner/<uuid>` when no prefix is given, or exactly the owner given', async () => {
    const { store, calls } = scriptedLeases({});
    const { ownerPrefix: _, ...unnamed } = options;
    await runUnderLease(store, 'job', unnamed, async () => undefined);
    await runUnderLease(store, 'job', { ...unnamed, owner: 'reconcile/fixed' }, async () => 1);
    expect(calls[0]?.owner).toMatch(/^runner\/[0-9a-f-]{36}$/);
    expect(calls.filter((c) => c.op === 'acquire')[1]?.owner).toBe('reconcile/fixed');
  });

  it('owner ids are unique per run', () => {
    const a = leaseOwnerId('reconcile');
    expect(a).toMatch(/^reconcile\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(leaseOwnerId('reconcile')).not.toBe(a);
  });

  it('renews every ttl/3 with the ttl, and the guard and the release see the renewed lease', async () => {
    const { store, calls } = scriptedLeases({});
    let release!: () => void;
    const seen: number[] = [];
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 3_000 }, async (guard) => {
      await new Promise<void>((r) => {
        release = r;
      });
      seen.push(guard.lease.expiresAt);
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(calls.filter((c) => c.op === 'renew')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.filter((c) => c.op === 'renew')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    const renewals = calls.filter((c) => c.op === 'renew');
    expect(renewals.map((c) => c.at - 1_000_000)).toEqual([1_000, 2_000, 3_000]);
    expect(renewals.every((c) => c.ttlMs === 3_000)).toBe(true);
    // Each renewal extends the lease the previous one returned.
    expect(renewals.map((c) => c.lease?.expiresAt)).toEqual([1_003_000, 1_004_000, 1_005_000]);
    release();
    await run;
    expect(seen).toEqual([1_006_000]);
    const released = calls.find((c) => c.op === 'release');
    expect(released?.lease?.expiresAt).toBe(1_006_000);
    // No renewal after the work ended.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.filter((c) => c.op === 'renew')).toHaveLength(3);
  });

  it('renews at least every 100 ms however short the ttl', async () => {
    const { store, calls } = scriptedLeases({});
    let release!: () => void;
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 150 }, async () => {
      await new Promise<void>((r) => {
        release = r;
      });
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(calls.filter((c) => c.op === 'renew')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.filter((c) => c.op === 'renew')).toHaveLength(1);
    release();
    await run;
  });

  it('a throttled renewal leaves the lease held: the work goes on and the lease is released', async () => {
    const { store, calls } = scriptedLeases({
      renew: (lease, n) => (n === 0 ? new Throttled('Throttling') : { ...lease, expiresAt: 42 }),
    });
    let release!: () => void;
    let guardOf!: LeaseGuard;
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 3_000 }, async (guard) => {
      guardOf = guard;
      await new Promise<void>((r) => {
        release = r;
      });
      guard.stillHeld();
      return 'finished';
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(() => guardOf.stillHeld()).not.toThrow();
    expect(guardOf.lease.expiresAt).toBe(1_003_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(guardOf.lease.expiresAt).toBe(42);
    release();
    expect(await run).toBe('finished');
    expect(calls.at(-1)).toMatchObject({ op: 'release', lease: { expiresAt: 42 } });
  });

  it('a renewal that finds the lease lost stops the work at its next check and releases nothing', async () => {
    const lost = new LeaseLost({ name: 'job', owner: 'x', token: 7n }, 'renew');
    const { store, calls } = scriptedLeases({ renew: () => lost });
    let release!: () => void;
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 3_000 }, async (guard) => {
      await new Promise<void>((r) => {
        release = r;
      });
      guard.stillHeld();
      return 'wrote anyway';
    });
    await vi.advanceTimersByTimeAsync(1_000);
    release();
    await expect(run).rejects.toBe(lost);
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'renew']);
  });

  it('a run that ends without checking after its lease was lost keeps its result and releases nothing', async () => {
    const lost = new LeaseLost({ name: 'job', owner: 'x', token: 7n }, 'renew');
    const { store, calls } = scriptedLeases({ renew: () => lost });
    let release!: () => void;
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 3_000 }, async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      return 'read only';
    });
    await vi.advanceTimersByTimeAsync(1_000);
    release();
    expect(await run).toBe('read only');
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'renew']);
  });

  it('work that throws after a renewal has the renewed lease released', async () => {
    const { store, calls } = scriptedLeases({ renew: (lease) => ({ ...lease, expiresAt: 77 }) });
    let fail!: () => void;
    const run = runUnderLease(store, 'job', { ...options, ttlMs: 3_000 }, async () => {
      await new Promise<void>((r) => {
        fail = r;
      });
      throw new Error('work failed');
    });
    await vi.advanceTimersByTimeAsync(1_000);
    fail();
    await expect(run).rejects.toThrow('work failed');
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'renew', 'release']);
    expect(calls.at(-1)?.lease?.expiresAt).toBe(77);
  });

  it('a release that fails does not hide the result', async () => {
    const { store, calls } = scriptedLeases({ release: () => new Throttled('Throttling') });
    expect(await runUnderLease(store, 'job', options, async () => 5)).toBe(5);
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'release']);
  });

  it('waits with growing backoff, never past waitMs, then reports who holds the lease', async () => {
    const busy: AcquireLeaseResult = {
      acquired: false,
      holder: 'reconcile/abc',
      expiresAt: 0,
      token: 3n,
    };
    const { store, calls } = scriptedLeases({ acquire: () => busy });
    let now = 0;
    const slept: number[] = [];
    const error = await runUnderLease(
      store,
      'membership',
      {
        ...options,
        what: 'A reconcile',
        waitMs: 2_500,
        clock: { now: () => now },
        random: () => 0.999_999,
        sleep: async (ms) => {
          slept.push(ms);
          now += ms;
        },
      },
      async () => 'ran',
    ).catch((e: unknown) => e);
    // Ceilings 50, 100, 200, 400, 800, 1000 ms (random just under 1), cut to what is left.
    expect(slept).toEqual([49, 99, 199, 399, 799, 955]);
    expect(calls.filter((c) => c.op === 'acquire')).toHaveLength(7);
    expect(error).toBeInstanceOf(LeaseBusy);
    const busyError = error as LeaseBusy;
    expect(busyError).toMatchObject({
      status: 503,
      code: 'Busy',
      leaseName: 'membership',
      holder: 'reconcile/abc',
      details: { lease: 'membership', holder: 'reconcile/abc' },
      headers: { 'Retry-After': '5' },
    });
    expect(busyError.message).toBe(
      'A reconcile is already running (lease membership held by reconcile/abc); waited 3 s. Retry shortly.',
    );
  });

  it('with waitMs 0 answers LeaseBusy at once, without sleeping', async () => {
    const { store } = scriptedLeases({
      acquire: () => ({ acquired: false, holder: 'h', expiresAt: 0, token: 1n }),
    });
    const slept: number[] = [];
    await expect(
      runUnderLease(
        store,
        'job',
        {
          ...options,
          clock: { now: () => 0 },
          sleep: async (ms) => {
            slept.push(ms);
          },
        },
        async () => 'ran',
      ),
    ).rejects.toThrow('waited 0 s');
    expect(slept).toEqual([]);
  });

  it('takes the lease once it comes free while waiting', async () => {
    const { store } = scriptedLeases({
      acquire: (n) =>
        n < 2 ? { acquired: false, holder: 'h', expiresAt: 0, token: 1n } : undefined,
    });
    let now = 0;
    const out = await runUnderLease(
      store,
      'job',
      {
        ...options,
        waitMs: 10_000,
        clock: { now: () => now },
        random: () => 0.5,
        sleep: async (ms) => {
          now += ms;
        },
      },
      async () => 'ran',
    );
    expect(out).toBe('ran');
  });
});

describe('lease errors', () => {
  it('LeaseLost names the lease, the holder and the superseded token', () => {
    const error = new LeaseLost({ name: 'job', owner: 'reconcile/1', token: 12n }, 'release');
    expect(error).toMatchObject({
      status: 409,
      code: 'LeaseLost',
      details: { lease: 'job', token: '12' },
    });
    expect(error.message).toBe(
      'Cannot release lease job: reconcile/1 no longer holds it (token 12 was superseded); stop the work it guarded',
    );
  });
});
