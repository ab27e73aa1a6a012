// The one module that touches the `tablestore` SDK: building its clients, calling it, and
// translating between its parameter/response shapes and the adapter's types (types.ts).

import http from 'node:http';
import https from 'node:https';
import TableStoreModule from 'tablestore';
import type { SdkErrorAndResponse } from './errors';
import {
  type ColumnCondition,
  type Columns,
  type ColumnValue,
  type Condition,
  type DefinedColumnType,
  INF_MAX,
  INF_MIN,
  type PrimaryKey,
  type PrimaryKeyType,
  type PrimaryKeyValue,
  type RangeKey,
  type Row,
  type RowUpdate,
  type RowWrite,
  type TableDefinition,
  type TableDescription,
} from './types';

// ---------------------------------------------------------------------------------------------
// The SDK surface used here

type SdkCallback = (this: SdkResponse | undefined, err: unknown, data: unknown) => void;

export interface SdkResponse {
  httpResponse?: {
    statusCode?: number;
    body?: unknown;
    headers?: Record<string, string | string[] | undefined>;
  };
}

export interface SdkClient {
  makeRequest(operation: string, params: unknown, callback: SdkCallback): unknown;
}

type Ctor<T> = new (...args: never[]) => T;

interface Sdk {
  Client: new (config: Record<string, unknown>) => SdkClient;
  Long: { fromString(decimal: string): SdkInt64; fromNumber(n: number): SdkInt64 };
  INF_MIN: object;
  INF_MAX: object;
  RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
  ComparatorType: Record<
    'EQUAL' | 'NOT_EQUAL' | 'GREATER_THAN' | 'GREATER_EQUAL' | 'LESS_THAN' | 'LESS_EQUAL',
    number
  >;
  LogicalOperator: Record<'NOT' | 'AND' | 'OR', number>;
  Condition: new (rowExistence: number, columnCondition: unknown) => object;
  SingleColumnCondition: new (
    column: string,
    value: unknown,
    comparator: number,
    passIfMissing: boolean,
    latestVersionOnly: boolean,
  ) => object;
  CompositeCondition: new (combinator: number) => { addSubCondition(c: object): void };
  DefinedColumnType: Record<'DCT_INTEGER' | 'DCT_DOUBLE' | 'DCT_BOOLEAN' | 'DCT_STRING', number>;
  IndexUpdateMode: { IUM_ASYNC_INDEX: number; IUM_SYNC_INDEX: number };
  IndexType: { IT_GLOBAL_INDEX: number; IT_LOCAL_INDEX: number };
}

export interface SdkInt64 {
  toBuffer(): Buffer;
  toString(radix?: number): string;
}

const sdk = TableStoreModule as Sdk;
const Int64Class = sdk.Long.fromNumber(0).constructor as Ctor<SdkInt64>;

// ---------------------------------------------------------------------------------------------
// Clients and calls

export interface SdkCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

export interface SdkClientOptions {
  endpoint: string;
  instanceName: string;
  credentials: SdkCredentials;
  requestTimeoutMs: number;
  agent: http.Agent;
}

export function keepAliveAgent(endpoint: string): http.Agent {
  const options = { keepAlive: true, maxSockets: 64 };
  return endpoint.startsWith('https:') ? new https.Agent(options) : new http.Agent(options);
}

export function createSdkClient(options: SdkClientOptions): SdkClient {
  return new sdk.Client({
    accessKeyId: options.credentials.accessKeyId,
    secretAccessKey: options.credentials.accessKeySecret,
    stsToken: options.credentials.securityToken,
    endpoint: options.endpoint,
    instancename: options.instanceName,
    // The adapter owns retries (retry.ts). Note the SDK copies this into a process-global.
    maxRetries: 0,
    httpOptions: { timeout: options.requestTimeoutMs, agent: options.agent },
  });
}

/** A failed SDK call with the SDK response kept, so the raw error body can be decoded. */
export class SdkCallFailure extends Error implements SdkErrorAndResponse {
  readonly response: SdkResponse;
  constructor(
    readonly error: unknown,
    response: SdkResponse | undefined,
  ) {
    super('Tablestore SDK call failed');
    // Only status, body and headers are kept: the SDK response also links to the request and
    // its config, which hold the access key secret and the STS token.
    const h = response?.httpResponse;
    this.response = {
      httpResponse: { statusCode: h?.statusCode, body: h?.body, headers: h?.headers },
    };
  }
}

/**
 * Calls the SDK in its callback form: the SDK invokes the callback with the response as `this`,
 * which carries the raw body bytes the promise form drops.
 */
export function callSdk(client: SdkClient, operation: string, params: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.makeRequest(operation, params, function onComplete(err, data) {
      if (err) reject(new SdkCallFailure(err, this));
      else resolve(data);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Values

export function int64ToSdk(value: bigint, what: string): SdkInt64 {
  if (value < -(2n ** 63n) || value >= 2n ** 63n) {
    throw new RangeError(`${what}: ${value} does not fit in a signed 64-bit integer`);
  }
  return sdk.Long.fromString(value.toString(10));
}

function int64FromSdk(value: SdkInt64): bigint {
  return Buffer.from(value.toBuffer()).readBigInt64LE(0);
}

function primaryKeyValueToSdk(
  value: PrimaryKeyValue | typeof INF_MIN | typeof INF_MAX,
  name: string,
) {
  if (value === INF_MIN) return sdk.INF_MIN;
  if (value === INF_MAX) return sdk.INF_MAX;
  if (typeof value === 'bigint') return int64ToSdk(value, `primary key column ${name}`);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  throw new TypeError(`primary key column ${name}: unsupported value type ${typeof value}`);
}

export function columnValueToSdk(value: ColumnValue, name: string): unknown {
  if (typeof value === 'bigint') return int64ToSdk(value, `column ${name}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`column ${name}: ${value} is not finite`);
    return value;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  throw new TypeError(`column ${name}: unsupported value type ${typeof value}`);
}

export function valueFromSdk(value: unknown): ColumnValue {
  if (value instanceof Int64Class) return int64FromSdk(value);
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  throw new TypeError(`Tablestore returned a value of unexpected type ${typeof value}`);
}

export function primaryKeyToSdk(key: PrimaryKey | RangeKey): Array<Record<string, unknown>> {
  return key.map(([name, value]) => ({ [name]: primaryKeyValueToSdk(value, name) }));
}

export function columnsToSdk(columns: Columns): Array<Record<string, unknown>> {
  return Object.entries(columns).map(([name, value]) => ({
    [name]: columnValueToSdk(value, name),
  }));
}

interface SdkRow {
  primaryKey?: Array<{ name: string; value: unknown }> | null;
  attributes?: Array<{ columnName: string; columnValue: unknown }> | null;
}

export function primaryKeyFromSdk(pk: ReadonlyArray<{ name: string; value: unknown }>): PrimaryKey {
  return pk.map(({ name, value }) => {
    const v = valueFromSdk(value);
    if (typeof v !== 'string' && typeof v !== 'bigint' && !Buffer.isBuffer(v)) {
      throw new TypeError(`primary key column ${name} came back as ${typeof v}`);
    }
    return [name, v] as const;
  });
}

/** A row as the SDK decodes it, or undefined for the SDK's "no row" (`{}` or null key). */
export function rowFromSdk(row: unknown): Row | undefined {
  const r = row as SdkRow | undefined;
  if (!r?.primaryKey || r.primaryKey.length === 0) return undefined;
  const columns: Record<string, ColumnValue> = {};
  for (const attr of r.attributes ?? []) {
    // With maxVersions 1 each column appears once; keep the first (newest) if not.
    if (!(attr.columnName in columns)) columns[attr.columnName] = valueFromSdk(attr.columnValue);
  }
  return { primaryKey: primaryKeyFromSdk(r.primaryKey), columns };
}

// ---------------------------------------------------------------------------------------------
// Conditions and updates

const COMPARATORS = {
  '=': sdk.ComparatorType.EQUAL,
  '!=': sdk.ComparatorType.NOT_EQUAL,
  '>': sdk.ComparatorType.GREATER_THAN,
  '>=': sdk.ComparatorType.GREATER_EQUAL,
  '<': sdk.ComparatorType.LESS_THAN,
  '<=': sdk.ComparatorType.LESS_EQUAL,
} as const;

export function columnConditionToSdk(condition: ColumnCondition): object {
  if ('column' in condition) {
    return new sdk.SingleColumnCondition(
      condition.column,
      columnValueToSdk(condition.value, condition.column),
      COMPARATORS[condition.is],
      condition.ifMissing === 'pass',
      true,
    );
  }
  if ('not' in condition) {
    const not = new sdk.CompositeCondition(sdk.LogicalOperator.NOT);
    not.addSubCondition(columnConditionToSdk(condition.not));
    return not;
  }
  const and = 'and' in condition;
  const subs = and ? condition.and : condition.or;
  if (subs.length === 1 && subs[0]) return columnConditionToSdk(subs[0]);
  const composite = new sdk.CompositeCondition(
    and ? sdk.LogicalOperator.AND : sdk.LogicalOperator.OR,
  );
  for (const sub of subs) composite.addSubCondition(columnConditionToSdk(sub));
  return composite;
}

const EXISTENCE = {
  ignore: sdk.RowExistenceExpectation.IGNORE,
  'expect-exist': sdk.RowExistenceExpectation.EXPECT_EXIST,
  'expect-not-exist': sdk.RowExistenceExpectation.EXPECT_NOT_EXIST,
} as const;

export function conditionToSdk(condition: Condition | undefined): object {
  const c = condition ?? { row: 'ignore' };
  return new sdk.Condition(
    EXISTENCE[c.row],
    c.columns === undefined ? null : columnConditionToSdk(c.columns),
  );
}

export function updateToSdk(update: RowUpdate): Array<Record<string, unknown>> {
  const groups: Array<Record<string, unknown>> = [];
  if (update.put && Object.keys(update.put).length > 0)
    groups.push({ PUT: columnsToSdk(update.put) });
  if (update.delete && update.delete.length > 0) groups.push({ DELETE_ALL: [...update.delete] });
  if (update.increment && Object.keys(update.increment).length > 0) {
    groups.push({
      INCREMENT: Object.entries(update.increment).map(([name, by]) => ({
        [name]: int64ToSdk(by, `increment of ${name}`),
      })),
    });
  }
  return groups;
}

export function rowWriteToSdk(write: RowWrite): Record<string, unknown> {
  const base = {
    primaryKey: primaryKeyToSdk(write.primaryKey),
    condition: conditionToSdk(write.condition),
  };
  switch (write.type) {
    case 'put':
      return { type: 'PUT', ...base, attributeColumns: columnsToSdk(write.columns) };
    case 'update':
      return { type: 'UPDATE', ...base, attributeColumns: updateToSdk(write.update) };
    case 'delete':
      return { type: 'DELETE', ...base, attributeColumns: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// Tables

const PK_TYPE_TO_SDK: Record<PrimaryKeyType, string> = {
  string: 'STRING',
  int64: 'INTEGER',
  binary: 'BINARY',
};
const PK_TYPE_FROM_SDK: Record<number, PrimaryKeyType> = { 1: 'int64', 2: 'string', 3: 'binary' };

// DCT_BLOB (7) is in the service's proto but not in the SDK's DefinedColumnType map.
const DEFINED_TYPE_TO_SDK: Record<DefinedColumnType, number> = {
  int64: sdk.DefinedColumnType.DCT_INTEGER,
  double: sdk.DefinedColumnType.DCT_DOUBLE,
  boolean: sdk.DefinedColumnType.DCT_BOOLEAN,
  string: sdk.DefinedColumnType.DCT_STRING,
  binary: 7,
};
const DEFINED_TYPE_FROM_SDK: Record<number, DefinedColumnType> = {
  1: 'int64',
  2: 'double',
  3: 'boolean',
  4: 'string',
  7: 'binary',
};

function indexMetaToSdk(index: NonNullable<TableDefinition['indexes']>[number]) {
  const local = index.kind === 'local';
  return {
    name: index.name,
    primaryKey: [...index.primaryKey],
    definedColumn: [...(index.definedColumns ?? [])],
    indexUpdateMode: local
      ? sdk.IndexUpdateMode.IUM_SYNC_INDEX
      : sdk.IndexUpdateMode.IUM_ASYNC_INDEX,
    indexType: local ? sdk.IndexType.IT_LOCAL_INDEX : sdk.IndexType.IT_GLOBAL_INDEX,
  };
}

export function createTableParams(def: TableDefinition): Record<string, unknown> {
  const params: Record<string, unknown> = {
    tableMeta: {
      tableName: def.name,
      primaryKey: def.primaryKey.map((pk) => ({
        name: pk.name,
        type: PK_TYPE_TO_SDK[pk.type],
        ...(pk.autoIncrement ? { option: 'AUTO_INCREMENT' } : {}),
      })),
      ...(def.definedColumns && def.definedColumns.length > 0
        ? {
            definedColumn: def.definedColumns.map((c) => ({
              name: c.name,
              type: DEFINED_TYPE_TO_SDK[c.type],
            })),
          }
        : {}),
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: {
      timeToLive: def.timeToLiveSeconds ?? -1,
      maxVersions: def.maxVersions ?? 1,
      ...(def.allowUpdate === false ? { allowUpdate: false } : {}),
    },
  };
  if (def.indexes && def.indexes.length > 0) params.indexMetas = def.indexes.map(indexMetaToSdk);
  return params;
}

export function createIndexParams(
  table: string,
  index: NonNullable<TableDefinition['indexes']>[number],
): Record<string, unknown> {
  return { mainTableName: table, indexMeta: indexMetaToSdk(index), includeBaseData: true };
}

interface SdkDescribe {
  tableMeta?: {
    tableName?: string;
    primaryKey?: Array<{ name: string; type: number; option?: number | null }>;
    definedColumn?: Array<{ name: string; type: number }>;
  };
  tableOptions?: {
    timeToLive?: number | null;
    maxVersions?: number | null;
    allowUpdate?: boolean | null;
  };
  indexMetas?: Array<{ name: string; primaryKey?: string[]; definedColumn?: string[] }>;
}

export function describeFromSdk(name: string, data: unknown): TableDescription {
  const d = data as SdkDescribe;
  return {
    name: d.tableMeta?.tableName ?? name,
    primaryKey: (d.tableMeta?.primaryKey ?? []).map(
      (pk): TableDescription['primaryKey'][number] => ({
        name: pk.name,
        type: PK_TYPE_FROM_SDK[pk.type] ?? 'unknown',
        // protobufjs gives an unset proto2 enum its first value (AUTO_INCREMENT) through the
        // prototype; only an own property was on the wire.
        ...(Object.hasOwn(pk, 'option') && pk.option === 1 ? { autoIncrement: true } : {}),
      }),
    ),
    definedColumns: (d.tableMeta?.definedColumn ?? []).map((c) => ({
      name: c.name,
      type: DEFINED_TYPE_FROM_SDK[c.type] ?? 'unknown',
    })),
    timeToLiveSeconds: Number(d.tableOptions?.timeToLive ?? -1),
    maxVersions: Number(d.tableOptions?.maxVersions ?? 1),
    // An unset proto2 bool reads false through protobufjs's prototype: only an own false counts.
    allowUpdate: !(
      d.tableOptions !== undefined &&
      Object.hasOwn(d.tableOptions, 'allowUpdate') &&
      d.tableOptions.allowUpdate === false
    ),
    indexes: (d.indexMetas ?? []).map((i) => ({
      name: i.name,
      primaryKey: [...(i.primaryKey ?? [])],
      definedColumns: [...(i.definedColumn ?? [])],
    })),
  };
}
