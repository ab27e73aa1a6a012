// Log integration data sources and the planner's snapshot of each (shared/logs/model.ts) in their
// tables: the DataSourceRepository (versioned, written by the API and, for the Logstores found, by
// the planner) and the SnapshotRepository (one row per data source, written by the planner; a
// snapshot is kept only if it is newer than the one stored).

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { CursorCodec } from '../domain/cursor';
import type { Page, PageRequest } from '../domain/paging';
import type { DataSource, DataSourceSnapshot } from '../logs/model';
import type { DataSourceRepository, SnapshotRepository } from '../logs/ports';
import { conditionalWrite } from './conditional-write';
import {
  BasePersistence,
  isoFromMillis,
  millisFromIso,
  VersionedTableRepository,
} from './persistence';
import type { StoreTables } from './tables';

type DataSourcesTable = StoreTables['logDataSources'];
type Row = ReturnType<DataSourcesTable['decode']>;
type Key = Parameters<DataSourcesTable['key']>[0];

export class TablestoreDataSourceRepository
  extends VersionedTableRepository<
    PrimaryKeySpecOf<DataSourcesTable>,
    ColumnsSpecOf<DataSourcesTable>,
    DataSource,
    string
  >
  implements DataSourceRepository
{
  constructor(
    client: TablestoreClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    clock?: Clock,
  ) {
    super(client, tables.logDataSources, clock);
  }

  async page(request: PageRequest): Promise<Page<DataSource>> {
    const { start, end } = this.table.prefixRange({}, 'forward');
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'forward' },
      request,
      'log-data-sources',
      this.cursors,
    );
    const items = rows.map((row) => this.fromRow(row));
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  protected keyOf(name: string): Key {
    return { name };
  }
  protected entityKey(source: DataSource): string {
    return source.name;
  }
  protected describe(name: string): string {
    return `data source ${name}`;
  }
  protected toRow(d: DataSource): Row {
    return {
      name: d.name,
      type: d.type,
      templateId: d.templateId,
      accountId: d.accountId,
      accountName: d.accountName,
      region: d.region,
      enabled: d.enabled,
      autoAddNewLogstores: d.autoAddNewLogstores,
      generation: BigInt(d.generation),
      consumeFrom: millisFromIso(d.consumeFrom, 'consumeFrom'),
      logstores: d.logstores,
      discoveredAt:
        d.discoveredAt === undefined ? undefined : millisFromIso(d.discoveredAt, 'discoveredAt'),
      createdAt: millisFromIso(d.createdAt, 'createdAt'),
      updatedAt: millisFromIso(d.updatedAt, 'updatedAt'),
      version: BigInt(d.version),
    };
  }
  protected fromRow(row: Row): DataSource {
    const source: DataSource = {
      name: row.name,
      type: row.type,
      templateId: row.templateId,
      accountId: row.accountId,
      region: row.region,
      enabled: row.enabled,
      autoAddNewLogstores: row.autoAddNewLogstores,
      generation: Number(row.generation),
      consumeFrom: isoFromMillis(row.consumeFrom),
      logstores: row.logstores.map(({ project, logstore }) => ({ project, logstore })),
      createdAt: isoFromMillis(row.createdAt),
      updatedAt: isoFromMillis(row.updatedAt),
      version: Number(row.version),
    };
    if (row.accountName !== undefined) source.accountName = row.accountName;
    if (row.discoveredAt !== undefined) source.discoveredAt = isoFromMillis(row.discoveredAt);
    return source;
  }
}

type SnapshotsTable = StoreTables['logSnapshots'];
type SnapshotRow = ReturnType<SnapshotsTable['decode']>;

export class TablestoreSnapshotRepository
  extends BasePersistence<PrimaryKeySpecOf<SnapshotsTable>, ColumnsSpecOf<SnapshotsTable>>
  implements SnapshotRepository
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.logSnapshots, clock);
  }

  /** Kept unless the stored snapshot is at least as new (planning runs never overlap, but a
   *  slow one must not overwrite a later one's). */
  async put(snapshot: DataSourceSnapshot): Promise<void> {
    const { primaryKey, columns, condition } = this.newerRowWrite(snapshotRow(snapshot), 'at');
    await conditionalWrite(this.client.putRow(this.table.name, primaryKey, columns, { condition }));
  }

  async get(name: string): Promise<DataSourceSnapshot | undefined> {
    const row = await this.readRow({ name });
    return row ? fromSnapshotRow(row) : undefined;
  }

  async list(): Promise<DataSourceSnapshot[]> {
    const out: DataSourceSnapshot[] = [];
    for await (const row of this.scanRows()) out.push(fromSnapshotRow(row));
    return out;
  }

  async delete(name: string): Promise<void> {
    await this.client.deleteRow(this.table.name, this.table.key({ name }));
  }
}

const optionalMillis = (iso: string | undefined, field: string) =>
  iso === undefined ? undefined : millisFromIso(iso, field);

function snapshotRow(s: DataSourceSnapshot): SnapshotRow {
  return {
    name: s.name,
    at: millisFromIso(s.at, 'at'),
    generation: BigInt(s.generation),
    shards: BigInt(s.shards),
    shardsFinished: BigInt(s.shardsFinished),
    lastPullAt: optionalMillis(s.lastPullAt, 'lastPullAt'),
    lastDataAt: optionalMillis(s.lastDataAt, 'lastDataAt'),
    lagSeconds: s.lagSeconds === undefined ? undefined : BigInt(Math.round(s.lagSeconds)),
    logsPerMinute: s.logsPerMinute,
    bytesPerMinute: s.bytesPerMinute,
    logsForwarded: BigInt(s.logsForwarded),
    gapCount: BigInt(s.gapCount),
    error: s.error,
    planningError: s.planningError,
  };
}

function fromSnapshotRow(row: SnapshotRow): DataSourceSnapshot {
  const snapshot: DataSourceSnapshot = {
    name: row.name,
    at: isoFromMillis(row.at),
    generation: Number(row.generation),
    shards: Number(row.shards),
    shardsFinished: Number(row.shardsFinished),
    logsPerMinute: row.logsPerMinute,
    bytesPerMinute: row.bytesPerMinute,
    logsForwarded: Number(row.logsForwarded),
    gapCount: Number(row.gapCount),
  };
  if (row.lastPullAt !== undefined) snapshot.lastPullAt = isoFromMillis(row.lastPullAt);
  if (row.lastDataAt !== undefined) snapshot.lastDataAt = isoFromMillis(row.lastDataAt);
  if (row.lagSeconds !== undefined) snapshot.lagSeconds = Number(row.lagSeconds);
  if (row.error !== undefined) snapshot.error = row.error;
  if (row.planningError !== undefined) snapshot.planningError = row.planningError;
  return snapshot;
}
