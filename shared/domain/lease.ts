// Leases: work one runner must own at a time (a reconcile, a membership change). The store
// keeps them (shared/store/lease.ts says how: conditional writes and a fencing token that grows
// each time a lease changes hands); `runUnderLease` is how a use case holds one: wait a bounded
// time for it, renew it while the work runs, release it after. Work that outlives the request
// that started it (an onboarding run carried on by workers) takes the lease with `acquireLease`,
// and each worker holds it with `holdLease` while it works (renewing, never releasing); the last
// one releases it. The work checks `stillHeld()` before each write, so a run that lost its lease
// (paused past its expiry) stops instead of racing its successor.

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
  /** The lease as stored (held, expired or released); undefined if it was never taken. */
  current(name: string): Promise<Lease | undefined>;
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

export interface AcquireLeaseOptions extends RetryTimers {
  /** Names the runner in lease records, e.g. `reconcile`; or the whole owner id, `owner`. */
  ownerPrefix?: string;
  owner?: string;
  /** What the work is, for the LeaseBusy message. */
  what: string;
  ttlMs: number;
  /** How long to wait for a held lease before LeaseBusy. 0 = do not wait. */
  waitMs: number;
  clock?: Clock;
}

export type RunUnderLeaseOptions = AcquireLeaseOptions;

/** How a waiter backs off between looks at a held lease; `waitMs`, not attempts, bounds it. */
const LEASE_WAIT: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 50,
  maxDelayMs: 1_000,
};

/** Takes the lease, waiting at most `waitMs` for its holder; LeaseBusy after that. */
export async function acquireLease(
  leases: LeaseStore,
  name: string,
  options: AcquireLeaseOptions,
): Promise<Lease> {
  const wait = options.sleep ?? sleep;
  const clock = options.clock ?? systemClock;
  const owner = options.owner ?? leaseOwnerId(options.ownerPrefix ?? 'runner');
  const started = clock.now();
  for (let retry = 0; ; retry++) {
    const attempt = await leases.acquire(name, owner, { ttlMs: options.ttlMs });
    if (attempt.acquired) return attempt.lease;
    const waited = clock.now() - started;
    if (waited >= options.waitMs) throw new LeaseBusy(name, attempt.holder, waited, options.what);
    await wait(Math.min(backoffDelay(retry, LEASE_WAIT, options.random), options.waitMs - waited));
  }
}

/**
 * Runs `work` holding `lease`, which the caller took (or was handed): renews it every third of
 * its TTL while the work runs and does not release it. A renewal that finds the lease taken over
 * makes `stillHeld()` throw LeaseLost.
 */
export async function holdLease<T>(
  leases: LeaseStore,
  lease: Lease,
  options: { ttlMs: number },
  work: (guard: LeaseGuard) => Promise<T>,
): Promise<{ result: T; lost?: LeaseLost; lease: Lease }> {
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
    const result = await work(guard);
    return lost ? { result, lost, lease: current } : { result, lease: current };
  } finally {
    clearInterval(renewal);
  }
}

export async function runUnderLease<T>(
  leases: LeaseStore,
  name: string,
  options: RunUnderLeaseOptions,
  work: (guard: LeaseGuard) => Promise<T>,
): Promise<T> {
  const lease = await acquireLease(leases, name, options);
  let held: Lease = lease;
  let lost = false;
  try {
    const outcome = await holdLease(leases, lease, { ttlMs: options.ttlMs }, async (guard) => {
      try {
        return await work(guard);
      } finally {
        held = guard.lease;
      }
    });
    lost = outcome.lost !== undefined;
    held = outcome.lease;
    return outcome.result;
  } catch (error) {
    lost = error instanceof LeaseLost;
    throw error;
  } finally {
    if (!lost) await leases.release(held).catch(() => undefined);
  }
}
