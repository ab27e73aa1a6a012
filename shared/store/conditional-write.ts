// Every write the store makes is conditional (persistence.ts says why). A failed condition
// (OTSConditionCheckFail) is an answer, not a fault: the row was not as the writer expected.
// Each repository gives that answer its own meaning (the record exists, it moved on, the lease
// changed hands, a newer observation is kept) through this one helper; any other failure throws.

import { isTablestoreError } from '../cloud/tablestore';

/** True when the row condition of a write failed. */
export function isConditionFailure(error: unknown): boolean {
  return isTablestoreError(error, 'OTSConditionCheckFail');
}

/** Awaits a conditional write: true when it was applied, false when its condition failed. */
export async function conditionalWrite(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
