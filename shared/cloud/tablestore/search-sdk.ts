// Search-index requests and responses between the adapter's types (search-types.ts) and the
// shapes the `tablestore` SDK takes and gives back. Codes are tablestore_search.proto's; values
// go through sdk.ts (the one module that imports the SDK). What the SDK would drop without a
// word is refused here: it reads a falsy `missing` value (0, false, '') as "not set", and it
// needs analyzer parameters whenever an analyzer is named.

import { int64ToSdk, rowFromSdk, valueFromSdk } from './sdk';
import type {
  DateUnit,
  DescribedSearchField,
  GroupByResult,
  GroupSort,
  MetricKind,
  ScanPage,
  ScanRequest,
  SearchAggregation,
  SearchColumns,
  SearchFieldDefinition,
  SearchFieldType,
  SearchGroupBy,
  SearchIndexDefinition,
  SearchIndexDescription,
  SearchPage,
  SearchQuery,
  SearchRequest,
  SearchSort,
  SearchValue,
  SortOrder,
  TextAnalyzer,
} from './search-types';
import type { Row } from './types';

const FIELD_TYPE_CODES: Record<SearchFieldType, number> = {
  long: 1,
  double: 2,
  boolean: 3,
  keyword: 4,
  text: 5,
  nested: 6,
  date: 8,
};
const FIELD_TYPES_BY_CODE = new Map(
  Object.entries(FIELD_TYPE_CODES).map(([type, code]) => [code, type as SearchFieldType]),
);

const QUERY = {
  match: 1,
  matchPhrase: 2,
  term: 3,
  range: 4,
  prefix: 5,
  bool: 6,
  nested: 9,
  wildcard: 10,
  matchAll: 11,
  terms: 15,
  exists: 16,
} as const;
const OPERATOR = { or: 1, and: 2 } as const;
const SCORE_MODE_AVG = 2;
const ORDER: Record<SortOrder, number> = { asc: 0, desc: 1 };
const SORT_MODE = { min: 0, max: 1, avg: 2 } as const;
const AGGREGATION: Record<MetricKind, number> = {
  avg: 1,
  max: 2,
  min: 3,
  sum: 4,
  count: 5,
  distinctCount: 6,
};
const GROUP_BY = { field: 1, range: 2, filter: 3, histogram: 5, dateHistogram: 6 } as const;
const GROUP_BY_BY_CODE = new Map<number, GroupByResult['kind']>(
  Object.entries(GROUP_BY).map(([kind, code]) => [code, kind as GroupByResult['kind']]),
);
const DATE_UNIT: Record<DateUnit, number> = {
  year: 1,
  quarter: 2,
  month: 3,
  week: 4,
  day: 5,
  hour: 6,
  minute: 7,
  second: 8,
  millisecond: 9,
};
const COLUMNS = { all: 1, specified: 2, none: 3, allFromIndex: 4 } as const;

/** A search value as the SDK sends it: bigint as INTEGER, number as DOUBLE. */
function valueToSdk(value: SearchValue, what: string): unknown {
  if (typeof value === 'bigint') return int64ToSdk(value, what);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new RangeError(`${what}: ${value} is not a finite number`);
  }
  return value;
}

/** A value the SDK only sends when truthy: refuse the falsy ones it would silently drop. */
function truthyValueToSdk(value: SearchValue, what: string): unknown {
  if (value === 0 || value === false || value === '') {
    throw new TypeError(
      `${what}: the tablestore SDK does not send ${JSON.stringify(value)} (it reads a falsy value as not set)`,
    );
  }
  return valueToSdk(value, what);
}

// ---------------------------------------------------------------------------------------------
// Index definitions

function analyzerToSdk(analyzer: TextAnalyzer): Record<string, unknown> {
  switch (analyzer.kind) {
    case 'single_word':
      return {
        analyzer: 'single_word',
        analyzerParameter: {
          ...(analyzer.caseSensitive !== undefined
            ? { caseSensitive: analyzer.caseSensitive }
            : {}),
          ...(analyzer.delimitWord !== undefined ? { delimitWord: analyzer.delimitWord } : {}),
        },
      };
    case 'split':
      return {
        analyzer: 'split',
        analyzerParameter:
          analyzer.delimiter !== undefined ? { delimiter: analyzer.delimiter } : {},
      };
    default:
      return { analyzer: analyzer.kind };
  }
}

export function fieldToSdk(field: SearchFieldDefinition): Record<string, unknown> {
  if (field.analyzer && field.type !== 'text') {
    throw new TypeError(`search field ${field.name}: an analyzer is for text fields only`);
  }
  if (field.fields && field.type !== 'nested') {
    throw new TypeError(`search field ${field.name}: only nested fields have fields`);
  }
  if (field.type === 'nested' && (field.fields ?? []).length === 0) {
    throw new TypeError(`search field ${field.name}: a nested field needs its fields`);
  }
  return {
    fieldName: field.name,
    fieldType: FIELD_TYPE_CODES[field.type],
    index: true,
    store: true,
    ...(field.sortAndAgg ? { enableSortAndAgg: true } : {}),
    ...(field.array ? { isAnArray: true } : {}),
    ...(field.analyzer ? analyzerToSdk(field.analyzer) : {}),
    ...(field.dateFormats && field.dateFormats.length > 0
      ? { dateFormats: [...field.dateFormats] }
      : {}),
    ...(field.fields ? { fieldSchemas: field.fields.map(fieldToSdk) } : {}),
  };
}

export function sortToSdk(sorts: readonly SearchSort[]): Record<string, unknown> {
  return {
    sorters: sorts.map((sort) => {
      if ('primaryKey' in sort) return { primaryKeySort: { order: ORDER[sort.primaryKey] } };
      if ('score' in sort) return { scoreSort: { order: ORDER[sort.score] } };
      const missing =
        sort.missing === undefined || sort.missing === 'last'
          ? undefined
          : sort.missing === 'first'
            ? '_first'
            : truthyValueToSdk(sort.missing.value, `sort on ${sort.field}: missing`);
      return {
        fieldSort: {
          fieldName: sort.field,
          order: ORDER[sort.order ?? 'asc'],
          ...(sort.mode ? { mode: SORT_MODE[sort.mode] } : {}),
          ...(missing !== undefined ? { missingValue: missing } : {}),
        },
      };
    }),
  };
}

export function createSearchIndexParams(
  definition: SearchIndexDefinition,
): Record<string, unknown> {
  return {
    tableName: definition.table,
    indexName: definition.name,
    schema: {
      fieldSchemas: definition.fields.map(fieldToSdk),
      ...(definition.indexSort && definition.indexSort.length > 0
        ? { indexSort: sortToSdk(definition.indexSort) }
        : {}),
    },
    ...(definition.timeToLiveSeconds !== undefined
      ? { timeToLive: definition.timeToLiveSeconds }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Queries

export function queryToSdk(query: SearchQuery): Record<string, unknown> {
  switch (query.kind) {
    case 'matchAll':
      return { queryType: QUERY.matchAll, query: {} };
    case 'term':
      return {
        queryType: QUERY.term,
        query: { fieldName: query.field, term: valueToSdk(query.value, `term on ${query.field}`) },
      };
    case 'terms':
      return {
        queryType: QUERY.terms,
        query: {
          fieldName: query.field,
          terms: query.values.map((value) => valueToSdk(value, `terms on ${query.field}`)),
        },
      };
    case 'range': {
      const what = `range on ${query.field}`;
      const from = query.gte ?? query.gt;
      const to = query.lte ?? query.lt;
      return {
        queryType: QUERY.range,
        query: {
          fieldName: query.field,
          ...(from !== undefined
            ? { rangeFrom: valueToSdk(from, what), includeLower: query.gte !== undefined }
            : {}),
          ...(to !== undefined
            ? { rangeTo: valueToSdk(to, what), includeUpper: query.lte !== undefined }
            : {}),
        },
      };
    }
    case 'prefix':
      return { queryType: QUERY.prefix, query: { fieldName: query.field, prefix: query.prefix } };
    case 'wildcard':
      return { queryType: QUERY.wildcard, query: { fieldName: query.field, value: query.pattern } };
    case 'exists':
      return { queryType: QUERY.exists, query: { fieldName: query.field } };
    case 'match':
      return {
        queryType: QUERY.match,
        query: {
          fieldName: query.field,
          text: query.text,
          ...(query.operator ? { operator: OPERATOR[query.operator] } : {}),
          ...(query.minimumShouldMatch !== undefined
            ? { minimumShouldMatch: query.minimumShouldMatch }
            : {}),
        },
      };
    case 'matchPhrase':
      return { queryType: QUERY.matchPhrase, query: { fieldName: query.field, text: query.text } };
    case 'bool': {
      // The SDK needs minimumShouldMatch whenever there are should clauses; the service's
      // default is 1 when nothing else must match, 0 otherwise.
      const scoringOnly = query.must.length === 0 && query.filter.length === 0;
      return {
        queryType: QUERY.bool,
        query: {
          ...(query.must.length > 0 ? { mustQueries: query.must.map(queryToSdk) } : {}),
          ...(query.mustNot.length > 0 ? { mustNotQueries: query.mustNot.map(queryToSdk) } : {}),
          ...(query.filter.length > 0 ? { filterQueries: query.filter.map(queryToSdk) } : {}),
          ...(query.should.length > 0
            ? {
                shouldQueries: query.should.map(queryToSdk),
                minimumShouldMatch: query.minimumShouldMatch ?? (scoringOnly ? 1 : 0),
              }
            : {}),
        },
      };
    }
    case 'nested':
      return {
        queryType: QUERY.nested,
        query: { path: query.path, query: queryToSdk(query.query), scoreMode: SCORE_MODE_AVG },
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Aggregations and group-bys

function aggregationsToSdk(aggregations: readonly SearchAggregation[]): Record<string, unknown> {
  return {
    aggs: aggregations.map((agg) => {
      if (agg.missing !== undefined && agg.kind === 'count') {
        throw new TypeError(`aggregation ${agg.name}: count takes no missing value`);
      }
      return {
        name: agg.name,
        type: AGGREGATION[agg.kind],
        body: {
          fieldName: agg.field,
          ...(agg.missing !== undefined
            ? { missing: truthyValueToSdk(agg.missing, `aggregation ${agg.name}: missing`) }
            : {}),
        },
      };
    }),
  };
}

function groupSortToSdk(sort: readonly GroupSort[]): Record<string, unknown> {
  return {
    sorters: sort.map((sorter) => {
      const order = ORDER[sorter.order];
      if (sorter.by === 'count') return { rowCountSort: { order } };
      if (sorter.by === 'key') return { groupKeySort: { order } };
      return { subAggSort: { subAggName: sorter.name, order } };
    }),
  };
}

function boundToSdk(value: bigint | number, what: string): unknown {
  return valueToSdk(value, what);
}

function groupBysToSdk(groupBys: readonly SearchGroupBy[]): Record<string, unknown> {
  return {
    groupBys: groupBys.map((groupBy) => {
      const nested = {
        ...(groupBy.subAggregations && groupBy.subAggregations.length > 0
          ? { subAggs: aggregationsToSdk(groupBy.subAggregations) }
          : {}),
        ...(groupBy.subGroupBys && groupBy.subGroupBys.length > 0
          ? { subGroupBys: groupBysToSdk(groupBy.subGroupBys) }
          : {}),
      };
      const what = `group by ${groupBy.name}`;
      let body: Record<string, unknown>;
      switch (groupBy.kind) {
        case 'field':
          body = {
            fieldName: groupBy.field,
            ...(groupBy.size !== undefined ? { size: groupBy.size } : {}),
            ...(groupBy.minDocCount !== undefined ? { minDocCount: groupBy.minDocCount } : {}),
            ...(groupBy.sort ? { sort: groupSortToSdk(groupBy.sort) } : {}),
          };
          break;
        case 'range':
          body = {
            fieldName: groupBy.field,
            ranges: groupBy.ranges.map((range) => ({
              ...(range.from !== undefined ? { from: range.from } : {}),
              ...(range.to !== undefined ? { to: range.to } : {}),
            })),
          };
          break;
        case 'filter':
          if (groupBy.filters.length === 0) throw new TypeError(`${what}: no filters`);
          body = { filters: groupBy.filters.map(queryToSdk) };
          break;
        case 'histogram':
          body = {
            fieldName: groupBy.field,
            interval: truthyValueToSdk(groupBy.interval, `${what}: interval`),
            fieldRange: {
              min: boundToSdk(groupBy.bounds.min, what),
              max: boundToSdk(groupBy.bounds.max, what),
            },
            ...(groupBy.minDocCount !== undefined ? { minDocCount: groupBy.minDocCount } : {}),
            ...(groupBy.sort ? { sort: groupSortToSdk(groupBy.sort) } : {}),
          };
          break;
        case 'dateHistogram':
          if (!Number.isInteger(groupBy.interval.value) || groupBy.interval.value <= 0) {
            throw new TypeError(`${what}: the interval is a whole number of units above 0`);
          }
          body = {
            fieldName: groupBy.field,
            interval: { value: groupBy.interval.value, unit: DATE_UNIT[groupBy.interval.unit] },
            fieldRange: {
              min: boundToSdk(groupBy.bounds.min, what),
              max: boundToSdk(groupBy.bounds.max, what),
            },
            ...(groupBy.minDocCount !== undefined ? { minDocCount: groupBy.minDocCount } : {}),
            ...(groupBy.timeZone ? { timeZone: groupBy.timeZone } : {}),
            ...(groupBy.sort ? { sort: groupSortToSdk(groupBy.sort) } : {}),
          };
          break;
      }
      return { name: groupBy.name, type: GROUP_BY[groupBy.kind], body: { ...body, ...nested } };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Search and parallel scan requests

function columnsToSdk(columns: SearchColumns): Record<string, unknown> {
  if (typeof columns === 'string') return { returnType: COLUMNS[columns] };
  if (columns.length === 0) return { returnType: COLUMNS.none };
  return { returnType: COLUMNS.specified, returnNames: [...columns] };
}

/** True when `token` has the form of a token this adapter hands out (base64). */
export function isSearchTokenForm(token: string): boolean {
  return token.length > 0 && token.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(token);
}

function tokenToSdk(token: string, what: string): Buffer {
  if (!isSearchTokenForm(token)) throw new TypeError(`${what}: base64 expected`);
  return Buffer.from(token, 'base64');
}

function tokenFromSdk(token: unknown): string | undefined {
  if (token instanceof Uint8Array && token.length > 0) return Buffer.from(token).toString('base64');
  return undefined;
}

export function searchParams(request: SearchRequest): Record<string, unknown> {
  const searchQuery: Record<string, unknown> = {
    query: queryToSdk(request.query),
    getTotalCount: request.totalCount === true,
  };
  if (request.offset !== undefined) searchQuery.offset = request.offset;
  if (request.limit !== undefined) searchQuery.limit = request.limit;
  if (request.nextToken !== undefined) {
    searchQuery.token = tokenToSdk(request.nextToken, 'search nextToken');
  } else if (request.sort && request.sort.length > 0) {
    searchQuery.sort = sortToSdk(request.sort);
  }
  if (request.aggregations && request.aggregations.length > 0) {
    searchQuery.aggs = aggregationsToSdk(request.aggregations);
  }
  if (request.groupBys && request.groupBys.length > 0) {
    searchQuery.groupBys = groupBysToSdk(request.groupBys);
  }
  return {
    tableName: request.table,
    indexName: request.index,
    searchQuery,
    columnToGet: columnsToSdk(request.columns ?? 'none'),
  };
}

export function parallelScanParams(request: ScanRequest): Record<string, unknown> {
  const limit = request.limit;
  return {
    tableName: request.table,
    indexName: request.index,
    columnToGet: columnsToSdk(request.columns ?? 'allFromIndex'),
    sessionId: tokenToSdk(request.session.sessionId, 'parallel scan session'),
    scanQuery: {
      query: queryToSdk(request.query),
      ...(limit !== undefined ? { limit } : {}),
      currentParallelId: request.parallelId ?? 0,
      maxParallel: request.maxParallel ?? 1,
      ...(request.nextToken !== undefined
        ? { token: tokenToSdk(request.nextToken, 'parallel scan nextToken') }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Responses

/** A count or time the SDK hands back (number, protobufjs Long, int64 buffer or string). */
export function numberFromSdk(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number(value);
  if (typeof value === 'object' && value !== null) {
    const long = value as { toNumber?: () => number; toString(): string };
    if (typeof long.toNumber === 'function') return long.toNumber();
    return Number(long.toString());
  }
  return 0;
}

function rowsFromSdk(rows: unknown): Row[] {
  const out: Row[] = [];
  for (const raw of (rows as unknown[] | undefined) ?? []) {
    const row = rowFromSdk(raw);
    if (row) out.push(row);
  }
  return out;
}

interface SdkAggResult {
  name: string;
  aggResult?: { value?: unknown } | null;
}

interface SdkGroupItem {
  key?: unknown;
  from?: number;
  to?: number;
  rowCount?: unknown;
  value?: unknown;
  timeStamp?: unknown;
  subAggsResult?: { aggResults?: SdkAggResult[] } | null;
  subGroupBysResult?: { groupByResults?: SdkGroupByResult[] } | null;
}

interface SdkGroupByResult {
  name: string;
  type: number;
  groupByResult?: { items?: SdkGroupItem[] } | null;
}

function aggregationsFromSdk(results: SdkAggResult[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const result of results ?? []) out[result.name] = numberFromSdk(result.aggResult?.value);
  return out;
}

function histogramKey(key: unknown): bigint | number {
  const value = valueFromSdk(key);
  if (typeof value === 'bigint' || typeof value === 'number') return value;
  throw new TypeError(`a histogram bucket key came back as ${typeof value}`);
}

function groupBysFromSdk(results: SdkGroupByResult[] | undefined): Record<string, GroupByResult> {
  const out: Record<string, GroupByResult> = {};
  for (const result of results ?? []) {
    const kind = GROUP_BY_BY_CODE.get(result.type);
    if (!kind) throw new TypeError(`group by ${result.name} came back with type ${result.type}`);
    const items = result.groupByResult?.items ?? [];
    const nested = (item: SdkGroupItem) => ({
      aggregations: aggregationsFromSdk(item.subAggsResult?.aggResults),
      groupBys: groupBysFromSdk(item.subGroupBysResult?.groupByResults),
    });
    switch (kind) {
      case 'field':
        out[result.name] = {
          kind,
          buckets: items.map((item) => ({
            key: String(item.key ?? ''),
            count: numberFromSdk(item.rowCount),
            ...nested(item),
          })),
        };
        break;
      case 'range':
        out[result.name] = {
          kind,
          buckets: items.map((item) => ({
            from: Number(item.from ?? Number.NEGATIVE_INFINITY),
            to: Number(item.to ?? Number.POSITIVE_INFINITY),
            count: numberFromSdk(item.rowCount),
            ...nested(item),
          })),
        };
        break;
      case 'filter':
        out[result.name] = {
          kind,
          buckets: items.map((item) => ({ count: numberFromSdk(item.rowCount), ...nested(item) })),
        };
        break;
      case 'histogram':
        out[result.name] = {
          kind,
          buckets: items.map((item) => ({
            key: histogramKey(item.key),
            count: numberFromSdk(item.value),
            ...nested(item),
          })),
        };
        break;
      case 'dateHistogram':
        out[result.name] = {
          kind,
          buckets: items.map((item) => ({
            timeMs: numberFromSdk(item.timeStamp),
            count: numberFromSdk(item.rowCount),
            ...nested(item),
          })),
        };
        break;
    }
  }
  return out;
}

export function searchPageFromSdk(data: unknown): SearchPage {
  const d = data as {
    totalCounts?: string;
    nextToken?: unknown;
    rows?: unknown[];
    aggs?: { aggResults?: SdkAggResult[] };
    groupBys?: { groupByResults?: SdkGroupByResult[] };
  };
  return {
    rows: rowsFromSdk(d.rows),
    totalCount: d.totalCounts === undefined ? undefined : Number(d.totalCounts),
    nextToken: tokenFromSdk(d.nextToken),
    aggregations: aggregationsFromSdk(d.aggs?.aggResults),
    groupBys: groupBysFromSdk(d.groupBys?.groupByResults),
  };
}

export function scanPageFromSdk(data: unknown): ScanPage {
  const d = data as { rows?: unknown[]; nextToken?: unknown };
  return { rows: rowsFromSdk(d.rows), nextToken: tokenFromSdk(d.nextToken) };
}

// ---------------------------------------------------------------------------------------------
// DescribeSearchIndex

interface SdkFieldSchema {
  fieldName?: string;
  fieldType?: number;
  docValues?: boolean;
  isArray?: boolean;
  analyzer?: string;
  analyzerParameter?: { caseSensitive?: boolean; delimitWord?: boolean; delimiter?: string };
  dateFormats?: string[];
  fieldSchemas?: SdkFieldSchema[];
}

interface SdkSorter {
  fieldSort?: { fieldName?: string; order?: number; mode?: number; missingValue?: Uint8Array };
  pkSort?: { order?: number };
  scoreSort?: { order?: number };
}

const own = (object: object, key: string): boolean => Object.hasOwn(object, key);

function analyzerFromSdk(pb: SdkFieldSchema): TextAnalyzer | undefined {
  const parameter = pb.analyzerParameter ?? {};
  switch (pb.analyzer) {
    case undefined:
    case '':
      return undefined;
    case 'single_word':
      return {
        kind: 'single_word',
        ...(own(parameter, 'caseSensitive') ? { caseSensitive: parameter.caseSensitive } : {}),
        ...(own(parameter, 'delimitWord') ? { delimitWord: parameter.delimitWord } : {}),
      };
    case 'split':
      return {
        kind: 'split',
        ...(own(parameter, 'delimiter') ? { delimiter: parameter.delimiter } : {}),
      };
    case 'max_word':
    case 'min_word':
      return { kind: pb.analyzer };
    default:
      // fuzzy and analyzers to come: kept by name so a comparison sees the difference.
      return { kind: pb.analyzer as 'max_word' };
  }
}

function fieldFromSdk(pb: SdkFieldSchema): DescribedSearchField {
  const analyzer = analyzerFromSdk(pb);
  const fields = (pb.fieldSchemas ?? []).map(fieldFromSdk);
  return {
    name: pb.fieldName ?? '',
    type: FIELD_TYPES_BY_CODE.get(pb.fieldType ?? 0) ?? 'other',
    ...(pb.docValues ? { sortAndAgg: true } : {}),
    ...(pb.isArray ? { array: true } : {}),
    ...(analyzer ? { analyzer } : {}),
    ...(pb.dateFormats && pb.dateFormats.length > 0 ? { dateFormats: [...pb.dateFormats] } : {}),
    ...(fields.length > 0 ? { fields } : {}),
  };
}

/** A search variant (type byte, then the value) as PlainBuffer encodes it. */
function variantFromBytes(bytes: Uint8Array): SearchValue {
  const buffer = Buffer.from(bytes);
  switch (buffer[0]) {
    case 0x0:
      return buffer.readBigInt64LE(1);
    case 0x1:
      return buffer.readDoubleLE(1);
    case 0x2:
      return buffer[1] !== 0;
    case 0x3:
      return buffer.toString('utf8', 5, 5 + buffer.readInt32LE(1));
    default:
      throw new TypeError(`a search value came back with type byte ${buffer[0]}`);
  }
}

function sortFromSdk(sorters: SdkSorter[] | undefined): SearchSort[] {
  const order = (pb: { order?: number } | undefined): SortOrder =>
    pb?.order === 1 ? 'desc' : 'asc';
  return (sorters ?? []).flatMap((sorter): SearchSort[] => {
    if (sorter.pkSort) return [{ primaryKey: order(sorter.pkSort) }];
    if (sorter.scoreSort) return [{ score: order(sorter.scoreSort) }];
    const field = sorter.fieldSort;
    if (!field) return [];
    const modes = ['min', 'max', 'avg'] as const;
    let missing: 'first' | 'last' | { value: SearchValue } | undefined;
    if (own(field, 'missingValue') && field.missingValue && field.missingValue.length > 0) {
      const value = variantFromBytes(field.missingValue);
      missing = value === '_first' ? 'first' : value === '_last' ? 'last' : { value };
    }
    return [
      {
        field: field.fieldName ?? '',
        order: order(field),
        ...(own(field, 'mode') && modes[field.mode ?? -1] ? { mode: modes[field.mode ?? 0] } : {}),
        ...(missing && missing !== 'last' ? { missing } : {}),
      },
    ];
  });
}

export function describeSearchIndexFromSdk(
  table: string,
  index: string,
  data: unknown,
): SearchIndexDescription {
  const d = data as {
    schema?: { fieldSchemas?: SdkFieldSchema[]; indexSort?: { sorter?: SdkSorter[] } };
    syncStat?: { syncPhase?: number; currentSyncTimestamp?: unknown };
    meteringInfo?: { storageSize?: unknown; rowCount?: unknown };
    timeToLive?: number;
    indexStatus?: { status?: string };
  };
  const syncNs = d.syncStat?.currentSyncTimestamp;
  const syncedToMs = syncNs === undefined || syncNs === null ? 0 : numberFromSdk(syncNs) / 1e6;
  const status = d.indexStatus?.status;
  return {
    table,
    name: index,
    fields: (d.schema?.fieldSchemas ?? []).map(fieldFromSdk),
    indexSort: sortFromSdk(d.schema?.indexSort?.sorter),
    // protobufjs gives an unset int32 the value 0 through the prototype: only an own property
    // was on the wire.
    timeToLiveSeconds: own(d, 'timeToLive') ? (d.timeToLive ?? -1) : -1,
    syncPhase: d.syncStat?.syncPhase === 1 ? 'full' : 'incremental',
    syncedToMs: syncedToMs > 0 ? Math.floor(syncedToMs) : undefined,
    rowCount: numberFromSdk(d.meteringInfo?.rowCount),
    storageBytes: numberFromSdk(d.meteringInfo?.storageSize),
    status:
      status === 'pending' || status === 'failed' || status === 'running' ? status : 'unknown',
  };
}
