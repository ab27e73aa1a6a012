// Idempotency for event and timer handlers: `makeIdempotent` wraps a handler so that repeats of
// one payload run it once. The record it keeps is keyed by a hash of the payload fields that
// identify the work: in progress while one run holds its lock, completed with the stored result
// for every repeat, expired after its TTL (or after its lock ran out while in progress). The
// store (shared/store/idempotency.ts) keeps the records with writes conditional on each run's
// lock token, so a run that overstayed its lock can neither overwrite its successor's record
// nor delete it. (Powertools makes completion and release unconditional; a late run there
// clobbers its successor.)

import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { type Clock, systemClock } from './clock';

/** Records live at most this long: the store removes them afterwards (its table's TTL). */
export const MAX_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

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
// The port

export interface IdempotencyLock {
  recordKey: string;
  token: string;
  lockExpiresAt: number;
}

export type AcquireOutcome =
  | { kind: 'acquired'; lock: IdempotencyLock; tookOver: boolean }
  | { kind: 'completed'; resultJson: string | undefined };

export interface IdempotencyStore {
  /**
   * Claims the record for a new run, or answers with the stored result. Throws
   * IdempotencyInProgress while another run holds a live lock, IdempotencyPayloadMismatch when
   * the live record was made for a different payload.
   */
  acquire(
    recordKey: string,
    payloadHash: string,
    options: { lockMs: number; ttlMs: number; now?: number },
  ): Promise<AcquireOutcome>;
  /** Stores the result, if the record still carries this run's token (IdempotencyLockLost). */
  complete(
    lock: IdempotencyLock,
    resultJson: string | undefined,
    options: { ttlMs: number; now?: number },
  ): Promise<void>;
  /** Deletes the record so a retry may run the work, if it still carries this run's token. */
  release(lock: IdempotencyLock): Promise<void>;
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
  /** How long a completed record answers repeats. At most MAX_IDEMPOTENCY_TTL_SECONDS. */
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
  if (!(options.ttlSeconds > 0 && options.ttlSeconds <= MAX_IDEMPOTENCY_TTL_SECONDS)) {
    throw new RangeError(
      `makeIdempotent(${options.name}): ttlSeconds must be in (0, ${MAX_IDEMPOTENCY_TTL_SECONDS}]`,
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
      // fails (lock lost to a successor, or the store unavailable), the record stays and ends
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
