// Cell and primary-key values, and the rows they make up, as Tablestore types them, with the
// orderings the service uses: INTEGER is signed 64-bit, STRING and BINARY compare bytewise
// (STRING on its UTF-8 bytes). The model's vocabulary: no wire format here.

export type PkValue = { t: 'int'; v: bigint } | { t: 'str'; v: string } | { t: 'bin'; v: Buffer };

/** A primary-key position in a range bound or a write: a value, an infinity, or "generate it". */
export type PkInput = PkValue | { t: 'inf_min' } | { t: 'inf_max' } | { t: 'auto_incr' };

export type CellValue = PkValue | { t: 'double'; v: number } | { t: 'bool'; v: boolean };

/** Any value a request may carry where a key or a cell is expected, before it is checked. */
export type AnyValue = CellValue | PkInput;

/** What an UpdateRow cell asks besides putting a value. */
export type CellOp = 'DELETE_ALL_VERSION' | 'DELETE_ONE_VERSION' | 'INCREMENT';

/** One version of a column. */
export interface Cell {
  /** Version, in milliseconds. */
  ts: number;
  value: CellValue;
}

export interface Column {
  name: string;
  /** Newest first. */
  cells: Cell[];
}

/** A stored row: its primary key and its attribute columns. */
export interface Row {
  pk: PkValue[];
  /** Sorted by name. */
  columns: Column[];
}

export type PkType = 'INTEGER' | 'STRING' | 'BINARY';

export function pkTypeOf(value: PkValue): PkType {
  return value.t === 'int' ? 'INTEGER' : value.t === 'str' ? 'STRING' : 'BINARY';
}

/** The variant-type names the service uses in messages (VT_INTEGER, VT_STRING, ...). */
export function variantName(value: PkInput | CellValue): string {
  switch (value.t) {
    case 'int':
      return 'VT_INTEGER';
    case 'str':
      return 'VT_STRING';
    case 'bin':
      return 'VT_BLOB';
    case 'double':
      return 'VT_DOUBLE';
    case 'bool':
      return 'VT_BOOLEAN';
    case 'inf_min':
      return 'VT_INF_MIN';
    case 'inf_max':
      return 'VT_INF_MAX';
    case 'auto_incr':
      return 'VT_AUTO_INCREMENT';
  }
}

export function pkTypeVariantName(type: PkType): string {
  return type === 'INTEGER' ? 'VT_INTEGER' : type === 'STRING' ? 'VT_STRING' : 'VT_BLOB';
}

function utf8(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

/** Strings compare on their UTF-8 bytes; ASCII-only strings take the fast path. */
export function compareStrings(a: string, b: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching any non-ASCII code unit
  if (!/[^\x00-\x7f]/.test(a) && !/[^\x00-\x7f]/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(utf8(a), utf8(b));
}

/**
 * Compares two cell values of the same type; values of different types are not comparable
 * (returns undefined), which column filters treat as "condition not met".
 */
export function compareCellValues(a: CellValue, b: CellValue): number | undefined {
  if (a.t !== b.t) return undefined;
  switch (a.t) {
    case 'int': {
      const bv = (b as { v: bigint }).v;
      return a.v < bv ? -1 : a.v > bv ? 1 : 0;
    }
    case 'double': {
      const bv = (b as { v: number }).v;
      return a.v < bv ? -1 : a.v > bv ? 1 : 0;
    }
    case 'bool': {
      const bv = (b as { v: boolean }).v;
      return a.v === bv ? 0 : a.v ? 1 : -1;
    }
    case 'str':
      return compareStrings(a.v, (b as { v: string }).v);
    case 'bin':
      return Buffer.compare(a.v, (b as { v: Buffer }).v);
  }
}

/** Bytes the service counts for a value in size limits and capacity units. */
export function cellValueSize(value: CellValue): number {
  switch (value.t) {
    case 'int':
    case 'double':
      return 8;
    case 'bool':
      return 1;
    case 'str':
      return Buffer.byteLength(value.v, 'utf8');
    case 'bin':
      return value.v.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Order-preserving key encoding. A row key is a latin1 string (one char per byte) whose plain
// string order equals Tablestore's primary-key order, so the ordered map can compare with `<`.
// INTEGER: 8 bytes big-endian with the sign bit flipped. STRING/BINARY: bytes with 0x00 escaped
// as 00 FF, terminated by 00 00. INF_MIN ends the key at that column (a prefix sorts first);
// INF_MAX appends U+0100, which sorts after every byte-char.

const INF_MAX_CHAR = '\u0100';

function encodeBytes(bytes: Buffer, out: number[]): void {
  for (const byte of bytes) {
    out.push(byte);
    if (byte === 0) out.push(0xff);
  }
  out.push(0, 0);
}

function bytesToKey(out: number[]): string {
  let key = '';
  for (let i = 0; i < out.length; i += 8192) {
    key += String.fromCharCode(...out.slice(i, i + 8192));
  }
  return key;
}

const int64Scratch = Buffer.alloc(8);

function intKey(value: bigint): string {
  int64Scratch.writeBigInt64BE(BigInt.asIntN(64, value));
  int64Scratch[0] = (int64Scratch[0] as number) ^ 0x80;
  return int64Scratch.toString('latin1');
}

/** Fast path: an ASCII string without NUL is its own byte string. */
function textKey(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL needs escaping, other ASCII does not
  if (!/[^\x01-\x7f]/.test(value)) return `${value}\u0000\u0000`;
  const out: number[] = [];
  encodeBytes(utf8(value), out);
  return bytesToKey(out);
}

function valueKey(value: PkValue): string {
  if (value.t === 'int') return intKey(value.v);
  if (value.t === 'str') return textKey(value.v);
  const out: number[] = [];
  encodeBytes(value.v, out);
  return bytesToKey(out);
}

export function encodeRowKey(pk: readonly PkValue[]): string {
  let key = '';
  for (const value of pk) key += valueKey(value);
  return key;
}

/** Encodes a range bound; columns after the first infinity do not matter, as in the service. */
export function encodeBoundKey(bound: readonly PkInput[]): string {
  let key = '';
  for (const value of bound) {
    if (value.t === 'inf_min') return key;
    if (value.t === 'inf_max') return key + INF_MAX_CHAR;
    if (value.t === 'auto_incr') throw new Error('auto-increment placeholder in a range bound');
    key += valueKey(value);
  }
  return key;
}

/** Bytes of an escaped STRING/BINARY key part starting at `at`; returns them and the next position. */
function decodeEscaped(key: string, at: number): [bytes: Buffer, next: number] {
  const out: number[] = [];
  let i = at;
  for (;;) {
    if (i >= key.length) throw new Error('row key ends inside a STRING or BINARY column');
    const code = key.charCodeAt(i);
    if (code !== 0) {
      out.push(code);
      i++;
      continue;
    }
    const next = key.charCodeAt(i + 1);
    if (next === 0) return [Buffer.from(out), i + 2];
    if (next !== 0xff) throw new Error('row key has a malformed escape');
    out.push(0);
    i += 2;
  }
}

/** Inverse of encodeRowKey, given the types of the key's columns. */
export function decodeRowKey(key: string, types: readonly PkType[]): PkValue[] {
  const pk: PkValue[] = [];
  let at = 0;
  for (const type of types) {
    if (type === 'INTEGER') {
      const bytes = Buffer.from(key.slice(at, at + 8), 'latin1');
      if (bytes.length !== 8) throw new Error('row key ends inside an INTEGER column');
      bytes[0] = (bytes[0] as number) ^ 0x80;
      pk.push({ t: 'int', v: bytes.readBigInt64BE(0) });
      at += 8;
      continue;
    }
    if (type === 'STRING') {
      // Fast path: an ASCII string without NUL is its own bytes, then 00 00.
      const end = key.indexOf('\u0000', at);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: any code unit above 0x7f is not ASCII
      if (end >= 0 && key.charCodeAt(end + 1) === 0 && !/[^\x00-\x7f]/.test(key.slice(at, end))) {
        pk.push({ t: 'str', v: key.slice(at, end) });
        at = end + 2;
        continue;
      }
    }
    const [bytes, next] = decodeEscaped(key, at);
    pk.push(type === 'STRING' ? { t: 'str', v: bytes.toString('utf8') } : { t: 'bin', v: bytes });
    at = next;
  }
  if (at !== key.length) throw new Error('row key is longer than its columns');
  return pk;
}
