// Search aggregations and group-bys through the official SDK, each against the brute-force answer
// over the same rows, and the limits and refusals of the service.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOtsError, type Harness, startHarness } from './harness';
import { long, type SdkClient, type SdkGroupItem, TableStore } from './sdk';
import {
  BASE_TIME,
  createSessionsIndex,
  createSessionsTable,
  matches,
  type SessionRow,
  sdkQuery,
  search,
  sessionRows,
  type TestQuery,
  writeRows,
} from './search-support';

const A = TableStore.AggregationType;
const G = TableStore.GroupByType;
const ASC = TableStore.SortOrder.SORT_ORDER_ASC;
const DESC = TableStore.SortOrder.SORT_ORDER_DESC;

let harness: Harness;
let client: SdkClient;
const rows: SessionRow[] = sessionRows(300, 11);
const query: TestQuery = { kind: 'range', field: 'duration', from: 200 };
const matched = rows.filter((row) => matches(query, row as unknown as Record<string, unknown>));

beforeAll(async () => {
  harness = await startHarness();
  client = harness.client();
  await createSessionsTable(client);
  await createSessionsIndex(client);
  await writeRows(client, rows);
});

afterAll(async () => {
  await harness.close();
});

const num = (value: unknown): number =>
  typeof value === 'number' ? value : Number(String(value as { toString(): string }));

async function aggs(list: Array<Record<string, unknown>>) {
  const response = await search(client, { query: sdkQuery(query), limit: 0, aggs: { aggs: list } });
  return Object.fromEntries(
    (response.aggs?.aggResults ?? []).map((agg) => [agg.name, num(agg.aggResult.value)]),
  );
}

async function groupBys(list: Array<Record<string, unknown>>) {
  const response = await search(client, {
    query: sdkQuery(query),
    limit: 0,
    groupBys: { groupBys: list },
  });
  return Object.fromEntries(
    (response.groupBys?.groupByResults ?? []).map((group) => [
      group.name,
      group.groupByResult.items,
    ]),
  );
}

const values = (field: keyof SessionRow, of: readonly SessionRow[] = matched): number[] =>
  of.map((row) => row[field]).filter((v): v is number => typeof v === 'number');

describe('aggregations', () => {
  it('count, distinct count, min, max, sum and avg equal brute force', async () => {
    const result = {
      ...(await aggs([
        { name: 'count', type: A.AGG_COUNT, body: { fieldName: 'score' } },
        { name: 'users', type: A.AGG_DISTINCT_COUNT, body: { fieldName: 'user' } },
        { name: 'min', type: A.AGG_MIN, body: { fieldName: 'start' } },
      ])),
      ...(await aggs([
        { name: 'max', type: A.AGG_MAX, body: { fieldName: 'duration' } },
        { name: 'sum', type: A.AGG_SUM, body: { fieldName: 'duration' } },
        { name: 'avg', type: A.AGG_AVG, body: { fieldName: 'score' } },
      ])),
    };
    const scores = values('score');
    const durations = values('duration');
    expect(result.count).toBe(scores.length);
    expect(result.users).toBe(new Set(matched.map((row) => row.user).filter(Boolean)).size);
    expect(result.min).toBe(Math.min(...values('start')));
    expect(result.max).toBe(Math.max(...durations));
    expect(result.sum).toBe(durations.reduce((a, b) => a + b, 0));
    expect(result.avg).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 9);
  });

  it('missing stands in for rows without the field', async () => {
    const result = await aggs([
      { name: 'avg', type: A.AGG_AVG, body: { fieldName: 'score', missing: 1.5 } },
      { name: 'min', type: A.AGG_MIN, body: { fieldName: 'score', missing: -5 } },
    ]);
    const scores = matched.map((row) => row.score ?? 1.5);
    expect(result.avg).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 9);
    expect(result.min).toBe(
      matched.some((row) => row.score === undefined) ? -5 : Math.min(...scores),
    );
  });

  it('refuses an unknown field, a type the aggregation does not take, an empty name and more than 5 per level', async () => {
    const unknown = await expectOtsError(
      aggs([{ name: 'a', type: A.AGG_AVG, body: { fieldName: 'nope' } }]),
    );
    expect(unknown.message).toBe('[avg agg] field: nope does not exist.');
    const keyword = await expectOtsError(
      aggs([{ name: 'a', type: A.AGG_SUM, body: { fieldName: 'user' } }]),
    );
    expect(keyword.message).toBe(
      '[sum agg] field_name:user type:keyword is invalid, allow [long, double].',
    );
    const empty = await expectOtsError(
      aggs([{ name: '', type: A.AGG_COUNT, body: { fieldName: 'user' } }]),
    );
    expect(empty.code).toBe('OTSParameterInvalid');
    const six = await expectOtsError(
      aggs(
        Array.from({ length: 6 }, (_, i) => ({
          name: `a${i}`,
          type: A.AGG_COUNT,
          body: { fieldName: 'user' },
        })),
      ),
    );
    expect(six.message).toContain('at most 5 per level');
    const notSortable = await expectOtsError(
      aggs([{ name: 'a', type: A.AGG_COUNT, body: { fieldName: 'ip' } }]),
    );
    expect(notSortable.message).toContain('does not enable sort_and_agg');
  });
});

function counted(keyOf: (row: SessionRow) => readonly string[]): Map<string, SessionRow[]> {
  const groups = new Map<string, SessionRow[]>();
  for (const row of matched) {
    for (const key of new Set(keyOf(row))) {
      const list = groups.get(key) ?? [];
      list.push(row);
      groups.set(key, list);
    }
  }
  return groups;
}

const itemKey = (item: SdkGroupItem) => String(item.key);
const itemCount = (item: SdkGroupItem) => num(item.rowCount ?? item.value);

describe('group-bys', () => {
  it('by field: default order count desc then key asc, size, and sub-aggregations per group', async () => {
    const result = await groupBys([
      {
        name: 'byUser',
        type: G.GROUP_BY_FIELD,
        body: {
          fieldName: 'user',
          size: 4,
          subAggs: { aggs: [{ name: 'sum', type: A.AGG_SUM, body: { fieldName: 'duration' } }] },
        },
      },
    ]);
    const groups = [...counted((row) => (row.user ? [row.user] : []))].sort(
      ([ka, a], [kb, b]) => b.length - a.length || (ka < kb ? -1 : 1),
    );
    const items = result.byUser ?? [];
    expect(items.map((item) => [itemKey(item), itemCount(item)])).toEqual(
      groups.slice(0, 4).map(([key, list]) => [key, list.length]),
    );
    expect(items.map((item) => num(item.subAggsResult?.aggResults[0]?.aggResult.value))).toEqual(
      groups.slice(0, 4).map(([, list]) => values('duration', list).reduce((a, b) => a + b, 0)),
    );
  });

  it('by field on an array counts each row once per element; sorted by key and by a sub-aggregation', async () => {
    const result = await groupBys([
      {
        name: 'byTag',
        type: G.GROUP_BY_FIELD,
        body: {
          fieldName: 'tags',
          size: 20,
          sort: { sorters: [{ groupKeySort: { order: DESC } }] },
        },
      },
      {
        name: 'byProtocol',
        type: G.GROUP_BY_FIELD,
        body: {
          fieldName: 'protocol',
          sort: { sorters: [{ subAggSort: { subAggName: 'avg', order: ASC } }] },
          subAggs: { aggs: [{ name: 'avg', type: A.AGG_AVG, body: { fieldName: 'duration' } }] },
        },
      },
    ]);
    const tags = [...counted((row) => row.tags ?? [])].sort(([a], [b]) => (a < b ? 1 : -1));
    expect((result.byTag ?? []).map((item) => [itemKey(item), itemCount(item)])).toEqual(
      tags.map(([key, list]) => [key, list.length]),
    );
    const avg = (list: SessionRow[]) => {
      const v = values('duration', list);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    const protocols = [...counted((row) => (row.protocol ? [row.protocol] : []))].sort(
      ([, a], [, b]) => avg(a) - avg(b),
    );
    expect((result.byProtocol ?? []).map(itemKey)).toEqual(protocols.map(([key]) => key));
  });

  it('by range (ordered by from), by filter (in request order), with sub-group-bys', async () => {
    const result = await groupBys([
      {
        name: 'byDuration',
        type: G.GROUP_BY_RANGE,
        body: {
          fieldName: 'duration',
          ranges: [
            { from: 1000, to: 3000 },
            { from: Number.NEGATIVE_INFINITY, to: 1000 },
            { from: 3000, to: Number.POSITIVE_INFINITY },
          ],
          subGroupBys: {
            groupBys: [
              {
                name: 'byAccount',
                type: G.GROUP_BY_FIELD,
                body: { fieldName: 'account', size: 10 },
              },
            ],
          },
        },
      },
      {
        name: 'byFilter',
        type: G.GROUP_BY_FILTER,
        body: {
          filters: [
            sdkQuery({ kind: 'term', field: 'active', value: true }),
            sdkQuery({ kind: 'all' }),
          ],
        },
      },
    ]);
    const bounds = [
      [Number.NEGATIVE_INFINITY, 1000],
      [1000, 3000],
      [3000, Number.POSITIVE_INFINITY],
    ] as const;
    const ranges = result.byDuration ?? [];
    expect(ranges.map((item) => [item.from, item.to, itemCount(item)])).toEqual(
      bounds.map(([from, to]) => [
        from,
        to,
        values('duration').filter((v) => v >= from && v < to).length,
      ]),
    );
    const inFirst = matched.filter((row) => (row.duration ?? -1) < 1000);
    const accounts = counted((row) =>
      row.account && (row.duration ?? -1) < 1000 ? [row.account] : [],
    );
    const sub = ranges[0]?.subGroupBysResult?.groupByResults[0]?.groupByResult.items ?? [];
    expect(new Map(sub.map((item) => [itemKey(item), itemCount(item)]))).toEqual(
      new Map([...accounts].map(([key, list]) => [key, list.length])),
    );
    expect(inFirst.length).toBeGreaterThan(0);
    expect((result.byFilter ?? []).map(itemCount)).toEqual([
      matched.filter((row) => row.active === true).length,
      matched.length,
    ]);
  });

  it('histogram over a long and date histogram over time (by day, in a time zone)', async () => {
    const day = 86_400_000;
    const result = await groupBys([
      {
        name: 'hist',
        type: G.GROUP_BY_HISTOGRAM,
        body: {
          fieldName: 'duration',
          interval: long(1000),
          fieldRange: { min: long(0), max: long(10_000) },
        },
      },
      {
        name: 'daily',
        type: G.GROUP_BY_DATE_HISTOGRAM,
        body: {
          fieldName: 'start',
          interval: { value: 7, unit: TableStore.DateTimeUnit.DAY },
          fieldRange: { min: long(BASE_TIME - 30 * day), max: long(BASE_TIME + 60 * day) },
          timeZone: '+08:00',
        },
      },
    ]);
    const histogram = new Map<number, number>();
    for (const v of values('duration')) {
      const key = Math.floor(v / 1000) * 1000;
      histogram.set(key, (histogram.get(key) ?? 0) + 1);
    }
    const hist = result.hist ?? [];
    const first = Math.min(...histogram.keys());
    const last = Math.max(...histogram.keys());
    expect(hist.map((item) => [num(item.key), itemCount(item)])).toEqual(
      Array.from({ length: (last - first) / 1000 + 1 }, (_, i) => {
        const key = first + i * 1000;
        return [key, histogram.get(key) ?? 0];
      }),
    );
    const zone = 8 * 3_600_000;
    const week = 7 * day;
    const weekly = new Map<number, number>();
    for (const v of values('start')) {
      const key = Math.floor((v + zone) / week) * week - zone;
      weekly.set(key, (weekly.get(key) ?? 0) + 1);
    }
    const daily = result.daily ?? [];
    expect(
      daily
        .map((item) => [num(item.timeStamp), itemCount(item)])
        .filter((entry) => (entry[1] as number) > 0),
    ).toEqual([...weekly].sort(([a], [b]) => a - b));
  });

  it('refuses a size over 2000, group-bys nested deeper than 3, more than 10 filters, a histogram without field_range', async () => {
    const size = await expectOtsError(
      groupBys([{ name: 'g', type: G.GROUP_BY_FIELD, body: { fieldName: 'user', size: 2001 } }]),
    );
    expect(size.message).toContain('size must be in [1, 2000]');
    const level = (depth: number): Record<string, unknown> => ({
      name: `g${depth}`,
      type: G.GROUP_BY_FIELD,
      body: {
        fieldName: 'user',
        ...(depth > 1 ? { subGroupBys: { groupBys: [level(depth - 1)] } } : {}),
      },
    });
    expect((await groupBys([level(3)])).g3).toBeDefined();
    const deep = await expectOtsError(groupBys([level(4)]));
    expect(deep.message).toContain('at most 3 levels deep');
    const filters = await expectOtsError(
      groupBys([
        {
          name: 'f',
          type: G.GROUP_BY_FILTER,
          body: { filters: Array.from({ length: 11 }, () => sdkQuery({ kind: 'all' })) },
        },
      ]),
    );
    expect(filters.message).toContain('at most 10 filters');
    const histogram = await expectOtsError(
      groupBys([
        {
          name: 'h',
          type: G.GROUP_BY_HISTOGRAM,
          body: { fieldName: 'duration', interval: long(10) },
        },
      ]),
    );
    expect(histogram.message).toContain('field_range must be set');
    const geo = await expectOtsError(
      groupBys([
        { name: 'geo', type: G.GROUP_BY_GEO_GRID, body: { fieldName: 'ip', precision: 1 } },
      ]),
    );
    expect(geo.message).toContain('not emulated by localcloud');
  });
});
