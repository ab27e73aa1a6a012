// Paging cursors: the next start key of a range, bound to the query that produced it. Opaque to
// callers (base64url JSON), checked on the way back in: a cursor from another query, another
// table or an edited one is refused, never silently misread.

import type { PrimaryKey, PrimaryKeyValue } from '../cloud/tablestore';
import { InvalidCursor } from './errors';

type EncodedValue = ['s', string] | ['i', string] | ['b', string];

interface CursorBody {
  q: string;
  k: Array<[string, ...EncodedValue]>;
}

function encodeValue(value: PrimaryKeyValue): EncodedValue {
  if (typeof value === 'string') return ['s', value];
  if (typeof value === 'bigint') return ['i', value.toString()];
  return ['b', value.toString('base64')];
}

export function encodeCursor(next: PrimaryKey, binding: string): string {
  const body: CursorBody = {
    q: binding,
    k: next.map(([name, value]) => [name, ...encodeValue(value)]),
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeCursor(
  cursor: string,
  binding: string,
  primaryKeyNames: readonly string[],
): PrimaryKey {
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
  } catch {
    throw new InvalidCursor('it is not a cursor this service issued');
  }
  if (typeof body !== 'object' || body === null || body.q !== binding || !Array.isArray(body.k)) {
    throw new InvalidCursor('it belongs to a different query');
  }
  if (body.k.length !== primaryKeyNames.length)
    throw new InvalidCursor('its key has the wrong shape');
  return body.k.map((entry, i) => {
    const [name, type, raw] = entry;
    if (name !== primaryKeyNames[i] || typeof raw !== 'string') {
      throw new InvalidCursor('its key has the wrong shape');
    }
    if (type === 's') return [name, raw] as const;
    if (type === 'i' && /^-?\d{1,19}$/.test(raw)) return [name, BigInt(raw)] as const;
    if (type === 'b') return [name, Buffer.from(raw, 'base64')] as const;
    throw new InvalidCursor('its key has the wrong shape');
  });
}
