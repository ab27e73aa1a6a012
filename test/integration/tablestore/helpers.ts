// Small conveniences over the SDK for the Tablestore tests.

import type { SdkClient, SdkColumn, SdkRow } from './sdk';
import { TableStore } from './sdk';

export const ignore = () =>
  new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
export const expectExist = (columnCondition: object | null = null) =>
  new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, columnCondition);
export const expectNotExist = () =>
  new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
export const ignoreIf = (columnCondition: object) =>
  new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, columnCondition);

export interface TableSpec {
  name: string;
  primaryKey: Array<{
    name: string;
    type: 'INTEGER' | 'STRING' | 'BINARY';
    option?: 'AUTO_INCREMENT';
  }>;
  definedColumn?: Array<{ name: string; type: number }>;
  timeToLive?: number;
  maxVersions?: number;
  maxTimeDeviation?: number;
  allowUpdate?: boolean;
  indexMetas?: Array<Record<string, unknown>>;
}

export async function createTable(client: SdkClient, spec: TableSpec): Promise<void> {
  await client.createTable({
    tableMeta: {
      tableName: spec.name,
      primaryKey: spec.primaryKey,
      ...(spec.definedColumn ? { definedColumn: spec.definedColumn } : {}),
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: {
      timeToLive: spec.timeToLive ?? -1,
      maxVersions: spec.maxVersions ?? 1,
      ...(spec.maxTimeDeviation ? { maxTimeDeviation: spec.maxTimeDeviation } : {}),
      ...(spec.allowUpdate === false ? { allowUpdate: false } : {}),
    },
    ...(spec.indexMetas ? { indexMetas: spec.indexMetas } : {}),
  });
}

export type Plain = string | number | boolean | bigint | null;

/** A cell value as plain data: INTEGER as bigint, BINARY as `hex:<...>`. */
export function plain(value: unknown): Plain {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (typeof value === 'object' && 'toString' in value && 'toBuffer' in value)
    return BigInt(String(value));
  throw new Error(`unexpected SDK value ${String(value)}`);
}

export function pkOf(row: SdkRow): Record<string, Plain> {
  return Object.fromEntries((row.primaryKey ?? []).map((cell) => [cell.name, plain(cell.value)]));
}

/** Latest value per column (the SDK lists versions newest first). */
export function attrsOf(row: SdkRow | { attributes?: SdkColumn[] | null }): Record<string, Plain> {
  const result: Record<string, Plain> = {};
  for (const cell of row.attributes ?? []) {
    if (!(cell.columnName in result)) result[cell.columnName] = plain(cell.columnValue);
  }
  return result;
}

/** Every version: column -> [[timestamp, value], ...] newest first. */
export function versionsOf(row: SdkRow): Record<string, Array<[number, Plain]>> {
  const result: Record<string, Array<[number, Plain]>> = {};
  for (const cell of row.attributes ?? []) {
    const versions = result[cell.columnName] ?? [];
    versions.push([cell.timestamp.toNumber(), plain(cell.columnValue)]);
    result[cell.columnName] = versions;
  }
  return result;
}
