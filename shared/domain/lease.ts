// Leases: work one runner must own at a time (a reconcile, a membership change). The store
// keeps them (shared/store/lease.ts says how: conditional writes and a fencing token that grows
// each time a lease changes hands); `runUnderLease` is how a use case holds one: wait a bounded
// time for it, renew it while the work runs, release it after. The work checks `stillHeld()`
// before each write, so a run that lost its lease (paused past its expiry) stops instead of
// racing its successor.

import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import { backoffDelay, type RetryPolicy, type RetryTimers, sleep } from '../runtime/retry';
import { type Clock, systemClock } from './clock';

export interface Lease {
  name: string;
  owner: string;
  /** Fencing token: grows by one each time the lease changes hands. */
  token: bigint;
  /** Epoch ms; the lease is held until then. */
  expiresAt: number;
}

export type AcquireLeaseResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; holder: string; expiresAt: number; token: bigint };

export interface LeaseStore {
  /**
   * Takes the lease if it is free or expired. A live lease is refused even to its own owner:
   * owner ids name one run (see leaseOwnerId), and a crashed run's lease must run out first.
   */
  acquire(name: string, owner: string, options: { ttlMs: number }): Promise<AcquireLeaseResult>;
  /** Extends the lease to now + ttlMs; LeaseLost if the token or owner moved on. */
  renew(lease: Lease, options: { ttlMs: number }): Promise<Lease>;
  /** Ends the lease now (keeping its token); LeaseLost if a newer holder has it. */
  release(lease: Lease): Promise<void>;
}

/** The lease was taken over (or its token moved on): this holder must stop. */
export class LeaseLost extends AppError {
  readonly status = 409;
  readonly code = 'LeaseLost';
  constructor(
    readonly lease: Pick<Lease, 'name' | 'owner' | 'token'>,
    step: 'renew' | 'release',
  ) {
    super(
      `Cannot ${step} lease ${lease.name}: ${lease.owner} no longer holds it (token ${lease.token} was superseded); stop the work it guarded`,
      { details: { lease: lease.name, token: lease.token.toString() } },
    );
  }
}

/** The lease is held by another run and did not come free in time. */
export class LeaseBusy extends AppError {
  readonly status = 503;
  readonly code = 'Busy';
  constructor(
    readonly leaseName: string,
    readonly holder: string,
    waitedMs: number,
    what: string,
  ) {
    super(
      `${what} is already running (lease ${leaseName} held by ${holder}); waited ${Math.round(waitedMs / 1000)} s. Retry shortly.`,
      { details: { lease: leaseName, holder }, headers: { 'Retry-After': '5' } },
    );
  }
}

/** A unique owner id for one run, e.g. `reconcile/<uuid>`. */
export function leaseOwnerId(prefix: string): string {
  return `${prefix}/${randomUUID()}`;
}

export interface LeaseGuard {
  readonly lease: Lease;
  /** Throws LeaseLost when a renewal found the lease taken over. */
  stillHeld(): void;
}

export interface RunUnderLeaseOptions extends RetryTimers {
  /** Names the runner in lease records, e.g. `reconcile`. */
  ownerPrefix: string;
  /** What the work is, for the LeaseBusy message. */
  what: string;
  ttlMs: number;
  /** How long to wait for a held lease before LeaseBusy. 0 = do not wait. */
  waitMs: number;
  clock?: Clock;
}

/** How a waiter backs off between looks at a held lease; `waitMs`, not attempts, bounds it. */
const LEASE_WAIT: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 50,
  maxDelayMs: 1_000,
};

export async function runUnderLease<T>(
  leases: LeaseStore,
  name: string,
  options: RunUnderLeaseOptions,
  work: (guard: LeaseGuard) => Promise<T>,
): Promise<T> {
  const wait = options.sleep ?? sleep;
  const clock = options.clock ?? systemClock;
  const owner = leaseOwnerId(options.ownerPrefix);
  const started = clock.now();
  let lease: Lease;
  for (let retry = 0; ; retry++) {
    const attempt = await leases.acquire(name, owner, { ttlMs: options.ttlMs });
    if (attempt.acquired) {
      lease = attempt.lease;
      break;
    }
    const waited = clock.now() - started;
    if (waited >= options.waitMs) throw new LeaseBusy(name, attempt.holder, waited, options.what);
    await wait(Math.min(backoffDelay(retry, LEASE_WAIT, options.random), options.waitMs - waited));
  }

  let lost: LeaseLost | undefined;
  let current = lease;
  const renewal = setInterval(
    () => {
      leases.renew(current, { ttlMs: options.ttlMs }).then(
        (renewed) => {
          current = renewed;
        },
        (error: unknown) => {
          if (error instanceof LeaseLost) lost = error;
          // Other failures (a throttled renewal) leave the lease to run on; the next tick retries.
        },
      );
    },
    Math.max(100, Math.floor(options.ttlMs / 3)),
  );
  renewal.unref?.();
  const guard: LeaseGuard = {
    get lease() {
      return current;
    },
    stillHeld() {
      if (lost) throw lost;
    },
  };
  try {
    return await work(guard);
  } finally {
    clearInterval(renewal);
    if (!lost) await leases.release(current).catch(() => undefined);
  }
}
