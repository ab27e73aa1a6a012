// When a failed Tablestore call may be sent again (how long to wait first is the shared backoff
// of shared/runtime/retry.ts).
//
// The rule, per failure class (errors.ts) and per operation:
//
// 1. `not-applied` failures (throttling, table not ready, row lock conflict, connection refused)
//    are retried for every operation: the service did nothing.
// 2. `final` failures are never retried.
// 3. `maybe-applied` failures (5xx, timeouts, dropped connections) leave the outcome unknown.
//    - Reads are retried.
//    - Idempotent writes are retried: an unconditional PutRow or DeleteRow, or an UpdateRow
//      that only sets or deletes columns, leaves the same row however often it lands.
//    - Conditional writes are retried, and are VERIFIABLE: if the earlier attempt did land, the
//      repeat fails its own condition (an EXPECT_NOT_EXIST put finds the row it created; a
//      `version = n` update finds version n+1). So an OTSConditionCheckFail that follows a
//      maybe-applied attempt is not trusted: the row is read back, and if it holds exactly what
//      this write produces (for a delete: the row is gone), the earlier attempt succeeded and
//      the write is reported done. Otherwise the condition failure stands. Writers make that
//      check exact by writing a value unique to the attempt (a lock token, version + 1).
//      One case stays ambiguous and is reported as a condition failure: the write landed and
//      another writer changed the row before the read-back. The caller re-reads, as it must
//      after any lost race.
//    - Increments are never retried after a maybe-applied failure: a repeat would add twice,
//      and the result cannot be recognised by reading the row.
//
// The SDK's own retry is switched off (maxRetries 0): it retries only reads, its limit is
// process-global, and it knows nothing of conditions.

import type { RetryPolicy } from '../../runtime/retry';
import type { FailureClass } from './errors';
import type { Columns, ColumnValue, Row, RowWrite } from './types';

/** The Tablestore client's default; the wait between attempts is shared/runtime/retry.ts's. */
export const TABLESTORE_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
};

/** How a repeat of an operation behaves; decides retries after `maybe-applied` failures. */
export type RepeatSafety = 'read' | 'idempotent' | 'verifiable' | 'unsafe';

export function repeatSafetyOf(write: RowWrite): RepeatSafety {
  if (write.type === 'update' && write.update.increment) {
    if (Object.keys(write.update.increment).length > 0) return 'unsafe';
  }
  const c = write.condition;
  const conditional = c !== undefined && (c.row !== 'ignore' || c.columns !== undefined);
  return conditional ? 'verifiable' : 'idempotent';
}

export function mayRetry(failure: FailureClass, safety: RepeatSafety): boolean {
  if (failure === 'not-applied') return true;
  if (failure === 'final') return false;
  return safety !== 'unsafe';
}

// ---------------------------------------------------------------------------------------------
// Recognising a write's effect in the row read back

export function sameColumnValue(a: ColumnValue | undefined, b: ColumnValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  }
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  return a === b;
}

function sameColumns(expected: Columns, actual: Columns, exact: boolean): boolean {
  for (const [name, value] of Object.entries(expected)) {
    if (!sameColumnValue(value, actual[name])) return false;
  }
  return !exact || Object.keys(actual).length === Object.keys(expected).length;
}

/**
 * True when `current` (the row as read back, undefined if absent) is what `write` leaves.
 * Put: the row holds exactly the written columns. Update: every set column holds its value and
 * every deleted column is gone. Delete: the row is absent.
 */
export function showsEffectOf(write: RowWrite, current: Row | undefined): boolean {
  switch (write.type) {
    case 'delete':
      return current === undefined;
    case 'put':
      return current !== undefined && sameColumns(write.columns, current.columns, true);
    case 'update': {
      if (current === undefined) return false;
      if (!sameColumns(write.update.put ?? {}, current.columns, false)) return false;
      return (write.update.delete ?? []).every((name) => current.columns[name] === undefined);
    }
  }
}
