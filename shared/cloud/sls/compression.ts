// SLS body compression, owned by the project rather than the SDK: PutLogs bodies are compressed
// here and sent with `x-log-compresstype` + `x-log-bodyrawsize` (the SDK then sends them as
// they are), and PullLogs bodies are read raw and decompressed here whatever the service chose:
// lz4 (one raw block), deflate (zlib), gzip, or none when the response names no compression.

import { deflateSync, gunzipSync, inflateSync } from 'node:zlib';
import { lz4Compress, lz4Decompress } from './lz4';

/** What the adapter asks for and sends. */
export type SlsCompression = 'lz4' | 'deflate' | 'none';

export class BodyDecodingError extends Error {
  override readonly name = 'BodyDecodingError';
}

export function compressBody(compression: SlsCompression, raw: Uint8Array): Buffer {
  switch (compression) {
    case 'lz4':
      return lz4Compress(raw);
    case 'deflate':
      // Level 1: SLS bodies are protobuf text that compresses well even at the fastest level,
      // and the CPU a forwarded log costs is what the puller is measured on.
      return deflateSync(raw, { level: 1 });
    case 'none':
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  }
}

/**
 * A response body as the service sent it -> its raw bytes. `compressType` is the response's
 * `x-log-compresstype` (absent: not compressed), `rawSize` its `x-log-bodyrawsize`.
 */
export function decompressBody(
  compressType: string | undefined,
  body: Buffer,
  rawSize: number | undefined,
): Buffer {
  const type = compressType?.trim().toLowerCase() ?? '';
  if (type === '' || type === 'none') return body;
  if (rawSize === undefined || !Number.isSafeInteger(rawSize) || rawSize < 0) {
    throw new BodyDecodingError(
      `a ${type} body came without a valid x-log-bodyrawsize (${String(rawSize)})`,
    );
  }
  if (rawSize === 0) return Buffer.alloc(0);
  let raw: Buffer;
  try {
    if (type === 'lz4') raw = lz4Decompress(body, rawSize);
    else if (type === 'deflate') raw = inflateSync(body, { maxOutputLength: rawSize });
    else if (type === 'gzip') raw = gunzipSync(body, { maxOutputLength: rawSize });
    else throw new BodyDecodingError(`x-log-compresstype ${type} is not one the adapter reads`);
  } catch (error) {
    if (error instanceof BodyDecodingError) throw error;
    throw new BodyDecodingError(
      `the ${type} body does not decompress to ${rawSize} bytes: ${(error as Error).message}`,
    );
  }
  if (raw.length !== rawSize) {
    throw new BodyDecodingError(
      `the ${type} body decompressed to ${raw.length} bytes, not the announced ${rawSize}`,
    );
  }
  return raw;
}
