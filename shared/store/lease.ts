// Named leases (the LeaseStore of shared/domain/lease.ts) for work one runner must own at a time
// (a reconcile, a shard being pulled), with a fencing token: an int64 that grows by one each
// time the lease changes hands.
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
// A holder checks it still holds the lease before each write (LeaseGuard.stillHeld). Writes
// fenced by the token itself (a row storing the token, written only while its token is not
// newer) live beside the rows they guard (shard checkpoints: log-checkpoints.ts).

import type {
  ColumnsSpecOf,
  Condition,
  PrimaryKeySpecOf,
  TablestoreClient,
} from '../cloud/tablestore';
import { type Clock, systemClock } from '../domain/clock';
import { type AcquireLeaseResult, type Lease, LeaseLost, type LeaseStore } from '../domain/lease';
import { conditionalWrite } from './conditional-write';
import { BasePersistence } from './persistence';
import type { StoreTables } from './tables';

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

  /** Names of the leases starting with `prefix` that are held now (unexpired). */
  async heldNames(prefix: string): Promise<string[]> {
    if (prefix === '') throw new TypeError('heldNames needs a prefix');
    const last = prefix.charCodeAt(prefix.length - 1);
    const after = `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}`;
    const now = this.clock.now();
    const held: string[] = [];
    for await (const row of this.client.iterateRange({
      table: this.table.name,
      start: [['leaseName', prefix]],
      end: [['leaseName', after]],
      columns: ['expiresAt'],
    })) {
      const decoded = row.columns.expiresAt;
      if (typeof decoded === 'bigint' && Number(decoded) > now) {
        const [, name] = row.primaryKey[0] as readonly [string, unknown];
        held.push(String(name));
      }
    }
    return held;
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
      if (
        await conditionalWrite(
          this.client.putRow(this.table.name, primaryKey, columns, { condition }),
        )
      ) {
        return { acquired: true, lease: { name, owner, token, expiresAt: now + options.ttlMs } };
      }
      // Another contender got there first: look again.
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
    const written = await conditionalWrite(
      this.client.updateRow(
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
      ),
    );
    if (!written) throw new LeaseLost(lease, step);
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
