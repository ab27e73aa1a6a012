import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../localcloud/core/journal';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Entry {
  n: number | bigint;
}

function open(dir: string, compactAfterBytes = 1 << 20): Journal<Entry> {
  return new Journal<Entry>(dir, {
    name: 'test',
    label: 'Test',
    compactAfterBytes,
    replacer: (_key, value) => (typeof value === 'bigint' ? { $bigint: String(value) } : value),
    reviver: (_key, value) =>
      typeof value === 'object' && value !== null && '$bigint' in value
        ? BigInt((value as { $bigint: string }).$bigint)
        : value,
  });
}

/** Reopens the journal as a restart would and reads everything back. */
function replayed(dir: string): Entry[] {
  const journal = open(dir);
  try {
    return [...journal.replay()];
  } finally {
    journal.close();
  }
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
  dirs.push(dir);
  return dir;
}

describe('Journal', () => {
  it('cuts a line a crash left unfinished before appending, so the next replay reads every entry', () => {
    const dir = tempDir();
    let journal = open(dir);
    journal.append([{ n: 1 }, { n: 2 }]);
    journal.close();
    fs.appendFileSync(path.join(dir, 'test.wal.ndjson'), '{"n":');
    expect(replayed(dir)).toEqual([{ n: 1 }, { n: 2 }]);

    journal = open(dir);
    journal.append([{ n: 3 }]);
    journal.close();
    expect(replayed(dir)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('keeps a last entry that was written whole but lost its newline (replay applied it)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'test.wal.ndjson'), '{"n":1}\n{"n":2}');
    expect(replayed(dir)).toEqual([{ n: 1 }, { n: 2 }]);
    const journal = open(dir);
    journal.append([{ n: 3 }]);
    journal.close();
    expect(replayed(dir)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('writes values JSON cannot hold through its replacer and reads them back through its reviver', () => {
    const dir = tempDir();
    const journal = open(dir);
    journal.append([{ n: 2n ** 63n - 1n }]);
    journal.compact([{ n: -(2n ** 63n) }, { n: 5 }]);
    journal.append([{ n: 7n }]);
    journal.close();
    expect(replayed(dir)).toEqual([{ n: -(2n ** 63n) }, { n: 5 }, { n: 7n }]);
  });

  it('asks to be folded once the log outgrows both the threshold and the last snapshot', () => {
    const dir = tempDir();
    let journal = open(dir, 20);
    // Lines of 8 bytes ({"n":1} and a newline).
    expect(journal.append([{ n: 1 }, { n: 2 }])).toBe(false);
    expect(journal.append([{ n: 3 }])).toBe(true);
    // A state of 10 lines (80 bytes) folded: the next fold is due past 80 bytes of log, not 20.
    journal.compact(Array.from({ length: 10 }, (_, i) => ({ n: i })));
    const due: boolean[] = [];
    for (let i = 0; i < 11; i++) due.push(journal.append([{ n: i }]));
    expect(due.indexOf(true)).toBe(10);
    journal.compact(Array.from({ length: 10 }, (_, i) => ({ n: i })));
    journal.close();
    // The snapshot's size is known again after a restart.
    journal = open(dir, 20);
    expect(journal.append([{ n: 1 }, { n: 2 }, { n: 3 }])).toBe(false);
    expect(journal.append(Array.from({ length: 8 }, (_, i) => ({ n: i })))).toBe(true);
    journal.close();
  });
});
