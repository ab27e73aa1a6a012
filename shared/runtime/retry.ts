// How the application waits before trying again: one policy type and one backoff (exponential,
// full jitter) for the cloud adapters' retries (shared/cloud/openapi.ts, the Tablestore client)
// and the lease runner's waiting (shared/domain/lease.ts). What may be retried stays each
// caller's own rule: transient OpenAPI failures; Tablestore's per operation and failure class.

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** Ceiling of the first retry's delay; doubles per retry. */
  baseDelayMs: number;
  /** The ceiling never exceeds this. */
  maxDelayMs: number;
}

/** How to wait and where jitter comes from: real timers by default, test seams otherwise. */
export interface RetryTimers {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Upper bound of the wait before retry number `retry` (0 = the first retry). */
export function backoffCeiling(retry: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
}

/**
 * Exponential backoff with full jitter: a uniformly random wait in [0, ceiling). Full jitter
 * spreads contending retries (e.g. 50 invocations throttled together) better than a fixed
 * or half-jittered schedule.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(retry, policy));
}
