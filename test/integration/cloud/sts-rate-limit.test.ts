// The project stays under STS's 100 AssumeRole calls per second per account: a burst of 250
// AssumeRole calls through the STS adapter (shared/cloud/sts/assume-role.ts), paced by the
// limiter every function uses, reaches localcloud's STS, which enforces the limit, without one
// throttled call; the same burst unpaced is throttled.
//
// One clock for both: localcloud's wall clock is stopped, and the limiter's sleep moves it, once
// every call granted so far has been answered (so each call reaches STS at the time it was
// granted, as on a network that keeps up).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import {
  createStsAssumeRole,
  DEFAULT_ASSUME_ROLE_RATE,
  type RateLimiter,
  type TemporaryCredentials,
  TokenBucket,
} from '../../../shared/cloud/sts';
import { CloudApiError } from '../../../shared/errors';
import { FUNCTION_ROLE, memberId, testOrganization } from '../../support/organization';

const noRetry = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };
const BURST = 250;

let cloud: LocalCloud;
let wall = Date.now();
let functionCredentials: TemporaryCredentials;
let granted = 0;
let answered = 0;

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    organization: testOrganization({ members: 2 }),
    wallClock: () => wall,
  });
  const fc = cloud.env.servicePrincipals['fc.aliyuncs.com'];
  if (!fc) throw new Error('localcloud env has no fc.aliyuncs.com service principal');
  functionCredentials = await createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials: fc,
    callerAccountId: 'fc.aliyuncs.com',
    retry: noRetry,
  })({
    accountId: cloud.env.managementAccountId,
    roleArn: `acs:ram::${cloud.env.managementAccountId}:role/${FUNCTION_ROLE}`,
    sessionName: 'fc-rate-limit',
    durationSeconds: 3600,
  });
});
afterAll(async () => {
  await cloud?.stop();
});

async function everyGrantedCallAnswered(): Promise<void> {
  // First let the calls just granted count themselves (their continuations are queued).
  do {
    await new Promise((resolve) => setImmediate(resolve));
  } while (answered < granted);
}

/** The functions' limiter (defaults: 95 a second, bursts of 10) on the test's clock. */
function pacedLimiter(): RateLimiter {
  const bucket = new TokenBucket({
    ratePerSecond: DEFAULT_ASSUME_ROLE_RATE,
    clock: {
      now: () => wall,
      sleep: async (ms) => {
        await everyGrantedCallAnswered();
        wall += ms;
      },
    },
  });
  return {
    acquire: async () => {
      await bucket.acquire();
      granted += 1;
    },
  };
}

const unpaced: RateLimiter = {
  acquire: async () => {
    granted += 1;
  },
};

async function burstInto(member: string, limiter: RateLimiter) {
  const assume = createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials: functionCredentials,
    callerAccountId: cloud.env.managementAccountId,
    retry: noRetry,
    limiter,
  });
  const since = cloud.control.calls().at(-1)?.seq ?? 0;
  const started = wall;
  const outcomes = await Promise.allSettled(
    Array.from({ length: BURST }, (_, i) =>
      assume({
        accountId: member,
        roleArn: `acs:ram::${member}:role/ResourceDirectoryAccountAccessRole`,
        sessionName: `burst-${i}`,
        durationSeconds: 900,
      }).finally(() => {
        answered += 1;
      }),
    ),
  );
  const calls = cloud.control
    .calls({ service: 'sts', action: 'AssumeRole', since })
    .filter((c) => c.callerAccountId === cloud.env.managementAccountId);
  return { outcomes, calls, elapsedMs: wall - started };
}

describe("the functions' AssumeRole against STS's limit", () => {
  it('a paced burst of 250 is never throttled, and takes about 250 / 95 s', async () => {
    wall += 5_000;
    const { outcomes, calls, elapsedMs } = await burstInto(memberId(1), pacedLimiter());
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(calls).toHaveLength(BURST);
    expect(calls.every((c) => c.result === 'ok')).toBe(true);
    // Ten at once, then one every 10.5 ms, with one pause when the first second is full.
    expect(elapsedMs).toBeGreaterThanOrEqual(((BURST - 10) / DEFAULT_ASSUME_ROLE_RATE) * 1000);
    expect(elapsedMs).toBeLessThanOrEqual((BURST / DEFAULT_ASSUME_ROLE_RATE) * 1000 + 20);
  });

  it('the same burst unpaced is throttled past the 100th call', async () => {
    wall += 5_000;
    const { outcomes, calls } = await burstInto(memberId(1), unpaced);
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(refused).toHaveLength(BURST - 100);
    for (const error of refused) {
      expect(error).toBeInstanceOf(CloudApiError);
      expect((error as CloudApiError).failure).toMatchObject({
        kind: 'throttled',
        cloudCode: 'Throttling.User',
        httpStatus: 400,
      });
    }
    expect(calls.filter((c) => c.result === 'Throttling.User')).toHaveLength(BURST - 100);
  });
});
