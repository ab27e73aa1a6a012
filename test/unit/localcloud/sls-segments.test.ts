// The on-disk shard log (localcloud/sls/segments.ts) against the in-memory one: the same
// operations give the same groups, seqs, receive times and watermarks, also after reopening the
// directory at any point (with or without the segment indexes a clean stop writes). Crash cases:
// a record cut short at the end is dropped, a damaged sealed segment is refused, expired segments
// left behind are removed.

import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryShardLog, type ShardLog } from '../../../localcloud/sls/model';
import { SegmentShardLog } from '../../../localcloud/sls/segments';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(tmpdir(), 'sls-segments-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function payload(seq: number, size: number): Buffer {
  return Buffer.alloc(size, `group ${seq};`);
}

function contents(log: ShardLog) {
  return log.read(log.firstSeq, log.nextSeq).map((g) => ({
    seq: g.seq,
    receiveTime: g.receiveTime,
    logCount: g.logCount,
    bytes: g.bytes.toString('latin1'),
  }));
}

function segmentFiles(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(ext))
    .sort();
}

type Op =
  | { kind: 'append'; size: number; logs: number; dt: number }
  | { kind: 'trim'; back: number }
  | { kind: 'reopen'; clean: boolean; dropIndexes: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      size: fc.integer({ min: 1, max: 300 }),
      logs: fc.integer({ min: 1, max: 4096 }),
      dt: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('trim' as const), back: fc.nat({ max: 20 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reopen' as const),
      clean: fc.boolean(),
      dropIndexes: fc.boolean(),
    }),
  },
);

describe('SegmentShardLog', () => {
  it('behaves as the in-memory log through appends, trims and reopenings', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const dir = path.join(root, `run-${run++}`);
        let watermark = 0;
        const open = () =>
          new SegmentShardLog({
            dir,
            segmentBytes: 1024,
            firstSeq: watermark,
            onTrim: (seq) => {
              watermark = seq;
            },
          });
        const memory = new MemoryShardLog();
        let disk = open();
        let time = 1_700_000_000;
        for (const step of ops) {
          if (step.kind === 'append') {
            time += step.dt;
            const bytes = payload(memory.nextSeq, step.size);
            const a = memory.append(time, bytes, step.logs);
            const b = disk.append(time, bytes, step.logs);
            expect(b.seq).toBe(a.seq);
          } else if (step.kind === 'trim') {
            const to = Math.max(0, memory.nextSeq - step.back);
            memory.trim(to);
            disk.trim(to);
          } else {
            // A crash leaves no index for the segment being written; a clean stop writes one.
            if (step.clean) disk.close();
            if (step.dropIndexes) {
              for (const idx of segmentFiles(dir, '.idx')) fs.rmSync(path.join(dir, idx));
            }
            disk = open();
          }
          expect(disk.firstSeq).toBe(memory.firstSeq);
          expect(disk.nextSeq).toBe(memory.nextSeq);
          expect(contents(disk)).toEqual(contents(memory));
          if (memory.nextSeq > memory.firstSeq) {
            const middle = Math.floor((memory.firstSeq + memory.nextSeq) / 2);
            const at = memory.receiveTime(middle);
            expect(disk.receiveTime(middle)).toBe(at);
            expect(disk.seqAtTime(at)).toBe(memory.seqAtTime(at));
            expect(disk.seqAtTime(at + 1)).toBe(memory.seqAtTime(at + 1));
          }
        }
        disk.close();
      }),
      { numRuns: 60 },
    );
  });

  it('rolls segments, writes their indexes, and removes whole expired segments only', () => {
    const dir = path.join(root, 'roll');
    const log = new SegmentShardLog({ dir, segmentBytes: 1000 });
    for (let seq = 0; seq < 30; seq++) log.append(1_700_000_000 + seq, payload(seq, 200), 1);
    // 216 bytes a record: four fit in 1000, so a segment starts every 4th seq.
    expect(segmentFiles(dir, '.seg')).toEqual(
      [0, 4, 8, 12, 16, 20, 24, 28].map((base) => `${String(base).padStart(16, '0')}.seg`),
    );
    expect(segmentFiles(dir, '.idx')).toHaveLength(7); // sealed ones; the last one on close
    log.trim(13);
    expect(segmentFiles(dir, '.seg')[0]).toBe('0000000000000012.seg');
    expect(log.firstSeq).toBe(13);
    expect(log.read(0, 15).map((g) => g.seq)).toEqual([13, 14]);
    // Everything expired: the segment being written stays, so the next seq is still known.
    log.trim(30);
    expect(segmentFiles(dir, '.seg')).toEqual(['0000000000000028.seg']);
    log.close();
    const reopened = new SegmentShardLog({ dir, segmentBytes: 1000, firstSeq: 30 });
    expect([reopened.firstSeq, reopened.nextSeq]).toEqual([30, 30]);
    expect(reopened.append(1_700_000_100, payload(30, 10), 1).seq).toBe(30);
    expect(reopened.lastReceiveTime).toBe(1_700_000_100);
    reopened.close();
  });

  it('lets go of index entries after a large trim and still reads, searches and reopens', () => {
    const dir = path.join(root, 'shift');
    const memory = new MemoryShardLog();
    const log = new SegmentShardLog({ dir, segmentBytes: 4096 });
    for (let seq = 0; seq < 12_000; seq++) {
      const time = 1_700_000_000 + Math.floor(seq / 10);
      memory.append(time, payload(seq, 8), 1);
      log.append(time, payload(seq, 8), 1);
    }
    memory.trim(9_000);
    log.trim(9_000);
    expect(log.indexedGroups).toBe(3_000);
    for (let seq = 12_000; seq < 12_100; seq++) {
      memory.append(1_700_001_200, payload(seq, 8), 1);
      log.append(1_700_001_200, payload(seq, 8), 1);
    }
    expect(contents(log)).toEqual(contents(memory));
    expect(log.seqAtTime(1_700_000_950)).toBe(memory.seqAtTime(1_700_000_950));
    log.close();
    const reopened = new SegmentShardLog({ dir, segmentBytes: 4096, firstSeq: 9_000 });
    expect(contents(reopened)).toEqual(contents(memory));
    reopened.close();
  });

  it('drops a record cut short by a crash and goes on from the last whole one', () => {
    const dir = path.join(root, 'torn');
    const log = new SegmentShardLog({ dir, segmentBytes: 1 << 20 });
    for (let seq = 0; seq < 5; seq++) log.append(1_700_000_000, payload(seq, 100), 2);
    // No close: as after kill -9. Then a write the process did not finish.
    const file = path.join(dir, '0000000000000000.seg');
    const whole = fs.statSync(file).size;
    const torn = Buffer.alloc(40);
    torn.writeUInt32LE(100, 0);
    torn.writeUInt32LE(1_700_000_000, 4);
    torn.writeUInt32LE(2, 8);
    torn.writeUInt32LE((100 ^ 1_700_000_000 ^ 2 ^ 0x534c5331) >>> 0, 12);
    fs.appendFileSync(file, torn);
    const reopened = new SegmentShardLog({ dir, segmentBytes: 1 << 20 });
    expect(reopened.nextSeq).toBe(5);
    expect(fs.statSync(file).size).toBe(whole);
    reopened.append(1_700_000_001, payload(5, 50), 1);
    expect(reopened.read(4, 6).map((g) => g.bytes.toString('latin1'))).toEqual([
      payload(4, 100).toString('latin1'),
      payload(5, 50).toString('latin1'),
    ]);
    reopened.close();
    // A header cut short is dropped too.
    fs.appendFileSync(file, Buffer.alloc(7));
    const again = new SegmentShardLog({ dir, segmentBytes: 1 << 20 });
    expect(again.nextSeq).toBe(6);
    again.close();
  });

  it('refuses a segment whose records do not parse', () => {
    const dir = path.join(root, 'damaged');
    const log = new SegmentShardLog({ dir, segmentBytes: 300 });
    for (let seq = 0; seq < 6; seq++) log.append(1_700_000_000, payload(seq, 200), 1);
    log.close();
    for (const idx of segmentFiles(dir, '.idx')) fs.rmSync(path.join(dir, idx));
    const file = path.join(dir, '0000000000000001.seg');
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32LE(0xdeadbeef, 12);
    fs.writeFileSync(file, bytes);
    expect(() => new SegmentShardLog({ dir, segmentBytes: 300 })).toThrow(/damaged/);
  });

  it('removes sealed segments below the kept watermark on open (a crash after the trim line)', () => {
    const dir = path.join(root, 'leftover');
    const log = new SegmentShardLog({ dir, segmentBytes: 300 });
    for (let seq = 0; seq < 6; seq++) log.append(1_700_000_000, payload(seq, 200), 1);
    log.close();
    const reopened = new SegmentShardLog({ dir, segmentBytes: 300, firstSeq: 4 });
    expect(segmentFiles(dir, '.seg')).toEqual(['0000000000000004.seg', '0000000000000005.seg']);
    expect(reopened.read(0, 10).map((g) => g.seq)).toEqual([4, 5]);
    reopened.close();
  });
});
