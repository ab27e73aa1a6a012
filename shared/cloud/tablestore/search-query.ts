// The typed query builder for search indexes: small functions that return the plain SearchQuery
// data of search-types.ts and refuse, at the call, what no search could mean (an empty terms
// list, a range without bounds, a bool without clauses, both gt and gte). Limits the service
// publishes are checked here too, so a bad filter fails with a message naming the field before a
// request is sent. `and`, `or` and `not` are bool queries; nested `and`s are flattened.

import type { RangeBounds, SearchQuery, SearchValue } from './search-types';

/** Published limits of a query (help.aliyun.com document 96407, "Search index limits"). */
export const SEARCH_QUERY_LIMITS = {
  termsPerTermsQuery: 1024,
  wildcardChars: 32,
  prefixBytes: 1000,
  queriesPerSearch: 1024,
} as const;

function checkField(field: string, what: string): void {
  if (typeof field !== 'string' || field.length === 0) {
    throw new TypeError(`${what}: a field name is required`);
  }
}

function checkValue(value: SearchValue, what: string): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`${what}: ${value} is not a finite number`);
  }
  if (
    typeof value !== 'string' &&
    typeof value !== 'bigint' &&
    typeof value !== 'number' &&
    typeof value !== 'boolean'
  ) {
    throw new TypeError(`${what}: unsupported value type ${typeof value}`);
  }
}

/** Queries a query holds, itself included (the service limits them per search). */
export function countQueries(query: SearchQuery): number {
  switch (query.kind) {
    case 'bool':
      return (
        1 +
        [...query.must, ...query.mustNot, ...query.filter, ...query.should].reduce(
          (sum, sub) => sum + countQueries(sub),
          0,
        )
      );
    case 'nested':
      return 1 + countQueries(query.query);
    default:
      return 1;
  }
}

export interface BoolClauses {
  must?: readonly SearchQuery[];
  mustNot?: readonly SearchQuery[];
  filter?: readonly SearchQuery[];
  should?: readonly SearchQuery[];
  /** How many `should` clauses must match (default: 1 when there are only should clauses). */
  minimumShouldMatch?: number;
}

function bool(clauses: BoolClauses): SearchQuery {
  const must = [...(clauses.must ?? [])];
  const mustNot = [...(clauses.mustNot ?? [])];
  const filter = [...(clauses.filter ?? [])];
  const should = [...(clauses.should ?? [])];
  if (must.length + mustNot.length + filter.length + should.length === 0) {
    throw new TypeError('bool query: at least one clause is required');
  }
  const { minimumShouldMatch } = clauses;
  if (minimumShouldMatch !== undefined) {
    if (!Number.isInteger(minimumShouldMatch) || minimumShouldMatch < 0) {
      throw new TypeError(`bool query: minimumShouldMatch ${minimumShouldMatch} is not a count`);
    }
    if (minimumShouldMatch > should.length) {
      throw new TypeError(
        `bool query: minimumShouldMatch ${minimumShouldMatch} exceeds the ${should.length} should clause(s)`,
      );
    }
  }
  const query: SearchQuery = {
    kind: 'bool',
    must,
    mustNot,
    filter,
    should,
    ...(minimumShouldMatch !== undefined ? { minimumShouldMatch } : {}),
  };
  const total = countQueries(query);
  if (total > SEARCH_QUERY_LIMITS.queriesPerSearch) {
    throw new TypeError(
      `bool query: ${total} queries, the service allows ${SEARCH_QUERY_LIMITS.queriesPerSearch} in one search`,
    );
  }
  return query;
}

/** True for a bool query that only filters (what `and` builds), which `and` may flatten. */
function isPlainFilter(query: SearchQuery): query is Extract<SearchQuery, { kind: 'bool' }> {
  return (
    query.kind === 'bool' &&
    query.must.length === 0 &&
    query.mustNot.length === 0 &&
    query.should.length === 0 &&
    query.minimumShouldMatch === undefined
  );
}

export const searchQuery = {
  /** Every row. */
  all: (): SearchQuery => ({ kind: 'matchAll' }),

  /** The field holds exactly `value` (for an array field: one of its values does). */
  term(field: string, value: SearchValue): SearchQuery {
    checkField(field, 'term query');
    checkValue(value, `term query on ${field}`);
    return { kind: 'term', field, value };
  },

  /** The field holds one of `values`. */
  terms(field: string, values: readonly SearchValue[]): SearchQuery {
    checkField(field, 'terms query');
    if (values.length === 0) throw new TypeError(`terms query on ${field}: no values`);
    if (values.length > SEARCH_QUERY_LIMITS.termsPerTermsQuery) {
      throw new TypeError(
        `terms query on ${field}: ${values.length} values, the service allows ${SEARCH_QUERY_LIMITS.termsPerTermsQuery}`,
      );
    }
    for (const value of values) checkValue(value, `terms query on ${field}`);
    return { kind: 'terms', field, values: [...values] };
  },

  /** The field's value lies within the bounds (at least one; gt or gte, lt or lte). */
  range(field: string, bounds: RangeBounds): SearchQuery {
    checkField(field, 'range query');
    const { gt, gte, lt, lte } = bounds;
    if (gt !== undefined && gte !== undefined) {
      throw new TypeError(`range query on ${field}: give gt or gte, not both`);
    }
    if (lt !== undefined && lte !== undefined) {
      throw new TypeError(`range query on ${field}: give lt or lte, not both`);
    }
    if (gt === undefined && gte === undefined && lt === undefined && lte === undefined) {
      throw new TypeError(`range query on ${field}: at least one bound is required`);
    }
    for (const value of [gt, gte, lt, lte]) {
      if (value !== undefined) checkValue(value, `range query on ${field}`);
    }
    return {
      kind: 'range',
      field,
      ...(gt !== undefined ? { gt } : {}),
      ...(gte !== undefined ? { gte } : {}),
      ...(lt !== undefined ? { lt } : {}),
      ...(lte !== undefined ? { lte } : {}),
    };
  },

  /** A keyword field's value starts with `prefix`. */
  prefix(field: string, prefix: string): SearchQuery {
    checkField(field, 'prefix query');
    if (Buffer.byteLength(prefix, 'utf8') > SEARCH_QUERY_LIMITS.prefixBytes) {
      throw new TypeError(
        `prefix query on ${field}: the prefix exceeds ${SEARCH_QUERY_LIMITS.prefixBytes} bytes`,
      );
    }
    return { kind: 'prefix', field, prefix };
  },

  /** A keyword field's value matches `pattern` (`*` any run, `?` one character). */
  wildcard(field: string, pattern: string): SearchQuery {
    checkField(field, 'wildcard query');
    if ([...pattern].length > SEARCH_QUERY_LIMITS.wildcardChars) {
      throw new TypeError(
        `wildcard query on ${field}: the pattern exceeds ${SEARCH_QUERY_LIMITS.wildcardChars} characters`,
      );
    }
    return { kind: 'wildcard', field, pattern };
  },

  /** The row has the field. */
  exists(field: string): SearchQuery {
    checkField(field, 'exists query');
    return { kind: 'exists', field };
  },

  /** A text field matches the words of `text` (any by default; all with operator 'and'). */
  match(
    field: string,
    text: string,
    options: { operator?: 'or' | 'and'; minimumShouldMatch?: number } = {},
  ): SearchQuery {
    checkField(field, 'match query');
    return {
      kind: 'match',
      field,
      text,
      ...(options.operator ? { operator: options.operator } : {}),
      ...(options.minimumShouldMatch !== undefined
        ? { minimumShouldMatch: options.minimumShouldMatch }
        : {}),
    };
  },

  /** A text field holds the words of `text` next to each other, in order. */
  matchPhrase(field: string, text: string): SearchQuery {
    checkField(field, 'match phrase query');
    return { kind: 'matchPhrase', field, text };
  },

  bool,

  /** Every query matches (a filter: no scoring). */
  and(...queries: readonly SearchQuery[]): SearchQuery {
    if (queries.length === 0) throw new TypeError('and: at least one query is required');
    const filter = queries.flatMap((query) => (isPlainFilter(query) ? query.filter : [query]));
    return filter.length === 1 ? (filter[0] as SearchQuery) : bool({ filter });
  },

  /** At least one query matches. */
  or(...queries: readonly SearchQuery[]): SearchQuery {
    if (queries.length === 0) throw new TypeError('or: at least one query is required');
    return queries.length === 1
      ? (queries[0] as SearchQuery)
      : bool({ should: queries, minimumShouldMatch: 1 });
  },

  /** The query does not match. */
  not(query: SearchQuery): SearchQuery {
    return bool({ mustNot: [query] });
  },

  /** `query` matches one object of the nested field `path` (sub-fields as `path.sub`). */
  nested(path: string, query: SearchQuery): SearchQuery {
    checkField(path, 'nested query');
    return { kind: 'nested', path, query };
  },
};
