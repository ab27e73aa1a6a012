// Time as the application reads it. One clock for leases, record expiry, credential refresh and
// the times written into records, so tests move time by hand instead of sleeping.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The clock's time as ISO 8601. */
export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
