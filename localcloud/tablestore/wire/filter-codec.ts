// Column filters and column conditions decoded from the filter protobuf into the model's
// ColumnFilter, with the service's checks and messages.

import { invalid } from '../model/errors';
import type { ColumnFilter, Comparator } from '../model/filter';
import type { AnyValue, CellValue } from '../model/values';
import { decodeVariant, PlainBufferError } from './plainbuffer';
import {
  decode,
  type PbColumnPaginationFilter,
  type PbCompositeColumnValueFilter,
  type PbFilter,
  type PbSingleColumnValueFilter,
} from './proto';

const COMPARATORS: Record<number, Comparator> = {
  1: 'EQUAL',
  2: 'NOT_EQUAL',
  3: 'GREATER_THAN',
  4: 'GREATER_EQUAL',
  5: 'LESS_THAN',
  6: 'LESS_EQUAL',
};
const COMBINATORS: Record<number, 'NOT' | 'AND' | 'OR'> = { 1: 'NOT', 2: 'AND', 3: 'OR' };

function decodeOrFail<T>(
  name:
    | 'Filter'
    | 'SingleColumnValueFilter'
    | 'CompositeColumnValueFilter'
    | 'ColumnPaginationFilter',
  bytes: Uint8Array,
  message: string,
): T {
  try {
    return decode<T>(name, bytes);
  } catch {
    throw invalid(message);
  }
}

function toCellValue(value: AnyValue, column: string): CellValue {
  if (value.t === 'inf_min' || value.t === 'inf_max' || value.t === 'auto_incr') {
    throw invalid(
      `${value.t.toUpperCase()} is an invalid type for the attribute column: '${column}'.`,
    );
  }
  return value;
}

function fromProto(filter: PbFilter, depth: number): ColumnFilter {
  switch (filter.type) {
    case 1: {
      const single = decodeOrFail<PbSingleColumnValueFilter>(
        'SingleColumnValueFilter',
        filter.filter,
        'Deserialize relation filter failed.',
      );
      const comparator = COMPARATORS[single.comparator];
      if (comparator === undefined)
        throw invalid(`Invalid relation operator: ${single.comparator}.`);
      let value: AnyValue;
      try {
        value = decodeVariant(Buffer.from(single.columnValue), single.columnName);
      } catch (error) {
        if (error instanceof PlainBufferError) throw invalid(error.message);
        throw error;
      }
      return {
        kind: 'single',
        column: single.columnName,
        comparator,
        value: toCellValue(value, single.columnName),
        passIfMissing: !single.filterIfMissing,
        latestVersionOnly: single.latestVersionOnly,
      };
    }
    case 2: {
      const composite = decodeOrFail<PbCompositeColumnValueFilter>(
        'CompositeColumnValueFilter',
        filter.filter,
        'Deserialize composite filter failed.',
      );
      const combinator = COMBINATORS[composite.combinator];
      if (combinator === undefined)
        throw invalid(`Invalid type of filter: ${composite.combinator}.`);
      if (combinator === 'NOT' && composite.subFilters.length !== 1) {
        throw invalid('Invalid NOT operator: the number of sub-filters must be 1.');
      }
      if (combinator !== 'NOT' && composite.subFilters.length < 2) {
        throw invalid('Invalid AND/OR operator: the number of sub-filters must be 2.');
      }
      const filters = composite.subFilters.map((sub) => {
        if (sub.type === 3) throw invalid(`Invalid type of sub-filter: ${sub.type}.`);
        return fromProto(sub, depth + 1);
      });
      return { kind: 'composite', combinator, filters };
    }
    case 3: {
      if (depth > 0) throw invalid(`Invalid type of sub-filter: ${filter.type}.`);
      const page = decodeOrFail<PbColumnPaginationFilter>(
        'ColumnPaginationFilter',
        filter.filter,
        'Deserialize column pagination filter failed.',
      );
      if (page.offset < 0)
        throw invalid('Offset in ColumnPaginationFilter must be greater than or equal to 0.');
      if (page.limit <= 0) throw invalid('Limit in ColumnPaginationFilter must be greater than 0.');
      return { kind: 'pagination', offset: page.offset, limit: page.limit };
    }
    default:
      throw invalid(`Invalid type of filter: ${filter.type}.`);
  }
}

/** Decodes a read filter (GetRow/GetRange/BatchGetRow `filter`). */
export function decodeFilter(bytes: Uint8Array): ColumnFilter {
  const filter = decodeOrFail<PbFilter>('Filter', bytes, 'Deserialize filter failed.');
  return fromProto(filter, 0);
}

/** Decodes a write condition's column condition; pagination makes no sense there. */
export function decodeColumnCondition(bytes: Uint8Array): ColumnFilter {
  const filter = decodeFilter(bytes);
  if (filter.kind === 'pagination') throw invalid(`Invalid condition: column pagination filter.`);
  return filter;
}
