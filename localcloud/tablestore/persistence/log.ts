// Durability under a data directory: every acknowledged change is appended to a write-ahead log
// with a synchronous write before the response leaves, so it survives `kill -9` of the process
// (the bytes are in the OS page cache); the log is replayed on start and folded into a snapshot
// on clean close or when it grows large. One process owns a data directory at a time.

import fs from 'node:fs';
import path from 'node:path';
import type { SchemaChange } from '../model/instance';

/** A change to one instance's tables, as the log keeps it. */
export type StoreRecord =
  /** A table's schema change; a created table carries its auto-increment high-water mark. */
  | (SchemaChange & { autoIncrement?: number })
  /** Rows as stored after the change (PlainBuffer, base64); a delete marker removes the row. */
  | { op: 'rows'; table: string; rows: string[]; autoIncrement?: number };

export interface LogEntry {
  account: string;
  instance: string;
  createInstance?: true;
  deleteInstance?: true;
  records?: StoreRecord[];
}

/** JSON with bigints (search values of LONG type) kept as {"$bigint": "<digits>"}. */
function stringify(entry: LogEntry): string {
  return JSON.stringify(entry, (_key, value: unknown) =>
    typeof value === 'bigint' ? { $bigint: value.toString() } : value,
  );
}

function parse(line: string): LogEntry {
  return JSON.parse(line, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && '$bigint' in value) {
      return BigInt((value as { $bigint: string }).$bigint);
    }
    return value;
  }) as LogEntry;
}

const SNAPSHOT = 'tablestore.snapshot.ndjson';
const WAL = 'tablestore.wal.ndjson';
const LOCK = 'tablestore.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lines of a file, read in chunks; a torn last line (no newline) is reported as `torn`. */
function* readLines(file: string): Generator<{ line: string; torn: boolean }> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let pending: Buffer[] = [];
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      let start = 0;
      for (let i = 0; i < read; i++) {
        if (chunk[i] !== 0x0a) continue;
        pending.push(Buffer.from(chunk.subarray(start, i)));
        yield { line: Buffer.concat(pending).toString('utf8'), torn: false };
        pending = [];
        start = i + 1;
      }
      if (start < read) pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    if (pending.length > 0) yield { line: Buffer.concat(pending).toString('utf8'), torn: true };
  } finally {
    fs.closeSync(fd);
  }
}

export class DurableLog {
  private readonly walPath: string;
  private readonly snapshotPath: string;
  private readonly lockPath: string;
  private walFd: number | undefined;
  private walBytes = 0;

  constructor(
    readonly dir: string,
    private readonly compactAfterBytes: number,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.walPath = path.join(dir, WAL);
    this.snapshotPath = path.join(dir, SNAPSHOT);
    this.lockPath = path.join(dir, LOCK);
    this.acquireLock();
  }

  private acquireLock(): void {
    try {
      const owner = Number.parseInt(fs.readFileSync(this.lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && processAlive(owner)) {
        throw new Error(
          `Tablestore data directory ${this.dir} is in use by process ${owner}; stop it or use another dataDir.`,
        );
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (error instanceof Error && error.message.startsWith('Tablestore data directory'))
          throw error;
      }
    }
    fs.writeFileSync(this.lockPath, String(process.pid));
  }

  /** Everything persisted so far: the snapshot, then the log written after it. */
  *replay(): Generator<LogEntry> {
    for (const file of [this.snapshotPath, this.walPath]) {
      for (const { line, torn } of readLines(file)) {
        if (line.length === 0) continue;
        try {
          yield parse(line);
        } catch (error) {
          // A write cut short by a crash is never acknowledged: drop it. Anything else is damage.
          if (torn) continue;
          throw new Error(`Tablestore data in ${file} is damaged: ${(error as Error).message}`);
        }
      }
    }
  }

  /** Appends synchronously; returns true when the log has grown past the compaction threshold. */
  append(entries: readonly LogEntry[]): boolean {
    if (entries.length === 0) return false;
    if (this.walFd === undefined) {
      this.walFd = fs.openSync(this.walPath, 'a');
      this.walBytes = fs.fstatSync(this.walFd).size;
    }
    const data = Buffer.from(`${entries.map((entry) => stringify(entry)).join('\n')}\n`, 'utf8');
    let offset = 0;
    while (offset < data.length)
      offset += fs.writeSync(this.walFd, data, offset, data.length - offset);
    this.walBytes += data.length;
    return this.walBytes > this.compactAfterBytes;
  }

  /** Writes a snapshot of the whole state, then empties the log it supersedes. */
  compact(state: Iterable<LogEntry>): void {
    const tmp = `${this.snapshotPath}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      let batch: string[] = [];
      let size = 0;
      const flush = (): void => {
        if (batch.length === 0) return;
        const data = Buffer.from(`${batch.join('\n')}\n`, 'utf8');
        let offset = 0;
        while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
        batch = [];
        size = 0;
      };
      for (const entry of state) {
        const line = stringify(entry);
        batch.push(line);
        size += line.length;
        if (size > 1 << 20) flush();
      }
      flush();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.snapshotPath);
    // Replaying the old log on top of the new snapshot would still converge (records are
    // post-images), so a crash between rename and truncate loses nothing.
    if (this.walFd !== undefined) {
      fs.closeSync(this.walFd);
      this.walFd = undefined;
    }
    fs.writeFileSync(this.walPath, '');
    this.walBytes = 0;
  }

  close(): void {
    if (this.walFd !== undefined) {
      fs.closeSync(this.walFd);
      this.walFd = undefined;
    }
    try {
      if (fs.readFileSync(this.lockPath, 'utf8') === String(process.pid))
        fs.unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }
}
