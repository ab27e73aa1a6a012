// The Tablestore adapter's search-index operations against localcloud, through the official SDK:
// every query kind the builder offers, sorts, limit/offset, columns, paging by token while rows
// are written, aggregations and group-bys, parallel scan, the typed errors and retries, and the
// setup of declared indexes (create, verify, TTL, a new version beside the old one and the
// switch-over). Expected rows and figures are computed by brute force over the rows written.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud';
import {
  column,
  createTablestoreClient,
  declareSearchIndex,
  defineTable,
  ensureSearchIndexes,
  ensureTables,
  type GroupByResult,
  searchQuery as q,
  type RetryEvent,
  type Row,
  SearchIndexSchemaMismatch,
  type SearchQuery,
  type SearchRequest,
  type SearchSort,
  SearchTokenRejected,
  type SearchValue,
  selectSearchIndex,
  type TablestoreClient,
  TablestoreError,
  type TablestoreSearchClient,
} from '../../../shared/cloud/tablestore';
import { seededRandom } from '../../support/seeded-random';

type Client = TablestoreClient & TablestoreSearchClient;

const DAY = 86_400_000;
const BASE = Date.UTC(2024, 4, 1);
const OWNERS = ['1000000000000001', '1000000000000002', '1000000000000003', '1000000000000004'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const PROTOCOLS = ['SSH', 'RDP', 'SFTP', 'MySQL'];
const WORDS = ['disk', 'full', 'reboot', 'kernel', 'patch', 'login', 'failed', 'root'];
const TAGS = ['prod', 'test', 'pci', 'legacy'];

const sessions = defineTable({
  name: 'adapter_sessions',
  primaryKey: [
    ['owner', 'string'],
    ['sessionId', 'string'],
  ],
  columns: {
    user: column.string(),
    asset: column.string(),
    protocol: column.string(),
    sourceIp: column.string(),
    start: column.int64(),
    end: column.int64().optional(),
    events: column.int64(),
    score: column.double().optional(),
    active: column.boolean().optional(),
    tags: column.json<string[]>().optional(),
    note: column.string().optional(),
    assets: column.json<Array<{ name: string; port: number }>>().optional(),
  },
});
type Session = Parameters<typeof sessions.encode>[0];

const declaration = declareSearchIndex(sessions, {
  family: 'adapter_sessions_search',
  version: 1,
  fields: {
    owner: { type: 'keyword', sortAndAgg: true },
    sessionId: { type: 'keyword' },
    user: { type: 'keyword', sortAndAgg: true },
    asset: { type: 'keyword' },
    protocol: { type: 'keyword', sortAndAgg: true },
    sourceIp: { type: 'keyword' },
    start: { type: 'date', sortAndAgg: true },
    end: { type: 'date', sortAndAgg: true },
    events: { type: 'long', sortAndAgg: true },
    score: { type: 'double', sortAndAgg: true },
    active: { type: 'boolean', sortAndAgg: true },
    tags: { type: 'keyword', array: true, sortAndAgg: true },
    note: { type: 'text', analyzer: { kind: 'single_word', caseSensitive: false } },
    assets: {
      type: 'nested',
      fields: [
        { name: 'name', type: 'keyword' },
        { name: 'port', type: 'long' },
      ],
    },
  },
});
const INDEX = declaration.name;

function makeSessions(count: number, seed: number, prefix = 's'): Session[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: count }, (_, i): Session => {
    const start = BASE + Math.floor(next() * 20 * DAY);
    return {
      owner: pick(OWNERS),
      sessionId: `${prefix}${String(i).padStart(5, '0')}`,
      user: pick(USERS),
      asset: `${pick(['web', 'db', 'bastion'])}-${Math.floor(next() * 5)}`,
      protocol: pick(PROTOCOLS),
      sourceIp: `10.0.${Math.floor(next() * 3)}.${Math.floor(next() * 30)}`,
      start: BigInt(start),
      ...(next() < 0.8 ? { end: BigInt(start + Math.floor(next() * 3_600_000)) } : {}),
      events: BigInt(Math.floor(next() * 50)),
      ...(next() < 0.75 ? { score: Math.round(next() * 1000) / 10 } : {}),
      ...(next() < 0.8 ? { active: next() < 0.5 } : {}),
      ...(next() < 0.6 ? { tags: [...new Set([pick(TAGS), pick(TAGS)])] } : {}),
      ...(next() < 0.8 ? { note: `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}` } : {}),
      ...(next() < 0.5
        ? {
            assets: [
              { name: `host-${Math.floor(next() * 4)}`, port: pick([22, 3389, 3306]) },
              { name: `host-${Math.floor(next() * 4)}`, port: pick([22, 3389, 3306]) },
            ],
          }
        : {}),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Brute force

const idOf = (row: { owner: string; sessionId: string }) => `${row.owner}/${row.sessionId}`;

function rowId(row: Row): string {
  const key = new Map(row.primaryKey);
  return `${String(key.get('owner'))}/${String(key.get('sessionId'))}`;
}

function valuesOf(row: Record<string, unknown>, field: string): SearchValue[] {
  const value = row[field];
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as SearchValue[]) : [value as SearchValue];
}

function compareValues(a: SearchValue, b: SearchValue): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const same = (a: SearchValue, b: SearchValue) => compareValues(a, b) === 0 && typeof a === typeof b;
const words = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);

function matches(query: SearchQuery, row: Record<string, unknown>): boolean {
  switch (query.kind) {
    case 'matchAll':
      return true;
    case 'term':
      return valuesOf(row, query.field).some((v) => same(v, query.value));
    case 'terms':
      return valuesOf(row, query.field).some((v) => query.values.some((t) => same(v, t)));
    case 'range':
      return valuesOf(row, query.field).some(
        (v) =>
          (query.gt === undefined || compareValues(v, query.gt) > 0) &&
          (query.gte === undefined || compareValues(v, query.gte) >= 0) &&
          (query.lt === undefined || compareValues(v, query.lt) < 0) &&
          (query.lte === undefined || compareValues(v, query.lte) <= 0),
      );
    case 'prefix':
      return valuesOf(row, query.field).some((v) => String(v).startsWith(query.prefix));
    case 'wildcard': {
      const pattern = new RegExp(
        `^${query.pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replaceAll('*', '.*')
          .replaceAll('?', '.')}$`,
      );
      return valuesOf(row, query.field).some((v) => pattern.test(String(v)));
    }
    case 'exists':
      return valuesOf(row, query.field).length > 0;
    case 'match': {
      const have = new Set(valuesOf(row, query.field).flatMap((v) => words(String(v))));
      const want = words(query.text);
      const hits = want.filter((word) => have.has(word)).length;
      if (query.operator === 'and') return hits === want.length;
      return hits >= (query.minimumShouldMatch ?? 1);
    }
    case 'matchPhrase': {
      const want = words(query.text);
      return valuesOf(row, query.field).some((v) => {
        const have = words(String(v));
        return have.some((_, i) => want.every((word, j) => have[i + j] === word));
      });
    }
    case 'bool': {
      if (!query.must.every((sub) => matches(sub, row))) return false;
      if (!query.filter.every((sub) => matches(sub, row))) return false;
      if (query.mustNot.some((sub) => matches(sub, row))) return false;
      if (query.should.length === 0) return true;
      const needed =
        query.minimumShouldMatch ?? (query.must.length + query.filter.length === 0 ? 1 : 0);
      return query.should.filter((sub) => matches(sub, row)).length >= needed;
    }
    case 'nested': {
      const children = row[query.path];
      if (!Array.isArray(children)) return false;
      return children.some((child: Record<string, unknown>) =>
        matches(
          query.query,
          Object.fromEntries(
            Object.entries(child).map(([name, value]) => [
              `${query.path}.${name}`,
              typeof value === 'number' ? BigInt(value) : value,
            ]),
          ),
        ),
      );
    }
  }
}

function sortRows<T extends Record<string, unknown>>(
  rows: readonly T[],
  sorts: readonly SearchSort[],
): T[] {
  const pk = (row: T) => idOf(row as unknown as Session);
  return [...rows].sort((a, b) => {
    for (const sort of sorts) {
      if ('primaryKey' in sort) {
        const c = pk(a) < pk(b) ? -1 : pk(a) > pk(b) ? 1 : 0;
        if (c !== 0) return sort.primaryKey === 'desc' ? -c : c;
        continue;
      }
      if (!('field' in sort)) continue;
      const va = a[sort.field] as SearchValue | undefined;
      const vb = b[sort.field] as SearchValue | undefined;
      if (va === undefined || vb === undefined) {
        if (va === vb) continue;
        const first = sort.missing === 'first';
        return va === undefined ? (first ? -1 : 1) : first ? 1 : -1;
      }
      const c = compareValues(va, vb);
      if (c !== 0) return sort.order === 'desc' ? -c : c;
    }
    return pk(a) < pk(b) ? -1 : pk(a) > pk(b) ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------

let cloud: LocalCloud;
let client: Client;
let rows: Session[];

function clientOf(
  instanceName: string,
  extra: Partial<Parameters<typeof createTablestoreClient>[0]> = {},
): Client {
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('localcloud published no management account');
  cloud.tablestore.createInstance(management.id, instanceName);
  return createTablestoreClient({
    endpoint: cloud.url,
    instanceName,
    credentials: () => ({
      accessKeyId: management.accessKeyId,
      accessKeySecret: management.accessKeySecret,
    }),
    ...extra,
  });
}

async function writeSessions(
  target: Client,
  list: readonly Session[],
  table: Pick<typeof sessions, 'name' | 'encode'> = sessions,
): Promise<void> {
  const results = await target.batchWriteRows(
    list.map((row) => ({ type: 'put' as const, table: table.name, ...table.encode(row) })),
  );
  expect(results.every((result) => result.ok)).toBe(true);
}

async function allIds(
  request: Omit<SearchRequest, 'table' | 'index'>,
  limit = 37,
): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.search({
      table: sessions.name,
      index: INDEX,
      ...request,
      limit,
      ...(nextToken ? { nextToken } : {}),
    });
    ids.push(...page.rows.map(rowId));
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

const searchCalls = () => cloud.control.calls({ service: 'tablestore', action: 'Search' }).length;

beforeAll(async () => {
  cloud = await startLocalCloud({ port: 0 });
  client = clientOf('searchtest');
  await ensureTables(client, [sessions.definition]);
  rows = makeSessions(240, 42);
  await writeSessions(client, rows);
  expect((await ensureSearchIndexes(client, [declaration])).created).toEqual([
    `${sessions.name}.${INDEX}`,
  ]);
}, 60_000);

afterAll(async () => {
  await cloud?.stop();
});

describe('search queries through the adapter', () => {
  const t = (day: number) => BigInt(BASE + day * DAY);
  const queries: Array<[string, SearchQuery]> = [
    ['match all', q.all()],
    ['term on a keyword', q.term('user', 'alice')],
    ['term on a long', q.term('events', 7n)],
    ['term on a boolean', q.term('active', true)],
    ['term on an array', q.term('tags', 'prod')],
    ['terms', q.terms('protocol', ['SSH', 'RDP'])],
    ['range on a date, gte and lt', q.range('start', { gte: t(3), lt: t(9) })],
    ['range on a double, gt and lte', q.range('score', { gt: 20, lte: 70 })],
    ['range on a long, open above', q.range('events', { gte: 40n })],
    ['prefix', q.prefix('asset', 'web-')],
    ['wildcard', q.wildcard('sourceIp', '10.0.?.1*')],
    ['exists', q.exists('end')],
    ['exists on an array', q.exists('tags')],
    ['match, any word', q.match('note', 'disk reboot')],
    ['match, every word', q.match('note', 'disk reboot', { operator: 'and' })],
    ['match phrase', q.matchPhrase('note', 'disk full')],
    [
      'bool with every clause',
      q.bool({
        must: [q.range('start', { gte: t(2) })],
        mustNot: [q.term('protocol', 'MySQL')],
        filter: [q.exists('score')],
        should: [q.term('user', 'alice'), q.term('user', 'bob'), q.prefix('asset', 'db-')],
        minimumShouldMatch: 1,
      }),
    ],
    [
      'four filters (the session search)',
      q.and(
        q.terms('owner', [OWNERS[0] as string, OWNERS[1] as string]),
        q.term('protocol', 'SSH'),
        q.range('start', { lt: t(15) }),
        q.range('end', { gte: t(5) }),
      ),
    ],
    ['or of prefixes', q.or(q.prefix('asset', 'db-'), q.prefix('sourceIp', '10.0.2.'))],
    ['not', q.not(q.term('protocol', 'SSH'))],
    [
      'nested: one object matches both',
      q.nested('assets', q.and(q.term('assets.name', 'host-1'), q.term('assets.port', 22n))),
    ],
  ];

  it.each(queries)(
    '%s returns exactly the rows brute force finds, page by page',
    async (_, query) => {
      const sort: SearchSort[] = [{ field: 'start', order: 'desc' }];
      const expected = sortRows(
        rows.filter((row) => matches(query, row as unknown as Record<string, unknown>)),
        sort,
      ).map(idOf);
      expect(expected.length).toBeGreaterThan(0);
      expect(await allIds({ query, sort })).toEqual(expected);
    },
  );

  it('sorts by a field either way with missing values first or last, by primary key, and skips by offset', async () => {
    const sorts: SearchSort[][] = [
      [{ field: 'score', order: 'desc', missing: 'first' }],
      [{ field: 'score', missing: 'last' }],
      [{ field: 'user' }, { field: 'events', order: 'desc' }],
      [{ primaryKey: 'desc' }],
    ];
    for (const sort of sorts) {
      const expected = sortRows(rows, sort).map(idOf);
      const first = await client.search({
        table: sessions.name,
        index: INDEX,
        query: q.all(),
        sort,
        limit: 30,
        totalCount: true,
      });
      expect(first.rows.map(rowId)).toEqual(expected.slice(0, 30));
      expect(first.totalCount).toBe(rows.length);
      const third = await client.search({
        table: sessions.name,
        index: INDEX,
        query: q.all(),
        sort,
        offset: 60,
        limit: 30,
      });
      expect(third.rows.map(rowId)).toEqual(expected.slice(60, 90));
      expect(third.totalCount).toBeUndefined();
    }
  });

  it('returns no columns, named columns, every column, or the columns the index stores', async () => {
    const query = q.term('user', 'carol');
    const byId = new Map(rows.map((row) => [idOf(row), row]));
    const page = (columns: SearchRequest['columns']) =>
      client.search({ table: sessions.name, index: INDEX, query, columns, limit: 100 });
    for (const row of (await page('none')).rows) expect(row.columns).toEqual({});
    for (const row of (await page(['user', 'start'])).rows) {
      const original = byId.get(rowId(row)) as Session;
      expect(row.columns).toEqual({ user: original.user, start: original.start });
    }
    const all = await page('all');
    expect(all.rows.length).toBeGreaterThan(0);
    for (const row of all.rows) expect(sessions.decode(row)).toEqual(byId.get(rowId(row)));
    for (const row of (await page('allFromIndex')).rows) {
      const original = byId.get(rowId(row)) as Session;
      expect(row.columns.protocol).toBe(original.protocol);
      expect(row.columns.events).toBe(original.events);
    }
  });

  it('pages by token while rows are written: each row that existed when paging began comes once, in order', async () => {
    const sort: SearchSort[] = [{ field: 'start', order: 'desc' }];
    const before = new Set(rows.map(idOf));
    const added = makeSessions(60, 7, 'w');
    const seen: string[] = [];
    const starts = new Map(rows.map((row) => [idOf(row), row.start]));
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.search({
        table: sessions.name,
        index: INDEX,
        query: q.all(),
        sort,
        limit: 23,
        ...(nextToken ? { nextToken } : {}),
      });
      seen.push(...page.rows.map(rowId));
      nextToken = page.nextToken;
      // Rows written between pages: some sort before the position reached, some after it.
      const batch = added.slice(pages * 10, pages * 10 + 10);
      if (batch.length > 0) await writeSessions(client, batch);
      for (const row of batch) starts.set(idOf(row), row.start);
      pages++;
    } while (nextToken);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => before.has(id))).toEqual(sortRows(rows, sort).map(idOf));
    const order = seen.map((id) => starts.get(id) as bigint);
    expect(order.every((start, i) => i === 0 || start <= (order[i - 1] as bigint))).toBe(true);
    rows = [...rows, ...added];
  });
});

describe('aggregations and group-bys through the adapter', () => {
  const bucketsOf = (result: GroupByResult | undefined) => {
    if (!result) throw new Error('group by missing from the answer');
    return result.buckets;
  };

  it('count, distinct count, min, max, sum and avg equal brute force over the query', async () => {
    const query = q.range('start', { gte: BigInt(BASE + 2 * DAY) });
    const matching = rows.filter((row) =>
      matches(query, row as unknown as Record<string, unknown>),
    );
    const scores = matching.flatMap((row) => (row.score === undefined ? [] : [row.score]));
    const events = matching.map((row) => Number(row.events));
    const page = await client.search({
      table: sessions.name,
      index: INDEX,
      query,
      limit: 0,
      totalCount: true,
      aggregations: [
        { name: 'withScore', kind: 'count', field: 'score' },
        { name: 'users', kind: 'distinctCount', field: 'user' },
        { name: 'minScore', kind: 'min', field: 'score' },
        { name: 'maxEvents', kind: 'max', field: 'events' },
        { name: 'sumEvents', kind: 'sum', field: 'events' },
      ],
    });
    expect(page.rows).toEqual([]);
    expect(page.totalCount).toBe(matching.length);
    expect(page.aggregations).toEqual({
      withScore: scores.length,
      users: new Set(matching.map((row) => row.user)).size,
      minScore: Math.min(...scores),
      maxEvents: Math.max(...events),
      sumEvents: events.reduce((a, b) => a + b, 0),
    });
    const avg = await client.search({
      table: sessions.name,
      index: INDEX,
      query,
      limit: 0,
      aggregations: [{ name: 'avgScore', kind: 'avg', field: 'score', missing: 50 }],
    });
    const withMissing = matching.map((row) => row.score ?? 50);
    expect(avg.aggregations.avgScore).toBeCloseTo(
      withMissing.reduce((a, b) => a + b, 0) / withMissing.length,
      9,
    );
  });

  it('groups by field (by key, or the largest groups by count, with a sub-aggregation), per account over a time range', async () => {
    const query = q.range('start', { gte: BigInt(BASE + 4 * DAY), lt: BigInt(BASE + 16 * DAY) });
    const matching = rows.filter((row) =>
      matches(query, row as unknown as Record<string, unknown>),
    );
    const countBy = (key: (row: Session) => string) => {
      const counts = new Map<string, number>();
      for (const row of matching) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
      return counts;
    };
    const page = await client.search({
      table: sessions.name,
      index: INDEX,
      query,
      limit: 0,
      groupBys: [
        {
          name: 'byProtocol',
          kind: 'field',
          field: 'protocol',
          sort: [{ by: 'key', order: 'asc' }],
          subAggregations: [{ name: 'events', kind: 'sum', field: 'events' }],
        },
        {
          name: 'topUsers',
          kind: 'field',
          field: 'user',
          size: 3,
          sort: [{ by: 'count', order: 'desc' }],
        },
        { name: 'byOwner', kind: 'field', field: 'owner', size: 50 },
      ],
    });
    const protocols = countBy((row) => row.protocol);
    expect(bucketsOf(page.groupBys.byProtocol)).toEqual(
      [...protocols.keys()].sort().map((key) => ({
        key,
        count: protocols.get(key),
        aggregations: {
          events: matching
            .filter((row) => row.protocol === key)
            .reduce((sum, row) => sum + Number(row.events), 0),
        },
        groupBys: {},
      })),
    );
    const users = countBy((row) => row.user);
    const top = bucketsOf(page.groupBys.topUsers) as Array<{ key: string; count: number }>;
    expect(top).toHaveLength(3);
    for (const bucket of top) expect(bucket.count).toBe(users.get(bucket.key));
    expect(top.every((b, i) => i === 0 || b.count <= (top[i - 1] as { count: number }).count)).toBe(
      true,
    );
    const smallestTop = Math.min(...top.map((b) => b.count));
    for (const [user, count] of users) {
      if (!top.some((b) => b.key === user)) expect(count).toBeLessThanOrEqual(smallestTop);
    }
    const owners = countBy((row) => row.owner);
    const byOwner = bucketsOf(page.groupBys.byOwner) as Array<{ key: string; count: number }>;
    expect(new Map(byOwner.map((b) => [b.key, b.count]))).toEqual(owners);
  });

  it('groups by day, by ranges, by filters and by histogram', async () => {
    const query = q.all();
    const page = await client.search({
      table: sessions.name,
      index: INDEX,
      query,
      limit: 0,
      groupBys: [
        {
          name: 'perDay',
          kind: 'dateHistogram',
          field: 'start',
          interval: { value: 1, unit: 'day' },
          bounds: { min: BigInt(BASE - DAY), max: BigInt(BASE + 40 * DAY) },
          timeZone: '+00:00',
        },
        {
          name: 'scoreBands',
          kind: 'range',
          field: 'score',
          ranges: [{ to: 25 }, { from: 25, to: 75 }, { from: 75 }],
        },
        {
          name: 'filters',
          kind: 'filter',
          filters: [q.term('protocol', 'SSH'), q.range('events', { gte: 25n })],
        },
        {
          name: 'eventsBy10',
          kind: 'histogram',
          field: 'events',
          interval: 10n,
          bounds: { min: 0n, max: 100n },
        },
      ],
    });
    const perDay = new Map<number, number>();
    for (const row of rows) {
      const day = Math.floor(Number(row.start) / DAY) * DAY;
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const days = bucketsOf(page.groupBys.perDay) as Array<{ timeMs: number; count: number }>;
    expect(new Map(days.filter((b) => b.count > 0).map((b) => [b.timeMs, b.count]))).toEqual(
      perDay,
    );

    const band = (from: number, to: number) =>
      rows.filter((row) => row.score !== undefined && row.score >= from && row.score < to).length;
    expect(
      (
        bucketsOf(page.groupBys.scoreBands) as Array<{ from: number; to: number; count: number }>
      ).map((b) => b.count),
    ).toEqual([
      band(Number.NEGATIVE_INFINITY, 25),
      band(25, 75),
      band(75, Number.POSITIVE_INFINITY),
    ]);
    expect(
      (bucketsOf(page.groupBys.filters) as Array<{ count: number }>).map((b) => b.count),
    ).toEqual([
      rows.filter((row) => row.protocol === 'SSH').length,
      rows.filter((row) => row.events >= 25n).length,
    ]);
    const tens = new Map<bigint, number>();
    for (const row of rows) {
      const key = (row.events / 10n) * 10n;
      tens.set(key, (tens.get(key) ?? 0) + 1);
    }
    const histogram = bucketsOf(page.groupBys.eventsBy10) as Array<{
      key: bigint | number;
      count: number;
    }>;
    expect(
      new Map(histogram.filter((b) => b.count > 0).map((b) => [BigInt(b.key), b.count])),
    ).toEqual(tens);
  });
});

describe('parallel scan through the adapter', () => {
  it('reads every row of a query once, in pages, with the columns the index stores', async () => {
    const query = q.terms('protocol', ['SSH', 'SFTP']);
    const session = await client.computeSplits(sessions.name, INDEX);
    expect(session.splits).toBeGreaterThanOrEqual(1);
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.parallelScan({
        table: sessions.name,
        index: INDEX,
        session,
        query,
        limit: 25,
        columns: ['protocol'],
        ...(nextToken ? { nextToken } : {}),
      });
      for (const row of page.rows) expect(['SSH', 'SFTP']).toContain(row.columns.protocol);
      seen.push(...page.rows.map(rowId));
      nextToken = page.nextToken;
    } while (nextToken);
    const expected = rows.filter((row) =>
      matches(query, row as unknown as Record<string, unknown>),
    );
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen)).toEqual(new Set(expected.map(idOf)));
  });
});

describe('failures through the adapter', () => {
  const first = () =>
    client.search({
      table: sessions.name,
      index: INDEX,
      query: q.term('protocol', 'RDP'),
      sort: [{ field: 'start', order: 'desc' }],
      limit: 5,
    });

  it('a token cut short or altered, a string that is not a token, or pages another query is SearchTokenRejected', async () => {
    const token = (await first()).nextToken as string;
    const bytes = Buffer.from(token, 'base64');
    const truncated = bytes.subarray(0, bytes.length - 7).toString('base64');
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x01;
    const altered = bytes.toString('base64');
    const again = (nextToken: string, query: SearchQuery = q.term('protocol', 'RDP')) =>
      client.search({ table: sessions.name, index: INDEX, query, limit: 5, nextToken }).then(
        () => undefined,
        (error: unknown) => error,
      );
    for (const tampered of [truncated, altered]) {
      const rejected = await again(tampered);
      expect(rejected).toBeInstanceOf(SearchTokenRejected);
      expect((rejected as SearchTokenRejected).cause).toBeInstanceOf(TablestoreError);
    }
    const otherQuery = await again(token, q.term('protocol', 'SSH'));
    expect(otherQuery).toBeInstanceOf(SearchTokenRejected);
    expect((otherQuery as Error).message).toContain('another query');
    const calls = searchCalls();
    expect(await again('not a token!')).toBeInstanceOf(SearchTokenRejected);
    expect(searchCalls()).toBe(calls);
    // The token itself still pages its own query.
    expect((await again(token)) ?? 'ok').toBe('ok');
  });

  it('a parallel scan with a session ComputeSplits never issued is SearchTokenRejected', async () => {
    const error = await client
      .parallelScan({
        table: sessions.name,
        index: INDEX,
        session: { sessionId: Buffer.from('made-up').toString('base64'), splits: 1 },
        query: q.all(),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SearchTokenRejected);
  });

  it('a refused request is a final TablestoreError, sent once', async () => {
    const calls = searchCalls();
    const missing = await client
      .search({ table: sessions.name, index: 'no_such_index', query: q.all() })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TablestoreError);
    expect(missing).toMatchObject({ code: 'OTSObjectNotExist', failureClass: 'final' });
    const tooMany = await client
      .search({ table: sessions.name, index: INDEX, query: q.all(), columns: 'all', limit: 101 })
      .catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ code: 'OTSParameterInvalid', failureClass: 'final' });
    expect((tooMany as TablestoreError).serverMessage).toContain('limit');
    expect(searchCalls()).toBe(calls + 2);
  });

  it('a search the service throttled or failed with a 5xx is retried, as every read is', async () => {
    const events: RetryEvent[] = [];
    const retrying = clientOf('searchtest', {
      sleep: async () => {},
      onRetry: (event) => {
        events.push(event);
        cloud.control.clearFaults();
      },
    });
    for (const fault of [
      { kind: 'throttle' as const },
      { kind: 'error5xx' as const, status: 500 },
    ]) {
      cloud.control.addFault({ service: 'tablestore', action: 'Search', rate: 1, ...fault });
      const page = await retrying.search({
        table: sessions.name,
        index: INDEX,
        query: q.term('user', 'dave'),
        limit: 0,
        totalCount: true,
      });
      expect(page.totalCount).toBe(rows.filter((row) => row.user === 'dave').length);
    }
    expect(
      events.map((event) => [event.operation, event.error.code, event.error.failureClass]),
    ).toEqual([
      ['Search', 'OTSServerBusy', 'not-applied'],
      ['Search', 'OTSInternalServerError', 'maybe-applied'],
    ]);
  });
});

describe('search index lifecycle and setup through the adapter', () => {
  const table = defineTable({
    name: 'setup_sessions',
    primaryKey: [
      ['owner', 'string'],
      ['sessionId', 'string'],
    ],
    columns: {
      user: column.string(),
      asset: column.string(),
      protocol: column.string(),
      sourceIp: column.string(),
      start: column.int64(),
      end: column.int64().optional(),
      events: column.int64(),
      score: column.double().optional(),
      active: column.boolean().optional(),
      tags: column.json<string[]>().optional(),
      note: column.string().optional(),
      assets: column.json<Array<{ name: string; port: number }>>().optional(),
    },
    allowUpdate: false,
  });
  const v1 = declareSearchIndex(table, {
    family: 'setup_search',
    version: 1,
    fields: {
      user: { type: 'keyword', sortAndAgg: true },
      start: { type: 'date', sortAndAgg: true },
      note: { type: 'text', analyzer: { kind: 'split', delimiter: ' ' } },
    },
    indexSort: [{ field: 'start', order: 'desc' }],
  });
  const v2 = declareSearchIndex(table, {
    family: 'setup_search',
    version: 2,
    fields: {
      user: { type: 'keyword', sortAndAgg: true },
      start: { type: 'date', sortAndAgg: true },
      protocol: { type: 'keyword', sortAndAgg: true },
    },
  });
  let setup: Client;
  const data = makeSessions(50, 9);

  beforeAll(async () => {
    setup = clientOf('setuptest');
    await ensureTables(setup, [table.definition]);
    await writeSessions(setup, data, table);
  });

  it('creates a table that refuses UpdateRow when its definition says so, and keeps it so', async () => {
    expect((await setup.describeTable(table.name)).allowUpdate).toBe(false);
    expect(await ensureTables(setup, [table.definition])).toMatchObject({ optionsUpdated: [] });
    const key = table.key({ owner: data[0]?.owner as string, sessionId: 's00000' });
    const refused = await setup
      .updateRow(table.name, key, { put: { user: 'x' } })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OTSParameterInvalid', failureClass: 'final' });
  });

  it('creates, describes, lists, updates the time to live of and deletes an index', async () => {
    expect(await ensureSearchIndexes(setup, [v1])).toMatchObject({
      created: ['setup_sessions.setup_search_v1'],
      verified: [],
    });
    const described = await setup.describeSearchIndex(table.name, v1.name);
    expect(described).toMatchObject({
      table: table.name,
      name: 'setup_search_v1',
      syncPhase: 'incremental',
      rowCount: 50,
      timeToLiveSeconds: -1,
      status: 'running',
      indexSort: [{ field: 'start', order: 'desc' }],
    });
    expect(described.fields).toEqual([
      { name: 'user', type: 'keyword', sortAndAgg: true },
      { name: 'start', type: 'date', sortAndAgg: true },
      { name: 'note', type: 'text', analyzer: { kind: 'split', delimiter: ' ' } },
    ]);
    expect(described.syncedToMs).toBeGreaterThan(0);
    expect(await setup.listSearchIndexes(table.name)).toEqual([
      { table: table.name, index: 'setup_search_v1' },
    ]);
    expect(await setup.listSearchIndexes()).toContainEqual({
      table: table.name,
      index: 'setup_search_v1',
    });

    // Setup again: verified, and a changed time to live applied in place.
    expect(await ensureSearchIndexes(setup, [v1])).toMatchObject({
      created: [],
      verified: ['setup_sessions.setup_search_v1'],
      ttlUpdated: [],
    });
    expect(
      await ensureSearchIndexes(setup, [{ ...v1, timeToLiveSeconds: 30 * 86_400 }]),
    ).toMatchObject({ ttlUpdated: ['setup_sessions.setup_search_v1'] });
    expect((await setup.describeSearchIndex(table.name, v1.name)).timeToLiveSeconds).toBe(
      30 * 86_400,
    );
    await setup.updateSearchIndexTtl(table.name, v1.name, -1);

    // A changed schema under the same version stops setup, naming what differs.
    const changed = {
      ...v1,
      fields: v1.fields.map((f) => (f.name === 'user' ? { ...f, sortAndAgg: false } : f)),
    };
    const mismatch = await ensureSearchIndexes(setup, [changed]).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(SearchIndexSchemaMismatch);
    expect((mismatch as SearchIndexSchemaMismatch).problems).toEqual([
      {
        index: 'setup_sessions.setup_search_v1',
        problem: 'field user: sortAndAgg is true, declared false',
      },
    ]);

    await setup.deleteSearchIndex(table.name, v1.name);
    const gone = await setup.describeSearchIndex(table.name, v1.name).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'OTSObjectNotExist', failureClass: 'final' });
    expect(await setup.listSearchIndexes(table.name)).toEqual([]);
  });

  it('a new version is created beside the old one, queries stay on the old one until the new one has synced, then setup removes it', async () => {
    await ensureSearchIndexes(setup, [v1]);
    let now = 0;
    const selector = selectSearchIndex(setup, v2, { now: () => now, recheckMs: 1000 });
    // The FULL phase of the new version lasts until the visibility delay has passed.
    cloud.control.setSearchVisibilityDelay(60_000);
    try {
      const report = await ensureSearchIndexes(setup, [v2]);
      expect(report).toMatchObject({
        created: ['setup_sessions.setup_search_v2'],
        retiring: ['setup_sessions.setup_search_v1'],
        deleted: [],
      });
      expect((await setup.describeSearchIndex(table.name, v2.name)).syncPhase).toBe('full');
      expect(await selector.indexName()).toBe('setup_search_v1');
      const old = await setup.search({
        table: table.name,
        index: await selector.indexName(),
        query: q.term('user', 'alice'),
        limit: 3,
        totalCount: true,
      });
      expect(old.totalCount).toBe(data.filter((row) => row.user === 'alice').length);

      cloud.control.advanceClock(61);
      expect((await setup.describeSearchIndex(table.name, v2.name)).syncPhase).toBe('incremental');
      // Checked again only once recheckMs has passed.
      expect(await selector.indexName()).toBe('setup_search_v1');
      now += 1000;
      expect(await selector.indexName()).toBe('setup_search_v2');

      // A token of the old version does not page the new one.
      const rejected = await setup
        .search({
          table: table.name,
          index: 'setup_search_v2',
          query: q.term('user', 'alice'),
          limit: 3,
          nextToken: old.nextToken as string,
        })
        .catch((e: unknown) => e);
      expect(rejected).toBeInstanceOf(SearchTokenRejected);

      expect(await ensureSearchIndexes(setup, [v2])).toMatchObject({
        verified: ['setup_sessions.setup_search_v2'],
        deleted: ['setup_sessions.setup_search_v1'],
        retiring: [],
      });
      expect(await setup.listSearchIndexes(table.name)).toEqual([
        { table: table.name, index: 'setup_search_v2' },
      ]);
      // A deployment rolled back to v1 creates it again and leaves the newer version alone.
      expect(await ensureSearchIndexes(setup, [v1])).toMatchObject({
        created: ['setup_sessions.setup_search_v1'],
        newer: ['setup_sessions.setup_search_v2'],
      });
    } finally {
      cloud.control.setSearchVisibilityDelay(0);
    }
  });
});
