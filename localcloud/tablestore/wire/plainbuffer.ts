// PlainBuffer: Tablestore's row encoding inside the protobuf messages, written from the format
// (not from any SDK's codec, so a bug on one side cannot hide the same bug on the other).
//
//   buffer  = u32le 0x75 row*
//   row     = TAG_ROW_PK pkcell* [TAG_ROW_DATA cell*] [TAG_DELETE_ROW_MARKER] TAG_ROW_CHECKSUM u8
//   pkcell  = TAG_CELL TAG_CELL_NAME u32le name TAG_CELL_VALUE u32le variant TAG_CELL_CHECKSUM u8
//   cell    = TAG_CELL TAG_CELL_NAME u32le name [TAG_CELL_VALUE u32le variant] [TAG_CELL_TYPE u8]
//             [TAG_CELL_TIMESTAMP i64le] TAG_CELL_CHECKSUM u8
//   variant = type u8, then INTEGER i64le | DOUBLE f64le | BOOLEAN u8 | STRING/BLOB u32le bytes
//             | INF_MIN, INF_MAX, AUTO_INCREMENT: nothing
//
// Cell checksum: CRC-8 (poly 0x07, init 0) over the name bytes, the variant bytes, the timestamp
// bytes, then the cell-type byte. Row checksum: CRC-8 over each cell checksum, then one byte for
// the delete marker (1 or 0).

import type { AnyValue, CellOp } from '../model/values';

export const HEADER = 0x75;
export const TAG = {
  ROW_PK: 0x01,
  ROW_DATA: 0x02,
  CELL: 0x03,
  CELL_NAME: 0x04,
  CELL_VALUE: 0x05,
  CELL_TYPE: 0x06,
  CELL_TIMESTAMP: 0x07,
  DELETE_ROW_MARKER: 0x08,
  ROW_CHECKSUM: 0x09,
  CELL_CHECKSUM: 0x0a,
} as const;

export const VT = {
  INTEGER: 0x0,
  DOUBLE: 0x1,
  BOOLEAN: 0x2,
  STRING: 0x3,
  NULL: 0x6,
  BLOB: 0x7,
  INF_MIN: 0x9,
  INF_MAX: 0xa,
  AUTO_INCREMENT: 0xb,
} as const;

export const CELL_OP = {
  DELETE_ALL_VERSION: 0x1,
  DELETE_ONE_VERSION: 0x3,
  INCREMENT: 0x4,
} as const;

export interface PlainBufferCell {
  name: string;
  value?: AnyValue;
  op?: CellOp;
  ts?: bigint;
}

export interface PlainBufferPkCell {
  name: string;
  value: AnyValue;
}

export interface PlainBufferRow {
  pk: PlainBufferPkCell[];
  cells: PlainBufferCell[];
  deleteMarker: boolean;
}

/** A malformed PlainBuffer; the message follows the service's "Cell data broken" wording. */
export class PlainBufferError extends Error {}

// ------------------------------------------------------------------------------------ CRC-8

const CRC8_TABLE = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    table[i] = crc;
  }
  return table;
})();

export function crc8Byte(crc: number, byte: number): number {
  return CRC8_TABLE[(crc ^ byte) & 0xff] as number;
}

export function crc8(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = crc;
  for (let i = start; i < end; i++) c = CRC8_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number;
  return c;
}

// ------------------------------------------------------------------------------------ encode

class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }
  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }
  i64(value: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(BigInt.asIntN(64, value), this.pos);
    this.pos += 8;
  }
  f64(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }
  bytes(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }
  utf8(value: string): number {
    const length = Buffer.byteLength(value, 'utf8');
    this.ensure(length);
    this.buf.write(value, this.pos, length, 'utf8');
    this.pos += length;
    return length;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Writes `type + payload` (the variant) and returns nothing; callers CRC the written span. */
function writeVariant(w: ByteWriter, value: AnyValue): void {
  switch (value.t) {
    case 'int':
      w.u8(VT.INTEGER);
      w.i64(value.v);
      return;
    case 'double':
      w.u8(VT.DOUBLE);
      w.f64(value.v);
      return;
    case 'bool':
      w.u8(VT.BOOLEAN);
      w.u8(value.v ? 1 : 0);
      return;
    case 'str': {
      w.u8(VT.STRING);
      const lengthAt = w.pos;
      w.u32(0);
      const length = w.utf8(value.v);
      w.buf.writeUInt32LE(length, lengthAt);
      return;
    }
    case 'bin':
      w.u8(VT.BLOB);
      w.u32(value.v.length);
      w.bytes(value.v);
      return;
    case 'inf_min':
      w.u8(VT.INF_MIN);
      return;
    case 'inf_max':
      w.u8(VT.INF_MAX);
      return;
    case 'auto_incr':
      w.u8(VT.AUTO_INCREMENT);
      return;
  }
}

function writeName(w: ByteWriter, name: string): number {
  w.u8(TAG.CELL_NAME);
  const lengthAt = w.pos;
  w.u32(0);
  const start = w.pos;
  const length = w.utf8(name);
  w.buf.writeUInt32LE(length, lengthAt);
  return crc8(0, w.buf, start, w.pos);
}

function writeValue(w: ByteWriter, value: AnyValue, crc: number): number {
  w.u8(TAG.CELL_VALUE);
  const lengthAt = w.pos;
  w.u32(0);
  const start = w.pos;
  writeVariant(w, value);
  w.buf.writeUInt32LE(w.pos - start, lengthAt);
  return crc8(crc, w.buf, start, w.pos);
}

function writeRow(w: ByteWriter, row: PlainBufferRow): void {
  let rowCrc = 0;
  w.u8(TAG.ROW_PK);
  for (const cell of row.pk) {
    w.u8(TAG.CELL);
    let crc = writeName(w, cell.name);
    crc = writeValue(w, cell.value, crc);
    w.u8(TAG.CELL_CHECKSUM);
    w.u8(crc);
    rowCrc = crc8Byte(rowCrc, crc);
  }
  if (row.cells.length > 0) {
    w.u8(TAG.ROW_DATA);
    for (const cell of row.cells) {
      w.u8(TAG.CELL);
      let crc = writeName(w, cell.name);
      if (cell.value !== undefined) crc = writeValue(w, cell.value, crc);
      if (cell.op !== undefined) {
        w.u8(TAG.CELL_TYPE);
        w.u8(CELL_OP[cell.op]);
      }
      if (cell.ts !== undefined) {
        w.u8(TAG.CELL_TIMESTAMP);
        const start = w.pos;
        w.i64(cell.ts);
        crc = crc8(crc, w.buf, start, w.pos);
      }
      if (cell.op !== undefined) crc = crc8Byte(crc, CELL_OP[cell.op]);
      w.u8(TAG.CELL_CHECKSUM);
      w.u8(crc);
      rowCrc = crc8Byte(rowCrc, crc);
    }
  }
  if (row.deleteMarker) w.u8(TAG.DELETE_ROW_MARKER);
  rowCrc = crc8Byte(rowCrc, row.deleteMarker ? 1 : 0);
  w.u8(TAG.ROW_CHECKSUM);
  w.u8(rowCrc);
}

/** Header followed by the rows: the shape of GetRange `rows` and of single-row fields. */
export function encodeRows(rows: readonly PlainBufferRow[], sizeHint = 256): Buffer {
  const w = new ByteWriter(sizeHint);
  w.u32(HEADER);
  for (const row of rows) writeRow(w, row);
  return w.result();
}

export function encodeRow(row: PlainBufferRow): Buffer {
  return encodeRows([row]);
}

/** A bare variant (type + payload), as in SingleColumnValueFilter.column_value. */
export function encodeVariant(value: AnyValue): Buffer {
  const w = new ByteWriter(16);
  writeVariant(w, value);
  return w.result();
}

// ------------------------------------------------------------------------------------ decode

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function tagName(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

class ByteReader {
  pos = 0;
  lastTag = 0;
  constructor(readonly buf: Buffer) {}
  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  need(count: number, what: string): void {
    if (count < 0 || this.pos + count > this.buf.length) {
      throw new PlainBufferError(`Cell data broken, length is shorter than expect: ${what}.`);
    }
  }
  readTag(): number {
    this.lastTag = this.atEnd() ? 0 : (this.buf[this.pos++] as number);
    return this.lastTag;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }
  u32(what: string): number {
    this.need(4, what);
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }
  i64(what: string): bigint {
    this.need(8, what);
    const value = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return value;
  }
  is(tag: number): boolean {
    return this.lastTag === tag;
  }
  expect(tag: number): void {
    if (this.lastTag !== tag) {
      throw new PlainBufferError(
        `Cell data broken, mismatch tag, actual tag(${tagName(this.lastTag)}), expect(${tagName(tag)}).`,
      );
    }
  }
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new PlainBufferError(`Value of column '${what}' must be UTF8 encoding.`);
  }
}

/** Reads a variant occupying exactly buf[start, end). */
function readVariant(buf: Buffer, start: number, end: number, column: string): AnyValue {
  if (end <= start)
    throw new PlainBufferError(`Cell data broken, attr has no value, name:${column}.`);
  const type = buf[start] as number;
  const size = end - start - 1;
  const payload = start + 1;
  const fixed = (expected: number): void => {
    if (size !== expected) {
      throw new PlainBufferError(
        `Cell data broken, has more data in cell, but they can't be parsed. name:${column}.`,
      );
    }
  };
  switch (type) {
    case VT.INTEGER:
      fixed(8);
      return { t: 'int', v: buf.readBigInt64LE(payload) };
    case VT.DOUBLE:
      fixed(8);
      return { t: 'double', v: buf.readDoubleLE(payload) };
    case VT.BOOLEAN:
      if (size !== 1)
        throw new PlainBufferError(`Invalid boolean real value, value length: ${size}.`);
      return { t: 'bool', v: buf[payload] !== 0 };
    case VT.STRING:
    case VT.BLOB: {
      if (size < 4)
        throw new PlainBufferError(`Cell data broken, wrong string format, size: ${size}.`);
      const length = buf.readUInt32LE(payload);
      if (length !== size - 4) {
        throw new PlainBufferError(`Cell data broken, wrong string format, size: ${length}.`);
      }
      const bytes = buf.subarray(payload + 4, end);
      return type === VT.STRING
        ? { t: 'str', v: decodeUtf8(bytes, column) }
        : { t: 'bin', v: Buffer.from(bytes) };
    }
    case VT.INF_MIN:
      fixed(0);
      return { t: 'inf_min' };
    case VT.INF_MAX:
      fixed(0);
      return { t: 'inf_max' };
    case VT.AUTO_INCREMENT:
      fixed(0);
      return { t: 'auto_incr' };
    default:
      throw new PlainBufferError('data format is invalid, unknown variant type occured.');
  }
}

function readName(r: ByteReader): { name: string; crc: number } {
  r.readTag();
  r.expect(TAG.CELL_NAME);
  const length = r.u32('cell name length');
  r.need(length, 'cell name');
  const start = r.pos;
  r.pos += length;
  const name = decodeUtf8(r.buf.subarray(start, r.pos), 'name');
  return { name, crc: crc8(0, r.buf, start, r.pos) };
}

function readValue(r: ByteReader, column: string, crc: number): { value: AnyValue; crc: number } {
  const length = r.u32('cell value length');
  r.need(length, 'cell value');
  const start = r.pos;
  r.pos += length;
  return {
    value: readVariant(r.buf, start, r.pos, column),
    crc: crc8(crc, r.buf, start, r.pos),
  };
}

function readCellChecksum(r: ByteReader, column: string, crc: number): void {
  if (!r.is(TAG.CELL_CHECKSUM)) {
    throw new PlainBufferError(`Invalid Column(${column}): missing checksum.`);
  }
  const given = r.u8('cell checksum');
  if (given !== crc)
    throw new PlainBufferError(`Cell data broken, checksum is mismatch, ${given}:${crc}.`);
  r.readTag();
}

function readRowBody(r: ByteReader): PlainBufferRow {
  r.expect(TAG.ROW_PK);
  let rowCrc = 0;
  const pk: PlainBufferPkCell[] = [];
  const cells: PlainBufferCell[] = [];
  r.readTag();
  while (r.is(TAG.CELL)) {
    const { name, crc: nameCrc } = readName(r);
    r.readTag();
    if (!r.is(TAG.CELL_VALUE)) {
      throw new PlainBufferError(`Cell data broken, PK value cannot be NULL, name: ${name}.`);
    }
    const { value, crc } = readValue(r, name, nameCrc);
    r.readTag();
    readCellChecksum(r, name, crc);
    rowCrc = crc8Byte(rowCrc, crc);
    pk.push({ name, value });
  }
  if (r.is(TAG.ROW_DATA)) {
    r.readTag();
    while (r.is(TAG.CELL)) {
      const named = readName(r);
      let crc = named.crc;
      const cell: PlainBufferCell = { name: named.name };
      r.readTag();
      if (r.is(TAG.CELL_VALUE)) {
        const read = readValue(r, cell.name, crc);
        cell.value = read.value;
        crc = read.crc;
        r.readTag();
      }
      let opByte: number | undefined;
      if (r.is(TAG.CELL_TYPE)) {
        opByte = r.u8('cell type');
        const op = (Object.keys(CELL_OP) as CellOp[]).find((key) => CELL_OP[key] === opByte);
        if (op === undefined) throw new PlainBufferError(`Invalid op type of cell: ${opByte}.`);
        cell.op = op;
        r.readTag();
      }
      if (r.is(TAG.CELL_TIMESTAMP)) {
        const start = r.pos;
        cell.ts = r.i64('cell timestamp');
        crc = crc8(crc, r.buf, start, r.pos);
        r.readTag();
      }
      if (opByte !== undefined) crc = crc8Byte(crc, opByte);
      readCellChecksum(r, cell.name, crc);
      rowCrc = crc8Byte(rowCrc, crc);
      cells.push(cell);
    }
  }
  let deleteMarker = false;
  if (r.is(TAG.DELETE_ROW_MARKER)) {
    deleteMarker = true;
    r.readTag();
  }
  rowCrc = crc8Byte(rowCrc, deleteMarker ? 1 : 0);
  if (!r.is(TAG.ROW_CHECKSUM)) {
    throw new PlainBufferError('Cell data broken, row is not end with checksum tag.');
  }
  const given = r.u8('row checksum');
  if (given !== rowCrc)
    throw new PlainBufferError(`Cell data broken, checksum is mismatch, ${given}:${rowCrc}.`);
  r.readTag();
  return { pk, cells, deleteMarker };
}

function readHeader(r: ByteReader): void {
  if (r.buf.length < 4)
    throw new PlainBufferError('Input encoded PK broken, length is shorter than expect.');
  const header = r.u32('header');
  if (header !== HEADER) {
    throw new PlainBufferError(
      `Cell data broken, mismatch header, actual: ${header}, expect: ${HEADER}.`,
    );
  }
  r.readTag();
}

/**
 * True at the end of the data. Zero bytes may trail it: the Node SDK sizes its buffer one byte
 * too large for every INF_MIN, INF_MAX and PK_AUTO_INCR value and leaves the rest zero.
 */
function atPaddedEnd(r: ByteReader): boolean {
  if (!r.is(0)) return false;
  for (let i = r.pos; i < r.buf.length; i++) if (r.buf[i] !== 0) return false;
  return true;
}

export function decodeRows(buf: Buffer): PlainBufferRow[] {
  const r = new ByteReader(buf);
  readHeader(r);
  const rows: PlainBufferRow[] = [];
  while (!atPaddedEnd(r)) rows.push(readRowBody(r));
  return rows;
}

/** Exactly one row, as in PutRow.row, UpdateRow.row_change, GetRow.primary_key. */
export function decodeRow(buf: Buffer): PlainBufferRow {
  const r = new ByteReader(buf);
  readHeader(r);
  const row = readRowBody(r);
  if (!atPaddedEnd(r)) {
    throw new PlainBufferError(
      "Cell data broken, has more data in cell, but they can't be parsed.",
    );
  }
  return row;
}

export function decodeVariant(buf: Buffer, column: string): AnyValue {
  return readVariant(buf, 0, buf.length, column);
}
