// localcloud's clock: wall time plus an offset that tests move forward. Tokens expire against
// it. Request timestamps (x-acs-date, Timestamp) are checked against wall time instead: the
// SDKs stamp requests with the real time, which does not move when a test advances this clock.

import type { Clock } from './contracts';

export class LocalClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly wall: () => number = Date.now) {}

  now(): number {
    return this.wall() + this.offsetMs;
  }

  /** Real time, for request timestamp skew checks. */
  wallNow(): number {
    return this.wall();
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`the clock only moves forward: got ${seconds} seconds`);
    }
    this.offsetMs += seconds * 1000;
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}

/** ISO 8601 without milliseconds, as the cloud prints times: 2024-05-01T08:00:00Z */
export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
