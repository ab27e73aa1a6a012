// Search index definitions: field schemas, index sort, time to live, and the published limits of
// the search-index feature, checked against the table the index is built on.

import { invalid } from './errors';
import type { Table } from './rows';
import { isValidName } from './schema';

export type FieldType =
  | 'LONG'
  | 'DOUBLE'
  | 'BOOLEAN'
  | 'KEYWORD'
  | 'TEXT'
  | 'NESTED'
  | 'GEO_POINT'
  | 'DATE'
  | 'VECTOR';

export type Analyzer = 'single_word' | 'split' | 'max_word' | 'min_word' | 'fuzzy';

export interface FieldSchema {
  name: string;
  type: FieldType;
  /** Inverted (or ordered) index on the field: queries may use it. Default true. */
  index: boolean;
  /** Doc values: sorts and aggregations may use it. Default false. */
  sortAndAgg: boolean;
  /** The value is kept in the index (ColumnsToGet RETURN_ALL_FROM_INDEX). Default true. */
  store: boolean;
  /** The column holds a JSON array of values of `type`. */
  isArray: boolean;
  analyzer?: Analyzer;
  /** single_word: case sensitivity and letter/digit splitting; split: the delimiter. */
  analyzerParameter?: { caseSensitive?: boolean; delimitWord?: boolean; delimiter?: string };
  /** NESTED only: the fields of each child object. */
  subFields?: FieldSchema[];
  /** DATE only: formats a STRING column is parsed with. */
  dateFormats?: string[];
}

export type SortOrder = 'ASC' | 'DESC';
export type MissingPlacement =
  | { kind: 'first' }
  | { kind: 'last' }
  | { kind: 'value'; value: unknown };

export type Sorter =
  | {
      kind: 'field';
      field: string;
      order: SortOrder;
      mode?: 'MIN' | 'MAX' | 'AVG';
      missing: MissingPlacement;
    }
  | { kind: 'pk'; order: SortOrder }
  | { kind: 'score'; order: SortOrder };

export interface SearchIndexMeta {
  table: string;
  name: string;
  fields: FieldSchema[];
  /** Default order of results; PrimaryKeySort and FieldSort only. */
  indexSort: Sorter[];
  /** Seconds; -1 keeps rows forever. */
  timeToLive: number;
  /** Epoch ms. */
  createdAt: number;
}

/**
 * The published limits ("Search index limits", help.aliyun.com document 96407, updated
 * Nov 2025) that localcloud enforces.
 */
export const SEARCH_LIMITS = {
  fieldsPerIndex: 1000,
  arrayElements: 256,
  nestedDepth: 5,
  nestedChildRows: 256,
  nestedSubFields: 100,
  keywordBytes: 4 * 1024,
  /** Default and maximum `limit` of Search; 1000 when every returned column is in the index. */
  defaultLimit: 10,
  maxLimit: 100,
  maxLimitFromIndex: 1000,
  maxOffsetPlusLimit: 100_000,
  queriesPerSearch: 1024,
  termsPerTermsQuery: 1024,
  wildcardChars: 32,
  prefixBytes: 1000,
  aggregationsPerLevel: 5,
  groupBysPerLevel: 5,
  groupByDepth: 3,
  groupByFilterFilters: 10,
  groupByFieldSize: 2000,
  groupByFieldDefaultSize: 10,
  groupByRangeRanges: 100,
  /** Buckets one histogram may produce (localcloud's guard; not a published figure). */
  histogramBuckets: 10_000,
  parallelScanLimit: 2000,
  /** Minimum time to live of a search index other than -1, as for tables. */
  minTimeToLive: 86400,
  maxTimeToLive: 2 ** 31 - 1,
} as const;

const SORTABLE: ReadonlySet<FieldType> = new Set(['LONG', 'DOUBLE', 'BOOLEAN', 'KEYWORD', 'DATE']);
const EMULATED: ReadonlySet<FieldType> = new Set([
  'LONG',
  'DOUBLE',
  'BOOLEAN',
  'KEYWORD',
  'TEXT',
  'NESTED',
  'DATE',
]);

export function fieldTypeName(type: FieldType): string {
  return type === 'GEO_POINT' ? 'geo_point' : type.toLowerCase();
}

export function checkSearchIndexName(name: string): void {
  if (!isValidName(name)) throw invalid(`Invalid index name: '${name}'.`);
}

export function checkSearchIndexTtl(ttl: number, table: Table): void {
  if (ttl !== -1 && (ttl < SEARCH_LIMITS.minTimeToLive || ttl > SEARCH_LIMITS.maxTimeToLive)) {
    throw invalid(
      `Invalid time_to_live: ${ttl}. It must be -1 or in [${SEARCH_LIMITS.minTimeToLive}, ${SEARCH_LIMITS.maxTimeToLive}] seconds.`,
    );
  }
  const tableTtl = table.meta.options.timeToLive;
  if (tableTtl !== -1 && (ttl === -1 || ttl > tableTtl)) {
    throw invalid(
      `The time_to_live of the search index (${ttl}) must be less than or equal to the time_to_live of table '${table.name}' (${tableTtl}).`,
    );
  }
  if ((ttl !== -1 || tableTtl !== -1) && table.meta.options.allowUpdate) {
    throw invalid(
      `Table '${table.name}' must disallow updates (allow_update=false) before a search index with a time to live can be used.`,
    );
  }
}

function checkField(field: FieldSchema, depth: number, table: Table | undefined): void {
  if (!isValidName(field.name)) throw invalid(`Invalid field name: '${field.name}'.`);
  if (!EMULATED.has(field.type)) {
    throw invalid(
      `Field '${field.name}': field type ${field.type} is not emulated by localcloud (LONG, DOUBLE, BOOLEAN, KEYWORD, TEXT, DATE and NESTED are).`,
    );
  }
  if (field.analyzer !== undefined && field.type !== 'TEXT') {
    throw invalid(`Field '${field.name}': analyzer is only allowed for TEXT fields.`);
  }
  if (field.analyzer === 'fuzzy') {
    throw invalid(`Field '${field.name}': the fuzzy analyzer is not emulated by localcloud.`);
  }
  if (field.sortAndAgg && !SORTABLE.has(field.type)) {
    throw invalid(
      `Field '${field.name}': type ${fieldTypeName(field.type)} does not support enable_sort_and_agg.`,
    );
  }
  if (field.dateFormats && field.dateFormats.length > 0 && field.type !== 'DATE') {
    throw invalid(`Field '${field.name}': date_formats are only allowed for DATE fields.`);
  }
  if (field.type === 'NESTED') {
    if (depth >= SEARCH_LIMITS.nestedDepth) {
      throw invalid(
        `Field '${field.name}': nested fields may be nested at most ${SEARCH_LIMITS.nestedDepth} levels deep.`,
      );
    }
    const subFields = field.subFields ?? [];
    if (subFields.length === 0)
      throw invalid(`Nested field '${field.name}' must declare its field_schemas.`);
    if (subFields.length > SEARCH_LIMITS.nestedSubFields) {
      throw invalid(
        `Nested field '${field.name}' has ${subFields.length} sub-fields; at most ${SEARCH_LIMITS.nestedSubFields} are allowed.`,
      );
    }
    checkUniqueNames(subFields);
    for (const sub of subFields) checkField(sub, depth + 1, undefined);
  } else if (field.subFields && field.subFields.length > 0) {
    throw invalid(`Field '${field.name}': field_schemas are only allowed for NESTED fields.`);
  }
  if (!table) return;
  const pk = table.meta.primaryKey.find((column) => column.name === field.name);
  if (pk) {
    const allowed =
      pk.type === 'STRING'
        ? ['KEYWORD', 'TEXT']
        : pk.type === 'INTEGER'
          ? ['LONG', 'DATE']
          : ([] as string[]);
    if (!allowed.includes(field.type) || field.isArray) {
      throw invalid(
        `Field '${field.name}': primary key column of type ${pk.type} can not be indexed as ${fieldTypeName(field.type)}${field.isArray ? ' array' : ''}.`,
      );
    }
  }
  const defined = table.meta.definedColumns.find((column) => column.name === field.name);
  if (defined) {
    const source = field.isArray || field.type === 'NESTED' ? 'STRING' : undefined;
    const allowed: Record<string, string[]> = {
      LONG: ['INTEGER'],
      DOUBLE: ['DOUBLE'],
      BOOLEAN: ['BOOLEAN'],
      KEYWORD: ['STRING'],
      TEXT: ['STRING'],
      DATE: ['INTEGER', 'STRING'],
      NESTED: ['STRING'],
    };
    const ok = source ? defined.type === source : allowed[field.type]?.includes(defined.type);
    if (!ok) {
      throw invalid(
        `Field '${field.name}': defined column of type ${defined.type} can not be indexed as ${fieldTypeName(field.type)}${field.isArray ? ' array' : ''}.`,
      );
    }
  }
}

function checkUniqueNames(fields: readonly FieldSchema[]): void {
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.name)) throw invalid(`Duplicated field name: '${field.name}'.`);
    seen.add(field.name);
  }
}

function countFields(fields: readonly FieldSchema[]): number {
  let count = 0;
  for (const field of fields) count += 1 + countFields(field.subFields ?? []);
  return count;
}

/** Checks a new index's schema and index sort against its table. */
export function checkSearchIndexSchema(meta: SearchIndexMeta, table: Table): void {
  if (meta.fields.length === 0) throw invalid('The schema of a search index must have fields.');
  const count = countFields(meta.fields);
  if (count > SEARCH_LIMITS.fieldsPerIndex) {
    throw invalid(
      `The search index has ${count} fields; at most ${SEARCH_LIMITS.fieldsPerIndex} are allowed.`,
    );
  }
  checkUniqueNames(meta.fields);
  for (const field of meta.fields) checkField(field, 1, table);
  const hasNested = meta.fields.some((field) => field.type === 'NESTED');
  if (meta.indexSort.length > 0 && hasNested) {
    throw invalid('Index sort is not supported on a search index with NESTED fields.');
  }
  for (const sorter of meta.indexSort) {
    if (sorter.kind === 'score')
      throw invalid('Index sort supports PrimaryKeySort and FieldSort only.');
    if (sorter.kind !== 'field') continue;
    const field = meta.fields.find((candidate) => candidate.name === sorter.field);
    if (!field) throw invalid(`Index sort field: ${sorter.field} does not exist.`);
    if (!field.sortAndAgg) {
      throw invalid(`Index sort field: ${sorter.field} must enable sort_and_agg.`);
    }
  }
  checkSearchIndexTtl(meta.timeToLive, table);
}

/** A field by path ("a" or "nested.child"), with the nested field it belongs to if any. */
export function findField(
  fields: readonly FieldSchema[],
  path: string,
): { field: FieldSchema; nestedPath?: string } | undefined {
  const direct = fields.find((field) => field.name === path);
  if (direct) return { field: direct };
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const parent = fields.find((field) => field.name === path.slice(0, dot));
  if (parent?.type !== 'NESTED') return undefined;
  const inner = findField(parent.subFields ?? [], path.slice(dot + 1));
  if (!inner) return undefined;
  return {
    field: inner.field,
    nestedPath: inner.nestedPath ? `${parent.name}.${inner.nestedPath}` : parent.name,
  };
}
