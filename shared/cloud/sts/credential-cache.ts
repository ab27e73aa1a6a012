// Temporary credentials kept per key (a member, or a member and session policy) until shortly
// before they expire. Concurrent callers for the same key share one in-flight load, so a fan-out
// over a member calls AssumeRole once, not once per caller (STS allows 100 AssumeRole calls per
// second per account). Failures are not kept: the next caller tries again. Credentials a member
// refused (its role deleted, the session expired early) are dropped with `invalidate`, so the
// next caller assumes the role again instead of being refused until the entry runs out.

import { type Clock, systemClock } from '../../domain/clock';

export interface Expiring {
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface CredentialCacheOptions {
  clock?: Clock;
  /** Reload this long before expiry. Default 5 minutes. */
  refreshMarginMs?: number;
  /** Above this many entries, expired ones are dropped on insert. */
  maxEntries?: number;
}

export class CredentialCache<V extends Expiring> {
  readonly #clock: Clock;
  readonly #marginMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, V>();
  readonly #loading = new Map<string, Promise<V>>();

  constructor(options: CredentialCacheOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#marginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.#maxEntries = options.maxEntries ?? 2_000;
  }

  /** Whether `value` is still good to hand out (not within the refresh margin of expiry). */
  isFresh(value: V): boolean {
    return this.#clock.now() < value.expiresAt - this.#marginMs;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.#entries.get(key);
    if (cached && this.isFresh(cached)) return cached;
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight;
    const loading = (async () => {
      try {
        const value = await load();
        this.#store(key, value);
        return value;
      } finally {
        this.#loading.delete(key);
      }
    })();
    this.#loading.set(key, loading);
    return loading;
  }

  /**
   * Drops the entry for `key`; with `stale`, only while the entry is still those credentials
   * (another caller may have loaded newer ones meanwhile, which must be kept).
   */
  invalidate(key: string, stale?: V): void {
    if (stale === undefined || this.#entries.get(key) === stale) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #store(key: string, value: V): void {
    this.#entries.set(key, value);
    if (this.#entries.size <= this.#maxEntries) return;
    for (const [k, v] of this.#entries) if (!this.isFresh(v)) this.#entries.delete(k);
  }
}
