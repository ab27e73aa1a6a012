// A shard's log groups on disk: append-only segment files with a small in-memory index, so memory
// grows by 16 bytes per log group whatever the groups weigh, and PullLogs reads the bytes it
// serves from the file (one read per segment touched).
//
// Layout, in the shard's directory:
//   <first seq, 16 digits>.seg  records, each a 16-byte header (payload length, receive time,
//                               log count, a check word; little-endian u32) and the LogGroup bytes
//   <first seq, 16 digits>.idx  the index of a segment's first records (covered length, count,
//                               then receive time, log count, length per record); written when a
//                               segment is sealed and on clean close, so a restart reads it
//                               instead of walking every record header
// A segment is sealed once it passes `segmentBytes`; the next record starts a new one named by
// its seq. Appends are one synchronous write each, so an acknowledged PutLogs survives `kill -9`
// (page cache; no fsync). On open the records past the index are walked; a record cut short at the
// end of the last segment (a crash mid-write, never acknowledged) is cut off. TTL trims whole
// sealed segments away; the segment being written is kept even when expired, so the next seq is
// always known from the files.

import fs from 'node:fs';
import path from 'node:path';
import type { ShardLog, StoredGroup } from './model';

const HEADER_BYTES = 16;
const CHECK = 0x534c5331; // "SLS1"
const INDEX_MAGIC = 'SLSIDX01';
const INDEX_HEADER_BYTES = 24;
const INDEX_ENTRY_BYTES = 12;
const SEQ_DIGITS = 16;

export interface SegmentLogOptions {
  /** The shard's directory (created if missing). */
  dir: string;
  /** A segment is sealed once it holds this many bytes. */
  segmentBytes: number;
  /** The TTL watermark kept by the owner: groups below it are gone. */
  firstSeq?: number;
  /** Called with the new watermark before trimmed files are removed (the owner keeps it). */
  onTrim?: (firstSeq: number) => void;
  /** Called when the log is closed or destroyed. */
  onClose?: () => void;
}

interface Segment {
  base: number;
  count: number;
  /** Bytes of complete records. */
  size: number;
  file: string;
  /** Open for appending (and reading) while this is the segment being written. */
  fd: number | undefined;
}

function segmentName(base: number): string {
  return String(base).padStart(SEQ_DIGITS, '0');
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = fs.readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += read;
  }
  return buffer;
}

function header(length: number, receiveTime: number, logCount: number): Buffer {
  const buffer = Buffer.allocUnsafe(HEADER_BYTES);
  buffer.writeUInt32LE(length, 0);
  buffer.writeUInt32LE(receiveTime, 4);
  buffer.writeUInt32LE(logCount, 8);
  buffer.writeUInt32LE((length ^ receiveTime ^ logCount ^ CHECK) >>> 0, 12);
  return buffer;
}

/** Growable columns of the index: 16 bytes per group. */
class Columns {
  times: Uint32Array = new Uint32Array(64);
  counts: Uint32Array = new Uint32Array(64);
  lengths: Uint32Array = new Uint32Array(64);
  offsets: Uint32Array = new Uint32Array(64);
  size = 0;

  push(time: number, count: number, length: number, offset: number): void {
    if (this.size === this.times.length) this.resize(this.size * 2);
    this.times[this.size] = time;
    this.counts[this.size] = count;
    this.lengths[this.size] = length;
    this.offsets[this.size] = offset;
    this.size++;
  }

  private resize(capacity: number): void {
    const grow = (old: Uint32Array): Uint32Array => {
      const next = new Uint32Array(capacity);
      next.set(old.subarray(0, Math.min(this.size, capacity)));
      return next;
    };
    this.times = grow(this.times);
    this.counts = grow(this.counts);
    this.lengths = grow(this.lengths);
    this.offsets = grow(this.offsets);
  }

  /** Drops the first `n` entries. */
  shift(n: number): void {
    this.times.copyWithin(0, n, this.size);
    this.counts.copyWithin(0, n, this.size);
    this.lengths.copyWithin(0, n, this.size);
    this.offsets.copyWithin(0, n, this.size);
    this.size -= n;
    if (this.times.length > 1024 && this.size * 4 < this.times.length) this.resize(this.size * 2);
  }
}

export class SegmentShardLog implements ShardLog {
  private readonly segments: Segment[] = [];
  private readonly index = new Columns();
  /** Seq of index entry 0. */
  private indexBase = 0;
  private first = 0;
  private next = 0;
  private readFd: { file: string; fd: number } | undefined;
  private closed = false;
  lastReceiveTime = 0;

  constructor(private readonly options: SegmentLogOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    this.load();
  }

  get firstSeq(): number {
    return this.first;
  }

  get nextSeq(): number {
    return this.next;
  }

  /** Groups indexed (retained or not yet cut away with their segment). */
  get indexedGroups(): number {
    return this.index.size;
  }

  private load(): void {
    const names = fs.readdirSync(this.options.dir);
    // An index being written when the process died.
    for (const name of names.filter((n) => n.endsWith('.tmp'))) {
      fs.rmSync(path.join(this.options.dir, name), { force: true });
    }
    const bases = names
      .filter((name) => /^\d+\.seg$/.test(name))
      .map((name) => Number(name.slice(0, -4)))
      .sort((a, b) => a - b);
    const watermark = this.options.firstSeq ?? 0;
    // Sealed segments wholly below the watermark may remain after a crash: remove them now.
    while (bases.length > 1 && (bases[1] as number) <= watermark) {
      this.unlinkSegment(bases.shift() as number);
    }
    for (const [i, base] of bases.entries()) {
      if (i === 0) {
        this.indexBase = base;
        this.next = base;
      } else if (base !== this.next) {
        throw new Error(
          `SLS data in ${this.options.dir} is damaged: segment ${segmentName(base)} follows seq ${this.next}`,
        );
      }
      const segment = this.loadSegment(base, i === bases.length - 1);
      this.segments.push(segment);
      this.next += segment.count;
    }
    if (this.index.size > 0) this.lastReceiveTime = this.index.times[this.index.size - 1] as number;
    this.next = Math.max(this.next, watermark);
    this.first = Math.max(watermark, this.indexBase);
    if (this.segments.length === 0) this.indexBase = this.next;
  }

  /** Reads a segment's index (if any), then walks the records past it. */
  private loadSegment(base: number, last: boolean): Segment {
    const file = path.join(this.options.dir, `${segmentName(base)}.seg`);
    const fd = fs.openSync(file, last ? 'r+' : 'r');
    try {
      const fileSize = fs.fstatSync(fd).size;
      let position = 0;
      let count = 0;
      const indexed = this.readIndex(base, fileSize);
      if (indexed) {
        for (let i = 0; i < indexed.count; i++) {
          const at = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
          const length = indexed.entries.readUInt32LE(at + 8);
          this.index.push(
            indexed.entries.readUInt32LE(at),
            indexed.entries.readUInt32LE(at + 4),
            length,
            position,
          );
          position += HEADER_BYTES + length;
          count++;
        }
      }
      while (position < fileSize) {
        if (position + HEADER_BYTES > fileSize) break;
        const head = readAt(fd, HEADER_BYTES, position);
        const length = head.readUInt32LE(0);
        const time = head.readUInt32LE(4);
        const logCount = head.readUInt32LE(8);
        if ((length ^ time ^ logCount ^ CHECK) >>> 0 !== head.readUInt32LE(12)) {
          throw new Error(
            `SLS data in ${file} is damaged: no record header at byte ${position} of ${fileSize}`,
          );
        }
        if (position + HEADER_BYTES + length > fileSize) break;
        this.index.push(time, logCount, length, position);
        position += HEADER_BYTES + length;
        count++;
      }
      if (position < fileSize) {
        // A record cut short by a crash: only the segment being written can end in one.
        if (!last) {
          throw new Error(
            `SLS data in ${file} is damaged: a sealed segment ends in a partial record`,
          );
        }
        fs.ftruncateSync(fd, position);
      }
      return { base, count, size: position, file, fd: undefined };
    } finally {
      fs.closeSync(fd);
    }
  }

  private readIndex(
    base: number,
    fileSize: number,
  ): { count: number; entries: Buffer } | undefined {
    let entries: Buffer;
    try {
      entries = fs.readFileSync(path.join(this.options.dir, `${segmentName(base)}.idx`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (entries.length < INDEX_HEADER_BYTES || entries.toString('latin1', 0, 8) !== INDEX_MAGIC)
      return undefined;
    const covered = entries.readDoubleLE(8);
    const count = entries.readUInt32LE(16);
    // An index is a prefix of its segment; one that is not (or is cut short) is ignored.
    if (covered > fileSize || entries.length < INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES)
      return undefined;
    return { count, entries };
  }

  private writeIndex(segment: Segment): void {
    const start = segment.base - this.indexBase;
    if (start < 0) return; // its first entries were shifted out: the walk on open is exact anyway
    const buffer = Buffer.allocUnsafe(INDEX_HEADER_BYTES + segment.count * INDEX_ENTRY_BYTES);
    buffer.write(INDEX_MAGIC, 0, 'latin1');
    buffer.writeDoubleLE(segment.size, 8);
    buffer.writeUInt32LE(segment.count, 16);
    buffer.writeUInt32LE(0, 20);
    for (let i = 0; i < segment.count; i++) {
      const at = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
      buffer.writeUInt32LE(this.index.times[start + i] as number, at);
      buffer.writeUInt32LE(this.index.counts[start + i] as number, at + 4);
      buffer.writeUInt32LE(this.index.lengths[start + i] as number, at + 8);
    }
    const file = path.join(this.options.dir, `${segmentName(segment.base)}.idx`);
    fs.writeFileSync(`${file}.tmp`, buffer);
    fs.renameSync(`${file}.tmp`, file);
  }

  private unlinkSegment(base: number): void {
    for (const ext of ['.seg', '.idx']) {
      fs.rmSync(path.join(this.options.dir, `${segmentName(base)}${ext}`), { force: true });
    }
  }

  private active(incoming: number): Segment {
    let segment = this.segments.at(-1);
    if (segment && segment.count > 0 && segment.size + incoming > this.options.segmentBytes) {
      this.seal(segment);
      segment = undefined;
    }
    if (!segment) {
      const file = path.join(this.options.dir, `${segmentName(this.next)}.seg`);
      segment = { base: this.next, count: 0, size: 0, file, fd: undefined };
      if (this.segments.length === 0) this.indexBase = this.next;
      this.segments.push(segment);
    }
    if (segment.fd === undefined) segment.fd = fs.openSync(segment.file, 'a+');
    return segment;
  }

  private seal(segment: Segment): void {
    this.writeIndex(segment);
    if (segment.fd !== undefined) fs.closeSync(segment.fd);
    segment.fd = undefined;
  }

  append(receiveTime: number, bytes: Buffer, logCount: number): StoredGroup {
    if (this.closed) throw new Error(`SLS shard log ${this.options.dir} is closed`);
    const record = HEADER_BYTES + bytes.length;
    const segment = this.active(record);
    const head = header(bytes.length, receiveTime, logCount);
    const fd = segment.fd as number;
    const written = fs.writevSync(fd, [head, bytes]);
    if (written < record) {
      const rest = Buffer.concat([head, bytes]).subarray(written);
      let offset = 0;
      while (offset < rest.length) offset += fs.writeSync(fd, rest, offset);
    }
    this.index.push(receiveTime, logCount, bytes.length, segment.size);
    segment.size += record;
    segment.count++;
    this.lastReceiveTime = receiveTime;
    return { seq: this.next++, receiveTime, bytes, logCount };
  }

  receiveTime(seq: number): number {
    return this.index.times[seq - this.indexBase] as number;
  }

  private segmentOf(seq: number): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((this.segments[mid] as Segment).base <= seq) low = mid;
      else high = mid - 1;
    }
    return this.segments[low] as Segment;
  }

  private fdFor(segment: Segment): number {
    if (segment.fd !== undefined) return segment.fd;
    if (this.readFd?.file !== segment.file) {
      if (this.readFd) fs.closeSync(this.readFd.fd);
      this.readFd = { file: segment.file, fd: fs.openSync(segment.file, 'r') };
    }
    return this.readFd.fd;
  }

  read(from: number, to: number): StoredGroup[] {
    const groups: StoredGroup[] = [];
    let seq = Math.max(from, this.first);
    const end = Math.min(to, this.next);
    while (seq < end) {
      const segment = this.segmentOf(seq);
      const stop = Math.min(end, segment.base + segment.count);
      const firstAt = seq - this.indexBase;
      const lastAt = stop - 1 - this.indexBase;
      const start = this.index.offsets[firstAt] as number;
      const length =
        (this.index.offsets[lastAt] as number) +
        HEADER_BYTES +
        (this.index.lengths[lastAt] as number) -
        start;
      const chunk = readAt(this.fdFor(segment), length, start);
      for (let at = firstAt; at <= lastAt; at++) {
        const offset = (this.index.offsets[at] as number) - start + HEADER_BYTES;
        groups.push({
          seq: at + this.indexBase,
          receiveTime: this.index.times[at] as number,
          bytes: chunk.subarray(offset, offset + (this.index.lengths[at] as number)),
          logCount: this.index.counts[at] as number,
        });
      }
      seq = stop;
    }
    return groups;
  }

  seqAtTime(seconds: number): number {
    let low = this.first;
    let high = this.next;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (this.receiveTime(mid) < seconds) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  trim(seq: number): void {
    const to = Math.min(seq, this.next);
    if (to <= this.first) return;
    this.first = to;
    this.options.onTrim?.(to);
    // Whole sealed segments below the watermark go; the one being written stays.
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (oldest.base + oldest.count > to) break;
      if (this.readFd?.file === oldest.file) {
        fs.closeSync(this.readFd.fd);
        this.readFd = undefined;
      }
      this.segments.shift();
      this.unlinkSegment(oldest.base);
    }
    // Index entries below the watermark are never read again: drop them in large steps.
    const dead = this.first - this.indexBase;
    if (dead > 4096 && dead * 2 > this.index.size) {
      this.index.shift(dead);
      this.indexBase = this.first;
    }
  }

  /** Writes the index of the segment being written and closes the files (clean stop). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const last = this.segments.at(-1);
    if (last && last.count > 0) this.writeIndex(last);
    for (const segment of this.segments) {
      if (segment.fd !== undefined) fs.closeSync(segment.fd);
      segment.fd = undefined;
    }
    if (this.readFd) fs.closeSync(this.readFd.fd);
    this.readFd = undefined;
    this.options.onClose?.();
  }

  destroy(): void {
    this.close();
    fs.rmSync(this.options.dir, { recursive: true, force: true });
  }
}
