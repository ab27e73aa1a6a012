// The adapter's own SLS codecs against independent ones: its LZ4 block codec against lz4-napi
// (the native codec the official SDK uses), its LogGroup protobuf against protobufjs (with the
// whole published Log.proto, so unknown-to-us fields are exercised), tags appended to encoded
// groups as protobufjs reads them, and the body compressions it reads and writes.

import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compressSync, uncompressSync } from 'lz4-napi';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  appendLogTags,
  decodeLogGroup,
  encodeLogGroup,
  mergeLogGroups,
  ProtobufError,
  scanLogGroup,
  scanLogGroupList,
} from '../../../../shared/cloud/sls/codec';
import {
  BodyDecodingError,
  compressBody,
  decompressBody,
} from '../../../../shared/cloud/sls/compression';
import { Lz4Error, lz4Compress, lz4Decompress } from '../../../../shared/cloud/sls/lz4';
import type { LogGroup } from '../../../../shared/logs/model';

// Log.proto as Simple Log Service publishes it, every field included.
const root = protobuf.Root.fromJSON({
  nested: {
    Content: { fields: { Key: { type: 'string', id: 1 }, Value: { type: 'string', id: 2 } } },
    Log: {
      fields: {
        Time: { type: 'uint32', id: 1 },
        Contents: { rule: 'repeated', type: 'Content', id: 2 },
        TimeNs: { type: 'fixed32', id: 4 },
      },
    },
    LogTag: { fields: { Key: { type: 'string', id: 1 }, Value: { type: 'string', id: 2 } } },
    LogGroup: {
      fields: {
        Logs: { rule: 'repeated', type: 'Log', id: 1 },
        Reserved: { type: 'string', id: 2 },
        Topic: { type: 'string', id: 3 },
        Source: { type: 'string', id: 4 },
        MachineUUID: { type: 'string', id: 5 },
        LogTags: { rule: 'repeated', type: 'LogTag', id: 6 },
      },
    },
    LogGroupList: { fields: { logGroupList: { rule: 'repeated', type: 'LogGroup', id: 1 } } },
  },
});
const LogGroupType = root.lookupType('LogGroup');
const LogGroupListType = root.lookupType('LogGroupList');

interface PbGroup {
  Logs?: Array<{ Time: number; Contents?: Array<{ Key: string; Value: string }>; TimeNs?: number }>;
  Reserved?: string;
  Topic?: string;
  Source?: string;
  MachineUUID?: string;
  LogTags?: Array<{ Key: string; Value: string }>;
}

function pbDecode(bytes: Uint8Array): PbGroup {
  return LogGroupType.toObject(LogGroupType.decode(bytes)) as PbGroup;
}

function pbEncode(group: PbGroup): Buffer {
  return Buffer.from(LogGroupType.encode(LogGroupType.create(group)).finish());
}

function toPb(group: LogGroup): PbGroup {
  return {
    Logs: group.logs.map((log) => ({
      Time: log.time,
      Contents: log.contents.map((c) => ({ Key: c.key, Value: c.value })),
      ...(log.timeNs === undefined ? {} : { TimeNs: log.timeNs }),
    })),
    ...(group.topic === undefined ? {} : { Topic: group.topic }),
    ...(group.source === undefined ? {} : { Source: group.source }),
    LogTags: group.tags.map((t) => ({ Key: t.key, Value: t.value })),
  };
}

/** What protobufjs reads, in the adapter's model (absent repeated fields as empty lists). */
function fromPb(group: PbGroup): LogGroup {
  return {
    logs: (group.Logs ?? []).map((log) => ({
      time: log.Time,
      ...(log.TimeNs === undefined ? {} : { timeNs: log.TimeNs }),
      contents: (log.Contents ?? []).map((c) => ({ key: c.Key, value: c.Value })),
    })),
    ...(group.Topic === undefined ? {} : { topic: group.Topic }),
    ...(group.Source === undefined ? {} : { source: group.Source }),
    tags: (group.LogTags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
  };
}

// Any text, including astral characters and lone surrogates (written as U+FFFD by both sides).
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.string({ maxLength: 200, unit: 'binary' }),
);
const wellFormed = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 300, unit: 'grapheme' }),
);
const logGroup: fc.Arbitrary<LogGroup> = fc.record(
  {
    logs: fc.array(
      fc.record(
        {
          time: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          timeNs: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          contents: fc.array(fc.record({ key: wellFormed, value: wellFormed }), { maxLength: 8 }),
        },
        { requiredKeys: ['time', 'contents'] },
      ),
      { maxLength: 6 },
    ),
    topic: wellFormed,
    source: wellFormed,
    tags: fc.array(fc.record({ key: wellFormed, value: wellFormed }), { maxLength: 4 }),
  },
  { requiredKeys: ['logs', 'tags'] },
);

describe('LogGroup protobuf', () => {
  it('writes what protobufjs reads and reads what protobufjs writes', () => {
    fc.assert(
      fc.property(logGroup, (group) => {
        expect(fromPb(pbDecode(encodeLogGroup(group)))).toEqual(group);
        expect(decodeLogGroup(pbEncode(toPb(group)))).toEqual(group);
      }),
      { numRuns: 400 },
    );
  });

  it('writes malformed UTF-16 as protobufjs and Buffer do (U+FFFD), with the right lengths', () => {
    fc.assert(
      fc.property(text, text, (key, value) => {
        const group: LogGroup = { logs: [{ time: 1, contents: [{ key, value }] }], tags: [] };
        const ours = encodeLogGroup(group);
        expect(ours.equals(pbEncode(toPb(group)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('scans a LogGroupList into views of its groups: counts, topic, source, tags', () => {
    fc.assert(
      fc.property(fc.array(logGroup, { maxLength: 5 }), (groups) => {
        const list = Buffer.from(
          LogGroupListType.encode(
            LogGroupListType.create({ logGroupList: groups.map(toPb) }),
          ).finish(),
        );
        const scanned = scanLogGroupList(list);
        expect(scanned.map((g) => g.logCount)).toEqual(groups.map((g) => g.logs.length));
        expect(scanned.map((g) => g.tags)).toEqual(groups.map((g) => g.tags));
        expect(scanned.map((g) => g.topic)).toEqual(groups.map((g) => g.topic));
        expect(scanned.map((g) => g.source)).toEqual(groups.map((g) => g.source));
        expect(scanned.map((g) => decodeLogGroup(g.bytes))).toEqual(groups);
        for (const group of scanned) expect(group.bytes.buffer).toBe(list.buffer);
      }),
      { numRuns: 200 },
    );
  });

  it('skips fields it does not read, and keeps them in the bytes it forwards', () => {
    const bytes = pbEncode({
      Logs: [{ Time: 7, Contents: [{ Key: 'k', Value: 'v' }], TimeNs: 9 }],
      Reserved: 'category',
      Topic: 't',
      MachineUUID: 'machine-1',
      LogTags: [{ Key: '__pack_id__', Value: 'ABC-1' }],
    });
    expect(scanLogGroup(bytes)).toMatchObject({
      logCount: 1,
      topic: 't',
      tags: [{ key: '__pack_id__', value: 'ABC-1' }],
    });
    const forwarded = pbDecode(appendLogTags(bytes, [{ key: 'owner', value: '1234' }]));
    expect(forwarded).toMatchObject({ Reserved: 'category', MachineUUID: 'machine-1', Topic: 't' });
  });

  it('adds tags by appending them: protobufjs reads the group with its tags and the new ones', () => {
    fc.assert(
      fc.property(
        logGroup,
        fc.array(fc.record({ key: wellFormed, value: wellFormed }), { minLength: 1, maxLength: 4 }),
        (group, extra) => {
          const appended = appendLogTags(encodeLogGroup(group), extra);
          const expected = { ...group, tags: [...group.tags, ...extra] };
          expect(fromPb(pbDecode(appended))).toEqual(expected);
          expect(decodeLogGroup(appended)).toEqual(expected);
          expect(appended.equals(encodeLogGroup(expected))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("merges groups into one: every log in order, the first group's topic, source and tags", () => {
    fc.assert(
      fc.property(
        fc.array(logGroup, { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ key: wellFormed, value: wellFormed }), { maxLength: 3 }),
        (groups, shared) => {
          const scanned = groups.map((g) => scanLogGroup(encodeLogGroup({ ...g, tags: shared })));
          const merged = mergeLogGroups(scanned);
          const first = groups[0] as LogGroup;
          const expected: LogGroup = {
            logs: groups.flatMap((g) => g.logs),
            ...(first.topic === undefined ? {} : { topic: first.topic }),
            ...(first.source === undefined ? {} : { source: first.source }),
            tags: shared,
          };
          expect(fromPb(pbDecode(merged))).toEqual(expected);
          expect(scanLogGroup(merged).logCount).toBe(expected.logs.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("merges logs written after other fields, and keeps the first group's unknown fields", () => {
    // Fields in any order: a writer may put tags or the topic before the logs.
    const a = pbEncode({ Topic: 't', MachineUUID: 'm-1', Logs: [{ Time: 1, Contents: [] }] });
    const b = Buffer.concat([
      pbEncode({ Topic: 't', LogTags: [{ Key: 'k', Value: 'v' }] }),
      pbEncode({ Logs: [{ Time: 2, Contents: [{ Key: 'x', Value: 'y' }] }] }),
    ]);
    const merged = pbDecode(mergeLogGroups([scanLogGroup(a), scanLogGroup(b)]));
    expect(merged.Logs?.map((l) => l.Time)).toEqual([1, 2]);
    expect(merged).toMatchObject({ Topic: 't', MachineUUID: 'm-1' });
    expect(merged.LogTags ?? []).toEqual([]);
    expect(() => mergeLogGroups([])).toThrow(ProtobufError);
  });

  it('refuses truncated and malformed messages with ProtobufError', () => {
    const bytes = encodeLogGroup({
      logs: [{ time: 5, contents: [{ key: 'a', value: 'b'.repeat(300) }] }],
      tags: [{ key: 'x', value: 'y' }],
    });
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(() => decodeLogGroup(bytes.subarray(0, cut))).toThrow(ProtobufError);
      expect(() =>
        scanLogGroupList(Buffer.concat([Buffer.from([0x0a, cut]), bytes.subarray(0, cut - 1)])),
      ).toThrow(ProtobufError);
    }
    // Wire type 3 (start group) is in no SLS message.
    expect(() => decodeLogGroup(Buffer.from([0x0b]))).toThrow(ProtobufError);
    expect(() => decodeLogGroup(Buffer.from([0x0a, 0x80]))).toThrow(ProtobufError);
  });
});

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }),
  // Repetitive data: long matches, overlapping copies, long length fields.
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 20_000 }))
    .map(([unit, times]) =>
      Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length] as number),
    ),
  fc.string({ maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(3))),
);

/** lz4-napi frames its block with a 4-byte little-endian size; SLS carries the bare block. */
function napiBlock(raw: Buffer): Buffer {
  return compressSync(raw).subarray(4);
}

function napiUnblock(block: Buffer, rawSize: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(rawSize);
  return uncompressSync(Buffer.concat([prefix, block]));
}

describe('lz4 block codec', () => {
  it('decompresses what lz4-napi compresses, and lz4-napi decompresses what it compresses', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const raw = Buffer.from(data);
        expect(lz4Decompress(napiBlock(raw), raw.length).equals(raw)).toBe(true);
        const ours = lz4Compress(raw);
        expect(napiUnblock(ours, raw.length).equals(raw)).toBe(true);
        expect(lz4Decompress(ours, raw.length).equals(raw)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('finds matches up to 64 KB back and compresses log-like text well', () => {
    const line = Buffer.from('{"host":"shop.example.com","status":"200","path":"/api/cart"}\n');
    const far = Buffer.concat([line, Buffer.alloc(60_000, 7), line, Buffer.alloc(10, 1)]);
    expect(napiUnblock(lz4Compress(far), far.length).equals(far)).toBe(true);
    const logs = Buffer.concat(Array.from({ length: 500 }, () => line));
    expect(lz4Compress(logs).length).toBeLessThan(logs.length / 20);
  });

  it('refuses a block that is malformed or does not expand to its announced size', () => {
    const raw = Buffer.from('abcdefgh'.repeat(100));
    const block = lz4Compress(raw);
    expect(() => lz4Decompress(block, raw.length + 1)).toThrow(Lz4Error);
    expect(() => lz4Decompress(block, raw.length - 1)).toThrow(Lz4Error);
    expect(() => lz4Decompress(block.subarray(0, block.length - 3), raw.length)).toThrow(Lz4Error);
    // A literal length byte missing; a match reaching before the start.
    expect(() => lz4Decompress(Buffer.from([0xf0]), 10)).toThrow(Lz4Error);
    expect(() => lz4Decompress(Buffer.from([0x10, 0x61, 0x05, 0x00]), 10)).toThrow(Lz4Error);
  });
});

describe('body compression', () => {
  const raw = encodeLogGroup({
    logs: Array.from({ length: 50 }, (_, i) => ({
      time: 1_700_000_000 + i,
      contents: [{ key: 'message', value: `request ${i} served` }],
    })),
    tags: [],
  });

  it('reads every compression the service may answer: lz4, deflate, gzip, none', () => {
    expect(decompressBody('lz4', napiBlock(raw), raw.length).equals(raw)).toBe(true);
    expect(decompressBody('deflate', deflateSync(raw), raw.length).equals(raw)).toBe(true);
    expect(decompressBody('gzip', gzipSync(raw), raw.length).equals(raw)).toBe(true);
    expect(decompressBody(undefined, raw, undefined)).toBe(raw);
    expect(decompressBody('', raw, raw.length)).toBe(raw);
    expect(decompressBody('lz4', Buffer.alloc(0), 0).length).toBe(0);
  });

  it('writes lz4 and deflate the service reads back to the same bytes', () => {
    expect(napiUnblock(compressBody('lz4', raw), raw.length).equals(raw)).toBe(true);
    expect(decompressBody('deflate', compressBody('deflate', raw), raw.length).equals(raw)).toBe(
      true,
    );
    expect(compressBody('none', raw).equals(raw)).toBe(true);
  });

  it('refuses an unknown compression, a missing raw size and a size mismatch', () => {
    expect(() => decompressBody('zstd', raw, raw.length)).toThrow(BodyDecodingError);
    expect(() => decompressBody('lz4', napiBlock(raw), undefined)).toThrow(BodyDecodingError);
    expect(() => decompressBody('deflate', deflateSync(raw), raw.length - 1)).toThrow(
      BodyDecodingError,
    );
    expect(() => decompressBody('deflate', deflateSync(raw), raw.length + 1)).toThrow(
      BodyDecodingError,
    );
    expect(() => decompressBody('lz4', Buffer.from('garbage'), 100)).toThrow(BodyDecodingError);
  });
});
