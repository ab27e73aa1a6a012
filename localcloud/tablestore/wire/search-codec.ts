// The search protocol (tablestore_search.proto) to and from the model: field schemas, index
// sorts, queries, sorts, aggregations and group-bys decoded with the service's checks; search
// results, aggregation results and index descriptions encoded as the SDK decodes them. What
// localcloud does not emulate is refused with OTSParameterInvalid naming it, never ignored.

import { invalid } from '../model/errors';
import type {
  Aggregation,
  AggregationResult,
  DateUnit,
  GroupBy,
  GroupByResult,
  GroupItem,
  GroupSorter,
  MetricKind,
  Query,
  SearchValue,
} from '../model/search-query';
import type {
  Analyzer,
  FieldSchema,
  FieldType,
  MissingPlacement,
  Sorter,
  SortOrder,
} from '../model/search-schema';
import { decodeVariant, encodeVariant, PlainBufferError } from './plainbuffer';
import { decodeSearch, encodeSearch, has, type Int64, int64ToNumber, searchMessage } from './proto';

const FIELD_TYPES: Record<number, FieldType> = {
  1: 'LONG',
  2: 'DOUBLE',
  3: 'BOOLEAN',
  4: 'KEYWORD',
  5: 'TEXT',
  6: 'NESTED',
  7: 'GEO_POINT',
  8: 'DATE',
  9: 'VECTOR',
};
const FIELD_TYPE_CODES = Object.fromEntries(
  Object.entries(FIELD_TYPES).map(([code, type]) => [type, Number(code)]),
) as Record<FieldType, number>;
const ANALYZERS = new Set<Analyzer>(['single_word', 'split', 'max_word', 'min_word', 'fuzzy']);

/** Decodes a nested message, reporting malformed bytes as the service does. */
export function decodePart<T>(name: string, bytes: Uint8Array, what: string): T {
  try {
    return decodeSearch<T>(name, bytes);
  } catch {
    throw invalid(`Cannot deserialize ${what}.`);
  }
}

/** A search value (variant: type byte then value) as the model types it. */
export function decodeSearchValue(bytes: Uint8Array, what: string): SearchValue {
  let value: ReturnType<typeof decodeVariant>;
  try {
    value = decodeVariant(Buffer.from(bytes), what);
  } catch (error) {
    if (error instanceof PlainBufferError) throw invalid(`Invalid ${what}: ${error.message}`);
    throw error;
  }
  if (value.t === 'int' || value.t === 'double' || value.t === 'str' || value.t === 'bool')
    return value;
  throw invalid(`Invalid ${what}: only LONG, DOUBLE, STRING and BOOLEAN values are allowed.`);
}

export function encodeSearchValue(value: number | string, type: 'int' | 'double' | 'str'): Buffer {
  if (type === 'int') return encodeVariant({ t: 'int', v: BigInt(Math.trunc(value as number)) });
  if (type === 'double') return encodeVariant({ t: 'double', v: value as number });
  return encodeVariant({ t: 'str', v: String(value) });
}

// ------------------------------------------------------------------------------ schema

interface PbFieldSchema {
  fieldName?: string;
  fieldType?: number;
  analyzer?: string;
  index?: boolean;
  docValues?: boolean;
  store?: boolean;
  fieldSchemas: PbFieldSchema[];
  isArray?: boolean;
  analyzerParameter?: Uint8Array;
  isVirtualField?: boolean;
  dateFormats: string[];
  vectorOptions?: object;
  enableHighlighting?: boolean;
}

export function fieldFromProto(pb: PbFieldSchema): FieldSchema {
  const name = pb.fieldName ?? '';
  if (!name) throw invalid('The field_name of a field schema must be set.');
  const type = FIELD_TYPES[pb.fieldType ?? 0];
  if (!type) throw invalid(`Field '${name}': invalid field_type ${pb.fieldType}.`);
  if (pb.isVirtualField)
    throw invalid(`Field '${name}': virtual fields are not emulated by localcloud.`);
  if (pb.enableHighlighting)
    throw invalid(`Field '${name}': highlighting is not emulated by localcloud.`);
  const field: FieldSchema = {
    name,
    type,
    index: has(pb, 'index') ? pb.index === true : true,
    sortAndAgg: pb.docValues === true,
    store: has(pb, 'store') ? pb.store === true : true,
    isArray: pb.isArray === true,
  };
  if (has(pb, 'analyzer') && pb.analyzer) {
    if (!ANALYZERS.has(pb.analyzer as Analyzer))
      throw invalid(`Field '${name}': invalid analyzer '${pb.analyzer}'.`);
    field.analyzer = pb.analyzer as Analyzer;
    const bytes = pb.analyzerParameter;
    if (bytes && bytes.length > 0) {
      if (field.analyzer === 'single_word') {
        const p = decodePart<{ caseSensitive?: boolean; delimitWord?: boolean }>(
          'SingleWordAnalyzerParameter',
          bytes,
          'analyzer_parameter',
        );
        field.analyzerParameter = {
          ...(p.caseSensitive !== undefined ? { caseSensitive: p.caseSensitive } : {}),
          ...(p.delimitWord !== undefined ? { delimitWord: p.delimitWord } : {}),
        };
      } else if (field.analyzer === 'split') {
        const p = decodePart<{ delimiter?: string }>(
          'SplitAnalyzerParameter',
          bytes,
          'analyzer_parameter',
        );
        if (p.delimiter) field.analyzerParameter = { delimiter: p.delimiter };
      }
    }
  }
  if (pb.fieldSchemas.length > 0) field.subFields = pb.fieldSchemas.map(fieldFromProto);
  if (pb.dateFormats.length > 0) field.dateFormats = [...pb.dateFormats];
  return field;
}

export function fieldToProto(field: FieldSchema): Record<string, unknown> {
  let analyzerParameter: Buffer | undefined;
  if (field.analyzer === 'single_word') {
    analyzerParameter = encodeSearch('SingleWordAnalyzerParameter', {
      ...(field.analyzerParameter?.caseSensitive !== undefined
        ? { caseSensitive: field.analyzerParameter.caseSensitive }
        : {}),
      ...(field.analyzerParameter?.delimitWord !== undefined
        ? { delimitWord: field.analyzerParameter.delimitWord }
        : {}),
    });
  } else if (field.analyzer === 'split') {
    analyzerParameter = encodeSearch('SplitAnalyzerParameter', {
      ...(field.analyzerParameter?.delimiter
        ? { delimiter: field.analyzerParameter.delimiter }
        : {}),
    });
  }
  return {
    fieldName: field.name,
    fieldType: FIELD_TYPE_CODES[field.type],
    index: field.index,
    docValues: field.sortAndAgg,
    store: field.store,
    isArray: field.isArray,
    ...(field.analyzer ? { analyzer: field.analyzer } : {}),
    ...(analyzerParameter ? { analyzerParameter } : {}),
    ...(field.subFields ? { fieldSchemas: field.subFields.map(fieldToProto) } : {}),
    ...(field.dateFormats ? { dateFormats: field.dateFormats } : {}),
  };
}

// ------------------------------------------------------------------------------ sorts

interface PbSorter {
  fieldSort?: {
    fieldName?: string;
    order?: number;
    mode?: number;
    nestedFilter?: object;
    missingValue?: Uint8Array;
    missingField?: string;
  };
  geoDistanceSort?: object;
  scoreSort?: { order?: number };
  pkSort?: { order?: number };
  docSort?: object;
}

const order = (value: number | undefined): SortOrder => (value === 1 ? 'DESC' : 'ASC');
const MODES: Record<number, 'MIN' | 'MAX' | 'AVG'> = { 0: 'MIN', 1: 'MAX', 2: 'AVG' };

export function sortFromProto(pb: { sorter: PbSorter[] }): Sorter[] {
  return pb.sorter.map((sorter): Sorter => {
    if (sorter.fieldSort) {
      const field = sorter.fieldSort;
      if (!field.fieldName) throw invalid('[field sort] field_name must be set.');
      if (field.nestedFilter)
        throw invalid('[field sort] nested_filter is not emulated by localcloud.');
      if (field.missingField)
        throw invalid('[field sort] missing_field is not emulated by localcloud.');
      let missing: MissingPlacement = { kind: 'last' };
      if (field.missingValue && field.missingValue.length > 0) {
        const value = decodeSearchValue(field.missingValue, 'missing_value');
        if (value.t === 'str' && value.v === '_first') missing = { kind: 'first' };
        else if (value.t === 'str' && value.v === '_last') missing = { kind: 'last' };
        else missing = { kind: 'value', value };
      }
      if (has(field, 'mode') && MODES[field.mode as number] === undefined)
        throw invalid(`[field sort] invalid mode ${field.mode}.`);
      return {
        kind: 'field',
        field: field.fieldName,
        order: order(field.order),
        ...(has(field, 'mode') ? { mode: MODES[field.mode as number] } : {}),
        missing,
      };
    }
    if (sorter.pkSort) return { kind: 'pk', order: order(sorter.pkSort.order) };
    if (sorter.scoreSort) return { kind: 'score', order: order(sorter.scoreSort.order) };
    if (sorter.geoDistanceSort) throw invalid('GeoDistanceSort is not emulated by localcloud.');
    if (sorter.docSort) throw invalid('DocSort is not emulated by localcloud.');
    throw invalid('A sorter must set one of field_sort, pk_sort or score_sort.');
  });
}

function valueToProto(value: SearchValue): Buffer {
  return encodeVariant(value);
}

export function sortToProto(sorters: readonly Sorter[]): Record<string, unknown> {
  return {
    sorter: sorters.map((sorter) => {
      const orderCode = sorter.order === 'DESC' ? 1 : 0;
      if (sorter.kind === 'pk') return { pkSort: { order: orderCode } };
      if (sorter.kind === 'score') return { scoreSort: { order: orderCode } };
      const missing =
        sorter.missing.kind === 'value'
          ? valueToProto(sorter.missing.value as SearchValue)
          : sorter.missing.kind === 'first'
            ? encodeVariant({ t: 'str', v: '_first' })
            : undefined;
      return {
        fieldSort: {
          fieldName: sorter.field,
          order: orderCode,
          ...(sorter.mode
            ? { mode: Object.entries(MODES).find(([, m]) => m === sorter.mode)?.[0] }
            : {}),
          ...(missing ? { missingValue: missing } : {}),
        },
      };
    }),
  };
}

// ------------------------------------------------------------------------------ queries

interface PbQuery {
  type?: number;
  query?: Uint8Array;
}

interface PbBool {
  mustQueries: PbQuery[];
  mustNotQueries: PbQuery[];
  filterQueries: PbQuery[];
  shouldQueries: PbQuery[];
  minimumShouldMatch?: number;
}

/** Encodes a decoded Query message back to bytes (a stable form to fingerprint a query by). */
export function queryBytes(pb: PbQuery): Buffer {
  const type = searchMessage('Query');
  return Buffer.from(type.encode(type.fromObject(pb as Record<string, unknown>)).finish());
}

export function queryFromProto(pb: PbQuery | undefined): Query {
  if (!pb || !has(pb, 'type')) throw invalid('The query of a search must be set.');
  const body = pb.query ?? new Uint8Array(0);
  const part = <T>(name: string): T => decodePart<T>(name, body, name);
  const fieldOf = (message: { fieldName?: string }, what: string): string => {
    if (!message.fieldName) throw invalid(`[${what}] field_name must be set.`);
    return message.fieldName;
  };
  switch (pb.type) {
    case 1: {
      const q = part<{
        fieldName?: string;
        text?: string;
        minimumShouldMatch?: number;
        operator?: number;
      }>('MatchQuery');
      return {
        kind: 'match',
        field: fieldOf(q, 'match query'),
        text: q.text ?? '',
        operator: q.operator === 2 ? 'AND' : 'OR',
        ...(has(q, 'minimumShouldMatch')
          ? { minimumShouldMatch: q.minimumShouldMatch as number }
          : {}),
      };
    }
    case 2: {
      const q = part<{ fieldName?: string; text?: string }>('MatchPhraseQuery');
      return { kind: 'match_phrase', field: fieldOf(q, 'match phrase query'), text: q.text ?? '' };
    }
    case 3: {
      const q = part<{ fieldName?: string; term?: Uint8Array }>('TermQuery');
      if (!q.term || q.term.length === 0) throw invalid('[term query] term must be set.');
      return {
        kind: 'term',
        field: fieldOf(q, 'term query'),
        value: decodeSearchValue(q.term, 'term'),
      };
    }
    case 4: {
      const q = part<{
        fieldName?: string;
        rangeFrom?: Uint8Array;
        rangeTo?: Uint8Array;
        includeLower?: boolean;
        includeUpper?: boolean;
      }>('RangeQuery');
      return {
        kind: 'range',
        field: fieldOf(q, 'range query'),
        ...(q.rangeFrom && q.rangeFrom.length > 0
          ? { from: decodeSearchValue(q.rangeFrom, 'range_from') }
          : {}),
        ...(q.rangeTo && q.rangeTo.length > 0
          ? { to: decodeSearchValue(q.rangeTo, 'range_to') }
          : {}),
        includeLower: q.includeLower === true,
        includeUpper: q.includeUpper === true,
      };
    }
    case 5: {
      const q = part<{ fieldName?: string; prefix?: string }>('PrefixQuery');
      return { kind: 'prefix', field: fieldOf(q, 'prefix query'), prefix: q.prefix ?? '' };
    }
    case 6: {
      const q = part<PbBool>('BoolQuery');
      return {
        kind: 'bool',
        must: q.mustQueries.map(queryFromProto),
        mustNot: q.mustNotQueries.map(queryFromProto),
        filter: q.filterQueries.map(queryFromProto),
        should: q.shouldQueries.map(queryFromProto),
        ...(has(q, 'minimumShouldMatch')
          ? { minimumShouldMatch: q.minimumShouldMatch as number }
          : {}),
      };
    }
    case 7: {
      const q = part<{ filter?: PbQuery }>('ConstScoreQuery');
      return { kind: 'const_score', filter: queryFromProto(q.filter) };
    }
    case 9: {
      const q = part<{ path?: string; query?: PbQuery; innerHits?: object }>('NestedQuery');
      if (!q.path) throw invalid('[nested query] path must be set.');
      if (q.innerHits) throw invalid('[nested query] inner_hits are not emulated by localcloud.');
      return { kind: 'nested', path: q.path, query: queryFromProto(q.query) };
    }
    case 10: {
      const q = part<{ fieldName?: string; value?: string }>('WildcardQuery');
      return { kind: 'wildcard', field: fieldOf(q, 'wildcard query'), pattern: q.value ?? '' };
    }
    case 11:
      return { kind: 'match_all' };
    case 15: {
      const q = part<{ fieldName?: string; terms: Uint8Array[] }>('TermsQuery');
      return {
        kind: 'terms',
        field: fieldOf(q, 'terms query'),
        values: q.terms.map((term) => decodeSearchValue(term, 'terms')),
      };
    }
    case 16: {
      const q = part<{ fieldName?: string }>('ExistsQuery');
      return { kind: 'exists', field: fieldOf(q, 'exists query') };
    }
    default:
      throw invalid(
        `Query type ${pb.type} is not emulated by localcloud (MatchAll, Term, Terms, Range, Prefix, Wildcard, Exists, Match, MatchPhrase, Bool, ConstScore and Nested are).`,
      );
  }
}

// ------------------------------------------------------------------------------ aggregations

const AGG_TYPES: Record<number, MetricKind> = {
  1: 'avg',
  2: 'max',
  3: 'min',
  4: 'sum',
  5: 'count',
  6: 'distinct_count',
};
const AGG_CODES = Object.fromEntries(
  Object.entries(AGG_TYPES).map(([code, kind]) => [kind, Number(code)]),
) as Record<MetricKind, number>;
const AGG_MESSAGES: Record<MetricKind, string> = {
  avg: 'AvgAggregation',
  max: 'MaxAggregation',
  min: 'MinAggregation',
  sum: 'SumAggregation',
  count: 'CountAggregation',
  distinct_count: 'DistinctCountAggregation',
};
const AGG_RESULT_MESSAGES: Record<MetricKind, string> = {
  avg: 'AvgAggregationResult',
  max: 'MaxAggregationResult',
  min: 'MinAggregationResult',
  sum: 'SumAggregationResult',
  count: 'CountAggregationResult',
  distinct_count: 'DistinctCountAggregationResult',
};

interface PbNamed {
  name?: string;
  type?: number;
  body?: Uint8Array;
}

export function aggsFromProto(pb: { aggs: PbNamed[] } | undefined): Aggregation[] {
  return (pb?.aggs ?? []).map((agg) => {
    const kind = AGG_TYPES[agg.type ?? 0];
    if (!kind) {
      throw invalid(
        `Aggregation type ${agg.type} is not emulated by localcloud (avg, max, min, sum, count and distinct count are).`,
      );
    }
    const body = decodePart<{ fieldName?: string; missing?: Uint8Array }>(
      AGG_MESSAGES[kind],
      agg.body ?? new Uint8Array(0),
      'aggregation body',
    );
    return {
      name: agg.name ?? '',
      kind,
      field: body.fieldName ?? '',
      ...(body.missing && body.missing.length > 0
        ? { missing: decodeSearchValue(body.missing, 'missing') }
        : {}),
    };
  });
}

const GROUP_TYPES: Record<number, GroupBy['kind']> = {
  1: 'field',
  2: 'range',
  3: 'filter',
  5: 'histogram',
  6: 'date_histogram',
};
const GROUP_CODES = Object.fromEntries(
  Object.entries(GROUP_TYPES).map(([code, kind]) => [kind, Number(code)]),
) as Record<GroupBy['kind'], number>;
const DATE_UNITS: Record<number, DateUnit> = {
  1: 'YEAR',
  2: 'QUARTER_YEAR',
  3: 'MONTH',
  4: 'WEEK',
  5: 'DAY',
  6: 'HOUR',
  7: 'MINUTE',
  8: 'SECOND',
  9: 'MILLISECOND',
};

interface PbGroupSort {
  sorters: Array<{
    groupKeySort?: { order?: number };
    rowCountSort?: { order?: number };
    subAggSort?: { subAggName?: string; order?: number };
  }>;
}

function groupSortFromProto(pb: PbGroupSort | undefined): GroupSorter[] {
  return (pb?.sorters ?? []).map((sorter): GroupSorter => {
    if (sorter.groupKeySort) return { kind: 'key', order: order(sorter.groupKeySort.order) };
    if (sorter.rowCountSort) return { kind: 'count', order: order(sorter.rowCountSort.order) };
    if (sorter.subAggSort)
      return {
        kind: 'sub_agg',
        name: sorter.subAggSort.subAggName ?? '',
        order: order(sorter.subAggSort.order),
      };
    throw invalid('A group-by sorter must set group_key_sort, row_count_sort or sub_agg_sort.');
  });
}

function dateValue(
  pb: { value?: number; unit?: number } | undefined,
  what: string,
): { value: number; unit: DateUnit } {
  const unit = DATE_UNITS[pb?.unit ?? 0];
  if (!pb || !unit || pb.value === undefined)
    throw invalid(`[group by date histogram] ${what} must set value and unit.`);
  return { value: pb.value, unit };
}

export function groupBysFromProto(pb: { groupBys: PbNamed[] } | undefined): GroupBy[] {
  return (pb?.groupBys ?? []).map((groupBy): GroupBy => {
    const kind = GROUP_TYPES[groupBy.type ?? 0];
    if (!kind) {
      throw invalid(
        `Group-by type ${groupBy.type} is not emulated by localcloud (field, range, filter, histogram and date histogram are).`,
      );
    }
    const body = groupBy.body ?? new Uint8Array(0);
    const name = groupBy.name ?? '';
    const nested = (message: {
      subAggs?: { aggs: PbNamed[] };
      subGroupBys?: { groupBys: PbNamed[] };
    }) => ({
      subAggs: aggsFromProto(message.subAggs),
      subGroupBys: groupBysFromProto(message.subGroupBys),
    });
    const range = (message: { fieldRange?: { min?: Uint8Array; max?: Uint8Array } }) =>
      message.fieldRange?.min && message.fieldRange.max
        ? {
            fieldRange: {
              min: decodeSearchValue(message.fieldRange.min, 'field_range.min'),
              max: decodeSearchValue(message.fieldRange.max, 'field_range.max'),
            },
          }
        : {};
    switch (kind) {
      case 'field': {
        const q = decodePart<{
          fieldName?: string;
          size?: number;
          sort?: PbGroupSort;
          subAggs?: { aggs: PbNamed[] };
          subGroupBys?: { groupBys: PbNamed[] };
          minDocCount?: Int64;
        }>('GroupByField', body, 'group by body');
        return {
          kind,
          name,
          field: q.fieldName ?? '',
          ...(has(q, 'size') ? { size: q.size as number } : {}),
          sort: groupSortFromProto(q.sort),
          ...(has(q, 'minDocCount') ? { minDocCount: int64ToNumber(q.minDocCount as Int64) } : {}),
          ...nested(q),
        };
      }
      case 'range': {
        const q = decodePart<{
          fieldName?: string;
          ranges: Array<{ from?: number; to?: number }>;
          subAggs?: { aggs: PbNamed[] };
          subGroupBys?: { groupBys: PbNamed[] };
        }>('GroupByRange', body, 'group by body');
        return {
          kind,
          name,
          field: q.fieldName ?? '',
          ranges: q.ranges.map((r) => ({
            from: has(r, 'from') ? (r.from as number) : Number.NEGATIVE_INFINITY,
            to: has(r, 'to') ? (r.to as number) : Number.POSITIVE_INFINITY,
          })),
          ...nested(q),
        };
      }
      case 'filter': {
        const q = decodePart<{
          filters: PbQuery[];
          subAggs?: { aggs: PbNamed[] };
          subGroupBys?: { groupBys: PbNamed[] };
        }>('GroupByFilter', body, 'group by body');
        return { kind, name, filters: q.filters.map(queryFromProto), ...nested(q) };
      }
      case 'histogram': {
        const q = decodePart<{
          fieldName?: string;
          interval?: Uint8Array;
          missing?: Uint8Array;
          minDocCount?: Int64;
          sort?: PbGroupSort;
          fieldRange?: { min?: Uint8Array; max?: Uint8Array };
          subAggs?: { aggs: PbNamed[] };
          subGroupBys?: { groupBys: PbNamed[] };
          offset?: Uint8Array;
        }>('GroupByHistogram', body, 'group by body');
        if (!q.interval || q.interval.length === 0)
          throw invalid('[group by histogram] interval must be set.');
        return {
          kind,
          name,
          field: q.fieldName ?? '',
          interval: decodeSearchValue(q.interval, 'interval'),
          ...range(q),
          ...(q.missing && q.missing.length > 0
            ? { missing: decodeSearchValue(q.missing, 'missing') }
            : {}),
          ...(has(q, 'minDocCount') ? { minDocCount: int64ToNumber(q.minDocCount as Int64) } : {}),
          ...(q.offset && q.offset.length > 0
            ? { offset: decodeSearchValue(q.offset, 'offset') }
            : {}),
          sort: groupSortFromProto(q.sort),
          ...nested(q),
        };
      }
      case 'date_histogram': {
        const q = decodePart<{
          fieldName?: string;
          interval?: { value?: number; unit?: number };
          fieldRange?: { min?: Uint8Array; max?: Uint8Array };
          missing?: Uint8Array;
          minDocCount?: Int64;
          timeZone?: string;
          sort?: PbGroupSort;
          subAggs?: { aggs: PbNamed[] };
          subGroupBys?: { groupBys: PbNamed[] };
          offset?: { value?: number; unit?: number };
        }>('GroupByDateHistogram', body, 'group by body');
        return {
          kind,
          name,
          field: q.fieldName ?? '',
          interval: dateValue(q.interval, 'interval'),
          ...range(q),
          ...(q.missing && q.missing.length > 0
            ? { missing: decodeSearchValue(q.missing, 'missing') }
            : {}),
          ...(has(q, 'minDocCount') ? { minDocCount: int64ToNumber(q.minDocCount as Int64) } : {}),
          ...(q.timeZone ? { timeZone: q.timeZone } : {}),
          ...(q.offset ? { offset: dateValue(q.offset, 'offset') } : {}),
          sort: groupSortFromProto(q.sort),
          ...nested(q),
        };
      }
      default:
        throw invalid(`Group-by type ${groupBy.type} is not emulated by localcloud.`);
    }
  });
}

// ------------------------------------------------------------------------------ results

export function aggsResultProto(results: readonly AggregationResult[]): Record<string, unknown> {
  return {
    aggResults: results.map((result) => ({
      name: result.name,
      type: AGG_CODES[result.kind],
      aggResult: encodeSearch(AGG_RESULT_MESSAGES[result.kind], { value: result.value }),
    })),
  };
}

function itemExtras(item: GroupItem): Record<string, unknown> {
  return {
    ...(item.subAggs.length > 0 ? { subAggsResult: aggsResultProto(item.subAggs) } : {}),
    ...(item.subGroupBys.length > 0
      ? { subGroupBysResult: groupBysResultProto(item.subGroupBys) }
      : {}),
  };
}

function groupByBody(result: GroupByResult): Buffer {
  switch (result.kind) {
    case 'field':
      return encodeSearch('GroupByFieldResult', {
        groupByFieldResultItems: result.items.map((item) => ({
          key: String(item.key),
          rowCount: item.rowCount,
          ...itemExtras(item),
        })),
      });
    case 'range':
      return encodeSearch('GroupByRangeResult', {
        groupByRangeResultItems: result.items.map((item) => ({
          from: item.from,
          to: item.to,
          rowCount: item.rowCount,
          ...itemExtras(item),
        })),
      });
    case 'filter':
      return encodeSearch('GroupByFilterResult', {
        groupByFilterResultItems: result.items.map((item) => ({
          rowCount: item.rowCount,
          ...itemExtras(item),
        })),
      });
    case 'histogram':
      return encodeSearch('GroupByHistogramResult', {
        groupByHistogramItems: result.items.map((item) => ({
          key: encodeSearchValue(item.key as number, result.keyType ?? 'double'),
          value: item.rowCount,
          ...itemExtras(item),
        })),
      });
    case 'date_histogram':
      return encodeSearch('GroupByDateHistogramResult', {
        groupByDateHistogramItems: result.items.map((item) => ({
          timestamp: item.key,
          rowCount: item.rowCount,
          ...itemExtras(item),
        })),
      });
  }
}

export function groupBysResultProto(results: readonly GroupByResult[]): Record<string, unknown> {
  return {
    groupByResults: results.map((result) => ({
      name: result.name,
      type: GROUP_CODES[result.kind],
      groupByResult: groupByBody(result),
    })),
  };
}
