// The search-index operations: CreateSearchIndex, DescribeSearchIndex, ListSearchIndex,
// UpdateSearchIndex, DeleteSearchIndex, Search, ComputeSplits and ParallelScan. Each decodes its
// request, checks it as the service does, runs it on the model and encodes the response.

import { createHash, randomBytes } from 'node:crypto';
import { invalid, OtsError } from '../model/errors';
import {
  type Instance,
  installSearchIndex,
  removeSearchIndex,
  type SchemaChange,
} from '../model/instance';
import { readRow, type Table } from '../model/rows';
import { checkTableName } from '../model/schema';
import type { SearchIndex } from '../model/search-index';
import { checkPlan, runSearch, type SearchCursor, type SearchPlan } from '../model/search-query';
import {
  checkSearchIndexName,
  checkSearchIndexSchema,
  checkSearchIndexTtl,
  SEARCH_LIMITS,
  type SearchIndexMeta,
  type Sorter,
} from '../model/search-schema';
import type { Row } from '../model/values';
import { encodeRow } from './plainbuffer';
import { decodeSearch, encodeSearch, has } from './proto';
import { toPlainBufferRow } from './row-codec';
import {
  aggsFromProto,
  aggsResultProto,
  decodePart,
  fieldFromProto,
  fieldToProto,
  groupBysFromProto,
  groupBysResultProto,
  queryBytes,
  queryFromProto,
  sortFromProto,
  sortToProto,
} from './search-codec';

interface SearchScope {
  now: number;
  changed(change: SchemaChange): void;
}

export type SearchHandler = (instance: Instance, body: Buffer, scope: SearchScope) => Buffer;

function decodeRequest<T>(name: string, body: Buffer): T {
  try {
    return decodeSearch<T>(name, body);
  } catch {
    throw invalid('Cannot deserialize the request data.');
  }
}

function tableOf(instance: Instance, name: string | undefined): Table {
  if (!name) throw invalid('table_name must be set.');
  checkTableName(name);
  const table = instance.tables.get(name);
  if (!table || table.isIndex) throw invalid(`table [${name}] does not exist.`);
  return table;
}

function indexOf(
  instance: Instance,
  table: Table,
  name: string | undefined,
  missingCode = 'OTSObjectNotExist',
): SearchIndex {
  if (!name) throw invalid('index_name must be set.');
  const index = instance.searchIndexes.get(table.name)?.get(name);
  if (!index) {
    throw new OtsError(missingCode, `index [${name}] does not exist in table [${table.name}].`);
  }
  return index;
}

// ------------------------------------------------------------------------------ lifecycle

interface PbIndexSchema {
  fieldSchemas: Parameters<typeof fieldFromProto>[0][];
  indexSetting?: { numberOfShards?: number; routingFields: string[] };
  indexSort?: { sorter: Parameters<typeof sortFromProto>[0]['sorter'] };
}

const createSearchIndex: SearchHandler = (instance, body, scope) => {
  const request = decodeRequest<{
    tableName: string;
    indexName: string;
    schema?: PbIndexSchema;
    sourceIndexName?: string;
    timeToLive?: number;
  }>('CreateSearchIndexRequest', body);
  const table = tableOf(instance, request.tableName);
  checkSearchIndexName(request.indexName);
  if (request.sourceIndexName)
    throw invalid('source_index_name (index copy) is not emulated by localcloud.');
  if (!request.schema) throw invalid('The schema of a search index must be set.');
  if ((request.schema.indexSetting?.routingFields.length ?? 0) > 0)
    throw invalid('routing_fields are not emulated by localcloud.');
  if (instance.searchIndexes.get(table.name)?.has(request.indexName)) {
    throw new OtsError(
      'OTSObjectAlreadyExist',
      `index [${request.indexName}] already exists in table [${table.name}].`,
    );
  }
  const meta: SearchIndexMeta = {
    table: table.name,
    name: request.indexName,
    fields: request.schema.fieldSchemas.map(fieldFromProto),
    indexSort: request.schema.indexSort ? sortFromProto(request.schema.indexSort) : [],
    timeToLive: has(request, 'timeToLive') ? (request.timeToLive as number) : -1,
    createdAt: scope.now,
  };
  checkSearchIndexSchema(meta, table);
  installSearchIndex(instance, table, meta, 'full');
  scope.changed({ op: 'createSearchIndex', meta });
  return encodeSearch('CreateSearchIndexResponse', {});
};

const describeSearchIndex: SearchHandler = (instance, body) => {
  const request = decodeRequest<{ tableName?: string; indexName?: string }>(
    'DescribeSearchIndexRequest',
    body,
  );
  const table = tableOf(instance, request.tableName);
  const index = indexOf(instance, table, request.indexName);
  const phase = index.catchUp();
  const meta = index.meta;
  return encodeSearch('DescribeSearchIndexResponse', {
    schema: {
      fieldSchemas: meta.fields.map(fieldToProto),
      indexSetting: { numberOfShards: 1 },
      ...(meta.indexSort.length > 0 ? { indexSort: sortToProto(meta.indexSort) } : {}),
    },
    syncStat: {
      syncPhase: phase === 'FULL' ? 1 : 2,
      // Nanoseconds, as the service reports the point the index has caught up to.
      currentSyncTimestamp: (BigInt(Math.floor(index.syncedTo)) * 1_000_000n).toString(),
    },
    meteringInfo: {
      storageSize: index.storageBytes(),
      rowCount: index.rowCount(),
      reservedReadCu: 0,
      timestamp: index.syncedTo,
    },
    createTime: meta.createdAt,
    timeToLive: meta.timeToLive,
    indexStatus: { status: 3, statusDescription: 'RUNNING' },
  });
};

const listSearchIndex: SearchHandler = (instance, body) => {
  const request = decodeRequest<{ tableName?: string }>('ListSearchIndexRequest', body);
  const indices: Array<{ tableName: string; indexName: string }> = [];
  if (request.tableName) {
    const table = tableOf(instance, request.tableName);
    for (const name of [...(instance.searchIndexes.get(table.name)?.keys() ?? [])].sort())
      indices.push({ tableName: table.name, indexName: name });
  } else {
    for (const [tableName, byName] of [...instance.searchIndexes].sort(([a], [b]) =>
      a < b ? -1 : 1,
    )) {
      for (const name of [...byName.keys()].sort()) indices.push({ tableName, indexName: name });
    }
  }
  return encodeSearch('ListSearchIndexResponse', { indices });
};

const updateSearchIndex: SearchHandler = (instance, body, scope) => {
  const request = decodeRequest<{ tableName?: string; indexName?: string; timeToLive?: number }>(
    'UpdateSearchIndexRequest',
    body,
  );
  const table = tableOf(instance, request.tableName);
  const index = indexOf(instance, table, request.indexName);
  if (!has(request, 'timeToLive')) throw invalid('Nothing to update: set time_to_live.');
  const timeToLive = request.timeToLive as number;
  checkSearchIndexTtl(timeToLive, table);
  index.meta = { ...index.meta, timeToLive };
  scope.changed({ op: 'updateSearchIndex', table: table.name, index: index.meta.name, timeToLive });
  return encodeSearch('UpdateSearchIndexResponse', {});
};

const deleteSearchIndex: SearchHandler = (instance, body, scope) => {
  const request = decodeRequest<{ tableName?: string; indexName?: string }>(
    'DeleteSearchIndexRequest',
    body,
  );
  const table = tableOf(instance, request.tableName);
  const index = indexOf(instance, table, request.indexName);
  removeSearchIndex(instance, table.name, index.meta.name);
  scope.changed({ op: 'deleteSearchIndex', table: table.name, index: index.meta.name });
  return encodeSearch('DeleteSearchIndexResponse', {});
};

// ------------------------------------------------------------------------------ columns

type ReturnType = 'ALL' | 'SPECIFIED' | 'NONE' | 'ALL_FROM_INDEX';
const RETURN_TYPES: Record<number, ReturnType> = {
  1: 'ALL',
  2: 'SPECIFIED',
  3: 'NONE',
  4: 'ALL_FROM_INDEX',
};

interface ColumnsSpec {
  type: ReturnType;
  names: string[];
}

function columnsFromProto(
  pb: { returnType?: number; columnNames: string[] } | undefined,
): ColumnsSpec {
  if (!pb || !has(pb, 'returnType')) return { type: 'NONE', names: [] };
  const type = RETURN_TYPES[pb.returnType as number];
  if (!type) throw invalid(`Invalid columns_to_get return_type: ${pb.returnType}.`);
  if (type === 'SPECIFIED' && pb.columnNames.length === 0)
    throw invalid('columns_to_get RETURN_SPECIFIED needs column_names.');
  return { type, names: [...pb.columnNames] };
}

/** Stored top-level index fields (what RETURN_ALL_FROM_INDEX returns). */
function storedFields(index: SearchIndex): Set<string> {
  return new Set(index.meta.fields.filter((field) => field.store).map((field) => field.name));
}

/** True when every column to return can be read from the index alone. */
function fromIndexOnly(index: SearchIndex, table: Table, columns: ColumnsSpec): boolean {
  if (columns.type === 'NONE' || columns.type === 'ALL_FROM_INDEX') return true;
  if (columns.type === 'ALL') return false;
  const stored = storedFields(index);
  return columns.names.every(
    (name) => stored.has(name) || table.meta.primaryKey.some((column) => column.name === name),
  );
}

function rowToReturn(
  index: SearchIndex,
  table: Table,
  doc: number,
  columns: ColumnsSpec,
  now: number,
): Buffer {
  const key = index.docKeys[doc] as string;
  const stored = table.rows.get(key);
  const keyOnly: Row = { pk: stored?.pk ?? table.rows.primaryKey(key), columns: [] };
  if (columns.type === 'NONE' || !stored) return encodeRow(toPlainBufferRow(table, keyOnly, false));
  const names =
    columns.type === 'SPECIFIED'
      ? columns.names.filter(
          (name) => !table.meta.primaryKey.some((column) => column.name === name),
        )
      : columns.type === 'ALL_FROM_INDEX'
        ? [...storedFields(index)].filter(
            (name) => !table.meta.primaryKey.some((column) => column.name === name),
          )
        : [];
  if (columns.type !== 'ALL' && names.length === 0)
    return encodeRow(toPlainBufferRow(table, keyOnly, false));
  const read = readRow(table, stored, now, { columnsToGet: names, maxVersions: 1 });
  return encodeRow(toPlainBufferRow(table, read ?? keyOnly));
}

// ------------------------------------------------------------------------------ tokens

interface TokenBody {
  v: 1;
  /** The index the token belongs to (name and creation time). */
  i: string;
  /** Fingerprint of the query. */
  q: string;
  s: Sorter[];
  a: Array<number | string | null>;
  k: string;
}

function indexIdentity(index: SearchIndex): string {
  return `${index.meta.table}/${index.meta.name}@${index.meta.createdAt}`;
}

function encodeToken(index: SearchIndex, fingerprint: string, cursor: SearchCursor): Buffer {
  const body: TokenBody = {
    v: 1,
    i: indexIdentity(index),
    q: fingerprint,
    s: cursor.sorters,
    a: cursor.after,
    k: Buffer.from(cursor.key, 'latin1').toString('base64'),
  };
  const json = Buffer.from(
    JSON.stringify(body, (_key, value: unknown) =>
      typeof value === 'bigint' ? { $bigint: value.toString() } : value,
    ),
    'utf8',
  );
  return Buffer.concat([json, tokenCheck(json)]);
}

/**
 * The last bytes of a token: a digest of the rest, so a token altered by hand or damaged on the
 * way is refused rather than paging from wherever it now points (the service's tokens are opaque).
 */
function tokenCheck(json: Uint8Array): Buffer {
  return createHash('sha256').update(json).digest().subarray(0, TOKEN_CHECK_BYTES);
}

const TOKEN_CHECK_BYTES = 12;

function decodeToken(index: SearchIndex, fingerprint: string, bytes: Uint8Array): SearchCursor {
  const token = Buffer.from(bytes);
  const json = token.subarray(0, Math.max(0, token.length - TOKEN_CHECK_BYTES));
  if (!tokenCheck(json).equals(token.subarray(json.length)))
    throw invalid('Invalid next_token: it is not a token this service issued.');
  let body: TokenBody;
  try {
    body = JSON.parse(json.toString('utf8'), (_key, value: unknown) =>
      typeof value === 'object' && value !== null && '$bigint' in value
        ? BigInt((value as { $bigint: string }).$bigint)
        : value,
    ) as TokenBody;
  } catch {
    throw invalid('Invalid next_token: it is not a token this service issued.');
  }
  if (
    body?.v !== 1 ||
    !Array.isArray(body.s) ||
    !Array.isArray(body.a) ||
    typeof body.k !== 'string'
  )
    throw invalid('Invalid next_token: it is not a token this service issued.');
  if (body.i !== indexIdentity(index))
    throw invalid('Invalid next_token: it was issued for another search index.');
  if (body.q !== fingerprint)
    throw invalid(
      'Invalid next_token: it was issued for another query; a token pages the query it came from.',
    );
  return { sorters: body.s, after: body.a, key: Buffer.from(body.k, 'base64').toString('latin1') };
}

// ------------------------------------------------------------------------------ search

interface PbSearchQuery {
  offset?: number;
  limit?: number;
  query?: Parameters<typeof queryFromProto>[0];
  collapse?: object;
  sort?: Parameters<typeof sortFromProto>[0];
  getTotalCount?: boolean;
  token?: Uint8Array;
  aggs?: Parameters<typeof aggsFromProto>[0];
  groupBys?: Parameters<typeof groupBysFromProto>[0];
  highlight?: object;
}

function sameSort(a: readonly Sorter[], b: readonly Sorter[]): boolean {
  const text = (sorters: readonly Sorter[]) =>
    JSON.stringify(sorters, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    );
  return text(a) === text(b);
}

const search: SearchHandler = (instance, body, scope) => {
  const request = decodeRequest<{
    tableName?: string;
    indexName?: string;
    columnsToGet?: { returnType?: number; columnNames: string[] };
    searchQuery?: Uint8Array;
  }>('SearchRequest', body);
  const table = tableOf(instance, request.tableName);
  const index = indexOf(instance, table, request.indexName);
  if (!request.searchQuery || request.searchQuery.length === 0)
    throw invalid('search_query must be set.');
  const pb = decodePart<PbSearchQuery>('SearchQuery', request.searchQuery, 'search_query');
  if (pb.collapse) throw invalid('collapse is not emulated by localcloud.');
  if (pb.highlight) throw invalid('highlight is not emulated by localcloud.');
  const columns = columnsFromProto(request.columnsToGet);
  for (const name of columns.names) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,254}$/.test(name))
      throw invalid(`Invalid column name in columns_to_get: '${name}'.`);
  }
  const query = queryFromProto(pb.query);
  const fingerprint = createHash('sha256')
    .update(queryBytes(pb.query as Parameters<typeof queryBytes>[0]))
    .digest('base64');
  const offset = has(pb, 'offset') ? (pb.offset as number) : 0;
  const limit = has(pb, 'limit') ? (pb.limit as number) : SEARCH_LIMITS.defaultLimit;
  const maxLimit = fromIndexOnly(index, table, columns)
    ? SEARCH_LIMITS.maxLimitFromIndex
    : SEARCH_LIMITS.maxLimit;
  if (offset < 0) throw invalid(`Invalid offset: ${offset}. The offset must be >= 0.`);
  if (limit < 0 || limit > maxLimit) {
    throw invalid(
      `Invalid limit: ${limit}. The limit must be in [0, ${maxLimit}] (${SEARCH_LIMITS.maxLimitFromIndex} only when every column to return is stored in the search index).`,
    );
  }
  const sorters = pb.sort ? sortFromProto(pb.sort) : undefined;
  let cursor: SearchCursor | undefined;
  if (pb.token && pb.token.length > 0) {
    cursor = decodeToken(index, fingerprint, pb.token);
    if (offset !== 0) throw invalid('offset must be 0 when next_token is set.');
    if (sorters && !sameSort(sorters, cursor.sorters))
      throw invalid(
        'sort must not change while paging with next_token: the token carries the sort.',
      );
  } else if (offset + limit > SEARCH_LIMITS.maxOffsetPlusLimit) {
    throw invalid(
      `offset + limit must be <= ${SEARCH_LIMITS.maxOffsetPlusLimit}, got ${offset + limit}; use next_token to page further.`,
    );
  }
  const plan: SearchPlan = {
    query,
    ...(sorters ? { sorters } : {}),
    offset,
    limit,
    ...(cursor ? { cursor } : {}),
    getTotalCount: pb.getTotalCount === true,
    aggs: aggsFromProto(pb.aggs),
    groupBys: groupBysFromProto(pb.groupBys),
  };
  index.catchUp();
  checkPlan(index, plan);
  const outcome = runSearch(index, plan);
  const rows = outcome.docs.map((doc) => rowToReturn(index, table, doc, columns, scope.now));
  return encodeSearch('SearchResponse', {
    totalHits: outcome.totalHits,
    rows,
    isAllSucceeded: true,
    ...(outcome.next ? { nextToken: encodeToken(index, fingerprint, outcome.next) } : {}),
    ...(plan.aggs.length > 0
      ? { aggs: encodeSearch('AggregationsResult', aggsResultProto(outcome.aggs)) }
      : {}),
    ...(plan.groupBys.length > 0
      ? { groupBys: encodeSearch('GroupBysResult', groupBysResultProto(outcome.groupBys)) }
      : {}),
    consumed: { capacityUnit: { read: Math.max(1, rows.length), write: 0 } },
  });
};

// ------------------------------------------------------------------------------ parallel scan

/** Sessions ComputeSplits handed out, per instance (a scan names one). */
const sessionsOf = new WeakMap<Instance, Set<string>>();

function sessions(instance: Instance): Set<string> {
  let set = sessionsOf.get(instance);
  if (!set) {
    set = new Set();
    sessionsOf.set(instance, set);
  }
  return set;
}

const computeSplits: SearchHandler = (instance, body) => {
  const request = decodeRequest<{
    tableName?: string;
    searchIndexSplitsOptions?: { indexName?: string };
  }>('ComputeSplitsRequest', body);
  const table = tableOf(instance, request.tableName);
  indexOf(instance, table, request.searchIndexSplitsOptions?.indexName, 'OTSMetaNotMatch');
  const sessionId = randomBytes(16).toString('hex');
  sessions(instance).add(sessionId);
  return encodeSearch('ComputeSplitsResponse', {
    sessionId: Buffer.from(sessionId),
    splitsSize: 1,
  });
};

const parallelScan: SearchHandler = (instance, body, scope) => {
  const request = decodeRequest<{
    tableName?: string;
    indexName?: string;
    columnsToGet?: { returnType?: number; columnNames: string[] };
    sessionId?: Uint8Array;
    scanQuery?: {
      query?: Parameters<typeof queryFromProto>[0];
      limit?: number;
      token?: Uint8Array;
      currentParallelId?: number;
      maxParallel?: number;
    };
  }>('ParallelScanRequest', body);
  const table = tableOf(instance, request.tableName);
  const index = indexOf(instance, table, request.indexName);
  const session = request.sessionId ? Buffer.from(request.sessionId).toString() : '';
  if (!sessions(instance).has(session))
    throw new OtsError('OTSSessionNotExist', 'The session_id is not one ComputeSplits issued.');
  const scan = request.scanQuery;
  if (!scan) throw invalid('scan_query must be set.');
  const maxParallel = scan.maxParallel ?? 1;
  const current = scan.currentParallelId ?? 0;
  if (maxParallel !== 1 || current !== 0) {
    throw invalid(
      `Invalid parallel id ${current} of ${maxParallel}: ComputeSplits answered splits_size 1, so max_parallel must be 1 and current_parallel_id 0.`,
    );
  }
  const limit = has(scan, 'limit') ? (scan.limit as number) : SEARCH_LIMITS.parallelScanLimit;
  if (limit <= 0 || limit > SEARCH_LIMITS.parallelScanLimit) {
    throw invalid(
      `Invalid limit: ${limit}. The limit must be in [1, ${SEARCH_LIMITS.parallelScanLimit}].`,
    );
  }
  const columns = columnsFromProto(request.columnsToGet);
  if (columns.type === 'ALL')
    throw invalid(
      'ParallelScan returns columns stored in the search index only: RETURN_ALL is not allowed.',
    );
  if (!fromIndexOnly(index, table, columns))
    throw invalid('ParallelScan returns columns stored in the search index only.');
  const query = queryFromProto(scan.query);
  const fingerprint = createHash('sha256')
    .update(queryBytes(scan.query as Parameters<typeof queryBytes>[0]))
    .digest('base64');
  const plan: SearchPlan = {
    query,
    sorters: [{ kind: 'pk', order: 'ASC' }],
    offset: 0,
    limit,
    getTotalCount: false,
    aggs: [],
    groupBys: [],
    ...(scan.token && scan.token.length > 0
      ? { cursor: decodeToken(index, fingerprint, scan.token) }
      : {}),
  };
  index.catchUp();
  checkPlan(index, plan);
  const outcome = runSearch(index, plan);
  return encodeSearch('ParallelScanResponse', {
    rows: outcome.docs.map((doc) => rowToReturn(index, table, doc, columns, scope.now)),
    ...(outcome.next ? { nextToken: encodeToken(index, fingerprint, outcome.next) } : {}),
  });
};

export const SEARCH_OPERATIONS: Record<string, SearchHandler> = {
  CreateSearchIndex: createSearchIndex,
  DescribeSearchIndex: describeSearchIndex,
  ListSearchIndex: listSearchIndex,
  UpdateSearchIndex: updateSearchIndex,
  DeleteSearchIndex: deleteSearchIndex,
  Search: search,
  ComputeSplits: computeSplits,
  ParallelScan: parallelScan,
};
