// Idempotency for event and timer handlers: a record keyed by a hash of the payload fields that
// identify the work, in progress while one run holds its lock, completed with the stored result
// for every repeat, expired after its TTL (or after its lock ran out while in progress).
//
// Every write is conditional on the run's lock token (a fresh UUID per run):
// - acquire creates the record only if absent, or takes over an expired one only if it still
//   carries the token that was read (so two runs cannot both take it over);
// - complete and release succeed only while the record still carries the run's own token.
// A run that overstayed its lock (its successor took the record over) can therefore neither
// overwrite the successor's record with its result nor delete it: it gets IdempotencyLockLost.
// (Powertools makes completion and release unconditional; a late run there clobbers its
// successor.)

import { createHash, randomUUID } from 'node:crypto';
import {
  type ColumnsSpecOf,
  type Condition,
  isTablestoreError,
  type PrimaryKeySpecOf,
  type TablestoreClient,
} from '../cloud/tablestore';
import { AppError } from '../errors';
import { type Clock, systemClock } from './clock';
import { BasePersistence } from './persistence';
import { IDEMPOTENCY_TABLE_TTL_SECONDS, type StoreTables } from './tables';

// ---------------------------------------------------------------------------------------------
// Errors

/** Another run holds the record: the answer to a repeat that arrives while the work runs. */
export class IdempotencyInProgress extends AppError {
  readonly status = 409;
  readonly code = 'RequestInProgress';
  constructor(
    readonly recordKey: string,
    readonly retryAfterMs: number,
  ) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(
      `The same request is already being processed (idempotency record ${recordKey}); retry after ${seconds} s`,
      { headers: { 'Retry-After': String(seconds) }, details: { retryAfterSeconds: seconds } },
    );
  }
}

/** The idempotency key was seen before with a different payload. */
export class IdempotencyPayloadMismatch extends AppError {
  readonly status = 422;
  readonly code = 'IdempotencyKeyReused';
  constructor(readonly recordKey: string) {
    super(
      `The idempotency key of this request was already used with a different payload (record ${recordKey}); send a new key for a different request`,
    );
  }
}

/**
 * The run's lock expired and another run took the record over: this run may not complete or
 * release it. `result` is what this run computed, when it got that far.
 */
export class IdempotencyLockLost extends AppError {
  readonly status = 409;
  readonly code = 'IdempotencyLockLost';
  constructor(
    readonly recordKey: string,
    readonly step: 'complete' | 'release',
    readonly result?: unknown,
  ) {
    super(
      `Could not ${step} idempotency record ${recordKey}: this run's lock expired and another run now holds the record. Its lock must outlast the handler's timeout.`,
    );
  }
}

export class IdempotencyKeyMissing extends AppError {
  readonly status = 400;
  readonly code = 'IdempotencyKeyMissing';
  constructor(name: string) {
    super(`The payload carries no idempotency key for ${name} (the key selector returned nothing)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pure rules

export type IdempotencyState = 'in_progress' | 'completed' | 'expired';

export interface IdempotencyRecord {
  recordKey: string;
  status: 'in_progress' | 'completed';
  lockToken: string;
  /** Epoch ms. */
  lockExpiresAt: number;
  /** Epoch ms. */
  expiresAt: number;
  payloadHash: string;
  /** JSON text of the result; absent while in progress or when the result was undefined. */
  resultJson?: string;
  startedAt: number;
}

export function recordState(record: IdempotencyRecord, now: number): IdempotencyState {
  if (record.expiresAt <= now) return 'expired';
  if (record.status === 'completed') return 'completed';
  return record.lockExpiresAt > now ? 'in_progress' : 'expired';
}

/**
 * JSON with object keys sorted at every level, so equal values hash equally whatever their key
 * order. bigint is written as "<digits>n"; undefined members are left out as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(`${value}n`);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return canonicalJson(json.call(value));
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The record key of a payload: `<name>#<sha256 of the selected fields>`. */
export function idempotencyRecordKey(name: string, selected: unknown): string {
  return `${name}#${sha256Hex(canonicalJson(selected))}`;
}

// ---------------------------------------------------------------------------------------------
// Store

export interface IdempotencyLock {
  recordKey: string;
  token: string;
  lockExpiresAt: number;
}

export type AcquireOutcome =
  | { kind: 'acquired'; lock: IdempotencyLock; tookOver: boolean }
  | { kind: 'completed'; resultJson: string | undefined };

type IdempotencyTable = StoreTables['idempotency'];
type Row = ReturnType<IdempotencyTable['decode']>;

/** Rounds of contention an acquire rides out before answering "in progress". */
const ACQUIRE_ROUNDS = 5;

export class IdempotencyStore extends BasePersistence<
  PrimaryKeySpecOf<IdempotencyTable>,
  ColumnsSpecOf<IdempotencyTable>
> {
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
    try {
      await this.client.updateRow(
        this.table.name,
        this.table.key({ recordKey: lock.recordKey }),
        { put, ...(resultJson === undefined ? { delete: ['result'] } : {}) },
        { condition: this.heldBy(lock) },
      );
    } catch (err) {
      if (isTablestoreError(err, 'OTSConditionCheckFail')) {
        throw new IdempotencyLockLost(lock.recordKey, 'complete');
      }
      throw err;
    }
  }

  /** Deletes the record (the run failed; a retry may run the work), if it still carries this run's token. */
  async release(lock: IdempotencyLock): Promise<void> {
    try {
      await this.client.deleteRow(this.table.name, this.table.key({ recordKey: lock.recordKey }), {
        condition: this.heldBy(lock),
      });
    } catch (err) {
      if (isTablestoreError(err, 'OTSConditionCheckFail')) {
        throw new IdempotencyLockLost(lock.recordKey, 'release');
      }
      throw err;
    }
  }

  private heldBy(lock: IdempotencyLock): Condition {
    return { row: 'expect-exist', columns: { column: 'lockToken', is: '=', value: lock.token } };
  }

  private async tryPut(row: Row, condition: Condition): Promise<boolean> {
    const { primaryKey, columns } = this.table.encode(row);
    try {
      await this.client.putRow(this.table.name, primaryKey, columns, { condition });
      return true;
    } catch (err) {
      if (isTablestoreError(err, 'OTSConditionCheckFail')) return false;
      throw err;
    }
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

// ---------------------------------------------------------------------------------------------
// The wrapper handlers use

export interface ResultCodec<R> {
  serialize(result: R): string | undefined;
  parse(text: string | undefined): R;
}

export interface IdempotencyOptions<P, R> {
  store: IdempotencyStore;
  /** Names the handler: records of different handlers never collide. */
  name: string;
  /** The payload fields that identify the work (an explicit selector, no JMESPath). */
  keyOf: (payload: P) => unknown;
  /** The fields a repeat must match; the whole payload when absent. */
  payloadOf?: (payload: P) => unknown;
  /** How long a completed record answers repeats. At most 7 days (the table's TTL). */
  ttlSeconds: number;
  /** How long a run holds the record; must outlast the handler's timeout. */
  lockSeconds: number;
  clock?: Clock;
  /** How results are stored; JSON by default (so results must be JSON values). */
  codec?: ResultCodec<R>;
}

/** Results are stored in one column; Tablestore allows 2 MB per value. */
const MAX_RESULT_BYTES = 2 * 1024 * 1024 - 1024;

function jsonCodec<R>(): ResultCodec<R> {
  return {
    serialize: (result) => (result === undefined ? undefined : JSON.stringify(result)),
    parse: (text) => (text === undefined ? undefined : JSON.parse(text)) as R,
  };
}

/**
 * Wraps a handler so that repeats of one payload (same key) run it once: the first run does the
 * work, repeats get its stored result, and a repeat during the run gets IdempotencyInProgress.
 * If the handler throws, the record is released so a retry can run it again.
 */
export function makeIdempotent<P, A extends unknown[], R>(
  fn: (payload: P, ...rest: A) => Promise<R>,
  options: IdempotencyOptions<P, R>,
): (payload: P, ...rest: A) => Promise<R> {
  if (!options.name) throw new TypeError('makeIdempotent: a name is required');
  if (!(options.ttlSeconds > 0 && options.ttlSeconds <= IDEMPOTENCY_TABLE_TTL_SECONDS)) {
    throw new RangeError(
      `makeIdempotent(${options.name}): ttlSeconds must be in (0, ${IDEMPOTENCY_TABLE_TTL_SECONDS}]`,
    );
  }
  if (!(options.lockSeconds > 0 && options.lockSeconds <= options.ttlSeconds)) {
    throw new RangeError(`makeIdempotent(${options.name}): lockSeconds must be in (0, ttlSeconds]`);
  }
  const clock = options.clock ?? systemClock;
  const codec = options.codec ?? jsonCodec<R>();
  const ttlMs = options.ttlSeconds * 1000;
  const lockMs = options.lockSeconds * 1000;

  return async (payload: P, ...rest: A): Promise<R> => {
    const selected = options.keyOf(payload);
    if (selected === undefined || selected === null || selected === '') {
      throw new IdempotencyKeyMissing(options.name);
    }
    const recordKey = idempotencyRecordKey(options.name, selected);
    const payloadHash = sha256Hex(
      canonicalJson(options.payloadOf ? options.payloadOf(payload) : payload),
    );

    const outcome = await options.store.acquire(recordKey, payloadHash, {
      lockMs,
      ttlMs,
      now: clock.now(),
    });
    if (outcome.kind === 'completed') return codec.parse(outcome.resultJson);

    let result: R;
    try {
      result = await fn(payload, ...rest);
    } catch (err) {
      // Let a retry run the work. The handler's error is what the caller needs; if the release
      // fails (lock lost to a successor, or Tablestore unavailable), the record stays and ends
      // with its lock, after which a retry runs the work.
      await options.store.release(outcome.lock).catch(() => undefined);
      throw err;
    }

    const text = codec.serialize(result);
    if (text !== undefined && Buffer.byteLength(text, 'utf8') > MAX_RESULT_BYTES) {
      await options.store.release(outcome.lock).catch(() => undefined);
      throw new RangeError(
        `makeIdempotent(${options.name}): the result is ${Buffer.byteLength(text, 'utf8')} bytes, more than a record can keep (${MAX_RESULT_BYTES}); return a smaller result`,
      );
    }
    try {
      await options.store.complete(outcome.lock, text, { ttlMs, now: clock.now() });
    } catch (err) {
      if (err instanceof IdempotencyLockLost) {
        throw new IdempotencyLockLost(recordKey, 'complete', result);
      }
      throw err;
    }
    return result;
  };
}
