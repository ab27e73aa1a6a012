// The official `tablestore` SDK, loaded as the product loads it, with the few types the tests use
// (the package ships none). Only tests import it; localcloud never does.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** int64-buffer's Int64LE, which the SDK uses for INTEGER values and timestamps. */
export interface Int64 {
  toNumber(): number;
  toString(radix?: number): string;
  toBuffer(): Buffer;
}

export type SdkValue = string | number | boolean | Buffer | Int64 | object;
export type SdkPrimaryKey = Array<Record<string, SdkValue>>;

export interface SdkColumn {
  columnName: string;
  columnValue: string | number | boolean | Buffer | Int64;
  timestamp: Int64;
}

export interface SdkRow {
  primaryKey?: Array<{ name: string; value: string | Buffer | Int64 }>;
  attributes?: SdkColumn[];
}

export interface SdkConsumed {
  capacityUnit: { read: number; write: number };
}

export interface SdkRowResponse {
  consumed: SdkConsumed;
  row: SdkRow;
  RequestId: string;
}

export interface SdkGetRangeResponse {
  consumed: SdkConsumed;
  rows: SdkRow[];
  nextStartPrimaryKey: Array<{ name: string; value: string | Buffer | Int64 }> | null;
  RequestId: string;
}

export interface SdkBatchRowResult {
  isOk: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  tableName: string;
  primaryKey: SdkRow['primaryKey'] | null;
  attributes: SdkColumn[] | null;
}

export interface SdkBatchGetRowResponse {
  tables: SdkBatchRowResult[][];
}

export interface SdkBatchWriteRowResponse {
  tables: SdkBatchRowResult[];
}

export interface SdkDescribeTableResponse {
  tableMeta: {
    tableName: string;
    primaryKey: Array<{ name: string; type: number; option?: number }>;
    definedColumn: Array<{ name: string; type: number }>;
  };
  reservedThroughputDetails: { capacityUnit: { read: number; write: number } };
  tableOptions: {
    timeToLive: number;
    maxVersions: number;
    deviationCellVersionInSec: Int64 | number;
    allowUpdate: boolean;
  };
  tableStatus: number;
  indexMetas: Array<{
    name: string;
    primaryKey: string[];
    definedColumn: string[];
    indexType: number;
  }>;
}

type Params = Record<string, unknown>;

export interface SdkClient {
  createTable(params: Params): Promise<unknown>;
  listTable(params: Params): Promise<{ tableNames: string[] }>;
  deleteTable(params: Params): Promise<unknown>;
  updateTable(params: Params): Promise<{ tableOptions: SdkDescribeTableResponse['tableOptions'] }>;
  describeTable(params: Params): Promise<SdkDescribeTableResponse>;
  createIndex(params: Params): Promise<unknown>;
  dropIndex(params: Params): Promise<unknown>;
  getRow(params: Params): Promise<SdkRowResponse>;
  putRow(params: Params): Promise<SdkRowResponse>;
  updateRow(params: Params): Promise<SdkRowResponse>;
  deleteRow(params: Params): Promise<SdkRowResponse>;
  getRange(params: Params): Promise<SdkGetRangeResponse>;
  batchGetRow(params: Params): Promise<SdkBatchGetRowResponse>;
  batchWriteRow(params: Params): Promise<SdkBatchWriteRowResponse>;
  createSearchIndex(params: Params): Promise<unknown>;
  describeSearchIndex(params: Params): Promise<SdkDescribeSearchIndexResponse>;
  listSearchIndex(
    params: Params,
  ): Promise<{ indices: Array<{ tableName: string; indexName: string }> }>;
  updateSearchIndex(params: Params): Promise<unknown>;
  deleteSearchIndex(params: Params): Promise<unknown>;
  search(params: Params): Promise<SdkSearchResponse>;
  computeSplits(params: Params): Promise<{ sessionId: Buffer; splitsSize: number }>;
  parallelScan(params: Params): Promise<{ rows: SdkRow[]; nextToken: Buffer | null }>;
}

export interface SdkAggResult {
  name: string;
  type: number;
  aggResult: { value: number | Int64 | { toNumber(): number } };
}

export interface SdkGroupItem {
  key?: unknown;
  from?: number;
  to?: number;
  rowCount?: Int64 | number;
  value?: Int64 | number;
  timeStamp?: Int64 | number;
  subAggsResult?: { aggResults: SdkAggResult[] };
  subGroupBysResult?: { groupByResults: SdkGroupByResult[] };
}

export interface SdkGroupByResult {
  name: string;
  type: number;
  groupByResult: { items: SdkGroupItem[] };
}

export interface SdkSearchResponse {
  totalCounts?: string;
  isAllSucceeded: boolean;
  nextToken: Buffer | null;
  rows: SdkRow[];
  aggs?: { aggResults: SdkAggResult[] };
  groupBys?: { groupByResults: SdkGroupByResult[] };
}

export interface SdkFieldSchema {
  fieldName: string;
  fieldType: number;
  index?: boolean;
  docValues?: boolean;
  store?: boolean;
  isArray?: boolean;
  analyzer?: string;
  fieldSchemas?: SdkFieldSchema[];
}

export interface SdkDescribeSearchIndexResponse {
  schema: { fieldSchemas: SdkFieldSchema[]; indexSort?: { sorter: object[] } };
  syncStat: { syncPhase: number; currentSyncTimestamp: Int64 | number };
  meteringInfo: { storageSize: Int64 | number; rowCount: Int64 | number };
  timeToLive: number;
  indexStatus: { status: string; statusDescription?: string };
}

export interface ClientConfig {
  accessKeyId: string;
  secretAccessKey: string;
  stsToken?: string;
  endpoint: string;
  instancename: string;
  maxRetries?: number;
}

type ConditionClass = new (rowExistence: number, columnCondition?: object | null) => object;

export interface TableStoreModule {
  Client: new (config: ClientConfig) => SdkClient;
  FieldType: Record<
    'LONG' | 'DOUBLE' | 'BOOLEAN' | 'KEYWORD' | 'TEXT' | 'NESTED' | 'GEO_POINT' | 'DATE',
    number
  >;
  QueryType: Record<
    | 'MATCH_QUERY'
    | 'MATCH_PHRASE_QUERY'
    | 'TERM_QUERY'
    | 'RANGE_QUERY'
    | 'PREFIX_QUERY'
    | 'BOOL_QUERY'
    | 'CONST_SCORE_QUERY'
    | 'NESTED_QUERY'
    | 'WILDCARD_QUERY'
    | 'MATCH_ALL_QUERY'
    | 'TERMS_QUERY'
    | 'EXISTS_QUERY'
    | 'GEO_DISTANCE_QUERY',
    number
  >;
  SortOrder: { SORT_ORDER_ASC: number; SORT_ORDER_DESC: number };
  SortMode: { SORT_MODE_MIN: number; SORT_MODE_MAX: number; SORT_MODE_AVG: number };
  ColumnReturnType: Record<
    'RETURN_ALL' | 'RETURN_SPECIFIED' | 'RETURN_NONE' | 'RETURN_ALL_FROM_INDEX',
    number
  >;
  AggregationType: Record<
    | 'AGG_AVG'
    | 'AGG_MAX'
    | 'AGG_MIN'
    | 'AGG_SUM'
    | 'AGG_COUNT'
    | 'AGG_DISTINCT_COUNT'
    | 'AGG_PERCENTILES',
    number
  >;
  GroupByType: Record<
    | 'GROUP_BY_FIELD'
    | 'GROUP_BY_RANGE'
    | 'GROUP_BY_FILTER'
    | 'GROUP_BY_HISTOGRAM'
    | 'GROUP_BY_DATE_HISTOGRAM'
    | 'GROUP_BY_GEO_GRID',
    number
  >;
  QueryOperator: { OR: number; AND: number };
  DateTimeUnit: Record<
    | 'YEAR'
    | 'QUARTER_YEAR'
    | 'MONTH'
    | 'WEEK'
    | 'DAY'
    | 'HOUR'
    | 'MINUTE'
    | 'SECOND'
    | 'MILLISECOND',
    number
  >;
  Long: { fromNumber(value: number): Int64; fromString(value: string): Int64 };
  INF_MIN: object;
  INF_MAX: object;
  PK_AUTO_INCR: object;
  Condition: ConditionClass;
  RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
  SingleColumnCondition: new (
    name: string,
    value: SdkValue,
    comparator: number,
    passIfMissing?: boolean,
    latestVersionOnly?: boolean,
  ) => object;
  CompositeCondition: new (combinator: number) => { addSubCondition(condition: object): void };
  ColumnPaginationFilter: new (limit: number, offset: number) => object;
  ComparatorType: Record<
    'EQUAL' | 'NOT_EQUAL' | 'GREATER_THAN' | 'GREATER_EQUAL' | 'LESS_THAN' | 'LESS_EQUAL',
    number
  >;
  LogicalOperator: Record<'NOT' | 'AND' | 'OR', number>;
  Direction: { FORWARD: string; BACKWARD: string };
  ReturnType: { NONE: number; Primarykey: number; AfterModify: number };
  IndexType: { IT_GLOBAL_INDEX: number; IT_LOCAL_INDEX: number };
  IndexUpdateMode: { IUM_ASYNC_INDEX: number; IUM_SYNC_INDEX: number };
  PrimaryKeyType: { INTEGER: number; STRING: number; BINARY: number };
  PrimaryKeyOption: { AUTO_INCREMENT: number };
  DefinedColumnType: Record<'DCT_INTEGER' | 'DCT_DOUBLE' | 'DCT_BOOLEAN' | 'DCT_STRING', number>;
  util: { date: { getDate(): Date } };
  Signer: new (request: {
    path: string;
    method: string;
    headers: Record<string, string>;
  }) => {
    addAuthorization(
      credentials: { accessKeyId: string; secretAccessKey: string; securityToken?: string },
      date: Date,
    ): void;
  };
  encoder: { encode(operation: string, params: Params): object };
  DefaultRetryPolicy: { maxRetryTimes: number };
  PlainBufferBuilder: {
    serializeForPutRow(
      primaryKey: SdkPrimaryKey,
      attributeColumns: Array<Record<string, SdkValue>>,
    ): Buffer;
    serializeForUpdateRow(
      primaryKey: SdkPrimaryKey,
      updates: Array<Record<string, unknown>>,
    ): Buffer;
    serializePrimaryKey(primaryKey: SdkPrimaryKey): Buffer;
  };
  PlainBufferInputStream: new (data: { buffer: Buffer; offset: number; limit: number }) => object;
  PlainBufferCodedInputStream: new (
    stream: object,
  ) => {
    readRows(): Array<{
      primaryKey: Array<{ name: string; value: unknown }>;
      attributes: Array<{ columnName: string; columnValue: unknown; timestamp: Int64 | null }>;
    }>;
  };
}

export const TableStore = require('tablestore') as TableStoreModule;

export const long = (value: number | bigint): Int64 => TableStore.Long.fromString(String(value));
