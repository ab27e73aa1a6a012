// Search through the official SDK: every query kind, sort and paging mode against the brute-force
// answer over the same rows, columnsToGet modes, getTotalCount, and the refusals the service makes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOtsError, type Harness, startHarness } from './harness';
import { attrsOf } from './helpers';
import type { SdkClient } from './sdk';
import { TableStore } from './sdk';
import {
  BASE_TIME,
  createSessionsIndex,
  createSessionsTable,
  expectedIds,
  INDEX,
  idsOf,
  pageAll,
  type SessionRow,
  sdkQuery,
  sdkSort,
  search,
  sessionRows,
  TABLE,
  type TestQuery,
  type TestSort,
  writeRows,
} from './search-support';

let harness: Harness;
let client: SdkClient;
const rows: SessionRow[] = sessionRows(400, 7);

beforeAll(async () => {
  harness = await startHarness();
  client = harness.client();
  await createSessionsTable(client);
  await writeRows(client, rows.slice(0, 250));
  await createSessionsIndex(client);
  await writeRows(client, rows.slice(250));
});

afterAll(async () => {
  await harness.close();
});

const DAY = 86_400_000;

const QUERIES: Array<[string, TestQuery]> = [
  ['match all', { kind: 'all' }],
  ['term on a keyword', { kind: 'term', field: 'account', value: '1003' }],
  ['term on a long', { kind: 'term', field: 'duration', value: rows[3]?.duration ?? 0 }],
  ['term on a boolean', { kind: 'term', field: 'active', value: true }],
  ['term on a double', { kind: 'term', field: 'score', value: rows[5]?.score ?? 0 }],
  ['term on a keyword array element', { kind: 'term', field: 'tags', value: 'disk' }],
  ['term on a text token', { kind: 'term', field: 'note', value: 'kernel' }],
  ['terms', { kind: 'terms', field: 'user', values: ['alice', 'erin', 'nobody'] }],
  [
    'range on a date',
    { kind: 'range', field: 'start', from: BASE_TIME + 5 * DAY, to: BASE_TIME + 9 * DAY },
  ],
  [
    'range with both bounds inclusive',
    {
      kind: 'range',
      field: 'duration',
      from: 1000,
      to: 2000,
      includeLower: true,
      includeUpper: true,
    },
  ],
  ['range open above, exclusive', { kind: 'range', field: 'score', from: 50, includeLower: false }],
  ['range open below', { kind: 'range', field: 'duration', to: 300, includeUpper: true }],
  ['range on a keyword', { kind: 'range', field: 'user', from: 'bob', to: 'dave' }],
  ['prefix on a keyword', { kind: 'prefix', field: 'ip', prefix: '10.0.2.' }],
  ['prefix on text tokens', { kind: 'prefix', field: 'note', prefix: 're' }],
  ['wildcard', { kind: 'wildcard', field: 'ip', pattern: '10.0.?.1*' }],
  ['exists', { kind: 'exists', field: 'score' }],
  ['exists on an array', { kind: 'exists', field: 'tags' }],
  ['match (or)', { kind: 'match', field: 'note', text: 'Disk REBOOT' }],
  ['match (and)', { kind: 'match', field: 'note', text: 'disk full', and: true }],
  [
    'match with minimum should match',
    { kind: 'match', field: 'note', text: 'disk full root', minimumShouldMatch: 2 },
  ],
  ['match phrase', { kind: 'phrase', field: 'note', text: 'login failed' }],
  [
    'bool must + must_not + filter',
    {
      kind: 'bool',
      must: [{ kind: 'term', field: 'protocol', value: 'SSH' }],
      mustNot: [{ kind: 'term', field: 'user', value: 'bob' }],
      filter: [{ kind: 'range', field: 'duration', from: 500 }],
    },
  ],
  [
    'bool should with minimum should match 2',
    {
      kind: 'bool',
      should: [
        { kind: 'term', field: 'account', value: '1001' },
        { kind: 'term', field: 'active', value: false },
        { kind: 'prefix', field: 'user', prefix: 'c' },
      ],
      minimumShouldMatch: 2,
    },
  ],
  [
    'nested',
    {
      kind: 'nested',
      path: 'assets',
      query: {
        kind: 'bool',
        must: [
          { kind: 'term', field: 'assets.name', value: 'host-1' },
          { kind: 'term', field: 'assets.port', value: 22 },
        ],
      },
    },
  ],
];

describe('Search queries through the SDK equal the brute-force answer', () => {
  for (const [name, query] of QUERIES) {
    it(name, async () => {
      const expected = expectedIds(rows, query);
      expect(expected.length, 'the fixture exercises the query').toBeGreaterThan(0);
      const response = await search(client, {
        query: sdkQuery(query),
        limit: 100,
        getTotalCount: true,
      });
      expect(Number(response.totalCounts)).toBe(expected.length);
      expect(idsOf(response.rows)).toEqual(expected.slice(0, 100));
    });
  }

  it('rows written before the index exist (full sync) and after it (incremental) are both found', async () => {
    const response = await search(client, {
      query: sdkQuery({ kind: 'all' }),
      limit: 0,
      getTotalCount: true,
    });
    expect(Number(response.totalCounts)).toBe(rows.length);
  });
});

describe('sorts', () => {
  const SORTS: Array<[string, TestSort[]]> = [
    ['a date ascending (missing last)', [{ field: 'start' }]],
    ['a long descending (missing last)', [{ field: 'duration', desc: true }]],
    ['a double with missing first', [{ field: 'score', missingFirst: true }]],
    ['a keyword then a date descending', [{ field: 'user' }, { field: 'start', desc: true }]],
    ['a boolean then a keyword array (min element)', [{ field: 'active' }, { field: 'tags' }]],
    ['the primary key descending', [{ field: 'id', desc: true }]],
  ];
  for (const [name, sorts] of SORTS) {
    it(`by ${name}`, async () => {
      const query: TestQuery = { kind: 'exists', field: 'protocol' };
      const response = await search(client, {
        query: sdkQuery(query),
        sort: sdkSort(sorts),
        limit: 100,
      });
      expect(idsOf(response.rows)).toEqual(expectedIds(rows, query, sorts).slice(0, 100));
    });
  }

  it('by score: rows with more matching tokens come first', async () => {
    const response = await search(client, {
      query: sdkQuery({ kind: 'match', field: 'note', text: 'disk' }),
      sort: { sorters: [{ scoreSort: { order: TableStore.SortOrder.SORT_ORDER_DESC } }] },
      limit: 100,
    });
    const ids = idsOf(response.rows);
    const count = (id: string) =>
      (rows.find((row) => row.id === id)?.note ?? '').split(' ').filter((w) => w === 'disk').length;
    const counts = ids.map(count);
    const expected = expectedIds(rows, { kind: 'match', field: 'note', text: 'disk' });
    expect(counts.length).toBe(Math.min(100, expected.length));
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
    expect(counts[0]).toBeGreaterThan(counts.at(-1) as number);
  });

  it('without a sort, rows come in primary-key order', async () => {
    const response = await search(client, { query: sdkQuery({ kind: 'all' }), limit: 50 });
    expect(idsOf(response.rows)).toEqual(expectedIds(rows, { kind: 'all' }).slice(0, 50));
  });
});

describe('paging', () => {
  const query: TestQuery = { kind: 'range', field: 'duration', from: 100 };
  const sorts: TestSort[] = [{ field: 'start', desc: true }];

  it('offset and limit select a window of the sorted answer', async () => {
    const response = await search(client, {
      query: sdkQuery(query),
      sort: sdkSort(sorts),
      offset: 37,
      limit: 25,
    });
    expect(idsOf(response.rows)).toEqual(expectedIds(rows, query, sorts).slice(37, 62));
  });

  it('the default limit is 10', async () => {
    const response = await search(client, { query: sdkQuery(query), sort: sdkSort(sorts) });
    expect(response.rows).toHaveLength(10);
  });

  it('next_token pages through every row once, in order, and ends without a token', async () => {
    const { ids, pages } = await pageAll(client, query, sorts, 17);
    const expected = expectedIds(rows, query, sorts);
    expect(ids).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 17));
  });

  it('next_token pages in the default order when the query has no sort', async () => {
    const { ids } = await pageAll(
      client,
      { kind: 'term', field: 'protocol', value: 'RDP' },
      undefined,
      9,
    );
    expect(ids).toEqual(expectedIds(rows, { kind: 'term', field: 'protocol', value: 'RDP' }));
  });

  it('a token reused with another query is refused', async () => {
    const first = await search(client, { query: sdkQuery(query), sort: sdkSort(sorts), limit: 5 });
    expect(first.nextToken?.length).toBeGreaterThan(0);
    const error = await expectOtsError(
      search(client, { query: sdkQuery({ kind: 'all' }), limit: 5, token: first.nextToken }),
    );
    expect(error.code).toBe('OTSParameterInvalid');
    expect(error.message).toContain('another query');
  });

  it('limits: limit over 100 when columns come from the table, over 1000 from the index, offset + limit over 100000', async () => {
    const all = { returnType: TableStore.ColumnReturnType.RETURN_ALL };
    expect(
      (await expectOtsError(search(client, { query: sdkQuery(query), limit: 101 }, all))).message,
    ).toContain('Invalid limit: 101');
    const fromIndex = await search(client, { query: sdkQuery({ kind: 'all' }), limit: 1000 });
    expect(fromIndex.rows).toHaveLength(rows.length);
    expect(
      (await expectOtsError(search(client, { query: sdkQuery(query), limit: 1001 }))).code,
    ).toBe('OTSParameterInvalid');
    const error = await expectOtsError(
      search(client, { query: sdkQuery(query), offset: 99_950, limit: 51 }),
    );
    expect(error.message).toContain('offset + limit must be <= 100000');
  });
});

describe('columnsToGet and getTotalCount', () => {
  const query: TestQuery = { kind: 'term', field: 'user', value: 'carol' };

  it('RETURN_NONE returns keys only; RETURN_SPECIFIED the named columns; RETURN_ALL every column; RETURN_ALL_FROM_INDEX the stored index fields', async () => {
    const R = TableStore.ColumnReturnType;
    const expected = rows.filter((row) => row.user === 'carol');
    const none = await search(
      client,
      { query: sdkQuery(query), limit: 100 },
      { returnType: R.RETURN_NONE },
    );
    expect(none.rows.every((row) => (row.attributes ?? []).length === 0)).toBe(true);
    const specified = await search(
      client,
      { query: sdkQuery(query), limit: 100 },
      { returnType: R.RETURN_SPECIFIED, returnNames: ['protocol', 'ip'] },
    );
    expect(specified.rows.map((row) => attrsOf(row))).toEqual(
      expected.map((row) => ({ ip: row.ip, protocol: row.protocol })),
    );
    const all = await search(
      client,
      { query: sdkQuery(query), limit: 100 },
      { returnType: R.RETURN_ALL },
    );
    expect(all.rows.map((row) => Object.keys(attrsOf(row)).sort())).toEqual(
      expected.map((row) =>
        Object.keys(row)
          .filter((k) => k !== 'id')
          .sort(),
      ),
    );
    const fromIndex = await search(
      client,
      { query: sdkQuery(query), limit: 100 },
      { returnType: R.RETURN_ALL_FROM_INDEX },
    );
    expect(fromIndex.rows.map((row) => attrsOf(row).user)).toEqual(expected.map(() => 'carol'));
  });

  it('getTotalCount false leaves the total out', async () => {
    const response = await search(client, { query: sdkQuery(query), limit: 1 });
    expect(response.totalCounts).toBeUndefined();
  });
});

describe('refusals', () => {
  it('a query on a field the index does not have', async () => {
    const error = await expectOtsError(
      search(client, { query: sdkQuery({ kind: 'term', field: 'nope', value: 'x' }) }),
    );
    expect(error.code).toBe('OTSParameterInvalid');
    expect(error.message).toContain('field: nope does not exist');
  });

  it('a sort on a field without enable_sort_and_agg', async () => {
    const error = await expectOtsError(
      search(client, { query: sdkQuery({ kind: 'all' }), sort: sdkSort([{ field: 'ip' }]) }),
    );
    expect(error.message).toContain('does not enable sort_and_agg');
  });

  it('a nested sub-field queried outside a NestedQuery', async () => {
    const error = await expectOtsError(
      search(client, { query: sdkQuery({ kind: 'term', field: 'assets.port', value: 22 }) }),
    );
    expect(error.message).toContain("NestedQuery with path 'assets'");
  });

  it('a value whose type does not match the field', async () => {
    const error = await expectOtsError(
      search(client, { query: sdkQuery({ kind: 'term', field: 'account', value: 5 }) }),
    );
    expect(error.message).toContain('does not match field account of type keyword');
  });

  it('an index or table that does not exist', async () => {
    const noIndex = await expectOtsError(
      client.search({
        tableName: TABLE,
        indexName: 'missing',
        searchQuery: { query: sdkQuery({ kind: 'all' }) },
        columnToGet: { returnType: TableStore.ColumnReturnType.RETURN_NONE },
      }),
    );
    expect(noIndex.code).toBe('OTSObjectNotExist');
    const noTable = await expectOtsError(
      client.search({
        tableName: 'missing',
        indexName: INDEX,
        searchQuery: { query: sdkQuery({ kind: 'all' }) },
        columnToGet: { returnType: TableStore.ColumnReturnType.RETURN_NONE },
      }),
    );
    expect(noTable.message).toContain('table [missing] does not exist');
  });

  it('a wildcard pattern over 32 characters and a terms query over 1024 terms', async () => {
    const wildcard = await expectOtsError(
      search(client, {
        query: sdkQuery({ kind: 'wildcard', field: 'ip', pattern: `${'a'.repeat(33)}*` }),
      }),
    );
    expect(wildcard.message).toContain('at most 32 characters');
    const terms = await expectOtsError(
      search(client, {
        query: sdkQuery({
          kind: 'terms',
          field: 'user',
          values: Array.from({ length: 1025 }, (_, i) => `u${i}`),
        }),
      }),
    );
    expect(terms.message).toContain('at most 1024 terms');
  });

  it('a query kind localcloud does not emulate is refused, not ignored', async () => {
    const error = await expectOtsError(
      search(client, {
        query: {
          queryType: TableStore.QueryType.GEO_DISTANCE_QUERY,
          query: { fieldName: 'ip', centerPoint: '0,0', distance: 1 },
        },
      }),
    );
    expect(error.message).toContain('not emulated by localcloud');
  });
});

describe('ParallelScan with ComputeSplits', () => {
  it('scans every matching row once, in primary-key order', async () => {
    const splits = await client.computeSplits({
      tableName: TABLE,
      searchIndexSplitsOptions: { indexName: INDEX },
    });
    expect(splits.splitsSize).toBe(1);
    const query: TestQuery = { kind: 'term', field: 'protocol', value: 'SSH' };
    const ids: string[] = [];
    let token: Buffer | null = null;
    do {
      const page = await client.parallelScan({
        tableName: TABLE,
        indexName: INDEX,
        columnToGet: { returnType: TableStore.ColumnReturnType.RETURN_NONE },
        sessionId: splits.sessionId,
        scanQuery: {
          query: sdkQuery(query),
          limit: 13,
          maxParallel: 1,
          currentParallelId: 0,
          ...(token ? { token } : {}),
        },
      });
      ids.push(...idsOf(page.rows));
      token = page.nextToken && page.nextToken.length > 0 ? page.nextToken : null;
    } while (token);
    expect(ids).toEqual(expectedIds(rows, query));
  });

  it('ComputeSplits on an index that does not exist answers OTSMetaNotMatch', async () => {
    const error = await expectOtsError(
      client.computeSplits({
        tableName: TABLE,
        searchIndexSplitsOptions: { indexName: 'missing' },
      }),
    );
    expect(error.code).toBe('OTSMetaNotMatch');
  });
});
