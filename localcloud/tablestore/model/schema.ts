// Table metadata and the documented limits of the service.

import { invalid } from './errors';
import type { PkType } from './values';

export const LIMITS = {
  primaryKeyColumns: 4,
  primaryKeyStringBytes: 1024,
  primaryKeyBinaryBytes: 1024,
  /** Table, index and column names: `^[a-zA-Z_][a-zA-Z0-9_]{0,254}$`. */
  nameMaxLength: 255,
  attributeValueBytes: 2 * 1024 * 1024,
  /** Attribute columns written by one row change. */
  columnsPerWrite: 1024,
  /** Attribute columns a row may hold after a write (OTSOutOfColumnCountLimit). */
  columnsPerRow: 1024,
  /** Data of one row after a write (OTSOutOfRowSizeLimit). */
  rowBytes: 4 * 1024 * 1024,
  /** Data of one PutRow/UpdateRow request. */
  rowWriteBytes: 4 * 1024 * 1024,
  batchWriteRows: 200,
  batchWriteBytes: 4 * 1024 * 1024,
  batchGetRows: 100,
  rangeRows: 5000,
  rangeBytes: 4 * 1024 * 1024,
  definedColumns: 32,
  tablesPerInstance: 64,
  requestBodyBytes: 5 * 1024 * 1024,
  /** Minimum time to live, in seconds, unless -1 (keep forever). */
  minTimeToLive: 86400,
  /** Allowed difference between x-ots-date and the server's clock. */
  dateSkewMs: 15 * 60 * 1000,
} as const;

export type DefinedType = 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'BINARY';

export interface PkColumn {
  name: string;
  type: PkType;
  autoIncrement: boolean;
}

export interface DefinedColumn {
  name: string;
  type: DefinedType;
}

export interface TableOptions {
  /** Seconds; -1 keeps data forever. */
  timeToLive: number;
  maxVersions: number;
  /** Max difference, in seconds, between a written cell version and the server clock. */
  deviationCellVersionInSec: number;
  allowUpdate: boolean;
}

export interface IndexMeta {
  name: string;
  primaryKey: string[];
  definedColumn: string[];
  /** 0 = IUM_ASYNC_INDEX, 1 = IUM_SYNC_INDEX */
  updateMode: number;
  /** 0 = IT_GLOBAL_INDEX, 1 = IT_LOCAL_INDEX */
  indexType: number;
}

export interface TableMeta {
  name: string;
  primaryKey: PkColumn[];
  definedColumns: DefinedColumn[];
  options: TableOptions;
  reserved: { read: number; write: number };
  createdAt: number;
  lastIncreaseTime: number;
  lastDecreaseTime?: number;
  indexes: IndexMeta[];
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,254}$/;
const INSTANCE_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$/;

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export function checkTableName(name: string): void {
  if (!isValidName(name)) throw invalid(`Invalid table name: '${name}'.`);
}

export function checkColumnName(name: string): void {
  if (!isValidName(name)) throw invalid(`Invalid column name: '${name}'.`);
}

/** Instance names: 3 to 16 letters, digits or hyphens, starting with a letter, not ending with a hyphen. */
export function isValidInstanceName(name: string): boolean {
  return INSTANCE_NAME.test(name);
}

export const PK_TYPES: Record<number, PkType> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };
export const PK_TYPE_CODES: Record<PkType, number> = { INTEGER: 1, STRING: 2, BINARY: 3 };
export const DEFINED_TYPES: Record<number, DefinedType> = {
  1: 'INTEGER',
  2: 'DOUBLE',
  3: 'BOOLEAN',
  4: 'STRING',
  7: 'BINARY',
};
export const DEFINED_TYPE_CODES: Record<DefinedType, number> = {
  INTEGER: 1,
  DOUBLE: 2,
  BOOLEAN: 3,
  STRING: 4,
  BINARY: 7,
};
