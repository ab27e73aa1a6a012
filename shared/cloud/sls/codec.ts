// The LogGroup protobuf of Simple Log Service, hand-written for what the adapter does with it
// (Log.proto: Log{Time=1 uint32, Contents=2 {Key=1, Value=2}, TimeNs=4 fixed32},
// LogTag{Key=1, Value=2}, LogGroup{Logs=1, Reserved=2, Topic=3, Source=4, MachineUUID=5,
// LogTags=6}, LogGroupList{logGroupList=1}).
//
// Cheap first: a PullLogs body is scanned, not decoded. Each group stays a view of the body (no
// copy) with its log count, topic, source and tags read from its top level; the logs themselves
// are read only when a consumer asks (decodeLogGroup). Forwarding appends tags to the group's
// bytes instead of decoding and encoding it again: protobuf merges a repeated field that appears
// again later in a message, so `group bytes + encoded LogTags` is the group with those tags added
// (and keeps every field this codec does not know). localcloud has its own codec on purpose.

import type { EncodedLogGroup, LogContent, LogGroup, LogRecord, LogTag } from '../../logs/model';

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A position in a buffer, read forward up to `end`. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  varint(): number {
    const buf = this.buf;
    let byte = buf[this.pos++] as number;
    if (byte < 0x80 && this.pos <= this.end) return byte;
    let result = byte & 0x7f;
    let shift = 7;
    for (;;) {
      if (this.pos >= this.end)
        throw new ProtobufError('a varint runs past the end of its message');
      byte = buf[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new ProtobufError('a varint is longer than 10 bytes');
    }
  }

  /** The end of the length-delimited field starting here; the position moves to its first byte. */
  delimited(): number {
    const length = this.varint();
    const stop = this.pos + length;
    if (stop > this.end) throw new ProtobufError('a field runs past the end of its message');
    return stop;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.pos += 8;
        break;
      case LENGTH_DELIMITED:
        this.pos = this.delimited();
        return;
      case FIXED32:
        this.pos += 4;
        break;
      default:
        throw new ProtobufError(`wire type ${wireType} is not one a LogGroup uses`);
    }
    if (this.pos > this.end) throw new ProtobufError('a field runs past the end of its message');
  }

  string(): string {
    const stop = this.delimited();
    const text = readUtf8(this.buf, this.pos, stop);
    this.pos = stop;
    return text;
  }
}

type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string };
// Buffer's own UTF-8 reader without toString's argument checks (protobufjs reads strings the
// same way); toString where a runtime lacks it.
const hasUtf8Slice = typeof (Buffer.prototype as Partial<Utf8Slicing>).utf8Slice === 'function';

function readUtf8(buf: Buffer, start: number, end: number): string {
  return hasUtf8Slice
    ? (buf as Utf8Slicing).utf8Slice(start, end)
    : buf.toString('utf8', start, end);
}

function readPair(reader: Reader, stop: number): { key: string; value: string } {
  let key = '';
  let value = '';
  while (reader.pos < stop) {
    const tag = reader.varint();
    if (tag === 0x0a) key = reader.string();
    else if (tag === 0x12) value = reader.string();
    else reader.skip(tag & 7);
  }
  if (reader.pos !== stop) throw new ProtobufError('a key/value pair overruns its length');
  return { key, value };
}

/**
 * The top level of one encoded LogGroup: its logs counted, not read. Its field loop repeats
 * decodeLogGroup's on purpose: one loop with a callback per log made the scan about 50% slower
 * (120 -> 180 ns a log, `npm run bench -- sls-adapter`), and every forwarded group is scanned.
 */
export function scanLogGroup(bytes: Uint8Array): EncodedLogGroup {
  const buf = asBuffer(bytes);
  const reader = new Reader(buf, 0, buf.length);
  let logCount = 0;
  let topic: string | undefined;
  let source: string | undefined;
  const tags: LogTag[] = [];
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    switch (tag) {
      case 0x0a:
        reader.pos = reader.delimited();
        logCount++;
        break;
      case 0x1a:
        topic = reader.string();
        break;
      case 0x22:
        source = reader.string();
        break;
      case 0x32:
        tags.push(readPair(reader, reader.delimited()));
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  return {
    bytes: buf,
    logCount,
    ...(topic === undefined ? {} : { topic }),
    ...(source === undefined ? {} : { source }),
    tags,
  };
}

/** A LogGroupList (a PullLogs body) -> its groups, each a view of `raw`. */
export function scanLogGroupList(raw: Uint8Array): EncodedLogGroup[] {
  const buf = asBuffer(raw);
  const reader = new Reader(buf, 0, buf.length);
  const groups: EncodedLogGroup[] = [];
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    if (tag === 0x0a) {
      const stop = reader.delimited();
      groups.push(scanLogGroup(buf.subarray(reader.pos, stop)));
      reader.pos = stop;
    } else {
      reader.skip(tag & 7);
    }
  }
  return groups;
}

function readLog(reader: Reader, stop: number): LogRecord {
  let time = 0;
  let timeNs: number | undefined;
  const contents: LogContent[] = [];
  while (reader.pos < stop) {
    const tag = reader.varint();
    if (tag === 0x12) contents.push(readPair(reader, reader.delimited()));
    else if (tag === 0x08) time = reader.varint();
    else if (tag === 0x25) {
      if (reader.pos + 4 > stop) throw new ProtobufError('TimeNs runs past the end of its log');
      timeNs = reader.buf.readUInt32LE(reader.pos);
      reader.pos += 4;
    } else reader.skip(tag & 7);
  }
  if (reader.pos !== stop) throw new ProtobufError('a log overruns its length');
  return timeNs === undefined ? { time, contents } : { time, timeNs, contents };
}

/** Reads a LogGroup's logs, topic, source and tags. */
export function decodeLogGroup(bytes: Uint8Array): LogGroup {
  const buf = asBuffer(bytes);
  const reader = new Reader(buf, 0, buf.length);
  const logs: LogRecord[] = [];
  const tags: LogTag[] = [];
  let topic: string | undefined;
  let source: string | undefined;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    switch (tag) {
      case 0x0a:
        logs.push(readLog(reader, reader.delimited()));
        break;
      case 0x1a:
        topic = reader.string();
        break;
      case 0x22:
        source = reader.string();
        break;
      case 0x32:
        tags.push(readPair(reader, reader.delimited()));
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  return {
    logs,
    ...(topic === undefined ? {} : { topic }),
    ...(source === undefined ? {} : { source }),
    tags,
  };
}

// ------------------------------------------------------------------------------------ writing

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** UTF-8 byte length; a lone surrogate counts as U+FFFD (3 bytes), as Buffer#write writes it. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(value: number): void {
    this.buf[this.pos++] = value;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buf[this.pos++] = rest;
  }

  /** `text`, whose UTF-8 length is `length`, with its length prefix. */
  string(text: string, length: number): void {
    this.varint(length);
    // ASCII (as many bytes as characters): a loop is cheaper than a call into C++.
    if (length === text.length && length <= 256) {
      for (let i = 0; i < length; i++) this.buf[this.pos++] = text.charCodeAt(i);
    } else {
      this.pos += this.buf.write(text, this.pos, 'utf8');
    }
  }
}

function pairSize(keyLength: number, valueLength: number): number {
  return 2 + varintSize(keyLength) + keyLength + varintSize(valueLength) + valueLength;
}

/** Byte lengths of keys and values, computed once for sizing and reused for writing. */
let lengths = new Int32Array(1024);

function ensureLengths(count: number): void {
  if (lengths.length < count) lengths = new Int32Array(Math.max(count, lengths.length * 2));
}

/** Encodes a LogGroup (field order 1, 3, 4, 6; empty keys and values are written, proto2 required). */
export function encodeLogGroup(group: LogGroup): Buffer {
  let pairs = group.tags.length;
  for (const log of group.logs) pairs += log.contents.length;
  ensureLengths(pairs * 2 + group.logs.length);
  const sizes = lengths;
  let at = 0;
  let total = 0;
  for (const log of group.logs) {
    const logAt = at++;
    let logSize = 1 + varintSize(log.time) + (log.timeNs === undefined ? 0 : 5);
    for (const content of log.contents) {
      const k = utf8Length(content.key);
      const v = utf8Length(content.value);
      sizes[at++] = k;
      sizes[at++] = v;
      const size = pairSize(k, v);
      logSize += 1 + varintSize(size) + size;
    }
    sizes[logAt] = logSize;
    total += 1 + varintSize(logSize) + logSize;
  }
  const topicLength = group.topic === undefined ? -1 : utf8Length(group.topic);
  const sourceLength = group.source === undefined ? -1 : utf8Length(group.source);
  if (topicLength >= 0) total += 1 + varintSize(topicLength) + topicLength;
  if (sourceLength >= 0) total += 1 + varintSize(sourceLength) + sourceLength;
  const tagsAt = at;
  for (const tag of group.tags) {
    const k = utf8Length(tag.key);
    const v = utf8Length(tag.value);
    sizes[at++] = k;
    sizes[at++] = v;
    const size = pairSize(k, v);
    total += 1 + varintSize(size) + size;
  }

  const writer = new Writer(Buffer.allocUnsafe(total));
  at = 0;
  for (const log of group.logs) {
    writer.byte(0x0a);
    writer.varint(sizes[at++] as number);
    writer.byte(0x08);
    writer.varint(log.time);
    for (const content of log.contents) {
      const k = sizes[at++] as number;
      const v = sizes[at++] as number;
      writer.byte(0x12);
      writer.varint(pairSize(k, v));
      writer.byte(0x0a);
      writer.string(content.key, k);
      writer.byte(0x12);
      writer.string(content.value, v);
    }
    if (log.timeNs !== undefined) {
      writer.byte(0x25);
      writer.buf.writeUInt32LE(log.timeNs >>> 0, writer.pos);
      writer.pos += 4;
    }
  }
  if (group.topic !== undefined) {
    writer.byte(0x1a);
    writer.string(group.topic, topicLength);
  }
  if (group.source !== undefined) {
    writer.byte(0x22);
    writer.string(group.source, sourceLength);
  }
  at = tagsAt;
  for (const tag of group.tags) {
    const k = sizes[at++] as number;
    const v = sizes[at++] as number;
    writer.byte(0x32);
    writer.varint(pairSize(k, v));
    writer.byte(0x0a);
    writer.string(tag.key, k);
    writer.byte(0x12);
    writer.string(tag.value, v);
  }
  return writer.buf;
}

/** LogTags fields alone: appended to an encoded LogGroup, they add these tags to it. */
export function encodeLogTags(tags: readonly LogTag[]): Buffer {
  return encodeLogGroup({ logs: [], tags: [...tags] });
}

/** [start, end) byte ranges of a LogGroup's top-level fields, split into its logs and the rest. */
function fieldRanges(buf: Buffer): { logs: number[]; rest: number[] } {
  const reader = new Reader(buf, 0, buf.length);
  const logs: number[] = [];
  const rest: number[] = [];
  while (reader.pos < reader.end) {
    const start = reader.pos;
    const tag = reader.varint();
    if (tag === 0x0a) reader.pos = reader.delimited();
    else reader.skip(tag & 7);
    const ranges = tag === 0x0a ? logs : rest;
    // Adjacent fields of the same kind are copied as one range.
    if (ranges.length > 0 && ranges[ranges.length - 1] === start)
      ranges[ranges.length - 1] = reader.pos;
    else ranges.push(start, reader.pos);
  }
  return { logs, rest };
}

/**
 * Several encoded LogGroups as one: every group's logs in order, then the first group's other
 * fields (topic, source, tags, unknown ones). Meant for groups sharing topic, source and tags
 * (a later group's would be dropped). No log is decoded: byte ranges are copied.
 */
export function mergeLogGroups(groups: readonly EncodedLogGroup[]): Buffer {
  const first = groups[0];
  if (first === undefined) throw new ProtobufError('no log group to merge');
  if (groups.length === 1) return asBuffer(first.bytes);
  const parts: Array<{ buf: Buffer; ranges: number[] }> = [];
  let total = 0;
  let firstRest: number[] = [];
  for (const [index, group] of groups.entries()) {
    const buf = asBuffer(group.bytes);
    const { logs, rest } = fieldRanges(buf);
    if (index === 0) firstRest = rest;
    parts.push({ buf, ranges: logs });
  }
  parts.push({ buf: asBuffer(first.bytes), ranges: firstRest });
  for (const { ranges } of parts) {
    for (let i = 0; i < ranges.length; i += 2)
      total += (ranges[i + 1] as number) - (ranges[i] as number);
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const { buf, ranges } of parts) {
    for (let i = 0; i < ranges.length; i += 2) at += buf.copy(out, at, ranges[i], ranges[i + 1]);
  }
  return out;
}

/** An encoded LogGroup with `tags` added, its own bytes untouched (one copy, no decoding). */
export function appendLogTags(group: Uint8Array, tags: readonly LogTag[]): Buffer {
  if (tags.length === 0) return asBuffer(group);
  return Buffer.concat([group, encodeLogTags(tags)]);
}
