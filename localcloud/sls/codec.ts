// The SLS wire formats localcloud reads and writes: the LogGroup / LogGroupList protobuf (from the
// published Log.proto: Log{Time=1 uint32, Contents=2 {Key=1, Value=2}, TimeNs=4 fixed32},
// LogTag{Key=1, Value=2}, LogGroup{Logs=1, Reserved=2, Topic=3, Source=4, MachineUUID=5,
// LogTags=6}, LogGroupList{logGroupList=1}) and the body compressions (lz4 block, deflate, gzip).
// Hand-written for speed and independence from the clients' protobuf libraries.

import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { lz4CompressBlock, lz4DecompressBlock } from './lz4';

export interface LogContent {
  key: string;
  value: string;
}

export interface LogRecord {
  /** Seconds since the epoch. */
  time: number;
  /** Nanosecond part, when the writer sent one. */
  timeNs?: number;
  contents: LogContent[];
}

export interface LogGroup {
  logs: LogRecord[];
  topic?: string;
  source?: string;
  tags: LogContent[];
}

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

// ------------------------------------------------------------------------------- reading

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end: number = buf.length,
    start = 0,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const byte = this.buf[this.pos++] as number;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new ProtobufError('varint too long');
    }
  }
  bytes(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw new ProtobufError('length-delimited field overruns');
    this.pos += length;
    return [start, start + length];
  }
  string(): string {
    const [start, end] = this.bytes();
    return this.buf.toString('utf8', start, end);
  }
  fixed32(): number {
    if (this.pos + 4 > this.end) throw new ProtobufError('truncated fixed32');
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new ProtobufError('field overruns');
  }
}

function readPair(buf: Buffer, start: number, end: number, what: string): LogContent {
  const reader = new Reader(buf, end, start);
  let key: string | undefined;
  let value: string | undefined;
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) key = reader.string();
    else if (field === 2 && (tag & 7) === 2) value = reader.string();
    else reader.skip(tag & 7);
  }
  if (key === undefined || value === undefined)
    throw new ProtobufError(`${what} needs Key and Value`);
  return { key, value };
}

function readLog(buf: Buffer, start: number, end: number): LogRecord {
  const reader = new Reader(buf, end, start);
  let time: number | undefined;
  let timeNs: number | undefined;
  const contents: LogContent[] = [];
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) time = reader.varint();
    else if (field === 2 && wire === 2) {
      const [s, e] = reader.bytes();
      contents.push(readPair(buf, s, e, 'Log.Contents'));
    } else if (field === 4 && wire === 5) timeNs = reader.fixed32();
    else reader.skip(wire);
  }
  if (time === undefined) throw new ProtobufError('Log.Time is required');
  return timeNs === undefined ? { time, contents } : { time, timeNs, contents };
}

export function decodeLogGroup(buf: Buffer, start = 0, end = buf.length): LogGroup {
  const reader = new Reader(buf, end, start);
  const group: LogGroup = { logs: [], tags: [] };
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      const [s, e] = reader.bytes();
      group.logs.push(readLog(buf, s, e));
    } else if (field === 3 && wire === 2) group.topic = reader.string();
    else if (field === 4 && wire === 2) group.source = reader.string();
    else if (field === 6 && wire === 2) {
      const [s, e] = reader.bytes();
      group.tags.push(readPair(buf, s, e, 'LogTag'));
    } else reader.skip(wire);
  }
  return group;
}

export function decodeLogGroupList(buf: Buffer): LogGroup[] {
  const reader = new Reader(buf);
  const groups: LogGroup[] = [];
  while (reader.pos < buf.length) {
    const tag = reader.varint();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const [s, e] = reader.bytes();
      groups.push(decodeLogGroup(buf, s, e));
    } else reader.skip(tag & 7);
  }
  return groups;
}

// ------------------------------------------------------------------------------- writing

function varintSize(value: number): number {
  let size = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 128);
    size++;
  }
  return size;
}

class Writer {
  private chunks: Buffer[] = [];
  private current = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  private total = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.current.length) return;
    this.chunks.push(this.current.subarray(0, this.pos));
    this.current = Buffer.allocUnsafe(Math.max(64 * 1024, n));
    this.pos = 0;
  }
  varint(value: number): void {
    this.ensure(10);
    let rest = value;
    while (rest >= 0x80) {
      this.current[this.pos++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.current[this.pos++] = rest;
    this.total += varintSize(value);
  }
  raw(data: Buffer): void {
    this.ensure(data.length);
    data.copy(this.current, this.pos);
    this.pos += data.length;
    this.total += data.length;
  }
  fixed32(value: number): void {
    this.ensure(4);
    this.current.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
    this.total += 4;
  }
  finish(): Buffer {
    this.chunks.push(this.current.subarray(0, this.pos));
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
  }
  get length(): number {
    return this.total;
  }
}

function pairBytes(pair: LogContent): Buffer {
  const key = Buffer.from(pair.key, 'utf8');
  const value = Buffer.from(pair.value, 'utf8');
  const w = new Writer();
  w.varint(0x0a);
  w.varint(key.length);
  w.raw(key);
  w.varint(0x12);
  w.varint(value.length);
  w.raw(value);
  return w.finish();
}

function field(w: Writer, tag: number, data: Buffer): void {
  w.varint(tag);
  w.varint(data.length);
  w.raw(data);
}

export function encodeLogGroup(group: LogGroup): Buffer {
  const w = new Writer();
  for (const log of group.logs) {
    const lw = new Writer();
    lw.varint(0x08);
    lw.varint(log.time);
    for (const content of log.contents) field(lw, 0x12, pairBytes(content));
    if (log.timeNs !== undefined) {
      lw.varint(0x25);
      lw.fixed32(log.timeNs);
    }
    field(w, 0x0a, lw.finish());
  }
  if (group.topic !== undefined) field(w, 0x1a, Buffer.from(group.topic, 'utf8'));
  if (group.source !== undefined) field(w, 0x22, Buffer.from(group.source, 'utf8'));
  for (const tag of group.tags) field(w, 0x32, pairBytes(tag));
  return w.finish();
}

/** A LogGroupList from log groups already encoded (PullLogs serves stored bytes as they are). */
export function encodeLogGroupList(encodedGroups: Buffer[]): Buffer {
  const w = new Writer();
  for (const group of encodedGroups) field(w, 0x0a, group);
  return w.finish();
}

// ------------------------------------------------------------------------------- compression

export type CompressType = 'lz4' | 'deflate' | 'gzip';
export const COMPRESS_TYPES: readonly CompressType[] = ['lz4', 'deflate', 'gzip'];

export function isCompressType(value: string): value is CompressType {
  return (COMPRESS_TYPES as readonly string[]).includes(value);
}

export function compress(type: CompressType, raw: Buffer): Buffer {
  if (type === 'lz4') return lz4CompressBlock(raw);
  if (type === 'deflate') return deflateSync(raw);
  return gzipSync(raw);
}

/** Throws when the body does not decompress to exactly `rawSize` bytes. */
export function decompress(type: CompressType, body: Buffer, rawSize: number): Buffer {
  if (type === 'lz4') return lz4DecompressBlock(body, rawSize);
  const raw = type === 'deflate' ? inflateSync(body) : gunzipSync(body);
  if (raw.length !== rawSize)
    throw new Error(`body decompressed to ${raw.length} bytes, x-log-bodyrawsize says ${rawSize}`);
  return raw;
}
