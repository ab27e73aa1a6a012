// Errors the store layer raises on purpose. They are AppErrors, so one that escapes a handler
// renders as a 4xx with a stable code (see shared/errors.ts) rather than a 500.

import { AppError } from '../errors';

/** An optimistic-concurrency write lost: the record changed (or vanished) since it was read. */
export class ConcurrentModification extends AppError {
  readonly status = 409;
  readonly code = 'ConcurrentModification';
  constructor(what: string, expectedVersion: number | bigint) {
    super(
      `${what} was changed or removed by another writer since version ${expectedVersion} was read; read it again and retry`,
      { details: { record: what, expectedVersion: Number(expectedVersion) } },
    );
  }
}

export class RecordAlreadyExists extends AppError {
  readonly status = 409;
  readonly code = 'AlreadyExists';
  constructor(what: string) {
    super(`${what} already exists`, { details: { record: what } });
  }
}

/** A paging cursor that this query did not produce, or that was altered. */
export class InvalidCursor extends AppError {
  readonly status = 400;
  readonly code = 'InvalidCursor';
  constructor(reason: string) {
    super(
      `The paging cursor is not valid for this query: ${reason}. Start again without a cursor.`,
    );
  }
}
