// STS allows 100 AssumeRole calls per second per Alibaba Cloud account, the calls of its RAM
// users and roles counted together; the excess is refused with Throttling.User. Every AssumeRole
// a function makes first takes a token from its calling account's bucket, so a burst (a sweep's
// first chunks, an onboarding of thousands of members) waits its turn instead of being throttled.
//
// A token bucket: `ratePerSecond` tokens a second, at most `burst` kept. Over any second it
// grants at most burst + ratePerSecond calls. The defaults, 95 a second in bursts of 2, space the
// calls evenly (one every 10.5 ms) and grant at most 97 in any second: evenly spaced calls stay
// under STS's 100 even when they reach it some 30 ms later or sooner than they were granted, where
// calls granted in clumps (a bigger burst, or "N per second" windows) would not. The second token
// keeps the rate when a timer wakes a little late (timers count whole milliseconds). Tokens are
// counted at the time a waiting call is woken, so a late timer never lets more through.
//
// One bucket per calling account per process (a function instance): instances do not share
// theirs, so each instance of a function that runs several at once may use the whole rate.
// STS_ASSUME_ROLE_RATE sets it (README "Configuration").

export interface LimiterClock {
  /** Milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemLimiterClock: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** AssumeRole calls a second a process allows itself per calling account, by default. */
export const DEFAULT_ASSUME_ROLE_RATE = 95;

export interface RateLimiter {
  /** Resolves when the caller may make one call. */
  acquire(): Promise<void>;
}

export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens kept at most (calls granted at once after a pause). Default 2. */
  burst?: number;
  clock?: LimiterClock;
}

export class TokenBucket implements RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: LimiterClock;
  #tokens: number;
  #updatedAt: number;
  readonly #waiting: Array<() => void> = [];
  #pumping = false;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond } = options;
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`a token bucket's rate must be positive, got ${ratePerSecond}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = Math.max(1, options.burst ?? 2);
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
        this.#refill();
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          this.#waiting.shift()?.();
          continue;
        }
        await this.#clock.sleep(Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSecond));
      }
    } finally {
      this.#pumping = false;
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
    this.#updatedAt = now;
  }
}

const buckets = new Map<string, TokenBucket>();

/** The process's bucket for AssumeRole calls made by `callerAccountId`, at `ratePerSecond`. */
export function assumeRoleLimiter(
  callerAccountId: string,
  ratePerSecond: number = DEFAULT_ASSUME_ROLE_RATE,
): TokenBucket {
  const key = `${callerAccountId}/${ratePerSecond}`;
  let bucket = buckets.get(key);
  if (!bucket) {
    bucket = new TokenBucket({ ratePerSecond });
    buckets.set(key, bucket);
  }
  return bucket;
}
