// Typed tables: a schema (primary key columns + attribute columns with their types) that turns
// plain TS objects into the adapter's rows and back, checking every value on the way. Values:
//   string -> string   int64 -> bigint (never a number: no precision loss)   boolean -> boolean
//   double -> number   binary -> Buffer   json -> any JSON value, stored as a string
// A table's schema also yields its TableDefinition, so the shape used in code and the shape
// created in Tablestore come from one place.

import {
  type Columns,
  type ColumnValue,
  type Direction,
  INF_MAX,
  INF_MIN,
  type PrimaryKey,
  type PrimaryKeyType,
  type PrimaryKeyValue,
  type RangeKey,
  type Row,
  type TableDefinition,
} from './types';

export type ColumnKind = 'string' | 'int64' | 'boolean' | 'double' | 'binary' | 'json';

export interface Column<T, Optional extends boolean = false> {
  readonly kind: ColumnKind;
  readonly isOptional: Optional;
  /** Checks (and may convert) a decoded value; throws on a bad one. */
  readonly check: ((value: unknown) => T) | undefined;
  /** Phantom: carries T for type inference only. */
  readonly valueType?: T;
  optional(): Column<T, true>;
}

function makeColumn<T>(kind: ColumnKind, check?: (value: unknown) => T): Column<T, false> {
  const optional: Column<T, true> = { kind, isOptional: true, check, optional: () => optional };
  return { kind, isOptional: false, check, optional: () => optional };
}

export const column = {
  string: () => makeColumn<string>('string'),
  int64: () => makeColumn<bigint>('int64'),
  boolean: () => makeColumn<boolean>('boolean'),
  double: () => makeColumn<number>('double'),
  binary: () => makeColumn<Buffer>('binary'),
  /** Any JSON value, stored as a string; `check` validates what is read back (e.g. a zod parse). */
  json: <T>(check?: (value: unknown) => T) => makeColumn<T>('json', check),
  /** A string limited to the given values. */
  oneOf: <const V extends string>(values: readonly V[]) =>
    makeColumn<V>('string', (value) => {
      if (!(values as readonly unknown[]).includes(value)) {
        throw new TypeError(`${JSON.stringify(value)} is not one of ${values.join(', ')}`);
      }
      return value as V;
    }),
};

export type PrimaryKeySpec = ReadonlyArray<readonly [name: string, type: PrimaryKeyType]>;
/** Any column: Column is covariant in its value type, so unknown accepts them all. */
export type ColumnsSpec = Readonly<Record<string, Column<unknown, boolean>>>;

type PkValueOf<T extends PrimaryKeyType> = T extends 'string'
  ? string
  : T extends 'int64'
    ? bigint
    : Buffer;

type ValueOf<C> = C extends Column<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type KeyOf<P extends PrimaryKeySpec> = Simplify<{
  [E in P[number] as E[0]]: PkValueOf<E[1]>;
}>;

export type ColumnsOf<C extends ColumnsSpec> = Simplify<
  {
    [K in keyof C as C[K] extends Column<unknown, true> ? never : K]: ValueOf<C[K]>;
  } & {
    [K in keyof C as C[K] extends Column<unknown, true> ? K : never]?: ValueOf<C[K]> | undefined;
  }
>;

export type RowOf<P extends PrimaryKeySpec, C extends ColumnsSpec> = Simplify<
  KeyOf<P> & ColumnsOf<C>
>;

export interface TableSpec<P extends PrimaryKeySpec, C extends ColumnsSpec> {
  name: string;
  primaryKey: P;
  columns: C;
  timeToLiveSeconds?: number;
  maxVersions?: number;
  allowUpdate?: boolean;
  definedColumns?: TableDefinition['definedColumns'];
  indexes?: TableDefinition['indexes'];
}

/** A stored row does not match the table's schema. Names the table, row and column. */
export class RowDecodeError extends Error {
  override readonly name = 'RowDecodeError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

function describeKey(primaryKey: PrimaryKey): string {
  return primaryKey
    .map(
      ([name, value]) =>
        `${name}=${Buffer.isBuffer(value) ? value.toString('hex') : String(value)}`,
    )
    .join(', ');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Buffer.isBuffer(value)) return 'binary';
  if (typeof value === 'bigint') return 'int64 (bigint)';
  if (typeof value === 'number') return 'number';
  return typeof value;
}

export class TypedTable<P extends PrimaryKeySpec, C extends ColumnsSpec> {
  readonly name: string;
  readonly primaryKeyNames: readonly string[];
  readonly definition: TableDefinition;
  private readonly spec: TableSpec<P, C>;

  constructor(spec: TableSpec<P, C>) {
    if (!NAME.test(spec.name))
      throw new TypeError(`invalid table name ${JSON.stringify(spec.name)}`);
    if (spec.primaryKey.length < 1 || spec.primaryKey.length > 4) {
      throw new TypeError(`table ${spec.name}: a primary key has 1 to 4 columns`);
    }
    for (const name of [...spec.primaryKey.map(([n]) => n), ...Object.keys(spec.columns)]) {
      if (!NAME.test(name) || name === 'timestamp') {
        throw new TypeError(`table ${spec.name}: invalid column name ${JSON.stringify(name)}`);
      }
    }
    this.spec = spec;
    this.name = spec.name;
    this.primaryKeyNames = spec.primaryKey.map(([name]) => name);
    this.definition = {
      name: spec.name,
      primaryKey: spec.primaryKey.map(([name, type]) => ({ name, type })),
      ...(spec.definedColumns ? { definedColumns: spec.definedColumns } : {}),
      timeToLiveSeconds: spec.timeToLiveSeconds ?? -1,
      maxVersions: spec.maxVersions ?? 1,
      ...(spec.allowUpdate === false ? { allowUpdate: false } : {}),
      ...(spec.indexes ? { indexes: spec.indexes } : {}),
    };
  }

  /** The type of a primary key column or the kind of an attribute column; undefined if none. */
  kindOf(name: string): PrimaryKeyType | ColumnKind | undefined {
    const key = this.spec.primaryKey.find(([keyName]) => keyName === name);
    if (key) return key[1];
    return Object.hasOwn(this.spec.columns, name) ? this.spec.columns[name]?.kind : undefined;
  }

  /** The primary key of a row (or of a key object), in schema order. */
  key(key: KeyOf<P>): PrimaryKey {
    const values = key as Record<string, unknown>;
    return this.spec.primaryKey.map(
      ([name, type]) => [name, this.keyValue(name, type, values[name])] as const,
    );
  }

  /** Attribute columns to write; undefined values are left out. */
  columns(values: Partial<ColumnsOf<C>>): Columns {
    const out: Record<string, ColumnValue> = {};
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
      if (value === undefined) continue;
      const spec = this.spec.columns[name];
      if (!spec) throw new TypeError(`${this.name}: no column ${name} in the schema`);
      out[name] = this.encodeValue(name, spec.kind, value);
    }
    return out;
  }

  /** A whole row: its key and all its attribute columns (required ones must be present). */
  encode(row: RowOf<P, C>): { primaryKey: PrimaryKey; columns: Columns } {
    const values = row as Record<string, unknown>;
    const attributes: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(this.spec.columns)) {
      const value = values[name];
      if (value === undefined && !spec.isOptional) {
        throw new TypeError(`${this.name}.${name}: required column is missing`);
      }
      attributes[name] = value;
    }
    return {
      primaryKey: this.key(row as KeyOf<P>),
      columns: this.columns(attributes as Partial<ColumnsOf<C>>),
    };
  }

  decode(row: Row): RowOf<P, C> {
    const out: Record<string, unknown> = {};
    const pkByName = new Map(row.primaryKey);
    for (const [name, type] of this.spec.primaryKey) {
      const value = pkByName.get(name);
      const ok =
        (type === 'string' && typeof value === 'string') ||
        (type === 'int64' && typeof value === 'bigint') ||
        (type === 'binary' && Buffer.isBuffer(value));
      if (!ok) {
        throw new RowDecodeError(
          `${this.name} row (${describeKey(row.primaryKey)}): primary key column ${name} should be ${type}, is ${typeName(value)}`,
        );
      }
      out[name] = value;
    }
    for (const [name, spec] of Object.entries(this.spec.columns)) {
      const stored = row.columns[name];
      if (stored === undefined) {
        if (!spec.isOptional) {
          throw new RowDecodeError(
            `${this.name} row (${describeKey(row.primaryKey)}): required column ${name} is missing`,
          );
        }
        continue;
      }
      try {
        out[name] = this.decodeValue(spec, stored);
      } catch (err) {
        throw new RowDecodeError(
          `${this.name} row (${describeKey(row.primaryKey)}): column ${name}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    return out as RowOf<P, C>;
  }

  /**
   * Range bounds covering every row whose key starts with `prefix` (leading primary key
   * columns, in order), for the given direction.
   */
  prefixRange(
    prefix: Partial<KeyOf<P>>,
    direction: Direction = 'forward',
  ): { start: RangeKey; end: RangeKey } {
    const values = prefix as Record<string, unknown>;
    const low: Array<readonly [string, RangeKey[number][1]]> = [];
    const high: Array<readonly [string, RangeKey[number][1]]> = [];
    let open = false;
    for (const [name, type] of this.spec.primaryKey) {
      const value = values[name];
      if (value === undefined) {
        open = true;
        low.push([name, INF_MIN]);
        high.push([name, INF_MAX]);
        continue;
      }
      if (open) throw new TypeError(`${this.name}: range prefix skips a column before ${name}`);
      const v = this.keyValue(name, type, value);
      low.push([name, v]);
      high.push([name, v]);
    }
    return direction === 'forward' ? { start: low, end: high } : { start: high, end: low };
  }

  private keyValue(name: string, type: PrimaryKeyType, value: unknown): PrimaryKeyValue {
    const ok =
      (type === 'string' && typeof value === 'string') ||
      (type === 'int64' && typeof value === 'bigint') ||
      (type === 'binary' && Buffer.isBuffer(value));
    if (!ok)
      throw new TypeError(
        `${this.name}.${name}: primary key expects ${type}, got ${typeName(value)}`,
      );
    return value as PrimaryKeyValue;
  }

  private encodeValue(name: string, kind: ColumnKind, value: unknown): ColumnValue {
    const fail = () =>
      new TypeError(`${this.name}.${name}: expected ${kind}, got ${typeName(value)}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') throw fail();
        return value;
      case 'int64':
        if (typeof value !== 'bigint') throw fail();
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') throw fail();
        return value;
      case 'double':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw fail();
        return value;
      case 'binary':
        if (!(value instanceof Uint8Array)) throw fail();
        return Buffer.isBuffer(value) ? value : Buffer.from(value);
      case 'json': {
        const text = JSON.stringify(value);
        if (text === undefined) throw fail();
        return text;
      }
    }
  }

  private decodeValue(spec: Column<unknown, boolean>, stored: ColumnValue): unknown {
    const expected = spec.kind === 'json' ? 'string' : spec.kind;
    const actual =
      typeof stored === 'bigint'
        ? 'int64'
        : typeof stored === 'number'
          ? 'double'
          : Buffer.isBuffer(stored)
            ? 'binary'
            : typeof stored;
    if (actual !== expected) throw new TypeError(`stored as ${actual}, schema says ${spec.kind}`);
    const value = spec.kind === 'json' ? JSON.parse(stored as string) : stored;
    return spec.check ? spec.check(value) : value;
  }
}

export function defineTable<const P extends PrimaryKeySpec, const C extends ColumnsSpec>(
  spec: TableSpec<P, C>,
): TypedTable<P, C> {
  return new TypedTable(spec);
}

/** The primary key spec of a typed table. */
export type PrimaryKeySpecOf<T> =
  T extends TypedTable<infer P extends PrimaryKeySpec, infer _C extends ColumnsSpec> ? P : never;
/** The columns spec of a typed table. */
export type ColumnsSpecOf<T> =
  T extends TypedTable<infer _P extends PrimaryKeySpec, infer C extends ColumnsSpec> ? C : never;
