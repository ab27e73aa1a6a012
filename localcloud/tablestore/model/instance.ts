// Instances: one namespace of tables per (account, instance name), as the service keeps them.
// Main tables and their index tables share the namespace; installing and removing them keeps
// the main table's index list in step.

import { buildIndex, indexTableMeta, Table } from './rows';
import type { IndexMeta, TableMeta } from './schema';
import { type BackgroundScheduler, SearchIndex, type SearchSettings } from './search-index';
import type { SearchIndexMeta } from './search-schema';

/** What every search index of a service shares: its settings and the clock of visibility. */
export interface SearchContext {
  settings: SearchSettings;
  clock: () => number;
  /** Where FULL phases run their slices (default: the next turn of the event loop). */
  schedule?: BackgroundScheduler;
}

export class Instance {
  /** Main tables and index tables, by name (they share one namespace). */
  readonly tables = new Map<string, Table>();
  /** Search indexes by table name, then index name. */
  readonly searchIndexes = new Map<string, Map<string, SearchIndex>>();
  constructor(
    readonly accountId: string,
    readonly name: string,
    readonly search: SearchContext,
  ) {}

  searchIndexesOf(table: string): Map<string, SearchIndex> {
    let byName = this.searchIndexes.get(table);
    if (!byName) {
      byName = new Map();
      this.searchIndexes.set(table, byName);
    }
    return byName;
  }

  mainTables(): Table[] {
    return [...this.tables.values()].filter((table) => !table.isIndex);
  }
}

/** A change to an instance's tables other than their rows (rows go through the RowJournal). */
export type SchemaChange =
  | { op: 'createTable'; meta: TableMeta }
  | { op: 'updateTable'; meta: TableMeta }
  | { op: 'deleteTable'; table: string }
  | { op: 'createIndex'; table: string; index: IndexMeta; includeBaseData: boolean }
  | { op: 'dropIndex'; table: string; index: string }
  | { op: 'createSearchIndex'; meta: SearchIndexMeta }
  | { op: 'updateSearchIndex'; table: string; index: string; timeToLive: number }
  | { op: 'deleteSearchIndex'; table: string; index: string };

/** Every instance, by account then name. */
export class Instances {
  private readonly byAccount = new Map<string, Map<string, Instance>>();

  constructor(readonly search: SearchContext) {}

  find(accountId: string, name: string): Instance | undefined {
    return this.byAccount.get(accountId)?.get(name);
  }

  /** The instance, created empty when it does not exist. */
  ensure(accountId: string, name: string): Instance {
    let byName = this.byAccount.get(accountId);
    if (!byName) {
      byName = new Map();
      this.byAccount.set(accountId, byName);
    }
    let instance = byName.get(name);
    if (!instance) {
      instance = new Instance(accountId, name, this.search);
      byName.set(name, instance);
    }
    return instance;
  }

  delete(accountId: string, name: string): boolean {
    return this.byAccount.get(accountId)?.delete(name) ?? false;
  }

  *all(): Generator<Instance> {
    for (const byName of this.byAccount.values()) yield* byName.values();
  }
}

/** Adds a table (and the index tables its meta names) to an instance; no checks. */
export function installTable(instance: Instance, meta: TableMeta): Table {
  const table = new Table(meta);
  instance.tables.set(meta.name, table);
  for (const index of meta.indexes) installIndex(instance, table, index, false);
  return table;
}

export function installIndex(
  instance: Instance,
  main: Table,
  index: IndexMeta,
  includeBaseData: boolean,
): Table {
  const indexTable = new Table(indexTableMeta(main.meta, index), main, index);
  main.indexTables.set(index.name, indexTable);
  instance.tables.set(index.name, indexTable);
  if (!main.meta.indexes.some((existing) => existing.name === index.name))
    main.meta.indexes.push(index);
  if (includeBaseData) buildIndex(main, indexTable);
  return indexTable;
}

export function removeTable(instance: Instance, name: string): void {
  const table = instance.tables.get(name);
  if (!table) return;
  for (const index of instance.searchIndexes.get(name)?.values() ?? []) index.detach();
  instance.searchIndexes.delete(name);
  for (const index of table.indexTables.keys()) instance.tables.delete(index);
  instance.tables.delete(name);
}

export function removeIndex(instance: Instance, main: Table, indexName: string): void {
  main.indexTables.delete(indexName);
  instance.tables.delete(indexName);
  main.meta.indexes = main.meta.indexes.filter((index) => index.name !== indexName);
}

/** Keeps an index table's options in step with its main table's time to live. */
export function setTableMeta(table: Table, meta: TableMeta): void {
  table.meta = meta;
  for (const index of table.indexTables.values()) {
    index.meta = {
      ...index.meta,
      options: { ...index.meta.options, timeToLive: meta.options.timeToLive },
    };
  }
}

/**
 * Adds a search index to a table. `build`: start a new index's FULL phase ('full', in the
 * background), index the table's rows now ('rebuild'), or leave it to buildSearchIndexes
 * ('later', while a data directory is replayed).
 */
export function installSearchIndex(
  instance: Instance,
  table: Table,
  meta: SearchIndexMeta,
  build: 'full' | 'rebuild' | 'later',
): SearchIndex {
  const byName = instance.searchIndexesOf(table.name);
  byName.get(meta.name)?.detach();
  const { settings, clock, schedule } = instance.search;
  const index = new SearchIndex(meta, table, settings, clock, schedule);
  byName.set(meta.name, index);
  if (build === 'full') index.startFullSync();
  else if (build === 'rebuild') index.rebuild();
  return index;
}

export function removeSearchIndex(instance: Instance, table: string, name: string): void {
  const byName = instance.searchIndexes.get(table);
  byName?.get(name)?.detach();
  byName?.delete(name);
}

/** Stops every search index of an instance (its FULL phases included): deleted or shut down. */
export function detachSearchIndexes(instance: Instance): void {
  for (const byName of instance.searchIndexes.values())
    for (const index of byName.values()) index.detach();
}

/** Indexes the rows of every search index not built yet (after a replay); returns how many. */
export function buildSearchIndexes(instance: Instance): number {
  let built = 0;
  for (const byName of instance.searchIndexes.values()) {
    for (const index of byName.values()) {
      if (index.isBuilt) continue;
      index.rebuild();
      built++;
    }
  }
  return built;
}
