// The store layer while localcloud injects Tablestore throttling, 5xx and dropped connections
// into a fifth of the calls: the adapter's retries absorb them, and the guarantees hold.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetryEvent } from '../../../shared/cloud/tablestore';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
import {
  batchWritesSplitOver200Rows,
  fiftyConcurrentInvocationsRunOnce,
  leaseContendersNeverBothHold,
  repositoriesRoundTripAndRejectStaleVersions,
  storeFixture,
} from '../../support/store-scenarios';

let local: LocalTablestore;
const retries: RetryEvent[] = [];

beforeAll(async () => {
  local = await startLocalTablestore({
    // Ten attempts: at a 20% fault rate a call fails for good with odds of 1e-7.
    retry: { maxAttempts: 10, baseDelayMs: 2, maxDelayMs: 20 },
    onRetry: (event) => retries.push(event),
  });
});
afterAll(async () => {
  local.cloud.control.clearFaults();
  await local?.stop();
});

async function faultyFixture() {
  const client = await local.freshInstance();
  const f = await storeFixture({ client, prefix: local.prefix });
  // Faults start after the tables exist: setup is not what is under test here.
  local.cloud.control.clearFaults();
  local.cloud.control.addFault({
    service: 'tablestore',
    action: '*',
    kind: 'throttle',
    rate: 0.08,
  });
  local.cloud.control.addFault({
    service: 'tablestore',
    action: '*',
    kind: 'error5xx',
    rate: 0.08,
    status: 500,
  });
  local.cloud.control.addFault({ service: 'tablestore', action: '*', kind: 'reset', rate: 0.05 });
  return f;
}

describe('with 20% of Tablestore calls failing', () => {
  it('50 concurrent invocations still run the work exactly once', async () => {
    const before = retries.length;
    await fiftyConcurrentInvocationsRunOnce(await faultyFixture());
    expect(retries.length).toBeGreaterThan(before);
  });

  it('repositories keep their versions straight', async () => {
    await repositoriesRoundTripAndRejectStaleVersions(await faultyFixture());
  });

  it('leases stay exclusive', async () => {
    await leaseContendersNeverBothHold(await faultyFixture(), { rounds: 60, seed: 11 });
  });

  it('batch writes land every row', async () => {
    const f = await faultyFixture();
    await batchWritesSplitOver200Rows(f, local.prefix);
  });

  it('retried every kind of injected fault', () => {
    const codes = new Set(retries.map((r) => r.error.code));
    expect(codes).toContain('OTSServerBusy');
    expect(codes).toContain('OTSInternalServerError');
    expect(codes).toContain('NetworkingError');
  });
});
