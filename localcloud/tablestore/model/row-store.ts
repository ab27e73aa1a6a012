// The rows of one table, kept compact: a million rows must fit in a few hundred megabytes, so a
// stored row is not an object graph (a Row with its columns, cells and boxed values costs about
// 3 KB for ten columns) but one byte string in the ordered map, decoded into a Row when it is
// read. The key is the order-preserving row key of values.ts (it holds the primary key, so the
// encoding below carries the attribute columns only); column names are numbered once per table.
//
// Encoding (varints are base-128, little end first; zigzag maps signed to unsigned):
//   row    := columnCount [newestTs columns...]          (no newestTs when there are no columns)
//   column := nameId cellCount cell...                   (cells newest first, as in Row)
//   cell   := zigzag(ts - newestTs) tag payload
//   tag    := 0 integer as zigzag varint (|v| < 2^52) | 1 integer as 8 bytes (big-endian)
//           | 2 double (8 bytes) | 3 false | 4 true
//           | 5 ASCII string, 6 other string (UTF-8), 7 binary: each varint length + bytes
// A byte string is a V8 one-byte string: 16 bytes of header, then one byte per byte.

import { OrderedMap } from './ordered-map';
import {
  type Cell,
  type CellValue,
  type Column,
  decodeRowKey,
  type PkType,
  type PkValue,
  type Row,
} from './values';

const TAG_SMALL_INT = 0;
const TAG_INT64 = 1;
const TAG_DOUBLE = 2;
const TAG_FALSE = 3;
const TAG_TRUE = 4;
const TAG_ASCII = 5;
const TAG_UTF8 = 6;
const TAG_BINARY = 7;

const SMALL_INT_LIMIT = 2n ** 52n;

// biome-ignore lint/suspicious/noControlCharactersInRegex: any code unit above 0x7f is not ASCII
const NON_ASCII = /[^\x00-\x7f]/;

/** The bytes of the row being encoded; grown as needed, shared by every store (one thread). */
let out = Buffer.allocUnsafe(4096);
let length = 0;

function ensure(extra: number): void {
  if (length + extra <= out.length) return;
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, length + extra));
  out.copy(next, 0, 0, length);
  out = next;
}

function writeVarint(value: number): void {
  ensure(8);
  let n = value;
  while (n >= 0x80) {
    out[length++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[length++] = n;
}

function writeZigzag(value: number): void {
  writeVarint(value >= 0 ? value * 2 : -value * 2 - 1);
}

function writeCellValue(value: CellValue): void {
  switch (value.t) {
    case 'int':
      if (value.v > -SMALL_INT_LIMIT && value.v < SMALL_INT_LIMIT) {
        ensure(1);
        out[length++] = TAG_SMALL_INT;
        writeZigzag(Number(value.v));
      } else {
        ensure(9);
        out[length++] = TAG_INT64;
        out.writeBigInt64BE(value.v, length);
        length += 8;
      }
      return;
    case 'double':
      ensure(9);
      out[length++] = TAG_DOUBLE;
      out.writeDoubleLE(value.v, length);
      length += 8;
      return;
    case 'bool':
      ensure(1);
      out[length++] = value.v ? TAG_TRUE : TAG_FALSE;
      return;
    case 'str': {
      const ascii = !NON_ASCII.test(value.v);
      const bytes = ascii ? value.v.length : Buffer.byteLength(value.v, 'utf8');
      ensure(1);
      out[length++] = ascii ? TAG_ASCII : TAG_UTF8;
      writeVarint(bytes);
      ensure(bytes);
      length += out.write(value.v, length, bytes, ascii ? 'latin1' : 'utf8');
      return;
    }
    case 'bin':
      ensure(1);
      out[length++] = TAG_BINARY;
      writeVarint(value.v.length);
      ensure(value.v.length);
      length += value.v.copy(out, length);
      return;
  }
}

/** Where a decoded value's bytes are copied; grown as needed. */
let scratch = Buffer.allocUnsafe(4096);

/** Reads an encoded row; `at` moves along the string. */
class Reader {
  at = 0;
  constructor(readonly text: string) {}

  byte(): number {
    return this.text.charCodeAt(this.at++);
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.text.charCodeAt(this.at++);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** The next `count` bytes in the shared scratch buffer (valid until the next call). */
  bytes(count: number): Buffer {
    if (count > scratch.length) scratch = Buffer.allocUnsafe(Math.max(count, scratch.length * 2));
    const text = this.text;
    for (let i = 0; i < count; i++) scratch[i] = text.charCodeAt(this.at + i);
    this.at += count;
    return scratch;
  }
}

function readCellValue(reader: Reader): CellValue {
  const tag = reader.byte();
  switch (tag) {
    case TAG_SMALL_INT:
      return { t: 'int', v: BigInt(reader.zigzag()) };
    case TAG_INT64:
      return { t: 'int', v: reader.bytes(8).readBigInt64BE(0) };
    case TAG_DOUBLE:
      return { t: 'double', v: reader.bytes(8).readDoubleLE(0) };
    case TAG_FALSE:
      return { t: 'bool', v: false };
    case TAG_TRUE:
      return { t: 'bool', v: true };
    case TAG_ASCII: {
      // A slice of the row string (V8 may share the row's characters: whoever keeps the value
      // for long, such as a search index's term dictionary, copies it).
      const count = reader.varint();
      const value = reader.text.slice(reader.at, reader.at + count);
      reader.at += count;
      return { t: 'str', v: value };
    }
    case TAG_UTF8: {
      const count = reader.varint();
      return { t: 'str', v: reader.bytes(count).toString('utf8', 0, count) };
    }
    case TAG_BINARY: {
      const count = reader.varint();
      return { t: 'bin', v: Buffer.from(reader.bytes(count).subarray(0, count)) };
    }
    default:
      throw new Error(`stored row has an unknown value tag ${tag}`);
  }
}

export class RowStore {
  private readonly map = new OrderedMap<string>();
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();

  /** `keyTypes`: the table's primary-key column types, to decode a row's key. */
  constructor(private readonly keyTypes: readonly PkType[]) {}

  get size(): number {
    return this.map.size;
  }

  private nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }

  private encode(row: Row): string {
    length = 0;
    writeVarint(row.columns.length);
    if (row.columns.length === 0) return out.toString('latin1', 0, length);
    let newest = 0;
    for (const column of row.columns) {
      const ts = (column.cells[0] as Cell).ts;
      if (ts > newest) newest = ts;
    }
    writeVarint(newest);
    for (const column of row.columns) {
      writeVarint(this.nameId(column.name));
      writeVarint(column.cells.length);
      for (const cell of column.cells) {
        writeZigzag(cell.ts - newest);
        writeCellValue(cell.value);
      }
    }
    return out.toString('latin1', 0, length);
  }

  private decode(key: string, encoded: string): Row {
    const reader = new Reader(encoded);
    const count = reader.varint();
    const columns: Column[] = new Array(count);
    const newest = count > 0 ? reader.varint() : 0;
    for (let c = 0; c < count; c++) {
      const name = this.names[reader.varint()] as string;
      const cellCount = reader.varint();
      const cells: Cell[] = new Array(cellCount);
      for (let i = 0; i < cellCount; i++) {
        const ts = newest + reader.zigzag();
        cells[i] = { ts, value: readCellValue(reader) };
      }
      columns[c] = { name, cells };
    }
    return { pk: decodeRowKey(key, this.keyTypes), columns };
  }

  /** The primary key a row key stands for. */
  primaryKey(key: string): PkValue[] {
    return decodeRowKey(key, this.keyTypes);
  }

  get(key: string): Row | undefined {
    const encoded = this.map.get(key);
    return encoded === undefined ? undefined : this.decode(key, encoded);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, row: Row): void {
    this.map.set(key, this.encode(row));
  }

  /** Removes the row; true when there was one. */
  delete(key: string): boolean {
    return this.map.delete(key) !== undefined;
  }

  /** Rows with lower <= key < upper, ascending. */
  *ascending(lower: string, upper: string): Generator<[string, Row]> {
    for (const [key, encoded] of this.map.ascending(lower, upper))
      yield [key, this.decode(key, encoded)];
  }

  /** Rows with lower < key <= upper, descending. */
  *descending(upper: string, lower: string): Generator<[string, Row]> {
    for (const [key, encoded] of this.map.descending(upper, lower))
      yield [key, this.decode(key, encoded)];
  }

  *entries(): Generator<[string, Row]> {
    for (const [key, encoded] of this.map.entries()) yield [key, this.decode(key, encoded)];
  }
}
