// Idempotency records (the IdempotencyStore of shared/domain/idempotency.ts, whose
// makeIdempotent uses them) in their table. Every write is conditional on the run's lock token
// (a fresh UUID per run):
// - acquire creates the record only if absent, or takes over an expired one only if it still
//   carries the token that was read (so two runs cannot both take it over);
// - complete and release succeed only while the record still carries the run's own token.
// A run that overstayed its lock (its successor took the record over) can therefore neither
// overwrite the successor's record with its result nor delete it: it gets IdempotencyLockLost.

import { randomUUID } from 'node:crypto';
import type {
  ColumnsSpecOf,
  Condition,
  PrimaryKeySpecOf,
  TablestoreClient,
} from '../cloud/tablestore';
import { type Clock, systemClock } from '../domain/clock';
import {
  type AcquireOutcome,
  IdempotencyInProgress,
  type IdempotencyLock,
  IdempotencyLockLost,
  IdempotencyPayloadMismatch,
  type IdempotencyRecord,
  type IdempotencyStore,
  recordState,
} from '../domain/idempotency';
import { conditionalWrite } from './conditional-write';
import { BasePersistence } from './persistence';
import type { StoreTables } from './tables';

type IdempotencyTable = StoreTables['idempotency'];
type Row = ReturnType<IdempotencyTable['decode']>;

/** Rounds of contention an acquire rides out before answering "in progress". */
const ACQUIRE_ROUNDS = 5;

export class TablestoreIdempotencyStore
  extends BasePersistence<PrimaryKeySpecOf<IdempotencyTable>, ColumnsSpecOf<IdempotencyTable>>
  implements IdempotencyStore
{
  constructor(client: TablestoreClient, tables: StoreTables, clock: Clock = systemClock) {
    super(client, tables.idempotency, clock);
  }

  async get(recordKey: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.readRow({ recordKey });
    return row ? fromRow(row) : undefined;
  }

  /**
   * Claims the record for a new run, or answers with the stored result. Throws
   * IdempotencyInProgress while another run holds a live lock, IdempotencyPayloadMismatch when
   * the live record was made for a different payload.
   */
  async acquire(
    recordKey: string,
    payloadHash: string,
    options: { lockMs: number; ttlMs: number; now?: number },
  ): Promise<AcquireOutcome> {
    const now = options.now ?? this.clock.now();
    let last: IdempotencyRecord | undefined;
    for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
      const lock: IdempotencyLock = {
        recordKey,
        token: randomUUID(),
        lockExpiresAt: now + options.lockMs,
      };
      const row: Row = {
        recordKey,
        status: 'in_progress',
        lockToken: lock.token,
        lockExpiresAt: BigInt(lock.lockExpiresAt),
        expiresAt: BigInt(now + options.ttlMs),
        payloadHash,
        startedAt: BigInt(now),
      };
      if (await this.tryPut(row, { row: 'expect-not-exist' })) {
        return { kind: 'acquired', lock, tookOver: false };
      }

      const existing = await this.get(recordKey);
      if (!existing) continue; // released between our put and our read: try again
      last = existing;
      const state = recordState(existing, now);
      if (state !== 'expired' && existing.payloadHash !== payloadHash) {
        throw new IdempotencyPayloadMismatch(recordKey);
      }
      if (state === 'completed') return { kind: 'completed', resultJson: existing.resultJson };
      if (state === 'in_progress') {
        throw new IdempotencyInProgress(recordKey, existing.lockExpiresAt - now);
      }
      // Expired: take it over, but only from the run we saw (its token), not from a run that
      // took it over in the meantime.
      const takeover: Condition = {
        row: 'expect-exist',
        columns: { column: 'lockToken', is: '=', value: existing.lockToken },
      };
      if (await this.tryPut(row, takeover)) return { kind: 'acquired', lock, tookOver: true };
    }
    throw new IdempotencyInProgress(recordKey, last ? Math.max(0, last.lockExpiresAt - now) : 1000);
  }

  /** Stores the result, if the record still carries this run's token. */
  async complete(
    lock: IdempotencyLock,
    resultJson: string | undefined,
    options: { ttlMs: number; now?: number },
  ): Promise<void> {
    const now = options.now ?? this.clock.now();
    const put = this.table.columns({
      status: 'completed',
      expiresAt: BigInt(now + options.ttlMs),
      lockExpiresAt: BigInt(now),
      ...(resultJson === undefined ? {} : { result: resultJson }),
    });
    const written = await conditionalWrite(
      this.client.updateRow(
        this.table.name,
        this.table.key({ recordKey: lock.recordKey }),
        { put, ...(resultJson === undefined ? { delete: ['result'] } : {}) },
        { condition: this.heldBy(lock) },
      ),
    );
    if (!written) throw new IdempotencyLockLost(lock.recordKey, 'complete');
  }

  /** Deletes the record (the run failed; a retry may run the work), if it still carries this run's token. */
  async release(lock: IdempotencyLock): Promise<void> {
    const deleted = await conditionalWrite(
      this.client.deleteRow(this.table.name, this.table.key({ recordKey: lock.recordKey }), {
        condition: this.heldBy(lock),
      }),
    );
    if (!deleted) throw new IdempotencyLockLost(lock.recordKey, 'release');
  }

  private heldBy(lock: IdempotencyLock): Condition {
    return { row: 'expect-exist', columns: { column: 'lockToken', is: '=', value: lock.token } };
  }

  private async tryPut(row: Row, condition: Condition): Promise<boolean> {
    const { primaryKey, columns } = this.table.encode(row);
    return conditionalWrite(
      this.client.putRow(this.table.name, primaryKey, columns, { condition }),
    );
  }
}

function fromRow(row: Row): IdempotencyRecord {
  const record: IdempotencyRecord = {
    recordKey: row.recordKey,
    status: row.status,
    lockToken: row.lockToken,
    lockExpiresAt: Number(row.lockExpiresAt),
    expiresAt: Number(row.expiresAt),
    payloadHash: row.payloadHash,
    startedAt: Number(row.startedAt),
  };
  if (row.result !== undefined) record.resultJson = row.result;
  return record;
}
