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

function open(dir: string): Journal<Entry> {
  return new Journal<Entry>(dir, {
    name: 'test',
    label: 'Test',
    compactAfterBytes: 1 << 20,
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
});
