// Named leases (the LeaseStore of shared/domain/lease.ts) for work one runner must own at a time
// (a reconcile, a shard being pulled), with a fencing token: an int64 that grows by one each time the lease changes hands.
//
// - acquire: creates the lease row if absent (token 1), or takes an expired lease over with a
//   conditional write on the token and expiry that were read (token + 1). Two contenders reading
//   the same expired lease race on that condition; one wins. So does a late renewal by the old
//   holder: it changes the expiry, and the takeover then fails.
// - renew: extends the expiry, conditional on token and owner. A holder may renew a lease that
//   ran out as long as nobody took it over (the token is still its own): nobody else held it.
// - release: expires the lease now, conditional on the token. The row is kept (never deleted),
//   so the token keeps growing across releases: deleting it would restart tokens at 1 and let an
//   old holder's token pass for a new one.
//
// Guarded writes: the guarded row carries a `fencingToken` column (the design chosen over a
// condition on the lease row, which Tablestore cannot express: a write's condition reads only
// the row written). A guarded write is conditional on `fencingToken <= token` (passing when the
// column or row is absent) and stores its token. Once a newer holder has written a row, an older
// holder's write to that row is refused with StaleFencingToken. A row the newer holder has not
// written yet is protected only by the old holder stopping when its lease expires: holders
// check `expiresAt` (or renew) before writing, and the token catches the ones that stall.

import {
  type Columns,
  type ColumnsSpecOf,
  type Condition,
  isTablestoreError,
  type PrimaryKey,
  type PrimaryKeySpecOf,
  type RowUpdate,
  type TablestoreClient,
} from '../cloud/tablestore';
import { type Clock, systemClock } from '../domain/clock';
import { type AcquireLeaseResult, type Lease, LeaseLost, type LeaseStore } from '../domain/lease';
import { AppError } from '../errors';
import { BasePersistence } from './persistence';
import type { StoreTables } from './tables';

/** A guarded write carried a fencing token older than one the row has already seen. */
export class StaleFencingToken extends AppError {
  readonly status = 409;
  readonly code = 'StaleFencingToken';
  constructor(table: string, leaseName: string, token: bigint) {
    super(
      `Write to ${table} refused: fencing token ${token} of lease ${leaseName} is older than the row's; a newer holder of the lease has written it. Stop the work this lease guarded.`,
      { details: { table, lease: leaseName, token: token.toString() } },
    );
  }
}

type LeasesTable = StoreTables['leases'];
type Row = ReturnType<LeasesTable['decode']>;

const ACQUIRE_ROUNDS = 5;

export class TablestoreLeaseStore
  extends BasePersistence<PrimaryKeySpecOf<LeasesTable>, ColumnsSpecOf<LeasesTable>>
  implements LeaseStore
{
  constructor(client: TablestoreClient, tables: StoreTables, clock: Clock = systemClock) {
    super(client, tables.leases, clock);
  }

  /** The lease row as stored (expired or not); undefined if it was never acquired. */
  async current(name: string): Promise<Lease | undefined> {
    const row = await this.readRow({ leaseName: name });
    return row ? fromRow(row) : undefined;
  }

  async acquire(
    name: string,
    owner: string,
    options: { ttlMs: number },
  ): Promise<AcquireLeaseResult> {
    if (!owner) throw new TypeError(`lease ${name}: an owner id is required`);
    let seen: Lease | undefined;
    for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
      const now = this.clock.now();
      seen = await this.current(name);
      if (seen && seen.expiresAt > now) {
        return {
          acquired: false,
          holder: seen.owner,
          expiresAt: seen.expiresAt,
          token: seen.token,
        };
      }
      const token = seen ? seen.token + 1n : 1n;
      const row: Row = {
        leaseName: name,
        owner,
        token,
        expiresAt: BigInt(now + options.ttlMs),
        acquiredAt: BigInt(now),
      };
      // The takeover compares token AND expiry with what was read: a renewal that lands between
      // our read and our write changes the expiry (not the token), and must make us lose.
      const condition: Condition = seen
        ? {
            row: 'expect-exist',
            columns: {
              and: [
                { column: 'token', is: '=', value: seen.token },
                { column: 'expiresAt', is: '=', value: BigInt(seen.expiresAt) },
              ],
            },
          }
        : { row: 'expect-not-exist' };
      const { primaryKey, columns } = this.table.encode(row);
      try {
        await this.client.putRow(this.table.name, primaryKey, columns, { condition });
        return { acquired: true, lease: { name, owner, token, expiresAt: now + options.ttlMs } };
      } catch (err) {
        if (!isTablestoreError(err, 'OTSConditionCheckFail')) throw err;
        // Another contender got there first: look again.
      }
    }
    const latest = seen ?? (await this.current(name));
    return {
      acquired: false,
      holder: latest?.owner ?? '',
      expiresAt: latest?.expiresAt ?? 0,
      token: latest?.token ?? 0n,
    };
  }

  async renew(lease: Lease, options: { ttlMs: number }): Promise<Lease> {
    const expiresAt = this.clock.now() + options.ttlMs;
    await this.updateIfHeld(lease, { expiresAt: BigInt(expiresAt) }, 'renew');
    return { ...lease, expiresAt };
  }

  async release(lease: Lease): Promise<void> {
    await this.updateIfHeld(lease, { expiresAt: BigInt(this.clock.now()) }, 'release');
  }

  private async updateIfHeld(lease: Lease, put: { expiresAt: bigint }, step: 'renew' | 'release') {
    try {
      await this.client.updateRow(
        this.table.name,
        this.table.key({ leaseName: lease.name }),
        { put: this.table.columns(put) },
        {
          condition: {
            row: 'expect-exist',
            columns: {
              and: [
                { column: 'token', is: '=', value: lease.token },
                { column: 'owner', is: '=', value: lease.owner },
              ],
            },
          },
        },
      );
    } catch (err) {
      if (isTablestoreError(err, 'OTSConditionCheckFail')) throw new LeaseLost(lease, step);
      throw err;
    }
  }
}

function fromRow(row: Row): Lease {
  return {
    name: row.leaseName,
    owner: row.owner,
    token: row.token,
    expiresAt: Number(row.expiresAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Guarded writes

export const FENCING_COLUMN = 'fencingToken';

/** The condition of a guarded write: the row has seen no token newer than this one. */
export function fencingCondition(token: bigint): Condition {
  return {
    row: 'ignore',
    columns: { column: FENCING_COLUMN, is: '<=', value: token, ifMissing: 'pass' },
  };
}

type Fence = Pick<Lease, 'name' | 'token'>;

/** Puts a row guarded by a lease: refused with StaleFencingToken if a newer holder wrote it. */
export async function fencedPutRow(
  client: TablestoreClient,
  table: string,
  primaryKey: PrimaryKey,
  columns: Columns,
  fence: Fence,
): Promise<void> {
  try {
    await client.putRow(
      table,
      primaryKey,
      { ...columns, [FENCING_COLUMN]: fence.token },
      { condition: fencingCondition(fence.token) },
    );
  } catch (err) {
    if (isTablestoreError(err, 'OTSConditionCheckFail')) {
      throw new StaleFencingToken(table, fence.name, fence.token);
    }
    throw err;
  }
}

/** Updates a row guarded by a lease: refused with StaleFencingToken if a newer holder wrote it. */
export async function fencedUpdateRow(
  client: TablestoreClient,
  table: string,
  primaryKey: PrimaryKey,
  update: RowUpdate,
  fence: Fence,
): Promise<void> {
  try {
    await client.updateRow(
      table,
      primaryKey,
      { ...update, put: { ...update.put, [FENCING_COLUMN]: fence.token } },
      { condition: fencingCondition(fence.token) },
    );
  } catch (err) {
    if (isTablestoreError(err, 'OTSConditionCheckFail')) {
      throw new StaleFencingToken(table, fence.name, fence.token);
    }
    throw err;
  }
}
