// Tables and the row semantics of Tablestore: versions (cells with timestamps), max versions,
// time to live against the clock, conditions, column selection and filters, auto-increment
// primary keys, and secondary indexes kept in step with every write of the main table.

import { invalid, OtsError } from './errors';
import { type ColumnFilter, matchesFilter } from './filter';
import { RowStore } from './row-store';
import { type DefinedType, type IndexMeta, LIMITS, type PkColumn, type TableMeta } from './schema';
import {
  type AnyValue,
  type Cell,
  type CellOp,
  type CellValue,
  type Column,
  cellValueSize,
  encodeRowKey,
  type PkInput,
  type PkValue,
  pkTypeOf,
  pkTypeVariantName,
  type Row,
  variantName,
} from './values';

export type ChangeType = 'PUT' | 'UPDATE' | 'DELETE';
export type CellChangeOp = 'PUT' | CellOp;

export interface CellChange {
  name: string;
  op: CellChangeOp;
  value?: CellValue;
  ts?: number;
}

/** A primary-key column of a request, before it is checked against the schema. */
export interface KeyCell {
  name: string;
  value: AnyValue;
}

export interface RowChange {
  type: ChangeType;
  pk: KeyCell[];
  cells: CellChange[];
}

export type RowExistence = 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST';

export interface WriteCondition {
  rowExistence: RowExistence;
  columnCondition?: ColumnFilter;
}

export interface ReadSpec {
  /** Empty: every column. */
  columnsToGet: readonly string[];
  maxVersions?: number;
  timeRange?: { start: number; end: number } | { specific: number };
  filter?: ColumnFilter;
  startColumn?: string;
  endColumn?: string;
}

export type ReturnType = 'RT_NONE' | 'RT_PK' | 'RT_AFTER_MODIFY';

/**
 * Receives every committed main-table row change: the row as stored now, or null with the key
 * of the row that was removed (index rows are derived, never journaled).
 */
export type RowJournal = (table: Table, pk: PkValue[], row: Row | null) => void;

/** Follows a main table's committed rows (search indexes do). */
export interface RowObserver {
  /** The row stored under `key` now, or null when it was removed. */
  rowChanged(key: string, row: Row | null): void;
}

export class Table {
  readonly rows: RowStore;
  readonly indexTables = new Map<string, Table>();
  readonly rowObservers = new Set<RowObserver>();
  /** Last value handed out for the auto-increment column. */
  autoIncrementLast = 0;

  constructor(
    public meta: TableMeta,
    readonly mainTable?: Table,
    readonly indexMeta?: IndexMeta,
  ) {
    this.rows = new RowStore(meta.primaryKey.map((column) => column.type));
  }

  get isIndex(): boolean {
    return this.mainTable !== undefined;
  }

  get name(): string {
    return this.meta.name;
  }
}

const DEFINED_TO_PK: Partial<Record<DefinedType, PkColumn['type']>> = {
  INTEGER: 'INTEGER',
  STRING: 'STRING',
  BINARY: 'BINARY',
};

/** Index primary key = the index's key columns, then the main key columns not already in it. */
export function indexTableMeta(main: TableMeta, index: IndexMeta): TableMeta {
  const primaryKey: PkColumn[] = [];
  for (const name of index.primaryKey) {
    const mainColumn = main.primaryKey.find((column) => column.name === name);
    if (mainColumn) {
      primaryKey.push({ name, type: mainColumn.type, autoIncrement: false });
      continue;
    }
    const defined = main.definedColumns.find((column) => column.name === name);
    const type = defined ? DEFINED_TO_PK[defined.type] : undefined;
    if (!defined) throw invalid(`Column does not exist:'${name}'.`);
    if (!type)
      throw invalid(
        `${defined.type === 'DOUBLE' ? 'double' : 'boolean'} can not be used as primary key.`,
      );
    primaryKey.push({ name, type, autoIncrement: false });
  }
  for (const column of main.primaryKey) {
    if (!index.primaryKey.includes(column.name)) {
      primaryKey.push({ name: column.name, type: column.type, autoIncrement: false });
    }
  }
  return {
    name: index.name,
    primaryKey,
    definedColumns: index.definedColumn.map((name) => {
      const defined = main.definedColumns.find((column) => column.name === name);
      if (!defined) throw invalid(`Column does not exist:'${name}'.`);
      return { ...defined };
    }),
    options: {
      timeToLive: main.options.timeToLive,
      maxVersions: 1,
      deviationCellVersionInSec: main.options.deviationCellVersionInSec,
      allowUpdate: false,
    },
    reserved: { read: 0, write: 0 },
    createdAt: main.createdAt,
    lastIncreaseTime: main.lastIncreaseTime,
    indexes: [],
  };
}

// ------------------------------------------------------------------------- primary keys

export type PkPurpose = 'put' | 'update' | 'delete' | 'read' | 'bound';

/** Checks a primary key against the table's schema, in the service's order: size, name, type. */
export function resolvePk(table: Table, cells: readonly KeyCell[], purpose: PkPurpose): PkInput[] {
  const schema = table.meta.primaryKey;
  if (cells.length !== schema.length) {
    throw new OtsError(
      'OTSInvalidPK',
      `Validate PK size fail. Input: ${cells.length}, Meta: ${schema.length}.`,
    );
  }
  return cells.map((cell, i) => {
    const column = schema[i] as PkColumn;
    if (cell.name !== column.name) {
      throw new OtsError(
        'OTSInvalidPK',
        `Validate PK name fail. Input: ${cell.name}, Meta: ${column.name}.`,
      );
    }
    const value = cell.value;
    if (value.t === 'inf_min' || value.t === 'inf_max') {
      if (purpose === 'bound') return value;
      throw invalid(
        `${value.t === 'inf_min' ? 'INF_MIN' : 'INF_MAX'} is an invalid type for the primary key.`,
      );
    }
    if (value.t === 'auto_incr') {
      if (purpose === 'read' || purpose === 'bound')
        throw invalid("PKAutoIncr can't be used for read operations.");
      if (purpose === 'delete')
        throw invalid('Invalid row to delete which with pk auto increment.');
      if (!column.autoIncrement) {
        throw invalid(
          `PK_AUTO_INCR is only allowed for the auto increment primary key, name: ${column.name}.`,
        );
      }
      if (purpose === 'update')
        throw invalid(`PK_AUTO_INCR can only be used with PutRow, name: ${column.name}.`);
      return value;
    }
    if (value.t !== 'int' && value.t !== 'str' && value.t !== 'bin') {
      throw invalid(`${variantName(value)} is an invalid type for the primary key.`);
    }
    if (pkTypeOf(value) !== column.type) {
      throw new OtsError(
        'OTSInvalidPK',
        `Validate PK type fail. Input: ${variantName(value)}, Meta: ${pkTypeVariantName(column.type)}.`,
      );
    }
    const length =
      value.t === 'str'
        ? Buffer.byteLength(value.v, 'utf8')
        : value.t === 'bin'
          ? value.v.length
          : 0;
    const limit = value.t === 'str' ? LIMITS.primaryKeyStringBytes : LIMITS.primaryKeyBinaryBytes;
    if (length > limit) {
      throw invalid(
        `The length of primary key column: '${column.name}' exceeds the MaxLength: ${limit} with CurrentLength: ${length}.`,
      );
    }
    return value;
  });
}

export function pkSize(table: Table, pk: readonly PkValue[]): number {
  let size = 0;
  pk.forEach((value, i) => {
    size += Buffer.byteLength(table.meta.primaryKey[i]?.name ?? '', 'utf8') + cellValueSize(value);
  });
  return size;
}

export function rowSize(table: Table, row: Row): number {
  let size = pkSize(table, row.pk);
  for (const column of row.columns) {
    const nameSize = Buffer.byteLength(column.name, 'utf8');
    for (const cell of column.cells) size += nameSize + cellValueSize(cell.value) + 8;
  }
  return size;
}

// ------------------------------------------------------------------------- reading

/** Columns visible now (time to live, table max versions); undefined when the row has expired. */
export function visibleColumns(table: Table, row: Row, now: number): Column[] | undefined {
  if (row.columns.length === 0) return row.columns;
  const { timeToLive, maxVersions } = table.meta.options;
  const minTs = timeToLive > 0 ? now - timeToLive * 1000 : Number.NEGATIVE_INFINITY;
  let trimmed = false;
  for (const column of row.columns) {
    if (column.cells.length > maxVersions || (column.cells.at(-1) as Cell).ts < minTs) {
      trimmed = true;
      break;
    }
  }
  if (!trimmed) return row.columns;
  const columns: Column[] = [];
  for (const column of row.columns) {
    const cells = column.cells.filter((cell) => cell.ts >= minTs).slice(0, maxVersions);
    if (cells.length > 0) columns.push({ name: column.name, cells });
  }
  return columns.length > 0 ? columns : undefined;
}

function inTimeRange(ts: number, range: NonNullable<ReadSpec['timeRange']>): boolean {
  return 'specific' in range ? ts === range.specific : ts >= range.start && ts < range.end;
}

/** The row as a read returns it, or undefined when the read returns no row. */
export function readRow(table: Table, stored: Row, now: number, spec: ReadSpec): Row | undefined {
  const visible = visibleColumns(table, stored, now);
  if (visible === undefined) return undefined;
  const wanted = spec.columnsToGet.length > 0 ? new Set(spec.columnsToGet) : undefined;
  const { timeRange, maxVersions, startColumn, endColumn } = spec;
  let columns: Column[] = [];
  for (const column of visible) {
    if (wanted && !wanted.has(column.name)) continue;
    if (startColumn !== undefined && column.name < startColumn) continue;
    if (endColumn !== undefined && column.name >= endColumn) continue;
    let cells = column.cells;
    if (timeRange) cells = cells.filter((cell) => inTimeRange(cell.ts, timeRange));
    if (maxVersions !== undefined && cells.length > maxVersions)
      cells = cells.slice(0, maxVersions);
    if (cells.length > 0)
      columns.push(cells === column.cells ? column : { name: column.name, cells });
  }
  const filter = spec.filter;
  if (filter) {
    // The service evaluates a filter on the columns it read: a filter column left out of
    // columns_to_get counts as missing.
    if (filter.kind === 'pagination')
      columns = columns.slice(filter.offset, filter.offset + filter.limit);
    else if (!matchesFilter(filter, columns)) return undefined;
  }
  if (columns.length === 0) {
    const wantsPk = wanted
      ? table.meta.primaryKey.some((column) => wanted.has(column.name))
      : false;
    if (!wantsPk && (wanted !== undefined || visible.length > 0)) return undefined;
  }
  return { pk: stored.pk, columns };
}

// ------------------------------------------------------------------------- writing

/** INT64_MAX / 1000: the largest version, in milliseconds, the service accepts (exclusive). */
const INT64_MAX_MS = 9223372036854775n;

export function checkTimestamp(ts: bigint): number {
  if (ts < 0n || ts >= INT64_MAX_MS || ts > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalid('Timestamp must be in range [0, INT64_MAX/1000).');
  }
  return Number(ts);
}

function definedTypeOf(value: CellValue): DefinedType {
  switch (value.t) {
    case 'int':
      return 'INTEGER';
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'str':
      return 'STRING';
    case 'bin':
      return 'BINARY';
  }
}

/** Schema-dependent checks of the attribute cells of a row change. */
function checkCells(table: Table, change: RowChange, now: number): void {
  const { options, primaryKey, definedColumns } = table.meta;
  const indexed = new Set<string>();
  for (const index of table.indexTables.values()) {
    for (const column of index.meta.primaryKey) indexed.add(column.name);
    for (const column of index.meta.definedColumns) indexed.add(column.name);
  }
  const seen = new Set<string>();
  const verb = change.type === 'PUT' ? 'putting' : 'updating';
  for (const cell of change.cells) {
    if (primaryKey.some((column) => column.name === cell.name)) {
      throw invalid(`Duplicated attribute column name with primary key column: '${cell.name}'.`);
    }
    const identity = `${cell.name}\u0000${cell.op === 'DELETE_ALL_VERSION' ? 'all' : (cell.ts ?? 'now')}`;
    if (seen.has(identity))
      throw invalid(`Duplicated attribute column name: '${cell.name}' while ${verb} row.`);
    seen.add(identity);
    if (cell.value !== undefined && indexed.has(cell.name)) {
      const defined = definedColumns.find((column) => column.name === cell.name);
      if (defined && defined.type !== definedTypeOf(cell.value)) {
        throw invalid(
          `Column type mismatch for defined column '${cell.name}' used by an index: expect ${defined.type}, got ${definedTypeOf(cell.value)}.`,
        );
      }
    }
    if (cell.op === 'PUT' && cell.ts !== undefined) {
      const deviation = options.deviationCellVersionInSec * 1000;
      let lower = now - deviation;
      if (options.timeToLive > 0) lower = Math.max(lower, now - options.timeToLive * 1000);
      const upper = now + deviation;
      if (cell.ts < lower || cell.ts >= upper) {
        throw invalid(
          `Invalid timestamp. Cell:${cell.name}. Allowed versions: [${lower}, ${upper}).`,
        );
      }
    }
  }
}

function insertCell(cells: Cell[], cell: Cell): Cell[] {
  const next = cells.filter((existing) => existing.ts !== cell.ts);
  let i = 0;
  while (i < next.length && (next[i] as Cell).ts > cell.ts) i++;
  next.splice(i, 0, cell);
  return next;
}

function sortColumns(columns: Map<string, Cell[]>, maxVersions: number): Column[] {
  return [...columns.entries()]
    .filter(([, cells]) => cells.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, cells]) => ({ name, cells: cells.slice(0, maxVersions) }));
}

function applyPut(table: Table, pk: PkValue[], change: RowChange, now: number): Row {
  const columns = new Map<string, Cell[]>();
  for (const cell of change.cells) {
    const cells = columns.get(cell.name) ?? [];
    columns.set(
      cell.name,
      insertCell(cells, { ts: cell.ts ?? now, value: cell.value as CellValue }),
    );
  }
  return { pk, columns: sortColumns(columns, table.meta.options.maxVersions) };
}

function applyUpdate(
  table: Table,
  pk: PkValue[],
  current: readonly Column[],
  change: RowChange,
  now: number,
): Row {
  const columns = new Map<string, Cell[]>(current.map((column) => [column.name, column.cells]));
  for (const cell of change.cells) {
    const cells = columns.get(cell.name) ?? [];
    switch (cell.op) {
      case 'PUT':
        columns.set(
          cell.name,
          insertCell(cells, { ts: cell.ts ?? now, value: cell.value as CellValue }),
        );
        break;
      case 'DELETE_ONE_VERSION':
        columns.set(
          cell.name,
          cells.filter((existing) => existing.ts !== cell.ts),
        );
        break;
      case 'DELETE_ALL_VERSION':
        columns.delete(cell.name);
        break;
      case 'INCREMENT': {
        const latest = cells[0]?.value;
        if (latest !== undefined && latest.t !== 'int') {
          throw invalid(`Column '${cell.name}' does not hold an integer and can't be incremented.`);
        }
        const delta = (cell.value as { v: bigint }).v;
        const sum = BigInt.asIntN(64, (latest?.v ?? 0n) + delta);
        columns.set(cell.name, insertCell(cells, { ts: now, value: { t: 'int', v: sum } }));
        break;
      }
    }
  }
  return { pk, columns: sortColumns(columns, table.meta.options.maxVersions) };
}

function latestCells(row: Row, names: readonly string[]): Column[] {
  return row.columns
    .filter((column) => names.includes(column.name))
    .map((column) => ({ name: column.name, cells: column.cells.slice(0, 1) }));
}

export interface WriteResult {
  /** What the request asked to have returned (RT_PK, RT_AFTER_MODIFY), if anything. */
  returned?: Row;
  consumed: { read: number; write: number };
}

export interface WriteRequest {
  change: RowChange;
  condition: WriteCondition;
  returnType: ReturnType;
  returnColumns: readonly string[];
  /** Encoded size of the row change, for capacity units. */
  size: number;
}

/** Applies one row change: checks, conditions, the write itself, its indexes, the journal. */
export function writeRow(
  table: Table,
  request: WriteRequest,
  now: number,
  journal: RowJournal,
): WriteResult {
  const { change, condition } = request;
  if (table.isIndex) throw invalid("Can't write index table directly.");
  const purpose = change.type === 'PUT' ? 'put' : change.type === 'UPDATE' ? 'update' : 'delete';
  const inputs = resolvePk(table, change.pk, purpose);
  const autoIncrement = inputs.some((value) => value.t === 'auto_incr');
  if (autoIncrement && condition.rowExistence !== 'IGNORE') {
    throw invalid(
      `Invalid expect:${condition.rowExistence} when modify row with pk auto increment.`,
    );
  }
  if (autoIncrement && condition.columnCondition) {
    throw invalid("Can't set condition when modify row with pk auto increment.");
  }
  if (change.type === 'UPDATE' && !table.meta.options.allowUpdate) {
    throw invalid(
      `UpdateRow is not allowed on table '${table.name}': its allow_update option is false.`,
    );
  }
  checkCells(table, change, now);

  let pk: PkValue[];
  if (autoIncrement) {
    const next = Math.max(table.autoIncrementLast + 1, now * 1000);
    table.autoIncrementLast = next;
    pk = inputs.map((value) =>
      value.t === 'auto_incr' ? { t: 'int', v: BigInt(next) } : (value as PkValue),
    );
  } else {
    pk = inputs as PkValue[];
  }
  const key = encodeRowKey(pk);
  const stored = table.rows.get(key);
  const current = stored ? visibleColumns(table, stored, now) : undefined;
  const exists = current !== undefined;

  const checksCondition =
    condition.rowExistence !== 'IGNORE' || condition.columnCondition !== undefined;
  if (condition.rowExistence === 'EXPECT_EXIST' && !exists) throw conditionFailed();
  if (condition.rowExistence === 'EXPECT_NOT_EXIST' && exists) throw conditionFailed();
  if (condition.columnCondition && !matchesFilter(condition.columnCondition, current ?? [])) {
    throw conditionFailed();
  }

  let next: Row | null;
  if (change.type === 'PUT') next = applyPut(table, pk, change, now);
  else if (change.type === 'UPDATE') {
    next = applyUpdate(table, pk, current ?? [], change, now);
    if (next.columns.length === 0) next = null;
  } else next = null;

  if (next) {
    if (next.columns.length > LIMITS.columnsPerRow) {
      throw new OtsError(
        'OTSOutOfColumnCountLimit',
        `The number of columns in one row exceeded the limit, limit count: ${LIMITS.columnsPerRow}, column count: ${next.columns.length}.`,
      );
    }
    const size = rowSize(table, next);
    if (size > LIMITS.rowBytes) {
      throw new OtsError(
        'OTSOutOfRowSizeLimit',
        `The total data size of columns in one row exceeded the limit, limit size: ${LIMITS.rowBytes}, row size: ${size}.`,
      );
    }
  }
  if (next !== null || stored !== undefined) commitRow(table, key, next, journal);

  const result: WriteResult = {
    consumed: { read: checksCondition ? 1 : 0, write: Math.max(1, Math.ceil(request.size / 4096)) },
  };
  if (request.returnType === 'RT_PK') result.returned = { pk, columns: [] };
  if (request.returnType === 'RT_AFTER_MODIFY') {
    const names =
      request.returnColumns.length > 0
        ? request.returnColumns
        : change.cells.map((cell) => cell.name);
    result.returned = { pk, columns: next ? latestCells(next, names) : [] };
  }
  return result;
}

function conditionFailed(): OtsError {
  return new OtsError('OTSConditionCheckFail', 'Condition check failed.');
}

// ------------------------------------------------------------------------- indexes

/** The index row a main-table row maps to, or null when an index key column is missing. */
export function indexRowFor(index: Table, main: Table, row: Row | null): Row | null {
  if (row === null) return null;
  const pk: PkValue[] = [];
  for (const column of index.meta.primaryKey) {
    const position = main.meta.primaryKey.findIndex(
      (mainColumn) => mainColumn.name === column.name,
    );
    if (position >= 0) {
      pk.push(row.pk[position] as PkValue);
      continue;
    }
    const value = row.columns.find((candidate) => candidate.name === column.name)?.cells[0]?.value;
    if (value === undefined || value.t === 'double' || value.t === 'bool') return null;
    if (pkTypeOf(value) !== column.type) return null;
    const length =
      value.t === 'str'
        ? Buffer.byteLength(value.v, 'utf8')
        : value.t === 'bin'
          ? value.v.length
          : 0;
    if (length > LIMITS.primaryKeyStringBytes) return null;
    pk.push(value);
  }
  const columns: Column[] = [];
  for (const defined of index.meta.definedColumns) {
    const cell = row.columns.find((candidate) => candidate.name === defined.name)?.cells[0];
    if (cell) columns.push({ name: defined.name, cells: [cell] });
  }
  columns.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { pk, columns };
}

function syncIndexes(table: Table, before: Row | null, after: Row | null): void {
  for (const index of table.indexTables.values()) {
    const oldRow = indexRowFor(index, table, before);
    const newRow = indexRowFor(index, table, after);
    const oldKey = oldRow ? encodeRowKey(oldRow.pk) : undefined;
    const newKey = newRow ? encodeRowKey(newRow.pk) : undefined;
    if (oldKey !== undefined && oldKey !== newKey) index.rows.delete(oldKey);
    if (newKey !== undefined && newRow) index.rows.set(newKey, newRow);
  }
}

/** Stores (or removes, with null) a main-table row and brings its index rows in step. */
export function commitRow(table: Table, key: string, row: Row | null, journal?: RowJournal): void {
  // The row as it was is decoded only for the secondary indexes that need it.
  const before = table.indexTables.size > 0 ? (table.rows.get(key) ?? null) : undefined;
  let changed = true;
  if (row) table.rows.set(key, row);
  else changed = table.rows.delete(key);
  if (before !== undefined) syncIndexes(table, before, row);
  if (!changed) return;
  for (const observer of table.rowObservers) observer.rowChanged(key, row);
  journal?.(table, row?.pk ?? table.rows.primaryKey(key), row);
}

/** Fills a new index from the rows its main table already holds. */
export function buildIndex(main: Table, index: Table): void {
  for (const [, row] of main.rows.entries()) {
    const indexRow = indexRowFor(index, main, row);
    if (indexRow) index.rows.set(encodeRowKey(indexRow.pk), indexRow);
  }
}
