// The search query builder (what it builds and what it refuses) and its translation to the
// parameters the tablestore SDK takes. Whether the service reads them as meant is checked
// against localcloud in test/integration/cloud/tablestore-search.test.ts.

import { describe, expect, it } from 'vitest';
import {
  searchQuery as q,
  SEARCH_QUERY_LIMITS,
  type SearchQuery,
} from '../../../../shared/cloud/tablestore';
import {
  queryToSdk,
  searchParams,
  sortToSdk,
} from '../../../../shared/cloud/tablestore/search-sdk';

describe('searchQuery', () => {
  it('builds plain query data', () => {
    expect(q.term('user', 'alice')).toEqual({ kind: 'term', field: 'user', value: 'alice' });
    expect(q.range('start', { gte: 10n, lt: 20n })).toEqual({
      kind: 'range',
      field: 'start',
      gte: 10n,
      lt: 20n,
    });
    expect(q.or(q.prefix('asset', 'web-'), q.prefix('assetAddress', '10.'))).toEqual({
      kind: 'bool',
      must: [],
      mustNot: [],
      filter: [],
      should: [
        { kind: 'prefix', field: 'asset', prefix: 'web-' },
        { kind: 'prefix', field: 'assetAddress', prefix: '10.' },
      ],
      minimumShouldMatch: 1,
    });
  });

  it('flattens nested ands and leaves a single query as it is', () => {
    const a = q.term('a', 1n);
    const b = q.term('b', 2n);
    const c = q.term('c', 3n);
    expect(q.and(a)).toBe(a);
    expect(q.or(a)).toBe(a);
    const nested = q.and(q.and(a, b), c);
    expect(nested).toMatchObject({ kind: 'bool', filter: [a, b, c], must: [], should: [] });
    // An and holding an or keeps the or whole.
    const withOr = q.and(q.or(a, b), c) as Extract<SearchQuery, { kind: 'bool' }>;
    expect(withOr.filter).toHaveLength(2);
    expect(withOr.filter[0]).toMatchObject({ kind: 'bool', should: [a, b] });
  });

  it('refuses what no search could mean, naming the field', () => {
    expect(() => q.terms('user', [])).toThrow('terms query on user: no values');
    expect(() => q.range('start', {})).toThrow('range query on start: at least one bound');
    expect(() => q.range('start', { gt: 1n, gte: 2n })).toThrow('gt or gte, not both');
    expect(() => q.range('start', { lt: 1n, lte: 2n })).toThrow('lt or lte, not both');
    expect(() => q.range('score', { gt: Number.NaN })).toThrow('not a finite number');
    expect(() => q.bool({})).toThrow('at least one clause');
    expect(() => q.bool({ should: [q.all()], minimumShouldMatch: 2 })).toThrow(
      'exceeds the 1 should clause',
    );
    expect(() => q.and()).toThrow('at least one query');
    expect(() => q.term('', 'x')).toThrow('a field name is required');
  });

  it("refuses what exceeds the service's published limits before a request is sent", () => {
    const many = Array.from(
      { length: SEARCH_QUERY_LIMITS.termsPerTermsQuery + 1 },
      (_, i) => `u${i}`,
    );
    expect(() => q.terms('user', many)).toThrow('1025 values, the service allows 1024');
    expect(() => q.wildcard('asset', `${'a*'.repeat(16)}b`)).toThrow('exceeds 32 characters');
    expect(() => q.prefix('asset', 'x'.repeat(1001))).toThrow('exceeds 1000 bytes');
    const terms = Array.from({ length: 1024 }, (_, i) => q.term('user', `u${i}`));
    expect(() => q.and(...terms)).toThrow('1025 queries, the service allows 1024');
  });
});

describe('queryToSdk', () => {
  it('sends bigint as INTEGER and number as DOUBLE', () => {
    const long = queryToSdk(q.term('events', 5n)) as { query: { term: unknown } };
    expect(typeof long.query.term).toBe('object');
    expect(String(long.query.term)).toBe('5');
    const double = queryToSdk(q.term('score', 5)) as { query: { term: unknown } };
    expect(double.query.term).toBe(5);
  });

  it('maps gt/gte/lt/lte onto the service range with its include flags', () => {
    expect(queryToSdk(q.range('score', { gt: 1, lte: 2 }))).toEqual({
      queryType: 4,
      query: {
        fieldName: 'score',
        rangeFrom: 1,
        includeLower: false,
        rangeTo: 2,
        includeUpper: true,
      },
    });
    expect(queryToSdk(q.range('score', { gte: 1 }))).toEqual({
      queryType: 4,
      query: { fieldName: 'score', rangeFrom: 1, includeLower: true },
    });
  });

  it("gives should clauses the service's default minimum (1 alone, 0 beside must or filter)", () => {
    const only = queryToSdk(q.bool({ should: [q.term('a', 'x')] })) as {
      query: { minimumShouldMatch: number };
    };
    expect(only.query.minimumShouldMatch).toBe(1);
    const beside = queryToSdk(
      q.bool({ filter: [q.term('b', 'y')], should: [q.term('a', 'x')] }),
    ) as {
      query: { minimumShouldMatch: number };
    };
    expect(beside.query.minimumShouldMatch).toBe(0);
    const mustNot = queryToSdk(q.not(q.term('a', 'x'))) as { query: Record<string, unknown> };
    expect(Object.keys(mustNot.query)).toEqual(['mustNotQueries']);
  });

  it('refuses a missing value the SDK would drop as "not set"', () => {
    expect(() => sortToSdk([{ field: 'score', missing: { value: 0 } }])).toThrow('does not send 0');
    expect(sortToSdk([{ field: 'score', missing: { value: 0n } }])).toBeDefined();
    expect(sortToSdk([{ field: 'score', order: 'desc', missing: 'first' }])).toEqual({
      sorters: [{ fieldSort: { fieldName: 'score', order: 1, missingValue: '_first' } }],
    });
  });

  it('sends the token instead of the sort when paging by token', () => {
    const params = searchParams({
      table: 't',
      index: 'i',
      query: q.all(),
      sort: [{ field: 'start', order: 'desc' }],
      nextToken: Buffer.from('token').toString('base64'),
      limit: 5,
    }) as { searchQuery: Record<string, unknown>; columnToGet: unknown };
    expect(params.searchQuery.token).toEqual(Buffer.from('token'));
    expect(params.searchQuery.sort).toBeUndefined();
    expect(params.columnToGet).toEqual({ returnType: 3 });
  });
});
