// localcloud's SLS codecs against independent ones: its pure-TypeScript LZ4 block codec against
// lz4-napi (the native codec the official SDK uses), its hand-written LogGroup protobuf against
// protobufjs, and how it reads the project and region from a Host header.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeLogGroupList,
  encodeLogGroup,
  encodeLogGroupList,
  lz4CompressBlock,
  lz4DecompressBlock,
  parseSlsHost,
} from '../../../../localcloud/sls/index';
import { decodeGroupList, encodeGroup, lz4Block, lz4Unblock } from '../../../support/sls-client';

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }),
  // Repetitive data exercises long matches and overlapping copies.
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 4000 }))
    .map(([unit, times]) =>
      Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length] as number),
    ),
  fc.string({ maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(3))),
);

describe('lz4 block codec', () => {
  it('decompresses what lz4-napi compresses, and lz4-napi decompresses what it compresses', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const raw = Buffer.from(data);
        expect(lz4DecompressBlock(lz4Block(raw), raw.length).equals(raw)).toBe(true);
        const ours = lz4CompressBlock(raw);
        expect(lz4Unblock(ours, raw.length).equals(raw)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('compresses repetitive data and refuses a block that does not match its raw size', () => {
    const raw = Buffer.from('abcdefgh'.repeat(1000));
    const block = lz4CompressBlock(raw);
    expect(block.length).toBeLessThan(raw.length / 20);
    expect(() => lz4DecompressBlock(block, raw.length + 1)).toThrow();
    expect(() => lz4DecompressBlock(Buffer.from([0xf0]), 10)).toThrow();
  });
});

describe('LogGroup protobuf', () => {
  const group = fc.record({
    logs: fc.array(
      fc.record({
        time: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        contents: fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }),
          fc.string({ maxLength: 40 }),
        ),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    topic: fc.string({ maxLength: 10 }),
    source: fc.string({ maxLength: 10 }),
    tags: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })),
  });

  it('reads what protobufjs writes and writes what protobufjs reads', () => {
    fc.assert(
      fc.property(group, (g) => {
        const theirs = encodeGroup(g);
        const read = decodeLogGroupList(encodeLogGroupList([theirs]))[0];
        expect(
          read?.logs.map((l) => ({
            time: l.time,
            contents: Object.fromEntries(l.contents.map((c) => [c.key, c.value])),
          })),
        ).toEqual(g.logs);
        expect(Object.fromEntries(read?.tags.map((t) => [t.key, t.value]) ?? [])).toEqual(g.tags);
        const ours = encodeLogGroup({
          logs: g.logs.map((l) => ({
            time: l.time,
            contents: Object.entries(l.contents).map(([key, value]) => ({ key, value })),
          })),
          topic: g.topic,
          source: g.source,
          tags: Object.entries(g.tags).map(([key, value]) => ({ key, value })),
        });
        const back = decodeGroupList(encodeLogGroupList([ours]))[0];
        expect(back?.logs).toEqual(g.logs);
        expect(back?.tags).toEqual(g.tags);
        expect(back?.topic ?? '').toBe(g.topic);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SLS addressing', () => {
  it.each([
    ['proj-a.cn-hangzhou.log.aliyuncs.com', { project: 'proj-a', region: 'cn-hangzhou' }],
    [
      'proj-a.cn-shanghai-intranet.log.aliyuncs.com:80',
      { project: 'proj-a', region: 'cn-shanghai' },
    ],
    ['cn-beijing.log.aliyuncs.com', { project: undefined, region: 'cn-beijing' }],
    ['proj-a.@127.0.0.1:8790', { project: 'proj-a', region: 'cn-hangzhou' }],
    [
      'proj-a.cn-shanghai.log.aliyuncs.com@127.0.0.1:8790',
      { project: 'proj-a', region: 'cn-shanghai' },
    ],
    [
      'proj-a.cn-beijing-intranet.log.aliyuncs.com@127.0.0.1:8790',
      { project: 'proj-a', region: 'cn-beijing' },
    ],
    ['cn-shanghai.log.aliyuncs.com@127.0.0.1:8790', { project: undefined, region: 'cn-shanghai' }],
    ['@127.0.0.1:8790', { project: undefined, region: 'cn-hangzhou' }],
    ['proj-a.127.0.0.1:8790', { project: 'proj-a', region: 'cn-hangzhou' }],
    ['proj-a.localhost:8790', { project: 'proj-a', region: 'cn-hangzhou' }],
    ['127.0.0.1:8790', { project: undefined, region: 'cn-hangzhou' }],
  ])('%s', (host, expected) => {
    expect(parseSlsHost(host, 'cn-hangzhou')).toEqual(expected);
  });
});
