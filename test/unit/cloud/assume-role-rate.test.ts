// The limiter every AssumeRole of the functions goes through (shared/cloud/sts/rate-limit.ts):
// a token bucket that keeps a burst of calls under STS's 100 per second per account, on a clock
// the test moves.

import { describe, expect, it } from 'vitest';
import {
  assumeRoleLimiter,
  DEFAULT_ASSUME_ROLE_RATE,
  type LimiterClock,
  TokenBucket,
} from '../../../shared/cloud/sts';

/** A clock that moves only when the bucket sleeps (by `lateMs` more than asked, if given), after
 *  letting everything already granted run, as a real sleep would. */
function manualClock(lateMs = 0): LimiterClock & { time: number } {
  const clock = {
    time: 1_000_000,
    now: () => clock.time,
    sleep: async (ms: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      clock.time += ms + lateMs;
    },
  };
  return clock;
}

/** The most grants in any second (a sliding window, as localcloud's STS counts). */
function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= 1000) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}

async function grantTimes(bucket: TokenBucket, clock: LimiterClock, calls: number) {
  const times: number[] = [];
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: calls }, (_, i) =>
      bucket.acquire().then(() => {
        times.push(clock.now());
        order.push(i);
      }),
    ),
  );
  return { times, order };
}

describe('AssumeRole rate limiter (token bucket)', () => {
  it('spaces a burst of 1,000 calls at 95 a second, never more than 95 in any second, in call order', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: DEFAULT_ASSUME_ROLE_RATE, clock });
    expect(DEFAULT_ASSUME_ROLE_RATE).toBe(95);
    expect(bucket.burst).toBe(10);
    const { times, order } = await grantTimes(bucket, clock, 1000);
    expect(peakPerSecond(times)).toBe(95);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Ten at once, then one every 10.5 ms, with one pause when the first second is full: about
    // 1,000 / 95 s.
    const span = Math.max(...times) - Math.min(...times);
    expect(span).toBeGreaterThanOrEqual((990 / 95) * 1000);
    expect(span).toBeLessThanOrEqual((1000 / 95) * 1000 + 20);
    // Evenly spaced, not in clumps: after the first ten, every gap but one is a token's 10-11 ms.
    const gaps = times.slice(10).map((t, i) => t - (times[i + 9] ?? 0));
    expect(gaps.filter((gap) => gap < 10 || gap > 11).length).toBeLessThanOrEqual(1);
  });

  it('keeps the rate when timers wake late, and still no more than 95 in any second', async () => {
    // Every sleep wakes 25 ms late: the burst catches up what a late timer lost.
    const clock = manualClock(25);
    const bucket = new TokenBucket({ ratePerSecond: DEFAULT_ASSUME_ROLE_RATE, clock });
    const { times } = await grantTimes(bucket, clock, 1000);
    expect(peakPerSecond(times)).toBeLessThanOrEqual(95);
    const span = Math.max(...times) - Math.min(...times);
    expect(span).toBeLessThanOrEqual((1000 / 95) * 1000 * 1.06);
  });

  it('grants no more after very late wake-ups: tokens are counted when a call is woken', async () => {
    const clock = manualClock(250);
    const bucket = new TokenBucket({ ratePerSecond: DEFAULT_ASSUME_ROLE_RATE, clock });
    const { times } = await grantTimes(bucket, clock, 500);
    expect(peakPerSecond(times)).toBeLessThanOrEqual(95);
  });

  it('lets a call through at once while tokens are left, and refills at the rate', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, clock });
    const start = clock.now();
    await bucket.acquire();
    await bucket.acquire();
    expect(clock.now()).toBe(start);
    await bucket.acquire();
    expect(clock.now() - start).toBe(100);
    clock.time += 10_000;
    const { times } = await grantTimes(bucket, clock, 4);
    // A long pause refills to the burst, no further.
    expect(times.map((t) => t - (times[0] ?? 0))).toEqual([0, 0, 100, 200]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: Number.NaN })).toThrow(RangeError);
  });

  it('shares one bucket per calling account and rate in the process', () => {
    const a = assumeRoleLimiter('1000000000000001');
    expect(assumeRoleLimiter('1000000000000001')).toBe(a);
    expect(assumeRoleLimiter('1000000000000002')).not.toBe(a);
    expect(assumeRoleLimiter('1000000000000001', 50)).not.toBe(a);
    // A share of the rate (an onboarding run's lane) has a bucket of its own, without a burst.
    const lane = assumeRoleLimiter('1000000000000001', 23, 'onboarding-lane-0');
    expect(lane).not.toBe(assumeRoleLimiter('1000000000000001', 23));
    expect(lane).toBe(assumeRoleLimiter('1000000000000001', 23, 'onboarding-lane-0'));
    expect(lane.burst).toBe(1);
    expect(assumeRoleLimiter('1000000000000001', 23).burst).toBe(10);
    expect(a.ratePerSecond).toBe(DEFAULT_ASSUME_ROLE_RATE);
  });
});
