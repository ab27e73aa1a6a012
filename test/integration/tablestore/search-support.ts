// Search-index test support: a session-audit-like table, rows generated from a seed, SDK request
// builders, and brute-force answers computed over the same rows in plain TypeScript (so tests
// check the emulator rather than copy it).

import { long, type SdkClient, type SdkRow, TableStore } from './sdk';

export const TABLE = 'sessions';
export const INDEX = 'sessions_index';

export interface SessionRow {
  id: string;
  account?: string;
  user?: string;
  protocol?: string;
  ip?: string;
  /** epoch ms */
  start?: number;
  duration?: number;
  score?: number;
  active?: boolean;
  tags?: string[];
  note?: string;
  assets?: Array<{ name: string; port: number }>;
}

/** A small deterministic generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACCOUNTS = ['1001', '1002', '1003', '1004', '1005'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const PROTOCOLS = ['SSH', 'RDP', 'SFTP', 'MySQL'];
const WORDS = ['disk', 'full', 'reboot', 'kernel', 'patch', 'login', 'failed', 'root', 'backup'];
export const BASE_TIME = Date.UTC(2024, 4, 1);

export function sessionRows(count: number, seed: number, prefix = 's'): SessionRow[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const rows: SessionRow[] = [];
  for (let i = 0; i < count; i++) {
    const row: SessionRow = { id: `${prefix}${String(i).padStart(5, '0')}` };
    if (next() < 0.95) row.account = pick(ACCOUNTS);
    if (next() < 0.9) row.user = pick(USERS);
    row.protocol = pick(PROTOCOLS);
    row.ip = `10.0.${Math.floor(next() * 4)}.${Math.floor(next() * 20)}`;
    if (next() < 0.9) row.start = BASE_TIME + Math.floor(next() * 40 * 86_400_000);
    if (next() < 0.85) row.duration = Math.floor(next() * 5000);
    if (next() < 0.8) row.score = Math.round(next() * 1000) / 10;
    if (next() < 0.9) row.active = next() < 0.5;
    if (next() < 0.7) row.tags = [...new Set([pick(WORDS), pick(WORDS)])];
    if (next() < 0.8) row.note = `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`;
    if (next() < 0.6)
      row.assets = [
        { name: `host-${Math.floor(next() * 5)}`, port: pick([22, 3389, 3306]) },
        { name: `host-${Math.floor(next() * 5)}`, port: pick([22, 3389, 3306]) },
      ];
    rows.push(row);
  }
  return rows;
}

export function attributes(row: SessionRow): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  if (row.account !== undefined) out.push({ account: row.account });
  if (row.user !== undefined) out.push({ user: row.user });
  if (row.protocol !== undefined) out.push({ protocol: row.protocol });
  if (row.ip !== undefined) out.push({ ip: row.ip });
  if (row.start !== undefined) out.push({ start: long(row.start) });
  if (row.duration !== undefined) out.push({ duration: long(row.duration) });
  if (row.score !== undefined) out.push({ score: row.score });
  if (row.active !== undefined) out.push({ active: row.active });
  if (row.tags !== undefined) out.push({ tags: JSON.stringify(row.tags) });
  if (row.note !== undefined) out.push({ note: row.note });
  if (row.assets !== undefined) out.push({ assets: JSON.stringify(row.assets) });
  return out;
}

export async function createSessionsTable(
  client: SdkClient,
  options: { timeToLive?: number; allowUpdate?: boolean } = {},
): Promise<void> {
  await client.createTable({
    tableMeta: { tableName: TABLE, primaryKey: [{ name: 'id', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: {
      timeToLive: options.timeToLive ?? -1,
      maxVersions: 1,
      ...(options.allowUpdate === false ? { allowUpdate: false } : {}),
    },
  });
}

const F = TableStore.FieldType;

export function sessionFields(): Array<Record<string, unknown>> {
  return [
    { fieldName: 'id', fieldType: F.KEYWORD, enableSortAndAgg: true, index: true },
    { fieldName: 'account', fieldType: F.KEYWORD, enableSortAndAgg: true, index: true },
    { fieldName: 'user', fieldType: F.KEYWORD, enableSortAndAgg: true, index: true },
    { fieldName: 'protocol', fieldType: F.KEYWORD, enableSortAndAgg: true, index: true },
    { fieldName: 'ip', fieldType: F.KEYWORD, index: true },
    { fieldName: 'start', fieldType: F.DATE, enableSortAndAgg: true, index: true },
    { fieldName: 'duration', fieldType: F.LONG, enableSortAndAgg: true, index: true },
    { fieldName: 'score', fieldType: F.DOUBLE, enableSortAndAgg: true, index: true },
    { fieldName: 'active', fieldType: F.BOOLEAN, enableSortAndAgg: true, index: true },
    {
      fieldName: 'tags',
      fieldType: F.KEYWORD,
      isAnArray: true,
      enableSortAndAgg: true,
      index: true,
    },
    {
      fieldName: 'note',
      fieldType: F.TEXT,
      analyzer: 'single_word',
      analyzerParameter: { caseSensitive: false },
      index: true,
    },
    {
      fieldName: 'assets',
      fieldType: F.NESTED,
      fieldSchemas: [
        { fieldName: 'name', fieldType: F.KEYWORD, index: true, enableSortAndAgg: true },
        { fieldName: 'port', fieldType: F.LONG, index: true, enableSortAndAgg: true },
      ],
    },
  ];
}

export async function createSessionsIndex(
  client: SdkClient,
  options: {
    timeToLive?: number;
    indexName?: string;
    fields?: Array<Record<string, unknown>>;
  } = {},
): Promise<void> {
  await client.createSearchIndex({
    tableName: TABLE,
    indexName: options.indexName ?? INDEX,
    schema: { fieldSchemas: options.fields ?? sessionFields() },
    ...(options.timeToLive !== undefined ? { timeToLive: options.timeToLive } : {}),
  });
}

export async function writeRows(client: SdkClient, rows: readonly SessionRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await client.batchWriteRow({
      tables: [
        {
          tableName: TABLE,
          rows: rows.slice(i, i + 200).map((row) => ({
            type: 'PUT',
            condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
            primaryKey: [{ id: row.id }],
            attributeColumns: attributes(row),
          })),
        },
      ],
    });
  }
}

export async function deleteRow(client: SdkClient, id: string): Promise<void> {
  await client.deleteRow({
    tableName: TABLE,
    condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
    primaryKey: [{ id }],
  });
}

// ------------------------------------------------------------------------------ SDK queries

const Q = TableStore.QueryType;

/** Queries as the SDK takes them, plus what the brute force needs to evaluate them. */
export type TestQuery =
  | { kind: 'all' }
  | { kind: 'term'; field: string; value: string | number | boolean }
  | { kind: 'terms'; field: string; values: Array<string | number> }
  | {
      kind: 'range';
      field: string;
      from?: string | number;
      to?: string | number;
      includeLower?: boolean;
      includeUpper?: boolean;
    }
  | { kind: 'prefix'; field: string; prefix: string }
  | { kind: 'wildcard'; field: string; pattern: string }
  | { kind: 'exists'; field: string }
  | { kind: 'match'; field: string; text: string; and?: boolean; minimumShouldMatch?: number }
  | { kind: 'phrase'; field: string; text: string }
  | {
      kind: 'bool';
      must?: TestQuery[];
      mustNot?: TestQuery[];
      filter?: TestQuery[];
      should?: TestQuery[];
      minimumShouldMatch?: number;
    }
  | { kind: 'nested'; path: string; query: TestQuery };

/** LONG/DATE fields take integer values (the SDK sends JS numbers as DOUBLE otherwise). */
const INTEGER_FIELDS = new Set(['start', 'duration', 'assets.port']);

function sdkValue(field: string, value: string | number | boolean): unknown {
  return typeof value === 'number' && INTEGER_FIELDS.has(field) ? long(value) : value;
}

export function sdkQuery(query: TestQuery): Record<string, unknown> {
  switch (query.kind) {
    case 'all':
      return { queryType: Q.MATCH_ALL_QUERY };
    case 'term':
      return {
        queryType: Q.TERM_QUERY,
        query: { fieldName: query.field, term: sdkValue(query.field, query.value) },
      };
    case 'terms':
      return {
        queryType: Q.TERMS_QUERY,
        query: { fieldName: query.field, terms: query.values.map((v) => sdkValue(query.field, v)) },
      };
    case 'range':
      return {
        queryType: Q.RANGE_QUERY,
        query: {
          fieldName: query.field,
          ...(query.from !== undefined
            ? {
                rangeFrom: sdkValue(query.field, query.from),
                includeLower: query.includeLower ?? true,
              }
            : {}),
          ...(query.to !== undefined
            ? {
                rangeTo: sdkValue(query.field, query.to),
                includeUpper: query.includeUpper ?? false,
              }
            : {}),
        },
      };
    case 'prefix':
      return { queryType: Q.PREFIX_QUERY, query: { fieldName: query.field, prefix: query.prefix } };
    case 'wildcard':
      return {
        queryType: Q.WILDCARD_QUERY,
        query: { fieldName: query.field, value: query.pattern },
      };
    case 'exists':
      return { queryType: Q.EXISTS_QUERY, query: { fieldName: query.field } };
    case 'match':
      return {
        queryType: Q.MATCH_QUERY,
        query: {
          fieldName: query.field,
          text: query.text,
          ...(query.and ? { operator: TableStore.QueryOperator.AND } : {}),
          ...(query.minimumShouldMatch ? { minimumShouldMatch: query.minimumShouldMatch } : {}),
        },
      };
    case 'phrase':
      return {
        queryType: Q.MATCH_PHRASE_QUERY,
        query: { fieldName: query.field, text: query.text },
      };
    case 'bool':
      return {
        queryType: Q.BOOL_QUERY,
        query: {
          ...(query.must ? { mustQueries: query.must.map(sdkQuery) } : {}),
          ...(query.mustNot ? { mustNotQueries: query.mustNot.map(sdkQuery) } : {}),
          ...(query.filter ? { filterQueries: query.filter.map(sdkQuery) } : {}),
          ...(query.should
            ? {
                shouldQueries: query.should.map(sdkQuery),
                minimumShouldMatch: query.minimumShouldMatch ?? 1,
              }
            : {}),
        },
      };
    case 'nested':
      return {
        queryType: Q.NESTED_QUERY,
        query: { path: query.path, query: sdkQuery(query.query) },
      };
  }
}

// ------------------------------------------------------------------------------ brute force

type Plain = string | number | boolean;

function valuesOf(row: Record<string, unknown>, field: string): Plain[] {
  const value = row[field];
  if (value === undefined) return [];
  if (field === 'active') return [value as boolean];
  return Array.isArray(value) ? (value as Plain[]) : [value as Plain];
}

/** Tokens the default (single_word) analyzer makes: lower-cased runs of letters and digits. */
export function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) as string[];
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareValues(a: Plain, b: Plain): number {
  if (typeof a === 'string' && typeof b === 'string') return byteCompare(a, b);
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function matches(query: TestQuery, row: Record<string, unknown>): boolean {
  switch (query.kind) {
    case 'all':
      return true;
    case 'term':
      if (query.field === 'note')
        return tokens(String(row.note ?? '')).includes(String(query.value));
      return valuesOf(row, query.field).some((v) => v === query.value);
    case 'terms':
      return valuesOf(row, query.field).some((v) => query.values.includes(v as string | number));
    case 'range':
      return valuesOf(row, query.field).some((v) => {
        if (query.from !== undefined) {
          const c = compareValues(v, query.from);
          if (c < 0 || (c === 0 && !(query.includeLower ?? true))) return false;
        }
        if (query.to !== undefined) {
          const c = compareValues(v, query.to);
          if (c > 0 || (c === 0 && !(query.includeUpper ?? false))) return false;
        }
        return true;
      });
    case 'prefix':
      if (query.field === 'note')
        return tokens(String(row.note ?? '')).some((t) => t.startsWith(query.prefix));
      return valuesOf(row, query.field).some((v) => String(v).startsWith(query.prefix));
    case 'wildcard': {
      const regex = new RegExp(
        `^${query.pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replaceAll('*', '.*')
          .replaceAll('?', '.')}$`,
      );
      return valuesOf(row, query.field).some((v) => regex.test(String(v)));
    }
    case 'exists':
      return valuesOf(row, query.field).length > 0;
    case 'match': {
      const wanted = [...new Set(tokens(query.text))];
      const have = new Set(tokens(String(row[query.field] ?? '')));
      const hits = wanted.filter((t) => have.has(t)).length;
      return query.and
        ? wanted.length > 0 && hits === wanted.length
        : hits >= (query.minimumShouldMatch ?? 1);
    }
    case 'phrase': {
      const phrase = tokens(query.text);
      const have = tokens(String(row[query.field] ?? ''));
      for (let i = 0; i + phrase.length <= have.length; i++)
        if (phrase.every((t, j) => have[i + j] === t)) return true;
      return false;
    }
    case 'bool': {
      if (!(query.must ?? []).every((q) => matches(q, row))) return false;
      if (!(query.filter ?? []).every((q) => matches(q, row))) return false;
      if ((query.mustNot ?? []).some((q) => matches(q, row))) return false;
      const should = query.should ?? [];
      if (should.length === 0) return true;
      return should.filter((q) => matches(q, row)).length >= (query.minimumShouldMatch ?? 1);
    }
    case 'nested': {
      const children = (row[query.path] as Array<Record<string, unknown>> | undefined) ?? [];
      const strip = (q: TestQuery): TestQuery => {
        if ('field' in q) return { ...q, field: q.field.slice(query.path.length + 1) } as TestQuery;
        if (q.kind === 'bool')
          return {
            ...q,
            must: q.must?.map(strip),
            mustNot: q.mustNot?.map(strip),
            filter: q.filter?.map(strip),
            should: q.should?.map(strip),
          } as TestQuery;
        return q;
      };
      return children.some((child) => matches(strip(query.query), child));
    }
  }
}

export interface TestSort {
  field: string;
  desc?: boolean;
  missingFirst?: boolean;
}

/** Sort as the service does: each sorter (missing last unless first), then the key ascending. */
export function compareRows(sorts: readonly TestSort[]) {
  return (a: SessionRow, b: SessionRow): number => {
    for (const sort of sorts) {
      const pick = (row: SessionRow): Plain | undefined => {
        const values = valuesOf(row as unknown as Record<string, unknown>, sort.field);
        if (values.length === 0) return undefined;
        return [...values].sort(compareValues)[sort.desc ? values.length - 1 : 0];
      };
      const va = pick(a);
      const vb = pick(b);
      if (va === undefined || vb === undefined) {
        if (va === vb) continue;
        const first = sort.missingFirst === true;
        return va === undefined ? (first ? -1 : 1) : first ? 1 : -1;
      }
      const c = compareValues(
        typeof va === 'boolean' ? Number(va) : va,
        typeof vb === 'boolean' ? Number(vb) : vb,
      );
      if (c !== 0) return sort.desc ? -c : c;
    }
    return byteCompare(a.id, b.id);
  };
}

export function sdkSort(sorts: readonly TestSort[]): Record<string, unknown> {
  return {
    sorters: sorts.map((sort) =>
      sort.field === 'id' && !sort.missingFirst
        ? {
            primaryKeySort: {
              order: sort.desc
                ? TableStore.SortOrder.SORT_ORDER_DESC
                : TableStore.SortOrder.SORT_ORDER_ASC,
            },
          }
        : {
            fieldSort: {
              fieldName: sort.field,
              order: sort.desc
                ? TableStore.SortOrder.SORT_ORDER_DESC
                : TableStore.SortOrder.SORT_ORDER_ASC,
              ...(sort.missingFirst ? { missing: '_first' } : {}),
            },
          },
    ),
  };
}

export function idsOf(rows: readonly SdkRow[]): string[] {
  return rows.map((row) => String(row.primaryKey?.[0]?.value));
}

export function expectedIds(
  rows: readonly SessionRow[],
  query: TestQuery,
  sorts: readonly TestSort[] = [],
): string[] {
  return rows
    .filter((row) => matches(query, row as unknown as Record<string, unknown>))
    .sort(compareRows(sorts))
    .map((row) => row.id);
}

export async function search(
  client: SdkClient,
  searchQuery: Record<string, unknown>,
  columnToGet: Record<string, unknown> = { returnType: TableStore.ColumnReturnType.RETURN_NONE },
) {
  return client.search({ tableName: TABLE, indexName: INDEX, searchQuery, columnToGet });
}

/** Every page of a query by next_token; returns the ids in order and how many requests it took. */
export async function pageAll(
  client: SdkClient,
  query: TestQuery,
  sorts: readonly TestSort[] | undefined,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: Buffer | null = null;
  let pages = 0;
  do {
    const response = await search(client, {
      query: sdkQuery(query),
      limit,
      ...(token ? { token } : sorts ? { sort: sdkSort(sorts) } : {}),
    });
    ids.push(...idsOf(response.rows));
    token = response.nextToken && response.nextToken.length > 0 ? response.nextToken : null;
    pages++;
    if (token && between) await between(pages);
  } while (token);
  return { ids, pages };
}
