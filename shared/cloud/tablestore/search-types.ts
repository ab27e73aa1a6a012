// The adapter's vocabulary for Tablestore search indexes: index definitions and descriptions,
// queries, sorts, aggregations and group-bys, and what a search answers. Nothing here mentions
// the `tablestore` SDK (search-sdk.ts translates).
//
// Values follow types.ts: bigint is INTEGER (LONG and DATE fields take bigint: epoch
// milliseconds for DATE), number is DOUBLE, string, boolean. A number given for a LONG or DATE
// field is sent as a DOUBLE, which the service reads as another type. Counts and times the
// service reports (row counts, totals, bucket sizes, sync times) are numbers: exact below 2^53.

import type { Row } from './types';

// ---------------------------------------------------------------------------------------------
// Index definitions

export type SearchFieldType =
  | 'keyword'
  | 'text'
  | 'long'
  | 'double'
  | 'boolean'
  | 'date'
  | 'nested';

export type TextAnalyzer =
  | { kind: 'single_word'; caseSensitive?: boolean; delimitWord?: boolean }
  | { kind: 'split'; delimiter?: string }
  | { kind: 'max_word' }
  | { kind: 'min_word' };

/**
 * One field of a search index. Every field is indexed (queries may use it) and stored (a search
 * may return it from the index): the Node SDK turns `index: false` and `store: false` into
 * "not set", which the service reads as true, so the adapter offers neither.
 */
export interface SearchFieldDefinition {
  /** The column (or primary key column) the field indexes; `nested` fields name their parts. */
  name: string;
  type: SearchFieldType;
  /** Sorts and aggregations may use the field (doc values). Default false. */
  sortAndAgg?: boolean;
  /** The column holds a JSON array of values of `type`. */
  array?: boolean;
  /** `text` only; the service's default analyzer when absent. */
  analyzer?: TextAnalyzer;
  /** `date` only: formats a STRING column is parsed with (INTEGER columns are epoch ms). */
  dateFormats?: readonly string[];
  /** `nested` only: the fields of each object of the column's JSON array. */
  fields?: readonly SearchFieldDefinition[];
}

export interface SearchIndexDefinition {
  table: string;
  /** The index's name in the instance (declarations in shared/store add a version suffix). */
  name: string;
  fields: readonly SearchFieldDefinition[];
  /** The default order of results: field sorts (on sortAndAgg fields) and the primary key. */
  indexSort?: readonly SearchSort[];
  /** Seconds a row stays in the index after its last write; -1 (default) keeps it. */
  timeToLiveSeconds?: number;
}

export type SyncPhase = 'full' | 'incremental';

/** A field as described; types the adapter does not declare (geo, vector) are `other`. */
export type DescribedSearchField = Omit<SearchFieldDefinition, 'type' | 'fields'> & {
  type: SearchFieldType | 'other';
  fields?: DescribedSearchField[];
};

export interface SearchIndexDescription {
  table: string;
  name: string;
  fields: DescribedSearchField[];
  indexSort: SearchSort[];
  timeToLiveSeconds: number;
  /** `full`: the rows the table held at creation are still being indexed. */
  syncPhase: SyncPhase;
  /** Epoch ms the index has caught up to (undefined when the service reports none). */
  syncedToMs: number | undefined;
  rowCount: number;
  storageBytes: number;
  status: 'pending' | 'failed' | 'running' | 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Queries (search-query.ts builds them; plain data, so they can be logged and compared)

export type SearchValue = string | bigint | number | boolean;

export interface RangeBounds {
  gt?: SearchValue;
  gte?: SearchValue;
  lt?: SearchValue;
  lte?: SearchValue;
}

export type SearchQuery =
  | { kind: 'matchAll' }
  | { kind: 'term'; field: string; value: SearchValue }
  | { kind: 'terms'; field: string; values: readonly SearchValue[] }
  | ({ kind: 'range'; field: string } & RangeBounds)
  | { kind: 'prefix'; field: string; prefix: string }
  /** `*` any run of characters, `?` one character. */
  | { kind: 'wildcard'; field: string; pattern: string }
  | { kind: 'exists'; field: string }
  | {
      kind: 'match';
      field: string;
      text: string;
      operator?: 'or' | 'and';
      minimumShouldMatch?: number;
    }
  | { kind: 'matchPhrase'; field: string; text: string }
  | {
      kind: 'bool';
      must: readonly SearchQuery[];
      mustNot: readonly SearchQuery[];
      /** Like must, without scoring. */
      filter: readonly SearchQuery[];
      should: readonly SearchQuery[];
      minimumShouldMatch?: number;
    }
  | { kind: 'nested'; path: string; query: SearchQuery };

// ---------------------------------------------------------------------------------------------
// Sorts

export type SortOrder = 'asc' | 'desc';

export type SearchSort =
  | {
      field: string;
      order?: SortOrder;
      /** Where rows without the field go (default last), or the value they sort as. */
      missing?: 'first' | 'last' | { value: SearchValue };
      /** Array fields: which value a row sorts by. */
      mode?: 'min' | 'max' | 'avg';
    }
  | { primaryKey: SortOrder }
  | { score: SortOrder };

// ---------------------------------------------------------------------------------------------
// Aggregations and group-bys

export type MetricKind = 'count' | 'distinctCount' | 'min' | 'max' | 'sum' | 'avg';

export interface SearchAggregation {
  name: string;
  kind: MetricKind;
  field: string;
  /** The value rows without the field count as (not for `count`). */
  missing?: SearchValue;
}

export type GroupSort =
  | { by: 'count'; order: SortOrder }
  | { by: 'key'; order: SortOrder }
  | { by: 'subAggregation'; name: string; order: SortOrder };

export type DateUnit =
  | 'year'
  | 'quarter'
  | 'month'
  | 'week'
  | 'day'
  | 'hour'
  | 'minute'
  | 'second'
  | 'millisecond';

interface GroupByBase {
  name: string;
  subAggregations?: readonly SearchAggregation[];
  subGroupBys?: readonly SearchGroupBy[];
}

export type SearchGroupBy = GroupByBase &
  (
    | {
        kind: 'field';
        field: string;
        /** Groups returned (service default 10, at most 2000). */
        size?: number;
        sort?: readonly GroupSort[];
        minDocCount?: number;
      }
    | {
        kind: 'range';
        field: string;
        /** [from, to): an absent bound is open. */
        ranges: ReadonlyArray<{ from?: number; to?: number }>;
      }
    | { kind: 'filter'; filters: readonly SearchQuery[] }
    | {
        kind: 'histogram';
        field: string;
        interval: bigint | number;
        /** The values bucketed (the service requires it): rows outside are left out. */
        bounds: { min: bigint | number; max: bigint | number };
        minDocCount?: number;
        sort?: readonly GroupSort[];
      }
    | {
        kind: 'dateHistogram';
        field: string;
        interval: { value: number; unit: DateUnit };
        /** Epoch ms of the times bucketed (the service requires it): rows outside are left out. */
        bounds: { min: bigint; max: bigint };
        minDocCount?: number;
        /** `+hh:mm` or `-hh:mm` (calendar units start at midnight there). */
        timeZone?: string;
        sort?: readonly GroupSort[];
      }
  );

export interface GroupBucketResults {
  /** Each sub-aggregation's value by name. */
  aggregations: Record<string, number>;
  groupBys: Record<string, GroupByResult>;
}

export type GroupByResult =
  | { kind: 'field'; buckets: Array<GroupBucketResults & { key: string; count: number }> }
  | {
      kind: 'range';
      buckets: Array<GroupBucketResults & { from: number; to: number; count: number }>;
    }
  | { kind: 'filter'; buckets: Array<GroupBucketResults & { count: number }> }
  | {
      kind: 'histogram';
      buckets: Array<GroupBucketResults & { key: bigint | number; count: number }>;
    }
  | {
      kind: 'dateHistogram';
      buckets: Array<GroupBucketResults & { timeMs: number; count: number }>;
    };

// ---------------------------------------------------------------------------------------------
// Search

/** Columns a search returns besides the primary key. */
export type SearchColumns = 'none' | 'all' | 'allFromIndex' | readonly string[];

export interface SearchRequest {
  table: string;
  index: string;
  query: SearchQuery;
  /** Ignored with `nextToken` (the token carries the sort of the query it came from). */
  sort?: readonly SearchSort[];
  /** Rows per page: service default 10, at most 100 (1000 when every column is from the index). */
  limit?: number;
  /** Rows to skip (offset + limit at most 100,000: page further by token). */
  offset?: number;
  /** From a previous page of the same query (SearchPage.nextToken). */
  nextToken?: string;
  /** Count every row that matches (SearchPage.totalCount). */
  totalCount?: boolean;
  /** Default 'none': primary keys only. */
  columns?: SearchColumns;
  aggregations?: readonly SearchAggregation[];
  groupBys?: readonly SearchGroupBy[];
}

export interface SearchPage {
  rows: Row[];
  /** Set when the request asked for it. */
  totalCount: number | undefined;
  /** Opaque (base64): pass it back with the same query for the next page; undefined at the end. */
  nextToken: string | undefined;
  aggregations: Record<string, number>;
  groupBys: Record<string, GroupByResult>;
}

// ---------------------------------------------------------------------------------------------
// Parallel scan (bulk export of a query's rows, in no particular order)

export interface ScanSession {
  sessionId: string;
  /** How many scans may run side by side (each with its own parallelId). */
  splits: number;
}

export interface ScanRequest {
  table: string;
  index: string;
  session: ScanSession;
  query: SearchQuery;
  /** Rows per call, at most 2000. */
  limit?: number;
  /** Columns stored in the index only: 'allFromIndex' (default) or names. */
  columns?: 'none' | 'allFromIndex' | readonly string[];
  /** Which split this scan reads (0 ... splits - 1); default 0 of 1. */
  parallelId?: number;
  maxParallel?: number;
  nextToken?: string;
}

export interface ScanPage {
  rows: Row[];
  nextToken: string | undefined;
}

export interface TablestoreSearchClient {
  createSearchIndex(definition: SearchIndexDefinition): Promise<void>;
  describeSearchIndex(table: string, index: string): Promise<SearchIndexDescription>;
  /** Index names of a table, or `{table, index}` of every table when `table` is absent. */
  listSearchIndexes(table?: string): Promise<Array<{ table: string; index: string }>>;
  updateSearchIndexTtl(table: string, index: string, timeToLiveSeconds: number): Promise<void>;
  deleteSearchIndex(table: string, index: string): Promise<void>;
  search(request: SearchRequest): Promise<SearchPage>;
  computeSplits(table: string, index: string): Promise<ScanSession>;
  parallelScan(request: ScanRequest): Promise<ScanPage>;
}
