// A run under 10% throttling and 10% 5xx on every SLS and STS call (localcloud's fault injection,
// seeded): planning and pulling go on, failing shards back off and are taken up again, members
// whose AssumeRole failed are retried by later runs, and no log is lost; a log forwarded twice
// (a PutLogs answered 5xx after it may have been applied) is twice under one batch id.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import { type LogHarness, reconcile, startLogHarness } from '../../support/log-harness';
import { seededRandom } from '../../support/seeded-random';

const caller: Caller = { cause: { kind: 'user', identity: 'faults' } };
let h: LogHarness;

beforeAll(async () => {
  h = await startLogHarness({
    members: 4,
    random: seededRandom(4242),
    // The adapters' retries, without waiting (the clock is moved instead).
    retry: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} },
    puller: { targetPullBytes: 3_000 },
  });
  await h.integration.addAccounts('waf', { accountIds: h.memberIds, enabled: true }, caller);
  await h.drain();
});
afterAll(async () => {
  await h?.stop();
});

describe('throttling and 5xx on SLS and STS', () => {
  it('loses no log', async () => {
    const random = seededRandom(99);
    const written = new Set<string>();
    for (const service of ['sls', 'sts'] as const) {
      h.cloud.control.addFault({ service, action: '*', kind: 'throttle', rate: 0.1 });
      h.cloud.control.addFault({ service, action: '*', kind: 'error5xx', rate: 0.1 });
    }
    h.cloud.control.clearCalls();
    let failedShards = 0;
    let failedPlans = 0;
    for (let round = 0; round < 12; round++) {
      for (const accountId of h.memberIds) {
        const key = Math.floor(random() * 0xffffffff)
          .toString(16)
          .padStart(8, '0');
        for (const uid of h.write(h.wafOf(accountId), 5 + Math.floor(random() * 60), {
          hashKey: key,
        })) {
          written.add(uid);
        }
      }
      const { summary, chunks } = await h.plan();
      failedPlans += summary.failures.length;
      for (const chunk of chunks) {
        const outcome = await h.pull(chunk);
        failedShards += outcome.shards.filter((s) => s.outcome === 'failed').length;
      }
      // Past any backoff (at most 5 minutes); every third round the members' sessions (an hour)
      // run out and AssumeRole is called again, under the same faults.
      h.cloud.clock.advance(1_201);
    }
    const injected = h.cloud.control.calls().filter((c) => c.injected);
    h.cloud.control.clearFaults();
    await h.drain();

    expect(injected.filter((c) => c.service === 'sls').length).toBeGreaterThan(20);
    expect(injected.filter((c) => c.service === 'sts').length).toBeGreaterThan(0);
    // The faults were felt: some pulls or plans failed and were taken up again.
    expect(failedShards + failedPlans).toBeGreaterThan(0);
    const result = reconcile(written, h.read(h.central.address));
    expect(result.lost).toEqual([]);
    expect(result.unrecognisable).toEqual([]);
    expect(result.unknown).toBe(0);
  }, 120_000);
});
