// What a function bundle gives the SLS SDK for `require('lz4-napi')` (bundling/function-bundle.ts
// resolves the package name to this file): the block functions of lz4-napi's API, over the
// project's own LZ4 codec, so no native addon ships with the bundle. The SDK's gateway loads
// lz4-napi when it loads, but the adapter (client.ts) never lets it compress or decompress;
// these stay correct in case it does. lz4-napi frames a block with its decompressed size, 4
// bytes little-endian, in front; so do these. Unbundled (tests, tsx) the real lz4-napi loads.

import { lz4Compress, lz4Decompress } from './lz4';

function bytesOf(data: string | Uint8Array): Buffer {
  return typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function refuseDictionary(dict: unknown): void {
  if (dict !== undefined && dict !== null) {
    throw new Error('lz4 with a dictionary is not provided in the function bundle');
  }
}

export function compressSync(data: string | Uint8Array, dict?: unknown): Buffer {
  refuseDictionary(dict);
  const raw = bytesOf(data);
  const block = lz4Compress(raw);
  const framed = Buffer.allocUnsafe(block.length + 4);
  framed.writeUInt32LE(raw.length, 0);
  block.copy(framed, 4);
  return framed;
}

export function uncompressSync(data: string | Uint8Array, dict?: unknown): Buffer {
  refuseDictionary(dict);
  const framed = bytesOf(data);
  if (framed.length < 4) throw new Error('an lz4 block needs its 4-byte size in front');
  return lz4Decompress(framed.subarray(4), framed.readUInt32LE(0));
}

export async function compress(data: string | Uint8Array, dict?: unknown): Promise<Buffer> {
  return compressSync(data, dict);
}

export async function uncompress(data: string | Uint8Array, dict?: unknown): Promise<Buffer> {
  return uncompressSync(data, dict);
}
