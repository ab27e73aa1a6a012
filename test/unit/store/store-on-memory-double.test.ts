// Store-layer logic on the in-memory TEST DOUBLE of the TablestoreClient (fast, deterministic,
// many interleavings). The real check of the same scenarios, through the SDK against
// localcloud's Tablestore, is test/integration/store/store.test.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryTablestore } from '../../support/memory-tablestore';
import {
  activityLogPagesByAccountAndTime,
  batchWritesSplitOver200Rows,
  cursorsAreSignedAndChecked,
  expiredLockCannotClobberSuccessor,
  fiftyConcurrentInvocationsRunOnce,
  fiftyConcurrentWhileWorkIsHeld,
  leaseContendersNeverBothHold,
  malformedRequestsAreRefused,
  pagingOverMoreThan5000Rows,
  payloadMismatchIsRefused,
  rangeReadsReturnTheColumnsAsked,
  repositoriesRoundTripAndRejectStaleVersions,
  simultaneousAcquireHasOneWinner,
  stalledHolderLosesItsLease,
  storeFixture,
} from '../../support/store-scenarios';

const fixture = () => storeFixture({ client: new MemoryTablestore(), prefix: 'u_' });

describe('store logic on the in-memory double', () => {
  it('idempotency: 50 concurrent invocations run the work once', async () => {
    await fiftyConcurrentInvocationsRunOnce(await fixture());
  });
  it('idempotency: repeats during the run get in-progress answers', async () => {
    await fiftyConcurrentWhileWorkIsHeld(await fixture());
  });
  it('idempotency: a run whose lock expired cannot clobber its successor', async () => {
    await expiredLockCannotClobberSuccessor(await fixture());
  });
  it('idempotency: a payload mismatch is refused', async () => {
    await payloadMismatchIsRefused(await fixture());
  });
  it('leases: contenders never both hold one (random interleavings)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const f = await fixture();
        await leaseContendersNeverBothHold(f, { rounds: 40, seed });
      }),
      { numRuns: 40 },
    );
  });
  it('leases: the interleavings exercise takeovers and lost leases', async () => {
    const { acquisitions, lost } = await leaseContendersNeverBothHold(await fixture(), {
      rounds: 300,
      seed: 7,
    });
    expect(acquisitions).toBeGreaterThan(20);
    expect(lost).toBeGreaterThan(0);
  });
  it('leases: a simultaneous acquire has one winner', async () => {
    await simultaneousAcquireHasOneWinner(await fixture());
  });
  it('leases: a holder that stalled past its lease can neither renew nor release it', async () => {
    const f = await fixture();
    await stalledHolderLosesItsLease(f);
  });
  it('paging over more than 5,000 rows', async () => {
    await pagingOverMoreThan5000Rows(await fixture(), 'u_');
  });
  it('batch writes over 200 rows', async () => {
    await batchWritesSplitOver200Rows(await fixture(), 'u_');
  });
  it('range reads return only the columns asked for', async () => {
    await rangeReadsReturnTheColumnsAsked(await fixture(), 'u_');
  });
  it('malformed writes are refused, not read as failed conditions', async () => {
    await malformedRequestsAreRefused(await fixture(), 'u_');
  });
  it('repositories round-trip and reject stale versions', async () => {
    await repositoriesRoundTripAndRejectStaleVersions(await fixture());
  });
  it('activity log pages by account and time', async () => {
    await activityLogPagesByAccountAndTime(await fixture());
  });
  it('cursors are signed with the deployment key and checked against the query', async () => {
    await cursorsAreSignedAndChecked({ client: new MemoryTablestore(), prefix: 'u_' });
  });
});
