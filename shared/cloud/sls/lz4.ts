// The LZ4 block format (lz4's doc/lz4_Block_format.md) in plain TypeScript, for SLS bodies:
// `x-log-compresstype: lz4` carries one raw block, its decompressed size in `x-log-bodyrawsize`.
// lz4 is the compression SLS documents for PullLogs answers, so the adapter reads it here; the
// project's own codec rather than the SDK's native `lz4-napi`, so that no native addon has to
// ship beside a function bundle (README "Dependencies" has the figures of both). localcloud has
// its own, separate one on purpose.

export class Lz4Error extends Error {
  override readonly name = 'Lz4Error';
}

const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** A match starts at least 12 bytes before the end of the block. */
const MATCH_START_MARGIN = 12;
const MAX_OFFSET = 65_535;
const HASH_BITS = 14;
const HASH_SHIFT = 32 - HASH_BITS;

/** The largest a block of `length` input bytes can grow to (incompressible input). */
export function lz4CompressBound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

// One table for every call: compressing is synchronous, so no two calls share it at once.
// Positions are kept plus one so that a zero-filled table means "no candidate".
const table = new Int32Array(1 << HASH_BITS);

function read32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) |
    ((bytes[at + 1] as number) << 8) |
    ((bytes[at + 2] as number) << 16) |
    ((bytes[at + 3] as number) << 24)
  );
}

function writeLength(out: Uint8Array, at: number, length: number): number {
  let rest = length;
  let position = at;
  while (rest >= 255) {
    out[position++] = 255;
    rest -= 255;
  }
  out[position++] = rest;
  return position;
}

function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start < 24) {
    for (let i = start, j = at; i < end; i++, j++) to[j] = from[i] as number;
  } else {
    to.set(from.subarray(start, end), at);
  }
}

/** Compresses `input` into one LZ4 block (greedy matching over a 16K-entry hash table). */
export function lz4Compress(input: Uint8Array): Buffer {
  const length = input.length;
  const out = Buffer.allocUnsafe(lz4CompressBound(length));
  let op = 0;
  let anchor = 0;
  if (length > MATCH_START_MARGIN) {
    table.fill(0);
    const lastMatchStart = length - MATCH_START_MARGIN;
    const matchEndLimit = length - LAST_LITERALS;
    let ip = 0;
    let misses = 0;
    while (ip <= lastMatchStart) {
      const sequence = read32(input, ip);
      const slot = Math.imul(sequence, 0x9e3779b1) >>> HASH_SHIFT;
      let ref = (table[slot] as number) - 1;
      table[slot] = ip + 1;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(input, ref) !== sequence) {
        // Skip faster through data that does not compress (lz4's acceleration).
        ip += 1 + (misses++ >> 6);
        continue;
      }
      misses = 0;
      let start = ip;
      while (start > anchor && ref > 0 && input[start - 1] === input[ref - 1]) {
        start--;
        ref--;
      }
      let end = ip + MIN_MATCH;
      let from = ref + (end - start);
      while (end < matchEndLimit && input[end] === input[from]) {
        end++;
        from++;
      }
      const literals = start - anchor;
      const matchExtra = end - start - MIN_MATCH;
      const token = op++;
      let tokenValue = 0;
      if (literals >= 15) {
        tokenValue = 0xf0;
        op = writeLength(out, op, literals - 15);
      } else {
        tokenValue = literals << 4;
      }
      copyBytes(input, anchor, start, out, op);
      op += literals;
      const offset = start - ref;
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      if (matchExtra >= 15) {
        tokenValue |= 15;
        op = writeLength(out, op, matchExtra - 15);
      } else {
        tokenValue |= matchExtra;
      }
      out[token] = tokenValue;
      anchor = end;
      ip = end;
      // Remember a position inside the match, so the next sequence can refer back to it.
      if (end - 2 <= lastMatchStart)
        table[Math.imul(read32(input, end - 2), 0x9e3779b1) >>> HASH_SHIFT] = end - 1;
    }
  }
  const literals = length - anchor;
  const token = op++;
  if (literals >= 15) {
    out[token] = 0xf0;
    op = writeLength(out, op, literals - 15);
  } else {
    out[token] = literals << 4;
  }
  copyBytes(input, anchor, length, out, op);
  op += literals;
  return out.subarray(0, op);
}

/**
 * Decompresses one LZ4 block that must expand to exactly `rawSize` bytes. Throws Lz4Error on
 * anything malformed (a reference before the start, a length past either end, a size mismatch).
 */
export function lz4Decompress(input: Uint8Array, rawSize: number): Buffer {
  const out = Buffer.allocUnsafe(rawSize);
  const end = input.length;
  let ip = 0;
  let op = 0;
  while (ip < end) {
    const token = input[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte = 255;
      while (byte === 255) {
        if (ip >= end) throw new Lz4Error('lz4 block ends inside a literal length');
        byte = input[ip++] as number;
        literals += byte;
      }
    }
    if (ip + literals > end) throw new Lz4Error('lz4 literals run past the end of the block');
    if (op + literals > rawSize) throw new Lz4Error(`lz4 block expands past ${rawSize} bytes`);
    copyBytes(input, ip, ip + literals, out, op);
    ip += literals;
    op += literals;
    if (ip === end) break;
    if (ip + 2 > end) throw new Lz4Error('lz4 block ends inside a match offset');
    const offset = (input[ip] as number) | ((input[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4Error(`lz4 match offset ${offset} is invalid`);
    let matchLength = token & 15;
    if (matchLength === 15) {
      let byte = 255;
      while (byte === 255) {
        if (ip >= end) throw new Lz4Error('lz4 block ends inside a match length');
        byte = input[ip++] as number;
        matchLength += byte;
      }
    }
    matchLength += MIN_MATCH;
    if (op + matchLength > rawSize) throw new Lz4Error(`lz4 block expands past ${rawSize} bytes`);
    let from = op - offset;
    if (offset >= matchLength && matchLength >= 32) {
      out.copyWithin(op, from, from + matchLength);
      op += matchLength;
    } else {
      const stop = op + matchLength;
      while (op < stop) out[op++] = out[from++] as number;
    }
  }
  if (op !== rawSize) {
    throw new Lz4Error(`lz4 block expands to ${op} bytes, not the announced ${rawSize}`);
  }
  return out;
}
