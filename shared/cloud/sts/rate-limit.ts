// STS allows 100 AssumeRole calls per second per Alibaba Cloud account, the calls of its RAM
// users and roles counted together; the excess is refused with Throttling.User. Every AssumeRole
// a function makes first takes a token from its calling account's bucket, so a burst (a sweep's
// first chunks, an onboarding of thousands of members) waits its turn instead of being throttled.
//
// A token bucket, `ratePerSecond` tokens a second and at most `burst` kept, that also never grants
// more than `ratePerSecond` calls in any second (a sliding second, as STS counts). The bucket
// spaces the calls (one every 10.5 ms at the default 95) so they reach STS evenly, not in clumps
// that a little network jitter would push over the limit; its burst (10) lets it catch up when a
// busy instance wakes its timer late, which a bucket of 1 or 2 tokens would not (the rate would
// drop with every late timer); the second's cap keeps that catching up under the rate. The
// default leaves 5 calls a second for calls that reach STS a little later or sooner than they
// were granted. Grants are counted at the time a waiting call is woken, so a late timer never
// lets more through.
//
// One bucket per calling account per process (a function instance): instances do not share
// theirs, so each instance of a function that runs several at once may use the whole rate.
// STS_ASSUME_ROLE_RATE sets it (README "Configuration"). An onboarding run splits the rate into
// lanes: each lane's worker paces itself at its share, in a bucket of its own (`share`).

import { type Clock, systemClock } from '../../domain/clock';
import { sleep } from '../../runtime/retry';

/** The application's one Clock, and how the limiter waits on it. */
export interface LimiterClock extends Clock {
  sleep(ms: number): Promise<void>;
}

export const systemLimiterClock: LimiterClock = { now: () => systemClock.now(), sleep };

/** AssumeRole calls a second a process allows itself per calling account, by default. */
export const DEFAULT_ASSUME_ROLE_RATE = 95;

const SECOND_MS = 1000;

export interface RateLimiter {
  /** Resolves when the caller may make one call. */
  acquire(): Promise<void>;
}

export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens kept at most (calls granted at once after a pause or a late timer). Default 10. */
  burst?: number;
  clock?: LimiterClock;
}

export class TokenBucket implements RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: LimiterClock;
  #tokens: number;
  #updatedAt: number;
  /** When the calls of the last second were granted, oldest first. */
  readonly #granted: number[] = [];
  readonly #waiting: Array<() => void> = [];
  #pumping = false;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond } = options;
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`a token bucket's rate must be positive, got ${ratePerSecond}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = Math.max(1, options.burst ?? 10);
    this.#clock = options.clock ?? systemLimiterClock;
    this.#tokens = this.burst;
    this.#updatedAt = this.#clock.now();
  }

  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#pumping) void this.#pump();
    });
  }

  /** Grants waiting calls in order as tokens come in; one loop at a time. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        const now = this.#refill();
        while ((this.#granted[0] ?? now) <= now - SECOND_MS) this.#granted.shift();
        const secondFull = this.#granted.length >= this.ratePerSecond;
        if (this.#tokens >= 1 && !secondFull) {
          this.#tokens -= 1;
          this.#granted.push(now);
          this.#waiting.shift()?.();
          continue;
        }
        if (secondFull) {
          // The oldest grant of the second leaves it at its time + 1 s. Tokens earned meanwhile
          // are not kept: they would come out as a clump when the second frees.
          await this.#clock.sleep(Math.max(1, (this.#granted[0] ?? now) + SECOND_MS - now));
          this.#refill();
          this.#tokens = Math.min(this.#tokens, 1);
          continue;
        }
        await this.#clock.sleep(
          Math.max(1, Math.ceil(((1 - this.#tokens) * SECOND_MS) / this.ratePerSecond)),
        );
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Adds the tokens earned since the last refill; returns the time. */
  #refill(): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / SECOND_MS);
    this.#updatedAt = now;
    return now;
  }
}

const buckets = new Map<string, TokenBucket>();

/**
 * The process's bucket for AssumeRole calls made by `callerAccountId`, at `ratePerSecond`;
 * `share` names a part of the account's rate (an onboarding run's lane) with a bucket of its own.
 */
export function assumeRoleLimiter(
  callerAccountId: string,
  ratePerSecond: number = DEFAULT_ASSUME_ROLE_RATE,
  share = '',
): TokenBucket {
  const key = `${callerAccountId}/${ratePerSecond}/${share}`;
  let bucket = buckets.get(key);
  if (!bucket) {
    // A share's bucket keeps no burst: a lane's next chunk may start in another instance within
    // a second of the last one's calls, and a fresh bucket grants its whole burst at once on top
    // of them. With one token, the lanes of a run stay within lanes x (share + 1) in any second
    // (4 lanes of 23: 96, under STS's 100); a burst of 3 measured 9 refusals in 10,000 calls.
    bucket = new TokenBucket(share === '' ? { ratePerSecond } : { ratePerSecond, burst: 1 });
    buckets.set(key, bucket);
  }
  return bucket;
}
