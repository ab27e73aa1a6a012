// The adapter's own vocabulary for rows, keys, conditions and tables. Nothing here mentions the
// `tablestore` SDK: repositories in shared/store speak these types, and only sdk.ts translates
// them into the SDK's parameter shapes.
//
// Value mapping (one JS type per Tablestore type, so a value's type is never ambiguous):
//   string  -> STRING         bigint -> INTEGER (int64, no precision loss)
//   number  -> DOUBLE         boolean -> BOOLEAN          Buffer -> BINARY

/** Smallest value of a primary key column, for range bounds. */
export const INF_MIN: unique symbol = Symbol('Tablestore.INF_MIN');
/** Largest value of a primary key column, for range bounds. */
export const INF_MAX: unique symbol = Symbol('Tablestore.INF_MAX');

export type PrimaryKeyValue = string | bigint | Buffer;
export type RangeBoundValue = PrimaryKeyValue | typeof INF_MIN | typeof INF_MAX;

/** Primary key columns in schema order. */
export type PrimaryKey = ReadonlyArray<readonly [name: string, value: PrimaryKeyValue]>;
/** A range bound: primary key columns in schema order, each a value or INF_MIN/INF_MAX. */
export type RangeKey = ReadonlyArray<readonly [name: string, value: RangeBoundValue]>;

export type ColumnValue = string | bigint | number | boolean | Buffer;
export type Columns = Readonly<Record<string, ColumnValue>>;

export interface Row {
  primaryKey: PrimaryKey;
  columns: Columns;
}

export type RowExistence = 'ignore' | 'expect-exist' | 'expect-not-exist';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=';

/**
 * A condition on attribute columns. `ifMissing` says how a row without the column is judged;
 * it defaults to 'fail' (the SDK's default is to pass), because a version or token check that
 * silently passes on a row lacking the column is the kind of bug this layer exists to prevent.
 */
export type ColumnCondition =
  | { column: string; is: Comparator; value: ColumnValue; ifMissing?: 'pass' | 'fail' }
  | { and: readonly ColumnCondition[] }
  | { or: readonly ColumnCondition[] }
  | { not: ColumnCondition };

export interface Condition {
  row: RowExistence;
  columns?: ColumnCondition;
}

/** An UpdateRow: columns to set, columns to delete (all versions), int64 columns to increment. */
export interface RowUpdate {
  put?: Columns;
  delete?: readonly string[];
  increment?: Readonly<Record<string, bigint>>;
}

export type RowWrite =
  | {
      type: 'put';
      table: string;
      primaryKey: PrimaryKey;
      columns: Columns;
      condition?: Condition;
    }
  | {
      type: 'update';
      table: string;
      primaryKey: PrimaryKey;
      update: RowUpdate;
      condition?: Condition;
    }
  | { type: 'delete'; table: string; primaryKey: PrimaryKey; condition?: Condition };

export type Direction = 'forward' | 'backward';

export interface RangeRequest {
  table: string;
  /** Inclusive. For a backward range this is the larger key. */
  start: RangeKey;
  /** Exclusive. For a backward range this is the smaller key. */
  end: RangeKey;
  direction?: Direction;
  /** Attribute columns to return (primary key columns always come back); all when absent. */
  columns?: readonly string[];
  /** Rows not matching are skipped by the server (they still count against the scan). */
  filter?: ColumnCondition;
}

export interface RangePage {
  rows: Row[];
  /** Where the next page starts (inclusive); undefined when the range is exhausted. */
  next: PrimaryKey | undefined;
}

// ---------------------------------------------------------------------------------------------
// Tables

export type PrimaryKeyType = 'string' | 'int64' | 'binary';
export type DefinedColumnType = 'string' | 'int64' | 'double' | 'boolean' | 'binary';

export interface PrimaryKeyColumnDefinition {
  name: string;
  type: PrimaryKeyType;
  autoIncrement?: boolean;
}

export interface IndexDefinition {
  name: string;
  /** Index primary key: indexed columns first, then the table's primary key columns. */
  primaryKey: readonly string[];
  definedColumns?: readonly string[];
  /** Global indexes are updated asynchronously; local ones synchronously (same partition key). */
  kind?: 'global' | 'local';
}

export interface TableDefinition {
  name: string;
  primaryKey: readonly PrimaryKeyColumnDefinition[];
  /** Attribute columns declared for secondary indexes. */
  definedColumns?: ReadonlyArray<{ name: string; type: DefinedColumnType }>;
  /** Seconds a cell lives after its write; -1 (the default) keeps data forever. */
  timeToLiveSeconds?: number;
  /** Default 1: this application never reads old versions. */
  maxVersions?: number;
  /**
   * Default true. False refuses UpdateRow (rows are written whole with PutRow), which a search
   * index with a time to live requires of its table.
   */
  allowUpdate?: boolean;
  indexes?: readonly IndexDefinition[];
}

export interface TableDescription {
  name: string;
  primaryKey: Array<{ name: string; type: PrimaryKeyType | 'unknown'; autoIncrement?: boolean }>;
  definedColumns: Array<{ name: string; type: DefinedColumnType | 'unknown' }>;
  timeToLiveSeconds: number;
  maxVersions: number;
  /** False when the table refuses UpdateRow; absent or true otherwise. */
  allowUpdate?: boolean;
  indexes: Array<{ name: string; primaryKey: string[]; definedColumns: string[] }>;
}
