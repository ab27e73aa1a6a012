// The store layer through the official SDK against localcloud's Tablestore: idempotency under
// concurrency and lock expiry, leases and fencing, paging, batch splitting, repositories.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTables,
  INF_MAX,
  INF_MIN,
  type TableDefinition,
  TableSchemaMismatch,
} from '../../../shared/cloud/tablestore';
import { ensureStoreTables, storeTableDefinitions } from '../../../shared/store';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
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
  type StoreFixture,
  simultaneousAcquireHasOneWinner,
  stalledHolderLosesItsLease,
  storeFixture,
} from '../../support/store-scenarios';

let local: LocalTablestore;
/** A fresh instance per test: tests never see each other's tables or rows. */
async function fixture(): Promise<StoreFixture & { prefix: string }> {
  const client = await local.freshInstance();
  const prefix = local.prefix;
  return { ...(await storeFixture({ client, prefix })), prefix };
}

beforeAll(async () => {
  local = await startLocalTablestore();
});
afterAll(async () => {
  await local?.stop();
});

describe('tables', () => {
  it('creates the store tables once and verifies them after', async () => {
    const prefix = `${local.prefix}t_`;
    const first = await ensureStoreTables(local.client, { prefix });
    expect(first.created.sort()).toEqual(
      storeTableDefinitions(prefix)
        .map((d) => d.name)
        .sort(),
    );
    const second = await ensureStoreTables(local.client, { prefix });
    expect(second.created).toEqual([]);
    expect(second.verified).toHaveLength(storeTableDefinitions(prefix).length);
    expect(second.optionsUpdated).toEqual([]);
    const idempotency = await local.client.describeTable(`${prefix}idempotency`);
    expect(idempotency.timeToLiveSeconds).toBe(7 * 24 * 3600);
    expect(idempotency.primaryKey).toEqual([{ name: 'recordKey', type: 'string' }]);
  });

  it('tolerates concurrent creation', async () => {
    const prefix = `${local.prefix}c_`;
    const reports = await Promise.all(
      [1, 2, 3].map(() => ensureStoreTables(local.client, { prefix })),
    );
    const created = reports.flatMap((r) => r.created);
    expect(created.sort()).toEqual(
      storeTableDefinitions(prefix)
        .map((d) => d.name)
        .sort(),
    );
  });

  it('names the table whose primary key differs', async () => {
    const name = `${local.prefix}pk_mismatch`;
    await ensureTables(local.client, [{ name, primaryKey: [{ name: 'id', type: 'string' }] }]);
    const err = await ensureTables(local.client, [
      { name, primaryKey: [{ name: 'id', type: 'int64' }] },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableSchemaMismatch);
    expect((err as Error).message).toContain(
      `table ${name}: primary key is [id string], the definition expects [id int64]`,
    );
  });

  it('creates secondary indexes with a new table and adds missing ones to an existing table', async () => {
    const client = await local.freshInstance();
    const definition: TableDefinition = {
      name: 'sessions',
      primaryKey: [{ name: 'sessionId', type: 'string' }],
      definedColumns: [{ name: 'owner', type: 'string' }],
      indexes: [{ name: 'sessions_by_owner', primaryKey: ['owner', 'sessionId'] }],
    };
    expect((await ensureTables(client, [definition])).created).toEqual(['sessions']);
    expect((await client.describeTable('sessions')).indexes).toEqual([
      { name: 'sessions_by_owner', primaryKey: ['owner', 'sessionId'], definedColumns: [] },
    ]);

    // An index name is unique in the instance: reusing one on another table is reported.
    await ensureTables(client, [{ ...definition, name: 'sessions2', indexes: [] }]);
    const clash = await ensureTables(client, [{ ...definition, name: 'sessions2' }]).catch(
      (e: unknown) => e,
    );
    expect(clash).toBeInstanceOf(TableSchemaMismatch);
    expect((clash as Error).message).toContain(
      'table sessions2: index sessions_by_owner cannot be created',
    );

    const report = await ensureTables(client, [
      {
        ...definition,
        name: 'sessions2',
        indexes: [{ name: 'sessions2_by_owner', primaryKey: ['owner', 'sessionId'] }],
      },
    ]);
    expect(report.indexesCreated).toEqual(['sessions2.sessions2_by_owner']);
    await client.putRow('sessions2', [['sessionId', 's-1']], { owner: 'alice' });
    await client.putRow('sessions2', [['sessionId', 's-2']], { owner: 'bob' });
    const byOwner = await client.getRange({
      table: 'sessions2_by_owner',
      start: [
        ['owner', 'alice'],
        ['sessionId', INF_MIN],
      ],
      end: [
        ['owner', 'alice'],
        ['sessionId', INF_MAX],
      ],
    });
    expect(byOwner.rows.map((r) => r.primaryKey)).toEqual([
      [
        ['owner', 'alice'],
        ['sessionId', 's-1'],
      ],
    ]);
  });

  it('brings drifted options back in line', async () => {
    const name = `${local.prefix}drift`;
    await ensureTables(local.client, [
      { name, primaryKey: [{ name: 'id', type: 'string' }], timeToLiveSeconds: 86400 },
    ]);
    const report = await ensureTables(local.client, [
      { name, primaryKey: [{ name: 'id', type: 'string' }], timeToLiveSeconds: -1 },
    ]);
    expect(report.optionsUpdated).toEqual([name]);
    expect((await local.client.describeTable(name)).timeToLiveSeconds).toBe(-1);
  });
});

describe('idempotency', () => {
  it('50 concurrent invocations with one key run the work exactly once', async () => {
    await fiftyConcurrentInvocationsRunOnce(await fixture());
  });
  it('repeats arriving during the run get an in-progress answer, later ones the stored result', async () => {
    await fiftyConcurrentWhileWorkIsHeld(await fixture());
  });
  it('a run whose lock expired cannot complete or release over its successor', async () => {
    await expiredLockCannotClobberSuccessor(await fixture());
  });
  it('a payload mismatch is refused', async () => {
    await payloadMismatchIsRefused(await fixture());
  });
});

describe('leases', () => {
  it('two contenders never both hold one (many interleaved rounds, clock controlled)', async () => {
    const f = await fixture();
    let acquisitions = 0;
    let lost = 0;
    for (const seed of [1, 2, 3]) {
      const r = await leaseContendersNeverBothHold(f, { rounds: 80, seed });
      acquisitions += r.acquisitions;
      lost += r.lost;
    }
    expect(acquisitions).toBeGreaterThan(30);
    expect(lost).toBeGreaterThan(0);
  });
  it('simultaneous acquires have one winner', async () => {
    await simultaneousAcquireHasOneWinner(await fixture());
  });
  it('a holder that stalled past its lease can neither renew nor release it', async () => {
    const f = await fixture();
    await stalledHolderLosesItsLease(f);
  });
});

describe('adapter', () => {
  it('pages a range of more than 5,000 rows forward and backward', async () => {
    const f = await fixture();
    await pagingOverMoreThan5000Rows(f, f.prefix);
  });
  it('splits batch writes over 200 rows and 4 MB', async () => {
    const f = await fixture();
    await batchWritesSplitOver200Rows(f, f.prefix);
  });
  it('returns only the columns a range read asks for', async () => {
    const f = await fixture();
    await rangeReadsReturnTheColumnsAsked(f, f.prefix);
  });
  it('refuses malformed writes instead of reading them as failed conditions', async () => {
    const f = await fixture();
    await malformedRequestsAreRefused(f, f.prefix);
  });
  it('decodes the service error of a real failure', async () => {
    const err = await local.client
      .getRow(`${local.prefix}no_such_table`, [['id', 'x']])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'TablestoreError',
      code: 'OTSObjectNotExist',
      httpStatus: 404,
      failureClass: 'final',
    });
    expect((err as { requestId?: string }).requestId).toBeTruthy();
  });
});

describe('repositories', () => {
  it('round-trip records and reject stale versions', async () => {
    await repositoriesRoundTripAndRejectStaleVersions(await fixture());
  });
  it('page the activity log by account and time', async () => {
    await activityLogPagesByAccountAndTime(await fixture());
  });
  it('sign paging cursors with the deployment key and check them against the query', async () => {
    await cursorsAreSignedAndChecked({ client: await local.freshInstance(), prefix: local.prefix });
  });
});
