// The published Tablestore protocol definitions (tablestore.proto, tablestore_filter.proto and
// tablestore_search.proto shipped with the `tablestore` npm package), loaded with protobufjs.
// Only the .proto files are used; no SDK code is imported.

import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const root = protobuf.loadSync([
  require.resolve('tablestore/lib/protocol/tablestore.proto'),
  require.resolve('tablestore/lib/protocol/tablestore_filter.proto'),
  require.resolve('tablestore/lib/protocol/tablestore_search.proto'),
]);

const main = (name: string): protobuf.Type => root.lookupType(`main.proto.${name}`);
const filter = (name: string): protobuf.Type => root.lookupType(`filter.proto.${name}`);

export const messages = {
  Error: main('Error'),
  CreateTableRequest: main('CreateTableRequest'),
  CreateTableResponse: main('CreateTableResponse'),
  CreateIndexRequest: main('CreateIndexRequest'),
  CreateIndexResponse: main('CreateIndexResponse'),
  DropIndexRequest: main('DropIndexRequest'),
  DropIndexResponse: main('DropIndexResponse'),
  UpdateTableRequest: main('UpdateTableRequest'),
  UpdateTableResponse: main('UpdateTableResponse'),
  DescribeTableRequest: main('DescribeTableRequest'),
  DescribeTableResponse: main('DescribeTableResponse'),
  ListTableRequest: main('ListTableRequest'),
  ListTableResponse: main('ListTableResponse'),
  DeleteTableRequest: main('DeleteTableRequest'),
  DeleteTableResponse: main('DeleteTableResponse'),
  GetRowRequest: main('GetRowRequest'),
  GetRowResponse: main('GetRowResponse'),
  PutRowRequest: main('PutRowRequest'),
  PutRowResponse: main('PutRowResponse'),
  UpdateRowRequest: main('UpdateRowRequest'),
  UpdateRowResponse: main('UpdateRowResponse'),
  DeleteRowRequest: main('DeleteRowRequest'),
  DeleteRowResponse: main('DeleteRowResponse'),
  BatchGetRowRequest: main('BatchGetRowRequest'),
  BatchGetRowResponse: main('BatchGetRowResponse'),
  BatchWriteRowRequest: main('BatchWriteRowRequest'),
  BatchWriteRowResponse: main('BatchWriteRowResponse'),
  GetRangeRequest: main('GetRangeRequest'),
  GetRangeResponse: main('GetRangeResponse'),
  Filter: filter('Filter'),
  SingleColumnValueFilter: filter('SingleColumnValueFilter'),
  CompositeColumnValueFilter: filter('CompositeColumnValueFilter'),
  ColumnPaginationFilter: filter('ColumnPaginationFilter'),
};

export type MessageName = keyof typeof messages;

/** A message of the search protocol (package search.proto), by name. */
export function searchMessage(name: string): protobuf.Type {
  return root.lookupType(`search.proto.${name}`);
}

/** Decodes a search-protocol message; malformed bytes are the caller's to report. */
export function decodeSearch<T>(name: string, body: Uint8Array): T {
  return searchMessage(name).decode(body) as unknown as T;
}

export function encodeSearch(name: string, value: Record<string, unknown>): Buffer {
  const type = searchMessage(name);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** int64 fields decode to Long objects (protobufjs with the `long` package) or numbers. */
export type Int64 = number | { toNumber(): number; toString(): string };

export function int64ToNumber(value: Int64): number {
  return typeof value === 'number' ? value : value.toNumber();
}

export function has(message: object, field: string): boolean {
  return Object.hasOwn(message, field);
}

/** Decodes and checks proto2 `required` fields (protobufjs throws when one is missing). */
export function decode<T>(name: MessageName, body: Uint8Array): T {
  return messages[name].decode(body) as unknown as T;
}

export function encode(name: MessageName, value: Record<string, unknown>): Buffer {
  const type = messages[name];
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

// ----------------------------------------------------------------- decoded request shapes

export interface PbPrimaryKeySchema {
  name: string;
  type: number;
  option?: number;
}
export interface PbDefinedColumnSchema {
  name: string;
  type: number;
}
export interface PbTableOptions {
  timeToLive?: number;
  maxVersions?: number;
  deviationCellVersionInSec?: Int64;
  allowUpdate?: boolean;
}
export interface PbIndexMeta {
  name: string;
  primaryKey: string[];
  definedColumn: string[];
  indexUpdateMode: number;
  indexType: number;
}
export interface PbCapacityUnit {
  read?: number;
  write?: number;
}
export interface PbCreateTableRequest {
  tableMeta: {
    tableName: string;
    primaryKey: PbPrimaryKeySchema[];
    definedColumn: PbDefinedColumnSchema[];
  };
  reservedThroughput: { capacityUnit: PbCapacityUnit };
  tableOptions?: PbTableOptions;
  indexMetas: PbIndexMeta[];
}
export interface PbCreateIndexRequest {
  mainTableName: string;
  indexMeta: PbIndexMeta;
  includeBaseData?: boolean;
}
export interface PbDropIndexRequest {
  mainTableName: string;
  indexName: string;
}
export interface PbUpdateTableRequest {
  tableName: string;
  reservedThroughput?: { capacityUnit: PbCapacityUnit };
  tableOptions?: PbTableOptions;
}
export interface PbTableNameRequest {
  tableName: string;
}
export interface PbTimeRange {
  startTime?: Int64;
  endTime?: Int64;
  specificTime?: Int64;
}
export interface PbReadOptions {
  columnsToGet: string[];
  timeRange?: PbTimeRange;
  maxVersions?: number;
  filter?: Uint8Array;
  startColumn?: string;
  endColumn?: string;
}
export interface PbGetRowRequest extends PbReadOptions {
  tableName: string;
  primaryKey: Uint8Array;
  transactionId?: string;
}
export interface PbCondition {
  rowExistence: number;
  columnCondition?: Uint8Array;
}
export interface PbReturnContent {
  returnType?: number;
  returnColumnNames: string[];
}
export interface PbPutRowRequest {
  tableName: string;
  row: Uint8Array;
  condition: PbCondition;
  returnContent?: PbReturnContent;
  transactionId?: string;
}
export interface PbUpdateRowRequest {
  tableName: string;
  rowChange: Uint8Array;
  condition: PbCondition;
  returnContent?: PbReturnContent;
  transactionId?: string;
}
export interface PbDeleteRowRequest {
  tableName: string;
  primaryKey: Uint8Array;
  condition: PbCondition;
  returnContent?: PbReturnContent;
  transactionId?: string;
}
export interface PbTableInBatchGetRowRequest extends PbReadOptions {
  tableName: string;
  primaryKey: Uint8Array[];
}
export interface PbBatchGetRowRequest {
  tables: PbTableInBatchGetRowRequest[];
  transactionId?: string;
}
export interface PbRowInBatchWriteRowRequest {
  type: number;
  rowChange: Uint8Array;
  condition: PbCondition;
  returnContent?: PbReturnContent;
}
export interface PbBatchWriteRowRequest {
  tables: Array<{ tableName: string; rows: PbRowInBatchWriteRowRequest[] }>;
  transactionId?: string;
}
export interface PbGetRangeRequest extends PbReadOptions {
  tableName: string;
  direction: number;
  limit?: number;
  inclusiveStartPrimaryKey: Uint8Array;
  exclusiveEndPrimaryKey: Uint8Array;
  transactionId?: string;
}
export interface PbFilter {
  type: number;
  filter: Uint8Array;
}
export interface PbSingleColumnValueFilter {
  comparator: number;
  columnName: string;
  columnValue: Uint8Array;
  filterIfMissing: boolean;
  latestVersionOnly: boolean;
}
export interface PbCompositeColumnValueFilter {
  combinator: number;
  subFilters: PbFilter[];
}
export interface PbColumnPaginationFilter {
  offset: number;
  limit: number;
}
