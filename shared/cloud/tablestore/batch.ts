// Splitting batches at the service's limits. Pure: sizes are estimated from the adapter's own
// row types, erring high, so a batch the splitter accepts is never refused for its size.

import { type ColumnCondition, INF_MAX, INF_MIN, type PrimaryKey, type RowWrite } from './types';

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
}

/** BatchWriteRow: at most 200 rows and 4 MB per request. */
export const BATCH_WRITE_LIMITS: BatchLimits = { maxRows: 200, maxBytes: 4 * 1024 * 1024 };
/** BatchGetRow: at most 100 rows per request. */
export const BATCH_GET_MAX_ROWS = 100;

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8') + 4;
  if (Buffer.isBuffer(value)) return value.length + 4;
  if (typeof value === 'boolean') return 1;
  if (value === INF_MIN || value === INF_MAX) return 1;
  return 8; // int64, double
}

/** PlainBuffer cell: tags, lengths, type, checksum come to 14 bytes; 20 leaves room. */
const CELL_OVERHEAD = 20;
/** Row header, row tags, checksum, protobuf framing of the row and its type. */
const ROW_OVERHEAD = 48;

function cellBytes(name: string, value: unknown): number {
  return CELL_OVERHEAD + Buffer.byteLength(name, 'utf8') + valueBytes(value);
}

function conditionBytes(condition: ColumnCondition | undefined): number {
  if (condition === undefined) return 0;
  if ('column' in condition) return 24 + cellBytes(condition.column, condition.value);
  if ('not' in condition) return 8 + conditionBytes(condition.not);
  const subs = 'and' in condition ? condition.and : condition.or;
  return 8 + subs.reduce((sum, c) => sum + conditionBytes(c), 0);
}

export function estimatePrimaryKeyBytes(primaryKey: PrimaryKey): number {
  return primaryKey.reduce((sum, [name, value]) => sum + cellBytes(name, value), 0);
}

/** Bytes a row write adds to a BatchWriteRow request, never less than the real figure. */
export function estimateWriteBytes(write: RowWrite): number {
  let size = ROW_OVERHEAD + Buffer.byteLength(write.table, 'utf8');
  size += estimatePrimaryKeyBytes(write.primaryKey);
  if (write.type === 'put') {
    for (const [name, value] of Object.entries(write.columns)) size += cellBytes(name, value);
  } else if (write.type === 'update') {
    const { put = {}, delete: deleted = [], increment = {} } = write.update;
    for (const [name, value] of Object.entries(put)) size += cellBytes(name, value);
    for (const name of deleted) size += CELL_OVERHEAD + 2 + Buffer.byteLength(name, 'utf8');
    for (const [name, value] of Object.entries(increment)) size += cellBytes(name, value) + 2;
  }
  size += 8 + conditionBytes(write.condition?.columns);
  return size;
}

/** A key identifying a row across tables, for spotting one row written twice in a batch. */
export function rowIdentity(table: string, primaryKey: PrimaryKey): string {
  const parts = primaryKey.map(([name, value]) => {
    if (typeof value === 'string') return `${name}=s:${value}`;
    if (typeof value === 'bigint') return `${name}=i:${value}`;
    return `${name}=b:${value.toString('hex')}`;
  });
  return `${table}\u0000${parts.join('\u0000')}`;
}

/**
 * Splits items, in order, into consecutive batches within the row and byte limits. A batch is
 * also cut before a row already in it: Tablestore refuses a batch naming one row twice, and
 * cutting (rather than reordering) keeps the second write after the first. An item larger than
 * maxBytes on its own gets a batch of its own; the service then judges it.
 */
export function splitIntoBatches<T>(
  items: readonly T[],
  limits: BatchLimits,
  sizeOf: (item: T) => number,
  identityOf?: (item: T) => string,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  let identities = new Set<string>();
  for (const item of items) {
    const bytes = sizeOf(item);
    const identity = identityOf?.(item);
    const full =
      current.length >= limits.maxRows ||
      (current.length > 0 && currentBytes + bytes > limits.maxBytes) ||
      (identity !== undefined && identities.has(identity));
    if (full) {
      batches.push(current);
      current = [];
      currentBytes = 0;
      identities = new Set();
    }
    current.push(item);
    currentBytes += bytes;
    if (identity !== undefined) identities.add(identity);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
