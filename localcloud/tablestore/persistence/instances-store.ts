// Persistence of the instances: turns what a request changed (schema changes, journaled rows)
// into journal records (core/journal.ts, the one localcloud services share), replays the journal
// into the model on start, and writes snapshots of the whole state. In memory (no data
// directory) it records nothing.

import type { Journal } from '../../core/journal';
import {
  buildSearchIndexes,
  type Instance,
  type Instances,
  installIndex,
  installSearchIndex,
  installTable,
  removeIndex,
  removeSearchIndex,
  removeTable,
  type SchemaChange,
  setTableMeta,
} from '../model/instance';
import { commitRow, type Table } from '../model/rows';
import { encodeRowKey, type PkValue, type Row } from '../model/values';
import { decodeStoredRow, encodeStoredRow } from '../wire/row-codec';
import { type LogEntry, openTablestoreJournal, type StoreRecord } from './log';

/** The records one request produced, in order, for one instance. */
export class ChangeRecorder {
  readonly records: StoreRecord[] = [];

  changed(change: SchemaChange): void {
    this.records.push(change);
  }

  /** Journals a main-table row as stored now (null: removed). */
  row(table: Table, pk: PkValue[], row: Row | null): void {
    const encoded = encodeStoredRow(table, pk, row).toString('base64');
    const last = this.records.at(-1);
    if (last?.op === 'rows' && last.table === table.name) {
      last.rows.push(encoded);
      if (table.autoIncrementLast) last.autoIncrement = table.autoIncrementLast;
      return;
    }
    this.records.push({
      op: 'rows',
      table: table.name,
      rows: [encoded],
      ...(table.autoIncrementLast ? { autoIncrement: table.autoIncrementLast } : {}),
    });
  }
}

function applyRecord(instance: Instance, record: StoreRecord): void {
  switch (record.op) {
    case 'createTable': {
      removeTable(instance, record.meta.name);
      const table = installTable(instance, { ...record.meta, indexes: [...record.meta.indexes] });
      table.autoIncrementLast = record.autoIncrement ?? 0;
      return;
    }
    case 'updateTable': {
      const table = instance.tables.get(record.meta.name);
      if (table) setTableMeta(table, record.meta);
      return;
    }
    case 'deleteTable':
      removeTable(instance, record.table);
      return;
    case 'createIndex': {
      const main = instance.tables.get(record.table);
      if (!main) return;
      removeIndex(instance, main, record.index.name);
      installIndex(instance, main, record.index, record.includeBaseData);
      return;
    }
    case 'dropIndex': {
      const main = instance.tables.get(record.table);
      if (main) removeIndex(instance, main, record.index);
      return;
    }
    case 'createSearchIndex': {
      const table = instance.tables.get(record.meta.table);
      // Built once the whole log is replayed: indexing row by row while replaying is wasted work.
      if (table) installSearchIndex(instance, table, record.meta, 'later');
      return;
    }
    case 'updateSearchIndex': {
      const index = instance.searchIndexes.get(record.table)?.get(record.index);
      if (index) index.meta = { ...index.meta, timeToLive: record.timeToLive };
      return;
    }
    case 'deleteSearchIndex':
      removeSearchIndex(instance, record.table, record.index);
      return;
    case 'rows': {
      const table = instance.tables.get(record.table);
      if (!table) return;
      for (const encoded of record.rows) {
        const { pk, row } = decodeStoredRow(Buffer.from(encoded, 'base64'));
        commitRow(table, encodeRowKey(pk), row);
      }
      table.autoIncrementLast = Math.max(table.autoIncrementLast, record.autoIncrement ?? 0);
      return;
    }
  }
}

const ROWS_PER_SNAPSHOT_ENTRY = 1000;

function* snapshotOf(instances: Instances): Generator<LogEntry> {
  for (const instance of instances.all()) {
    const base = { account: instance.accountId, instance: instance.name };
    yield { ...base, createInstance: true };
    for (const table of instance.mainTables()) {
      yield {
        ...base,
        records: [{ op: 'createTable', meta: table.meta, autoIncrement: table.autoIncrementLast }],
      };
      let rows: string[] = [];
      for (const [, row] of table.rows.entries()) {
        rows.push(encodeStoredRow(table, row.pk, row).toString('base64'));
        if (rows.length === ROWS_PER_SNAPSHOT_ENTRY) {
          yield { ...base, records: [{ op: 'rows', table: table.name, rows }] };
          rows = [];
        }
      }
      if (rows.length > 0) yield { ...base, records: [{ op: 'rows', table: table.name, rows }] };
      for (const index of instance.searchIndexes.get(table.name)?.values() ?? [])
        yield { ...base, records: [{ op: 'createSearchIndex', meta: index.meta }] };
    }
  }
}

/** How long the last start took to replay the log and to rebuild the search indexes. */
export interface StartupTimings {
  replayMs: number;
  searchIndexBuildMs: number;
  searchIndexes: number;
}

export class InstancesStore {
  private readonly log: Journal<LogEntry> | undefined;
  readonly startup: StartupTimings = { replayMs: 0, searchIndexBuildMs: 0, searchIndexes: 0 };

  /** Opens the data directory (if any) and replays it into `instances`. */
  constructor(
    private readonly instances: Instances,
    options: { dataDir?: string; compactAfterBytes?: number },
  ) {
    this.log = options.dataDir
      ? openTablestoreJournal(options.dataDir, options.compactAfterBytes ?? 64 * 1024 * 1024)
      : undefined;
    const started = performance.now();
    if (this.log) for (const entry of this.log.replay()) this.apply(entry);
    const replayed = performance.now();
    // The durable store keeps rows only: search indexes are rebuilt from them on every start.
    for (const instance of instances.all())
      this.startup.searchIndexes += buildSearchIndexes(instance);
    this.startup.replayMs = replayed - started;
    this.startup.searchIndexBuildMs = performance.now() - replayed;
  }

  private apply(entry: LogEntry): void {
    if (entry.deleteInstance) {
      this.instances.delete(entry.account, entry.instance);
      return;
    }
    const instance = this.instances.ensure(entry.account, entry.instance);
    for (const record of entry.records ?? []) applyRecord(instance, record);
  }

  private append(entries: LogEntry[]): void {
    if (!this.log) return;
    if (this.log.append(entries)) this.compact();
  }

  /** Appends what one request changed in one instance (nothing when it changed nothing). */
  commit(instance: Instance, recorder: ChangeRecorder): void {
    if (recorder.records.length === 0) return;
    this.append([
      { account: instance.accountId, instance: instance.name, records: recorder.records },
    ]);
  }

  instanceCreated(accountId: string, name: string): void {
    this.append([{ account: accountId, instance: name, createInstance: true }]);
  }

  instanceDeleted(accountId: string, name: string): void {
    this.append([{ account: accountId, instance: name, deleteInstance: true }]);
  }

  compact(): void {
    this.log?.compact(snapshotOf(this.instances));
  }

  close(): void {
    if (!this.log) return;
    this.compact();
    this.log.close();
  }
}
