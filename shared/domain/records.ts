// Versioned records: what every record a capability keeps carries (a version for optimistic
// concurrency, creation and update times), the repository contract over them, and the two
// refusals that contract promises.

import { AppError } from '../errors';

/** What every versioned record carries. */
export interface Versioned {
  /** Incremented by each successful write; pass back the one read to update or delete. */
  version: number;
  /** ISO 8601, set by the repository on create. */
  createdAt: string;
  /** ISO 8601, set by the repository on every write. */
  updatedAt: string;
}

/** A record as handed to `create`: the repository fills in version and timestamps. */
export type NewRecord<Entity extends Versioned> = Omit<
  Entity,
  'version' | 'createdAt' | 'updatedAt'
>;

/**
 * Create (version 1), update (only from the version read, writes version + 1), delete (only at
 * the version read). Nothing is read, changed and written back without that condition.
 */
export interface VersionedRepository<Entity extends Versioned, Key> {
  get(key: Key): Promise<Entity | undefined>;
  /** Every record, in key order. */
  list(): Promise<Entity[]>;
  /** Stores a new record at version 1; RecordAlreadyExists if its key is taken. */
  create(entity: NewRecord<Entity>): Promise<Entity>;
  /**
   * Stores `entity` over the version it was read at and returns it at the next version.
   * ConcurrentModification if the stored record moved on or was removed.
   */
  update(entity: Entity): Promise<Entity>;
  /** Removes the record if it is still at `version`; ConcurrentModification otherwise. */
  delete(key: Key, version: number): Promise<void>;
}

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
