// Time as the store layer sees it: lock, lease and record expiry all read this clock, so tests
// move time by hand instead of sleeping.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
