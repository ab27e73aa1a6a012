// Search indexes declared beside the typed tables they index: each field names a column (or
// primary key column) of the table, its type is checked against the column's kind, and the
// index's time to live against the table's, when the declaration is made (at module load), so
// a mismatch fails the tests rather than a deployment.
//
// A declared index has a family name and a version; its name in the instance is
// `<family>_v<version>`. The service cannot change a search index's schema in place: a changed
// schema is a new version, created beside the old one, which is removed once the new one has
// synced (ensure-search-indexes.ts; README "Search indexes").

import type { ColumnsSpec, PrimaryKeySpec, RowOf, TypedTable } from './codec';
import type {
  SearchFieldDefinition,
  SearchFieldType,
  SearchIndexDefinition,
  SearchSort,
} from './search-types';

export interface SearchIndexDeclaration extends SearchIndexDefinition {
  /** The name without its version. */
  family: string;
  version: number;
}

export type SearchFieldSpec = Omit<SearchFieldDefinition, 'name'>;

export interface SearchIndexSpec<P extends PrimaryKeySpec, C extends ColumnsSpec> {
  family: string;
  /** A whole number from 1; raise it whenever the fields or the index sort change. */
  version: number;
  /** By column: how each indexed column is indexed. */
  fields: { readonly [K in keyof RowOf<P, C> & string]?: SearchFieldSpec };
  indexSort?: readonly SearchSort[];
  /** Seconds; must be set (and at most the table's) when the table has a time to live. */
  timeToLiveSeconds?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/** The name of a version of a family of search indexes. */
export function versionedIndexName(family: string, version: number): string {
  return `${family}_v${version}`;
}

/** The version of `name` in `family`, or undefined when it is not one of its versions. */
export function versionOf(family: string, name: string): number | undefined {
  const prefix = `${family}_v`;
  if (!name.startsWith(prefix)) return undefined;
  const digits = name.slice(prefix.length);
  return /^[1-9][0-9]{0,8}$/.test(digits) ? Number(digits) : undefined;
}

/** Field types a column of each kind can be indexed as (arrays and nested: JSON columns). */
function allowedTypes(kind: string, isKey: boolean, field: SearchFieldSpec): SearchFieldType[] {
  if (field.array || field.type === 'nested') {
    return kind === 'json' || kind === 'string' ? [field.type] : [];
  }
  if (isKey)
    return kind === 'string' ? ['keyword', 'text'] : kind === 'int64' ? ['long', 'date'] : [];
  switch (kind) {
    case 'string':
      return ['keyword', 'text', 'date'];
    case 'int64':
      return ['long', 'date'];
    case 'double':
      return ['double'];
    case 'boolean':
      return ['boolean'];
    default:
      return [];
  }
}

export function declareSearchIndex<P extends PrimaryKeySpec, C extends ColumnsSpec>(
  table: TypedTable<P, C>,
  spec: SearchIndexSpec<P, C>,
): SearchIndexDeclaration {
  const name = versionedIndexName(spec.family, spec.version);
  const where = `search index ${name} on ${table.name}`;
  if (!Number.isInteger(spec.version) || spec.version < 1 || spec.version > 999_999_999) {
    throw new TypeError(`${where}: the version is a whole number from 1`);
  }
  if (!NAME.test(name)) throw new TypeError(`${where}: invalid index name`);
  const fields: SearchFieldDefinition[] = [];
  for (const [column, field] of Object.entries(spec.fields) as Array<[string, SearchFieldSpec]>) {
    const kind = table.kindOf(column);
    if (kind === undefined) throw new TypeError(`${where}: the table has no column ${column}`);
    const isKey = table.primaryKeyNames.includes(column);
    if (!allowedTypes(kind, isKey, field).includes(field.type)) {
      throw new TypeError(
        `${where}: ${isKey ? 'primary key column' : 'column'} ${column} (${kind}) cannot be indexed as ${field.array ? 'an array of ' : ''}${field.type}`,
      );
    }
    fields.push({ name: column, ...field });
  }
  if (fields.length === 0) throw new TypeError(`${where}: no fields`);
  for (const sort of spec.indexSort ?? []) {
    if (!('field' in sort)) continue;
    if (!fields.some((field) => field.name === sort.field && field.sortAndAgg)) {
      throw new TypeError(`${where}: the index sort field ${sort.field} needs sortAndAgg`);
    }
  }
  const ttl = spec.timeToLiveSeconds ?? -1;
  const tableTtl = table.definition.timeToLiveSeconds ?? -1;
  if (tableTtl !== -1 && (ttl === -1 || ttl > tableTtl)) {
    throw new TypeError(
      `${where}: the table keeps rows ${tableTtl} s, so the index needs a time to live of at most that`,
    );
  }
  if (ttl !== -1 && table.definition.allowUpdate !== false) {
    throw new TypeError(
      `${where}: an index with a time to live needs its table to refuse UpdateRow (allowUpdate: false)`,
    );
  }
  return {
    table: table.name,
    name,
    family: spec.family,
    version: spec.version,
    fields,
    ...(spec.indexSort ? { indexSort: spec.indexSort } : {}),
    ...(spec.timeToLiveSeconds !== undefined ? { timeToLiveSeconds: spec.timeToLiveSeconds } : {}),
  };
}
