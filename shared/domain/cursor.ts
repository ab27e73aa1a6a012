// Paging cursors, the one codec every paged route uses. A cursor is the position a page stopped
// at (the next start key, as typed values) and a signature: HMAC-SHA256, under a key only this
// deployment holds, over the query the cursor belongs to and that position. So a cursor is
// opaque and tamper-evident: an edited one, another route's, another query's or another
// deployment's fails the signature and is refused as InvalidCursor (400), never read. The store
// produces and consumes the positions and checks them against its table on top of this.
//
//   <base64url(JSON {v:1, k:[["s",text] | ["i",int64 decimal] | ["b",base64]]})>.<base64url(mac)>

import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors';

/** One value of a position: a string, an int64 or bytes (Tablestore's primary key types). */
export type CursorValue = string | bigint | Uint8Array;

/** A cursor this deployment did not issue for this query, or one that was altered. */
export class InvalidCursor extends AppError {
  readonly status = 400;
  readonly code = 'InvalidCursor';
  /** @param field the query parameter that carried it (`cursor`; `pageToken` on /v1/sessions). */
  constructor(
    readonly reason: string,
    field = 'cursor',
  ) {
    super(
      `The paging ${field} is not valid for this query: ${reason}. Start again without a ${field}.`,
      { details: { issues: [{ location: 'query', field, message: reason }] } },
    );
  }
}

export interface CursorCodec {
  /** A cursor for `position`, valid only with the same `query` and this deployment's key. */
  encode(query: string, position: readonly CursorValue[]): Promise<string>;
  /** The position of a cursor issued by `encode` for `query`; InvalidCursor otherwise. */
  decode(query: string, cursor: string): Promise<CursorValue[]>;
}

/** The signing key's source: at least 32 random bytes, the same for every process of a deployment. */
export type CursorKeySource = () => Promise<Uint8Array>;

const VERSION = 1;
/** 128 bits of HMAC-SHA256: forging one takes 2^128 tries on average. */
const MAC_BYTES = 16;
const MAX_VALUES = 4;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const INT64 = /^-?\d{1,19}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type EncodedValue = ['s', string] | ['i', string] | ['b', string];

/**
 * The codec over a key source. The key is read once (the first cursor encoded or decoded) and
 * kept for the life of the process; a failed read is tried again on the next call.
 */
export function createCursorCodec(keySource: CursorKeySource): CursorCodec {
  let key: Promise<Uint8Array> | undefined;
  const signingKey = (): Promise<Uint8Array> => {
    key ??= keySource().then(
      (bytes) => {
        if (bytes.length < 32) throw new Error('The cursor signing key is shorter than 32 bytes');
        return bytes;
      },
      (error: unknown) => {
        key = undefined;
        throw error;
      },
    );
    return key;
  };
  const mac = (secret: Uint8Array, query: string, payload: string): Buffer =>
    createHmac('sha256', secret)
      .update(`rdg-cursor/v${VERSION}\n${query}\n${payload}`, 'utf8')
      .digest()
      .subarray(0, MAC_BYTES);

  return {
    async encode(query, position) {
      const body = { v: VERSION, k: position.map(encodeValue) };
      const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
      return `${payload}.${mac(await signingKey(), query, payload).toString('base64url')}`;
    },

    async decode(query, cursor) {
      const [payload, signature, ...rest] = cursor.split('.');
      if (
        payload === undefined ||
        signature === undefined ||
        rest.length > 0 ||
        !BASE64URL.test(payload) ||
        !BASE64URL.test(signature)
      ) {
        throw new InvalidCursor('it is not a cursor this service issued');
      }
      const expected = mac(await signingKey(), query, payload);
      const given = Buffer.from(signature, 'base64url');
      // Canonical encoding only: base64 leaves spare bits in its last character, and a cursor
      // that differs from an issued one in any character must not pass.
      const canonical = given.toString('base64url') === signature;
      if (!canonical || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InvalidCursor(
          'it was issued for another query or by another deployment, or it was altered',
        );
      }
      // Signed by this deployment for this query: what follows cannot fail for a cursor that
      // `encode` wrote, and is checked all the same.
      return decodeBody(Buffer.from(payload, 'base64url').toString('utf8'));
    },
  };
}

function encodeValue(value: CursorValue): EncodedValue {
  if (typeof value === 'string') return ['s', value];
  if (typeof value === 'bigint') return ['i', value.toString()];
  return ['b', Buffer.from(value).toString('base64')];
}

function decodeBody(text: string): CursorValue[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed();
  }
  if (typeof body !== 'object' || body === null || !('v' in body) || !('k' in body)) {
    throw malformed();
  }
  const { v, k } = body as { v: unknown; k: unknown };
  if (v !== VERSION || !Array.isArray(k) || k.length < 1 || k.length > MAX_VALUES) {
    throw malformed();
  }
  return k.map(decodeValue);
}

function decodeValue(entry: unknown): CursorValue {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[1] !== 'string') {
    throw malformed();
  }
  const [type, raw] = entry as [unknown, string];
  if (type === 's') return raw;
  if (type === 'i' && INT64.test(raw)) {
    const value = BigInt(raw);
    if (value >= INT64_MIN && value <= INT64_MAX) return value;
  }
  if (type === 'b' && BASE64.test(raw)) return Buffer.from(raw, 'base64');
  throw malformed();
}

function malformed(): InvalidCursor {
  return new InvalidCursor('its position is malformed');
}
