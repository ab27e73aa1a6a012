// LZ4 block format (no frame, no size prefix), as SLS carries it: the body is one raw block and
// `x-log-bodyrawsize` says how long it decompresses. Pure TypeScript, written from the LZ4 block
// format description, so localcloud neither needs the native `lz4-napi` addon the SDK loads nor
// shares a codec with the clients it checks (a shared codec would hide a bug on both sides).

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_BITS = 16;
const MAX_OFFSET = 0xffff;

export class Lz4Error extends Error {
  override name = 'Lz4Error';
}

/** Decompresses one LZ4 block that must expand to exactly `rawSize` bytes. */
export function lz4DecompressBlock(input: Uint8Array, rawSize: number): Buffer {
  const out = Buffer.allocUnsafe(rawSize);
  let ip = 0;
  let op = 0;
  const end = input.length;
  while (ip < end) {
    const token = input[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new Lz4Error('truncated literal length');
        byte = input[ip++] as number;
        literals += byte;
      } while (byte === 255);
    }
    if (ip + literals > end || op + literals > rawSize) throw new Lz4Error('literals overrun');
    out.set(input.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence has literals only
    if (ip + 2 > end) throw new Lz4Error('truncated match offset');
    const offset = (input[ip] as number) | ((input[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4Error('match offset out of range');
    let length = token & 15;
    if (length === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new Lz4Error('truncated match length');
        byte = input[ip++] as number;
        length += byte;
      } while (byte === 255);
    }
    length += MIN_MATCH;
    if (op + length > rawSize) throw new Lz4Error('match overruns the raw size');
    let from = op - offset;
    if (offset >= length) {
      out.copyWithin(op, from, from + length);
      op += length;
    } else {
      // Overlapping copy: byte by byte repeats the pattern.
      for (let i = 0; i < length; i++) out[op++] = out[from++] as number;
    }
  }
  if (op !== rawSize) throw new Lz4Error(`block decompressed to ${op} bytes, not ${rawSize}`);
  return out;
}

function writeLength(out: Buffer, op: number, value: number): number {
  let rest = value;
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/** Compresses `input` into one LZ4 block (greedy, 64 KB window, hash of 4 bytes). */
export function lz4CompressBlock(input: Uint8Array): Buffer {
  const n = input.length;
  const out = Buffer.allocUnsafe(n + Math.ceil(n / 255) + 16);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let op = 0;
  let anchor = 0;
  let ip = 0;
  const matchLimit = n - LAST_LITERALS;
  const hash = (value: number) => Math.imul(value, 2654435761) >>> (32 - HASH_BITS);
  if (n >= MF_LIMIT) {
    while (ip < n - MF_LIMIT) {
      const sequence = view.getUint32(ip, true);
      const h = hash(sequence);
      const candidate = table[h] as number;
      table[h] = ip;
      if (
        candidate < 0 ||
        ip - candidate > MAX_OFFSET ||
        view.getUint32(candidate, true) !== sequence
      ) {
        ip++;
        continue;
      }
      let matchEnd = ip + MIN_MATCH;
      let ref = candidate + MIN_MATCH;
      while (matchEnd < matchLimit && input[matchEnd] === input[ref]) {
        matchEnd++;
        ref++;
      }
      const literals = ip - anchor;
      const matchLength = matchEnd - ip - MIN_MATCH;
      const tokenAt = op++;
      let token = 0;
      if (literals >= 15) {
        token = 15 << 4;
        op = writeLength(out, op, literals - 15);
      } else token = literals << 4;
      out.set(input.subarray(anchor, ip), op);
      op += literals;
      const offset = ip - candidate;
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      if (matchLength >= 15) {
        token |= 15;
        op = writeLength(out, op, matchLength - 15);
      } else token |= matchLength;
      out[tokenAt] = token;
      ip = matchEnd;
      anchor = ip;
    }
  }
  const literals = n - anchor;
  const tokenAt = op++;
  if (literals >= 15) {
    out[tokenAt] = 15 << 4;
    op = writeLength(out, op, literals - 15);
  } else out[tokenAt] = literals << 4;
  out.set(input.subarray(anchor, n), op);
  op += literals;
  return out.subarray(0, op);
}
