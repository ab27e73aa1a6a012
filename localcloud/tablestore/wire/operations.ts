// One handler per Tablestore operation: decode the protobuf request, check it as the service
// does, run it against the instance's tables, encode the protobuf response.

import { invalid, OtsError, tableNotExist } from '../model/errors';
import {
  type Instance,
  installIndex,
  installTable,
  removeIndex,
  removeTable,
  type SchemaChange,
  setTableMeta,
} from '../model/instance';
import {
  type CellChange,
  type ChangeType,
  checkTimestamp,
  indexTableMeta,
  type ReadSpec,
  type ReturnType,
  type RowChange,
  type RowExistence,
  type RowJournal,
  readRow,
  resolvePk,
  rowSize,
  type Table,
  type WriteCondition,
  type WriteRequest,
  type WriteResult,
  writeRow,
} from '../model/rows';
import {
  checkColumnName,
  checkTableName,
  DEFINED_TYPE_CODES,
  DEFINED_TYPES,
  type DefinedColumn,
  type IndexMeta,
  LIMITS,
  PK_TYPE_CODES,
  PK_TYPES,
  type PkColumn,
  type TableMeta,
  type TableOptions,
} from '../model/schema';
import { encodeBoundKey, encodeRowKey, type PkValue, type Row } from '../model/values';
import { decodeColumnCondition, decodeFilter } from './filter-codec';
import { encodeRows } from './plainbuffer';
import {
  decode,
  encode,
  has,
  int64ToNumber,
  type MessageName,
  type PbBatchGetRowRequest,
  type PbBatchWriteRowRequest,
  type PbCondition,
  type PbCreateIndexRequest,
  type PbCreateTableRequest,
  type PbDeleteRowRequest,
  type PbDropIndexRequest,
  type PbGetRangeRequest,
  type PbGetRowRequest,
  type PbIndexMeta,
  type PbPutRowRequest,
  type PbReadOptions,
  type PbReturnContent,
  type PbTableNameRequest,
  type PbTableOptions,
  type PbUpdateRowRequest,
  type PbUpdateTableRequest,
} from './proto';
import { attributeValue, decodeRequestRow, encodeRowOrEmpty, toPlainBufferRow } from './row-codec';
import { SEARCH_OPERATIONS } from './search-operations';

/** What a request may change besides rows, and where its row changes go. */
export interface RequestScope {
  now: number;
  journal: RowJournal;
  changed(change: SchemaChange): void;
}

type Handler = (instance: Instance, body: Buffer, scope: RequestScope) => Buffer;

function decodeRequest<T>(name: MessageName, body: Buffer): T {
  try {
    return decode<T>(name, body);
  } catch {
    throw invalid('Cannot deserialize the request data.');
  }
}

function noTransactions(request: { transactionId?: string }): void {
  if (request.transactionId) throw invalid('TransactionID is invalid.');
}

function getTable(instance: Instance, name: string): Table {
  checkTableName(name);
  const table = instance.tables.get(name);
  if (!table) throw tableNotExist();
  return table;
}

function getMainTable(instance: Instance, name: string): Table {
  const table = getTable(instance, name);
  if (table.isIndex)
    throw invalid(`'${name}' is an index table; this operation applies to its main table only.`);
  return table;
}

const consumed = (read: number, write: number) => ({ capacityUnit: { read, write } });

// ------------------------------------------------------------------------- table operations

function checkOptions(options: TableOptions): void {
  if (options.timeToLive === 0 || options.timeToLive < -1)
    throw invalid('TimeToLive cannot be 0 or less than -1.');
  if (options.timeToLive > 0 && options.timeToLive < LIMITS.minTimeToLive) {
    throw invalid(
      `TimeToLive must be -1 or at least ${LIMITS.minTimeToLive} seconds, current: ${options.timeToLive}.`,
    );
  }
  if (options.maxVersions <= 0)
    throw invalid('The maximum versions cannot be less than or equal to 0.');
  if (options.deviationCellVersionInSec <= 0 || options.deviationCellVersionInSec > 9223372036854) {
    throw invalid('The maximum deviation must be in range [0, INT64_MAX/1000000].');
  }
}

function mergeOptions(base: TableOptions, update: PbTableOptions | undefined): TableOptions {
  const next = { ...base };
  if (!update) return next;
  if (has(update, 'timeToLive')) next.timeToLive = update.timeToLive as number;
  if (has(update, 'maxVersions')) next.maxVersions = update.maxVersions as number;
  if (has(update, 'deviationCellVersionInSec')) {
    next.deviationCellVersionInSec = int64ToNumber(update.deviationCellVersionInSec as number);
  }
  if (has(update, 'allowUpdate')) next.allowUpdate = update.allowUpdate as boolean;
  return next;
}

function checkCapacity(value: number | undefined): number {
  const units = value ?? 0;
  if (units < 0)
    throw invalid(`Invalid Capacity Unit:${units} . Capacity Unit must be nonnegative.`);
  return units;
}

function checkIndexOnTable(
  main: TableMeta,
  index: IndexMeta,
  instance: Instance,
  pending: Set<string>,
): void {
  checkTableName(index.name);
  if (instance.tables.has(index.name) || pending.has(index.name)) {
    throw new OtsError('OTSObjectAlreadyExist', 'Requested table already exists.');
  }
  if (index.primaryKey.length === 0)
    throw invalid(`Index '${index.name}' has no primary key column.`);
  const keyNames = new Set<string>();
  for (const name of index.primaryKey) {
    if (keyNames.has(name)) throw invalid(`Duplicated primary key name: '${name}'.`);
    keyNames.add(name);
  }
  for (const name of index.definedColumn) {
    if (keyNames.has(name))
      throw invalid(`Duplicated attribute column name with primary key column: '${name}'.`);
    if (!main.definedColumns.some((column) => column.name === name))
      throw invalid(`Column does not exist:'${name}'.`);
  }
  if (index.indexType !== 0 && index.indexType !== 1)
    throw invalid(`Invalid index type: ${index.indexType}.`);
  if (index.updateMode !== 0 && index.updateMode !== 1) {
    throw invalid(`Invalid index update mode: ${index.updateMode}.`);
  }
  if (index.indexType === 0 && index.updateMode !== 0) {
    throw invalid(`Global index '${index.name}' only supports IUM_ASYNC_INDEX.`);
  }
  if (index.indexType === 1) {
    if (index.updateMode !== 1)
      throw invalid(`Local index '${index.name}' only supports IUM_SYNC_INDEX.`);
    if (index.primaryKey[0] !== main.primaryKey[0]?.name) {
      throw invalid(
        `The first primary key of local index '${index.name}' must be the first primary key of the main table: '${main.primaryKey[0]?.name}'.`,
      );
    }
  }
  if (main.options.timeToLive !== -1 && main.options.allowUpdate) {
    throw invalid(
      `Table '${main.name}' has a time to live: it must disallow updates (allow_update=false) before an index can be created.`,
    );
  }
  indexTableMeta(main, index);
}

function indexFromProto(meta: PbIndexMeta): IndexMeta {
  return {
    name: meta.name,
    primaryKey: [...meta.primaryKey],
    definedColumn: [...meta.definedColumn],
    updateMode: meta.indexUpdateMode,
    indexType: meta.indexType,
  };
}

const createTable: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbCreateTableRequest>('CreateTableRequest', body);
  const name = request.tableMeta.tableName;
  checkTableName(name);
  const primaryKey: PkColumn[] = [];
  const pkSchema = request.tableMeta.primaryKey;
  if (pkSchema.length < 1 || pkSchema.length > LIMITS.primaryKeyColumns) {
    throw invalid(
      `The number of primary key columns must be in range: [1, ${LIMITS.primaryKeyColumns}].`,
    );
  }
  pkSchema.forEach((column, i) => {
    if (!column.name) throw invalid('No name is given for primary key.');
    checkColumnName(column.name);
    if (primaryKey.some((existing) => existing.name === column.name)) {
      throw invalid(`Duplicated primary key name: '${column.name}'.`);
    }
    const type = PK_TYPES[column.type];
    if (!type) throw invalid(`Invalid column type: ${column.type}.`);
    const autoIncrement = has(column, 'option') && column.option === 1;
    if (has(column, 'option') && column.option !== 1)
      throw invalid(`Invalid primary key option: ${column.option}.`);
    if (autoIncrement) {
      if (type !== 'INTEGER') throw invalid('AUTO_INCREMENT primary key must be integer.');
      if (primaryKey.some((existing) => existing.autoIncrement)) {
        throw invalid('AUTO_INCREMENT primary key count must <= 1.');
      }
      if (i === 0) throw invalid(`First primary key can't be auto increment, table: '${name}'.`);
    }
    primaryKey.push({ name: column.name, type, autoIncrement });
  });

  const definedColumns: DefinedColumn[] = [];
  if (request.tableMeta.definedColumn.length > LIMITS.definedColumns) {
    throw invalid(`The number of defined columns must be in range: [0, ${LIMITS.definedColumns}].`);
  }
  for (const column of request.tableMeta.definedColumn) {
    checkColumnName(column.name);
    if (primaryKey.some((key) => key.name === column.name)) {
      throw invalid(`Duplicated attribute column name with primary key column: '${column.name}'.`);
    }
    if (definedColumns.some((existing) => existing.name === column.name)) {
      throw invalid(`Duplicated defined column name: '${column.name}'.`);
    }
    const type = DEFINED_TYPES[column.type];
    if (!type) throw invalid(`Invalid column type: ${column.type}.`);
    definedColumns.push({ name: column.name, type });
  }

  const optionsPb = request.tableOptions;
  if (!optionsPb || !has(optionsPb, 'timeToLive'))
    throw invalid('Time-to-live is missing while creating table.');
  if (!has(optionsPb, 'maxVersions')) throw invalid('MaxVersions is missing while creating table.');
  const options = mergeOptions(
    { timeToLive: -1, maxVersions: 1, deviationCellVersionInSec: 86400, allowUpdate: true },
    optionsPb,
  );
  checkOptions(options);
  const read = checkCapacity(request.reservedThroughput.capacityUnit.read);
  const write = checkCapacity(request.reservedThroughput.capacityUnit.write);

  if (instance.tables.has(name))
    throw new OtsError('OTSObjectAlreadyExist', 'Requested table already exists.');
  if (instance.mainTables().length >= LIMITS.tablesPerInstance) {
    throw new OtsError('OTSQuotaExhausted', 'Number of tables exceeded the quota.');
  }

  const seconds = Math.floor(scope.now / 1000);
  const meta: TableMeta = {
    name,
    primaryKey,
    definedColumns,
    options,
    reserved: { read, write },
    createdAt: scope.now,
    lastIncreaseTime: seconds,
    indexes: [],
  };
  const pending = new Set<string>([name]);
  const indexes = request.indexMetas.map(indexFromProto);
  for (const index of indexes) {
    checkIndexOnTable(meta, index, instance, pending);
    pending.add(index.name);
  }
  meta.indexes = indexes;
  installTable(instance, meta);
  scope.changed({ op: 'createTable', meta });
  return encode('CreateTableResponse', {});
};

const listTable: Handler = (instance, body) => {
  decodeRequest('ListTableRequest', body);
  const names = instance
    .mainTables()
    .map((table) => table.name)
    .sort();
  return encode('ListTableResponse', { tableNames: names });
};

const deleteTable: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbTableNameRequest>('DeleteTableRequest', body);
  const table = getTable(instance, request.tableName);
  if (table.isIndex)
    throw invalid(`Can't delete index table '${table.name}' with DeleteTable; use DropIndex.`);
  removeTable(instance, table.name);
  scope.changed({ op: 'deleteTable', table: table.name });
  return encode('DeleteTableResponse', {});
};

function describeIndex(index: IndexMeta) {
  return {
    name: index.name,
    primaryKey: index.primaryKey,
    definedColumn: index.definedColumn,
    indexUpdateMode: index.updateMode,
    indexType: index.indexType,
    indexSyncPhase: 2,
  };
}

function tableOptionsProto(options: TableOptions) {
  return {
    timeToLive: options.timeToLive,
    maxVersions: options.maxVersions,
    deviationCellVersionInSec: options.deviationCellVersionInSec,
    allowUpdate: options.allowUpdate,
  };
}

function reservedDetails(meta: TableMeta) {
  return {
    capacityUnit: { read: meta.reserved.read, write: meta.reserved.write },
    lastIncreaseTime: meta.lastIncreaseTime,
    ...(meta.lastDecreaseTime !== undefined ? { lastDecreaseTime: meta.lastDecreaseTime } : {}),
  };
}

const describeTable: Handler = (instance, body) => {
  const request = decodeRequest<PbTableNameRequest>('DescribeTableRequest', body);
  const table = getTable(instance, request.tableName);
  const meta = table.meta;
  return encode('DescribeTableResponse', {
    tableMeta: {
      tableName: meta.name,
      primaryKey: meta.primaryKey.map((column) => ({
        name: column.name,
        type: PK_TYPE_CODES[column.type],
        ...(column.autoIncrement ? { option: 1 } : {}),
      })),
      definedColumn: meta.definedColumns.map((column) => ({
        name: column.name,
        type: DEFINED_TYPE_CODES[column.type],
      })),
    },
    reservedThroughputDetails: reservedDetails(meta),
    tableOptions: tableOptionsProto(meta.options),
    tableStatus: 1,
    streamDetails: { enableStream: false },
    indexMetas: meta.indexes.map(describeIndex),
  });
};

const updateTable: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbUpdateTableRequest>('UpdateTableRequest', body);
  const table = getMainTable(instance, request.tableName);
  const optionsPb = request.tableOptions;
  const changesOptions =
    optionsPb !== undefined &&
    ['timeToLive', 'maxVersions', 'deviationCellVersionInSec', 'allowUpdate'].some((field) =>
      has(optionsPb, field),
    );
  if (!changesOptions && request.reservedThroughput === undefined) {
    throw invalid('No parameter is specified in table options.');
  }
  const options = mergeOptions(table.meta.options, optionsPb);
  checkOptions(options);
  if (table.indexTables.size > 0 && options.timeToLive !== -1 && options.allowUpdate) {
    throw invalid(
      `Table '${table.name}' has indexes: it must disallow updates (allow_update=false) to have a time to live.`,
    );
  }
  for (const index of instance.searchIndexes.get(table.name)?.values() ?? []) {
    const indexTtl = index.meta.timeToLive;
    if (options.timeToLive !== -1 && (indexTtl === -1 || indexTtl > options.timeToLive)) {
      throw invalid(
        `The time_to_live of table '${table.name}' (${options.timeToLive}) must be at least that of its search index '${index.meta.name}' (${indexTtl}): lower the index's first.`,
      );
    }
    if ((indexTtl !== -1 || options.timeToLive !== -1) && options.allowUpdate) {
      throw invalid(
        `Table '${table.name}' has search index '${index.meta.name}' with a time to live: it must disallow updates (allow_update=false).`,
      );
    }
  }
  const meta: TableMeta = { ...table.meta, options };
  if (request.reservedThroughput) {
    const seconds = Math.floor(scope.now / 1000);
    const unit = request.reservedThroughput.capacityUnit;
    const read = has(unit, 'read') ? checkCapacity(unit.read) : meta.reserved.read;
    const write = has(unit, 'write') ? checkCapacity(unit.write) : meta.reserved.write;
    if (read > meta.reserved.read || write > meta.reserved.write) meta.lastIncreaseTime = seconds;
    if (read < meta.reserved.read || write < meta.reserved.write) meta.lastDecreaseTime = seconds;
    meta.reserved = { read, write };
  }
  setTableMeta(table, meta);
  scope.changed({ op: 'updateTable', meta });
  return encode('UpdateTableResponse', {
    reservedThroughputDetails: reservedDetails(meta),
    tableOptions: tableOptionsProto(options),
  });
};

const createIndex: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbCreateIndexRequest>('CreateIndexRequest', body);
  const main = getMainTable(instance, request.mainTableName);
  const index = indexFromProto(request.indexMeta);
  checkIndexOnTable(main.meta, index, instance, new Set());
  const includeBaseData = request.includeBaseData === true;
  installIndex(instance, main, index, includeBaseData);
  scope.changed({ op: 'createIndex', table: main.name, index, includeBaseData });
  return encode('CreateIndexResponse', {});
};

const dropIndex: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbDropIndexRequest>('DropIndexRequest', body);
  const main = getMainTable(instance, request.mainTableName);
  checkTableName(request.indexName);
  if (!main.indexTables.has(request.indexName)) throw tableNotExist();
  removeIndex(instance, main, request.indexName);
  scope.changed({ op: 'dropIndex', table: main.name, index: request.indexName });
  return encode('DropIndexResponse', {});
};

// ------------------------------------------------------------------------- row operations

const EXISTENCE: Record<number, RowExistence> = {
  0: 'IGNORE',
  1: 'EXPECT_EXIST',
  2: 'EXPECT_NOT_EXIST',
};
const RETURN_TYPES: Record<number, ReturnType> = { 0: 'RT_NONE', 1: 'RT_PK', 2: 'RT_AFTER_MODIFY' };

function parseCondition(condition: PbCondition, type: ChangeType, where: string): WriteCondition {
  const rowExistence = EXISTENCE[condition.rowExistence];
  if (!rowExistence) throw invalid(`Invalid row-existence expectation: ${condition.rowExistence}.`);
  if (rowExistence === 'EXPECT_NOT_EXIST' && type !== 'PUT') {
    throw invalid(
      `Invalid condition: EXPECT_NOT_EXIST while ${type === 'UPDATE' ? 'updating' : 'deleting'} row${where}.`,
    );
  }
  const result: WriteCondition = { rowExistence };
  if (condition.columnCondition && condition.columnCondition.length > 0) {
    result.columnCondition = decodeColumnCondition(condition.columnCondition);
  }
  return result;
}

function parseReturn(content: PbReturnContent | undefined): {
  type: ReturnType;
  columns: string[];
} {
  if (!content || !has(content, 'returnType')) return { type: 'RT_NONE', columns: [] };
  const type = RETURN_TYPES[content.returnType as number];
  if (!type) throw invalid(`Invalid return type: ${content.returnType}.`);
  for (const name of content.returnColumnNames) checkColumnName(name);
  return { type, columns: [...content.returnColumnNames] };
}

const CELL_OPS = new Set(['DELETE_ONE_VERSION', 'DELETE_ALL_VERSION', 'INCREMENT']);

/** Decodes a row change and checks what needs no table schema. */
function parseRowChange(bytes: Uint8Array, type: ChangeType, where: string): RowChange {
  const row = decodeRequestRow(bytes);
  if (type === 'DELETE') {
    if (!row.deleteMarker)
      throw invalid('Invalid request of delete row: missing RowDeleteMarker in request.');
    if (row.cells.length > 0)
      throw invalid('Invalid delete row request: unexpected cells in request.');
  } else if (row.deleteMarker) {
    throw invalid('Invalid request of put/update row: unexpected RowDeleteMarker in request.');
  }
  if (type === 'UPDATE' && row.cells.length === 0) {
    throw invalid(
      where
        ? `No attribute column specified to update row${where}.`
        : 'Invalid update row request: missing cells in request.',
    );
  }
  if (row.cells.length > LIMITS.columnsPerWrite) {
    throw invalid(
      `The number of attribute columns exceeds the limit, limit count: ${LIMITS.columnsPerWrite}, column count: ${row.cells.length}.`,
    );
  }
  if (type !== 'DELETE' && bytes.length > LIMITS.rowWriteBytes) {
    throw invalid(
      `The total data size of ${type === 'PUT' ? 'PutRow' : 'UpdateRow'} request exceeds the limit, limit size: ${LIMITS.rowWriteBytes}, data size: ${bytes.length}.`,
    );
  }
  const cells: CellChange[] = row.cells.map((cell) => {
    checkColumnName(cell.name);
    const change: CellChange = { name: cell.name, op: cell.op ?? 'PUT' };
    if (cell.value !== undefined) {
      const value = attributeValue(cell.value);
      if (value.t === 'double' && Number.isNaN(value.v))
        throw invalid("NaN can't be set to double value.");
      if (value.t === 'double' && !Number.isFinite(value.v))
        throw invalid("Infinity can't be set to double value.");
      const length =
        value.t === 'str'
          ? Buffer.byteLength(value.v, 'utf8')
          : value.t === 'bin'
            ? value.v.length
            : 0;
      if (length > LIMITS.attributeValueBytes) {
        throw invalid(
          `The length of attribute column: '${cell.name}' exceeded the MaxLength:${LIMITS.attributeValueBytes} with Current Length:${length}.`,
        );
      }
      change.value = value;
    }
    if (cell.ts !== undefined) change.ts = checkTimestamp(cell.ts);
    if (type === 'PUT') {
      if (cell.op !== undefined)
        throw invalid(`OpType cannot be given for column name:'${cell.name}' in PutRow.`);
      if (change.value === undefined)
        throw invalid('Invalid request of put row: find cells without values.');
      return change;
    }
    if (change.op === 'PUT' && change.value === undefined) {
      throw invalid(`Invalid cell: '${cell.name}'. Reason: missing value.`);
    }
    if (CELL_OPS.has(change.op)) {
      if (change.op !== 'INCREMENT' && change.value !== undefined) {
        throw invalid(
          'Column value cannot be given when type is DELETE_ONE_VERSION,DELETE_ALL_VERSION.',
        );
      }
      if (change.op === 'DELETE_ONE_VERSION' && change.ts === undefined) {
        throw invalid('Timestamp must be given when type is DELETE_ONE_VERSION.');
      }
      if (change.op === 'DELETE_ALL_VERSION' && change.ts !== undefined) {
        throw invalid('Timestamp cannot be given when type is DELETE_ALL_VERSION.');
      }
      if (change.op === 'INCREMENT') {
        if (change.value?.t !== 'int')
          throw invalid(`Increment value of column '${cell.name}' must be an integer.`);
        if (change.ts !== undefined)
          throw invalid('Timestamp cannot be given when type is INCREMENT.');
      }
    }
    return change;
  });
  return { type, pk: row.pk, cells };
}

function writeResponse(name: MessageName, table: Table, result: WriteResult): Buffer {
  return encode(name, {
    consumed: consumed(result.consumed.read, result.consumed.write),
    ...(result.returned ? { row: encodeRowOrEmpty(table, result.returned) } : {}),
  });
}

/** PutRow, UpdateRow and DeleteRow: one request shape, one row change each. */
function singleRowWrite(
  type: ChangeType,
  requestName: 'PutRowRequest' | 'UpdateRowRequest' | 'DeleteRowRequest',
  responseName: 'PutRowResponse' | 'UpdateRowResponse' | 'DeleteRowResponse',
  rowBytes: (request: PbPutRowRequest & PbUpdateRowRequest & PbDeleteRowRequest) => Uint8Array,
): Handler {
  return (instance, body, scope) => {
    const request = decodeRequest<PbPutRowRequest & PbUpdateRowRequest & PbDeleteRowRequest>(
      requestName,
      body,
    );
    noTransactions(request);
    const table = getTable(instance, request.tableName);
    const bytes = rowBytes(request);
    const change = parseRowChange(bytes, type, '');
    const returned = parseReturn(request.returnContent);
    const write: WriteRequest = {
      change,
      condition: parseCondition(request.condition, type, ''),
      returnType: returned.type,
      returnColumns: returned.columns,
      size: bytes.length,
    };
    return writeResponse(responseName, table, writeRow(table, write, scope.now, scope.journal));
  };
}

const putRow = singleRowWrite('PUT', 'PutRowRequest', 'PutRowResponse', (request) => request.row);
const updateRow = singleRowWrite(
  'UPDATE',
  'UpdateRowRequest',
  'UpdateRowResponse',
  (request) => request.rowChange,
);
const deleteRow = singleRowWrite(
  'DELETE',
  'DeleteRowRequest',
  'DeleteRowResponse',
  (request) => request.primaryKey,
);

function parseReadSpec(request: PbReadOptions): ReadSpec {
  for (const name of request.columnsToGet) checkColumnName(name);
  const spec: ReadSpec = { columnsToGet: [...request.columnsToGet] };
  const hasMaxVersions = has(request, 'maxVersions');
  if (hasMaxVersions) {
    const maxVersions = request.maxVersions as number;
    if (maxVersions <= 0)
      throw invalid(
        `Invalid max versions: ${maxVersions} . Reason: Max versions must be positive.`,
      );
    spec.maxVersions = maxVersions;
  }
  const range = request.timeRange;
  if (range) {
    if (has(range, 'specificTime')) {
      const specific = int64ToNumber(range.specificTime as number);
      if (specific < 0) throw invalid('Specific timestamp cannot be less than 0.');
      spec.timeRange = { specific };
    } else {
      if (!has(range, 'startTime') || !has(range, 'endTime')) {
        throw invalid('Start and end time must be given at the same time.');
      }
      const start = int64ToNumber(range.startTime as number);
      const end = int64ToNumber(range.endTime as number);
      if (start < 0 || end <= start) {
        throw invalid(
          `Invalid time range: [${start}, ${end}). Start must be >= 0 and less than end.`,
        );
      }
      spec.timeRange = { start, end };
    }
  }
  if (!hasMaxVersions && !range)
    throw invalid('No version condition is specified while querying row.');
  if (request.filter && request.filter.length > 0) spec.filter = decodeFilter(request.filter);
  if (request.startColumn) spec.startColumn = request.startColumn;
  if (request.endColumn) spec.endColumn = request.endColumn;
  return spec;
}

function readOne(table: Table, pkBytes: Uint8Array, spec: ReadSpec, now: number): Row | undefined {
  const pk = resolvePk(table, decodeRequestRow(pkBytes).pk, 'read') as PkValue[];
  const stored = table.rows.get(encodeRowKey(pk));
  return stored ? readRow(table, stored, now, spec) : undefined;
}

function readUnits(table: Table, row: Row | undefined): number {
  return row ? Math.max(1, Math.ceil(rowSize(table, row) / 4096)) : 1;
}

const getRow: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbGetRowRequest>('GetRowRequest', body);
  noTransactions(request);
  const table = getTable(instance, request.tableName);
  const spec = parseReadSpec(request);
  const row = readOne(table, request.primaryKey, spec, scope.now);
  return encode('GetRowResponse', {
    consumed: consumed(readUnits(table, row), 0),
    row: encodeRowOrEmpty(table, row),
  });
};

const getRange: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbGetRangeRequest>('GetRangeRequest', body);
  noTransactions(request);
  const table = getTable(instance, request.tableName);
  if (request.direction !== 0 && request.direction !== 1)
    throw invalid(`Invalid direction: ${request.direction}.`);
  const forward = request.direction === 0;
  let limit: number = LIMITS.rangeRows;
  if (has(request, 'limit')) {
    if ((request.limit as number) <= 0) throw invalid('The limit must be greater than 0.');
    limit = Math.min(request.limit as number, LIMITS.rangeRows);
  }
  const spec = parseReadSpec(request);
  const start = resolvePk(table, decodeRequestRow(request.inclusiveStartPrimaryKey).pk, 'bound');
  const end = resolvePk(table, decodeRequestRow(request.exclusiveEndPrimaryKey).pk, 'bound');
  const startKey = encodeBoundKey(start);
  const endKey = encodeBoundKey(end);
  if (forward && startKey >= endKey) throw invalid('Begin key must less than end key in FORWARD.');
  if (!forward && startKey <= endKey)
    throw invalid('Begin key must more than end key in BACKWARD.');

  const rows: Row[] = [];
  let bytes = 0;
  let scanned = 0;
  let next: Row | undefined;
  const entries = forward
    ? table.rows.ascending(startKey, endKey)
    : table.rows.descending(startKey, endKey);
  for (const [, stored] of entries) {
    if (rows.length >= limit || scanned >= LIMITS.rangeRows) {
      next = stored;
      break;
    }
    scanned += 1;
    const row = readRow(table, stored, scope.now, spec);
    if (!row) continue;
    const size = rowSize(table, row);
    if (rows.length > 0 && bytes + size > LIMITS.rangeBytes) {
      next = stored;
      break;
    }
    rows.push(row);
    bytes += size;
  }
  return encode('GetRangeResponse', {
    consumed: consumed(Math.max(1, Math.ceil(bytes / 4096)), 0),
    rows:
      rows.length > 0
        ? encodeRows(
            rows.map((row) => toPlainBufferRow(table, row)),
            bytes + 64 * rows.length,
          )
        : Buffer.alloc(0),
    ...(next ? { nextStartPrimaryKey: encodeRowOrEmpty(table, next, false) } : {}),
  });
};

function checkBatchTables(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    checkTableName(name);
    if (seen.has(name)) throw invalid(`Duplicated table name: '${name}'.`);
    seen.add(name);
  }
}

function rowError(error: unknown): { code: string; message: string } {
  if (error instanceof OtsError) return { code: error.code, message: error.message };
  throw error;
}

const batchGetRow: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbBatchGetRowRequest>('BatchGetRowRequest', body);
  noTransactions(request);
  const total = request.tables.reduce((sum, table) => sum + table.primaryKey.length, 0);
  if (total === 0) throw invalid('No row specified in the request of BatchGetRow.');
  if (total > LIMITS.batchGetRows)
    throw invalid(`Rows count exceeds the upper limit: ${LIMITS.batchGetRows}.`);
  checkBatchTables(request.tables.map((table) => table.tableName));
  const specs = request.tables.map((table) => parseReadSpec(table));
  for (const table of request.tables) {
    const seen = new Set<string>();
    for (const pk of table.primaryKey) {
      decodeRequestRow(pk);
      const identity = Buffer.from(pk).toString('latin1');
      if (seen.has(identity)) throw invalid('The input parameter is invalid.');
      seen.add(identity);
    }
  }
  const tables = request.tables.map((item, t) => {
    const table = instance.tables.get(item.tableName);
    return {
      tableName: item.tableName,
      rows: item.primaryKey.map((pk) => {
        if (!table) return { isOk: false, error: rowError(tableNotExist()) };
        try {
          const row = readOne(table, pk, specs[t] as ReadSpec, scope.now);
          return {
            isOk: true,
            consumed: consumed(readUnits(table, row), 0),
            row: encodeRowOrEmpty(table, row),
          };
        } catch (error) {
          return { isOk: false, error: rowError(error) };
        }
      }),
    };
  });
  return encode('BatchGetRowResponse', { tables });
};

const WRITE_TYPES: Record<number, ChangeType> = { 1: 'PUT', 2: 'UPDATE', 3: 'DELETE' };

const batchWriteRow: Handler = (instance, body, scope) => {
  const request = decodeRequest<PbBatchWriteRowRequest>('BatchWriteRowRequest', body);
  noTransactions(request);
  if (request.tables.length === 0) throw invalid('No row is specified in BatchWriteRow.');
  let total = 0;
  let bytes = 0;
  for (const table of request.tables) {
    if (table.rows.length === 0)
      throw invalid(`No operation is specified for table: '${table.tableName}'.`);
    total += table.rows.length;
    for (const row of table.rows) bytes += row.rowChange.length;
  }
  if (total > LIMITS.batchWriteRows)
    throw invalid(`Rows count exceeds the upper limit: ${LIMITS.batchWriteRows}.`);
  if (bytes > LIMITS.batchWriteBytes) {
    throw invalid(
      `The total data size of BatchWriteRow request exceeds the limit, limit size: ${LIMITS.batchWriteBytes}, data size: ${bytes}.`,
    );
  }
  checkBatchTables(request.tables.map((table) => table.tableName));

  const parsed = request.tables.map((table) => {
    const seen = new Set<string>();
    return table.rows.map((row, i) => {
      const type = WRITE_TYPES[row.type];
      if (!type) throw invalid('The type of row in batch write operation is invalid.');
      const where = ` #${i} in table: '${table.tableName}'`;
      const change = parseRowChange(row.rowChange, type, where);
      if (!change.pk.some((cell) => cell.value.t === 'auto_incr')) {
        const identity = JSON.stringify(
          change.pk.map((cell) => [
            cell.name,
            cell.value.t,
            'v' in cell.value ? String(cell.value.v) : '',
          ]),
        );
        if (seen.has(identity)) throw invalid('The input parameter is invalid.');
        seen.add(identity);
      }
      const returned = parseReturn(row.returnContent);
      return {
        change,
        condition: parseCondition(row.condition, type, where),
        returnType: returned.type,
        returnColumns: returned.columns,
        size: row.rowChange.length,
      };
    });
  });

  const tables = request.tables.map((item, t) => {
    const table = instance.tables.get(item.tableName);
    return {
      tableName: item.tableName,
      rows: (parsed[t] ?? []).map((write) => {
        if (!table) return { isOk: false, error: rowError(tableNotExist()) };
        try {
          const result = writeRow(table, write, scope.now, scope.journal);
          return {
            isOk: true,
            consumed: consumed(result.consumed.read, result.consumed.write),
            ...(result.returned ? { row: encodeRowOrEmpty(table, result.returned) } : {}),
          };
        } catch (error) {
          return { isOk: false, error: rowError(error) };
        }
      }),
    };
  });
  return encode('BatchWriteRowResponse', { tables });
};

export const OPERATIONS: Record<string, Handler> = {
  CreateTable: createTable,
  ListTable: listTable,
  DeleteTable: deleteTable,
  DescribeTable: describeTable,
  UpdateTable: updateTable,
  CreateIndex: createIndex,
  DropIndex: dropIndex,
  GetRow: getRow,
  PutRow: putRow,
  UpdateRow: updateRow,
  DeleteRow: deleteRow,
  GetRange: getRange,
  BatchGetRow: batchGetRow,
  BatchWriteRow: batchWriteRow,
  ...SEARCH_OPERATIONS,
};
