// Errors the store layer raises on purpose besides those its ports promise (shared/domain). They
// are AppErrors, so one that escapes a handler renders as a 4xx with a stable code (see
// shared/errors.ts) rather than a 500.

import { AppError } from '../errors';

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
