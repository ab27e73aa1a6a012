// What Tablestore's durable journal holds (core/journal.ts keeps it under the data directory:
// every acknowledged change appended with a synchronous write before the response leaves, so it
// survives `kill -9`; replayed on start; folded into a snapshot on clean close or when it grows).

import { Journal } from '../../core/journal';
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

/** Opens the journal of a data directory (`tablestore.wal.ndjson`, `.snapshot.ndjson`, `.lock`). */
export function openTablestoreJournal(dir: string, compactAfterBytes: number): Journal<LogEntry> {
  return new Journal<LogEntry>(dir, {
    name: 'tablestore',
    label: 'Tablestore',
    compactAfterBytes,
    // bigints (search values of LONG type in index definitions) as {"$bigint": "<digits>"}.
    replacer: (_key, value) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value),
    reviver: (_key, value) =>
      typeof value === 'object' && value !== null && '$bigint' in value
        ? BigInt((value as { $bigint: string }).$bigint)
        : value,
  });
}
