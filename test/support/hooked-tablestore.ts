// TEST DOUBLE: the in-memory Tablestore double (memory-tablestore.ts) with a hook before each
// call, so a store test can fail one call (throttling) or change a row between a read and a
// write (a contender) at exactly the point it wants, and with single rows of a batch failed.

import {
  type Columns,
  type Condition,
  type PrimaryKey,
  type RowUpdate,
  type RowWrite,
  type RowWriteResult,
  TablestoreError,
} from '../../shared/cloud/tablestore';
import { MemoryTablestore } from './memory-tablestore';

export type HookedOperation = 'GetRow' | 'PutRow' | 'UpdateRow' | 'DeleteRow';

export class HookedTablestore extends MemoryTablestore {
  /** Runs before each single-row call; throw from it to fail the call. */
  before: ((operation: HookedOperation, table: string) => void | Promise<void>) | undefined;

  /** Fails single rows of a BatchWriteRow (the rest of the batch is applied). */
  failRow: ((write: RowWrite) => TablestoreError | undefined) | undefined;

  override async batchWriteRows(writes: readonly RowWrite[]): Promise<RowWriteResult[]> {
    const failures = writes.map((w) => this.failRow?.(w));
    const applied = await super.batchWriteRows(writes.filter((_, i) => !failures[i]));
    return failures.map((error) =>
      error ? { ok: false, error } : (applied.shift() as RowWriteResult),
    );
  }

  override async getRow(table: string, primaryKey: PrimaryKey) {
    await this.before?.('GetRow', table);
    return super.getRow(table, primaryKey);
  }
  override async putRow(
    table: string,
    primaryKey: PrimaryKey,
    columns: Columns,
    options: { condition?: Condition } = {},
  ) {
    await this.before?.('PutRow', table);
    return super.putRow(table, primaryKey, columns, options);
  }
  override async updateRow(
    table: string,
    primaryKey: PrimaryKey,
    update: RowUpdate,
    options: { condition?: Condition } = {},
  ) {
    await this.before?.('UpdateRow', table);
    return super.updateRow(table, primaryKey, update, options);
  }
  override async deleteRow(
    table: string,
    primaryKey: PrimaryKey,
    options: { condition?: Condition } = {},
  ) {
    await this.before?.('DeleteRow', table);
    return super.deleteRow(table, primaryKey, options);
  }
}

/** What the adapter raises when Tablestore throttles a write (OTSServerBusy, 503). */
export function throttled(operation: string, table: string): TablestoreError {
  return new TablestoreError({
    code: 'OTSServerBusy',
    serverMessage: 'Server is busy.',
    httpStatus: 503,
    requestId: 'req-busy',
    operation,
    table,
    failureClass: 'not-applied',
  });
}
