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

export interface SdkError extends Error {
  /** The HTTP status: the SDK does not parse the Error protobuf. */
  code: number | string;
  headers?: Record<string, string>;
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
  search(params: Params): Promise<unknown>;
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

/** The SDK's protobuf classes (to build raw requests in tests, e.g. with a corrupted checksum). */
export const sdkProtos = require('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: { proto: Record<string, { encode(message: object): { finish(): Uint8Array } }> };
};

export const long = (value: number | bigint): Int64 => TableStore.Long.fromString(String(value));
