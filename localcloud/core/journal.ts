// A durable journal for a localcloud service's state under a data directory: each change is
// appended as one JSON line with a synchronous write before the change is acknowledged, so it
// survives `kill -9` of the process (the bytes are in the OS page cache; there is no fsync per
// line, so a power cut may lose the last ones). On start the snapshot and then the log written
// after it are replayed; `compact` folds the state into a new snapshot and empties the log. A lock
// file names the process that owns the directory. The entry type, file names, the owner's label
// and how values JSON cannot hold are written are parameters: SLS keeps its small state here (its
// log data lives in segment files beside it), Tablestore its schema changes and rows.

import fs from 'node:fs';
import path from 'node:path';

export interface JournalOptions {
  /** File name prefix: `<name>.wal.ndjson`, `<name>.snapshot.ndjson`, `<name>.lock`. */
  name: string;
  /** Who owns the directory, for error messages ("SLS"). */
  label: string;
  /**
   * `append` reports when the log has grown past this many bytes and past the last snapshot's
   * size: folding then costs at most about twice what was appended, however large the state
   * (a fixed threshold would rewrite a large state again and again).
   */
  compactAfterBytes: number;
  /** For values JSON cannot hold (e.g. bigint): JSON.stringify's replacer, JSON.parse's reviver. */
  replacer?: (key: string, value: unknown) => unknown;
  reviver?: (key: string, value: unknown) => unknown;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lines of a file, read in chunks; a last line without its newline is reported as `torn`. */
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
      for (let i = chunk.indexOf(0x0a, 0); i >= 0 && i < read; i = chunk.indexOf(0x0a, i + 1)) {
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

/** Bytes of the file up to and including its last newline (0 when it has none). */
function lengthThroughLastNewline(file: string, size: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length);
      const read = fs.readSync(fd, chunk, 0, end - start, start);
      const at = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (at >= 0) return start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

export class Journal<Entry> {
  private readonly walPath: string;
  private readonly snapshotPath: string;
  private readonly lockPath: string;
  private walFd: number | undefined;
  private walBytes = 0;
  private snapshotBytes = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly options: JournalOptions,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.walPath = path.join(dir, `${options.name}.wal.ndjson`);
    this.snapshotPath = path.join(dir, `${options.name}.snapshot.ndjson`);
    this.lockPath = path.join(dir, `${options.name}.lock`);
    this.acquireLock();
    try {
      this.snapshotBytes = fs.statSync(this.snapshotPath).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private acquireLock(): void {
    let owner: number | undefined;
    try {
      owner = Number.parseInt(fs.readFileSync(this.lockPath, 'utf8'), 10);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (owner !== undefined && Number.isInteger(owner) && processAlive(owner)) {
      throw new Error(
        `${this.options.label} data directory ${this.dir} is in use by process ${owner}${owner === process.pid ? ' (this one: stop the other localcloud first)' : ''}; stop it or use another dataDir.`,
      );
    }
    fs.writeFileSync(this.lockPath, String(process.pid));
  }

  /** True when nothing was ever saved here. */
  isEmpty(): boolean {
    for (const file of [this.snapshotPath, this.walPath]) {
      try {
        if (fs.statSync(file).size > 0) return false;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return true;
  }

  /** Everything saved so far: the snapshot, then the log written after it. */
  *replay(): Generator<Entry> {
    for (const file of [this.snapshotPath, this.walPath]) {
      for (const { line, torn } of readLines(file)) {
        if (line.length === 0) continue;
        try {
          yield JSON.parse(line, this.options.reviver) as Entry;
        } catch (error) {
          // A write cut short by a crash was never acknowledged: drop it. Anything else is damage.
          if (torn) continue;
          throw new Error(
            `${this.options.label} data in ${file} is damaged: ${(error as Error).message}`,
          );
        }
      }
    }
  }

  /**
   * A last line without its newline (a crash mid-write, never acknowledged) must not run into
   * the next entry. Replay applied it if it parses: then it only lacks its newline. Otherwise it
   * is cut off (ending it with a newline would leave a damaged line that stops the next replay).
   */
  private endTornLine(fd: number): void {
    const kept = lengthThroughLastNewline(this.walPath, this.walBytes);
    if (kept === this.walBytes) return;
    const tail = Buffer.alloc(this.walBytes - kept);
    const reader = fs.openSync(this.walPath, 'r');
    try {
      fs.readSync(reader, tail, 0, tail.length, kept);
    } finally {
      fs.closeSync(reader);
    }
    let complete = true;
    try {
      JSON.parse(tail.toString('utf8'), this.options.reviver);
    } catch {
      complete = false;
    }
    if (complete) {
      writeAll(fd, Buffer.from('\n'));
      this.walBytes += 1;
    } else {
      fs.ftruncateSync(fd, kept);
      this.walBytes = kept;
    }
  }

  /** Appends synchronously; returns true when the log has grown past the compaction threshold. */
  append(entries: readonly Entry[]): boolean {
    if (entries.length === 0) return false;
    if (this.closed) throw new Error(`${this.options.label} journal ${this.dir} is closed`);
    if (this.walFd === undefined) {
      this.walFd = fs.openSync(this.walPath, 'a');
      this.walBytes = fs.fstatSync(this.walFd).size;
      if (this.walBytes > 0) this.endTornLine(this.walFd);
    }
    const data = Buffer.from(
      `${entries.map((entry) => JSON.stringify(entry, this.options.replacer)).join('\n')}\n`,
      'utf8',
    );
    writeAll(this.walFd, data);
    this.walBytes += data.length;
    return this.walBytes > Math.max(this.options.compactAfterBytes, this.snapshotBytes);
  }

  /** Writes a snapshot of the whole state (fsynced), then empties the log it supersedes. */
  compact(state: Iterable<Entry>): void {
    const tmp = `${this.snapshotPath}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      let batch: string[] = [];
      let size = 0;
      let written = 0;
      const flush = (): void => {
        if (batch.length === 0) return;
        const data = Buffer.from(`${batch.join('\n')}\n`, 'utf8');
        writeAll(fd, data);
        written += data.length;
        batch = [];
        size = 0;
      };
      for (const entry of state) {
        const line = JSON.stringify(entry, this.options.replacer);
        batch.push(line);
        size += line.length;
        if (size > 1 << 20) flush();
      }
      flush();
      fs.fsyncSync(fd);
      this.snapshotBytes = written;
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.snapshotPath);
    // Entries are post-images: replaying the old log over the new snapshot converges to the same
    // state, so a crash between the rename and the truncation loses nothing.
    if (this.walFd !== undefined) {
      fs.closeSync(this.walFd);
      this.walFd = undefined;
    }
    fs.writeFileSync(this.walPath, '');
    this.walBytes = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
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
