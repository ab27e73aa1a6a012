// A documented API rate limit, per key (an account), over a sliding second of localcloud's clock:
// at most `perSecond` calls are admitted in any second; the next is refused until the oldest of
// them is a second old. Refused calls are not counted. Tests move the clock (control.advanceClock,
// or a wall clock of their own) rather than wait, and may change or lift the limit
// (control.setRateLimit) where a test needs more calls than the cloud would allow.

import type { Clock } from './contracts';

const WINDOW_MS = 1000;

export class PerSecondRateLimit {
  private readonly admitted = new Map<string, number[]>();

  /** @param perSecond the limit; null admits everything. */
  constructor(
    private readonly clock: Clock,
    private perSecond: number | null,
  ) {
    PerSecondRateLimit.check(perSecond);
  }

  private static check(perSecond: number | null): void {
    if (perSecond !== null && (!Number.isInteger(perSecond) || perSecond < 1)) {
      throw new RangeError(
        `a rate limit is a positive integer per second or null, got ${perSecond}`,
      );
    }
  }

  get limit(): number | null {
    return this.perSecond;
  }

  /** Changes the limit (null lifts it); calls already admitted still count. */
  setLimit(perSecond: number | null): void {
    PerSecondRateLimit.check(perSecond);
    this.perSecond = perSecond;
  }

  /** Admits one call for `key`, or returns false when `perSecond` were admitted in the last second. */
  admit(key: string): boolean {
    if (this.perSecond === null) return true;
    const now = this.clock.now();
    const times = (this.admitted.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    if (times.length >= this.perSecond) {
      this.admitted.set(key, times);
      return false;
    }
    times.push(now);
    this.admitted.set(key, times);
    return true;
  }
}
