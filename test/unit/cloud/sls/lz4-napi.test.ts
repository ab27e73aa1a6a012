// What function bundles give the SLS SDK as `lz4-napi` (shared/cloud/sls/lz4-napi.ts) against the
// real lz4-napi: the same framing (decompressed size, 4 bytes little-endian, then the block),
// each side reading what the other writes, sync and async.

import fc from 'fast-check';
import * as native from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import * as replacement from '../../../../shared/cloud/sls/lz4-napi';

describe('lz4-napi replacement', () => {
  it('reads what lz4-napi writes and writes what lz4-napi reads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4000 }),
          fc.string({ maxLength: 500 }).map((s) => new TextEncoder().encode(s.repeat(5))),
        ),
        async (data) => {
          const raw = Buffer.from(data);
          expect(replacement.uncompressSync(native.compressSync(raw)).equals(raw)).toBe(true);
          expect(native.uncompressSync(replacement.compressSync(raw)).equals(raw)).toBe(true);
          expect((await replacement.uncompress(await native.compress(raw))).equals(raw)).toBe(true);
          expect((await native.uncompress(await replacement.compress(raw))).equals(raw)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('frames the block with its size, takes strings, and refuses a dictionary', () => {
    const framed = replacement.compressSync('hello hello hello hello hello');
    expect(framed.readUInt32LE(0)).toBe(29);
    expect(native.uncompressSync(framed).toString()).toBe('hello hello hello hello hello');
    expect(() => replacement.compressSync('x', 'dictionary')).toThrow(/dictionary/);
    expect(() => replacement.uncompressSync(Buffer.from([1, 0]))).toThrow();
  });
});
