// The Tablestore client the application uses: SDK-free types in and out, errors decoded into
// TablestoreError, retries owned here (rules in retry.ts), GetRange paging and batches split at
// the service limits.

import { backoffDelay, type RetryPolicy, type RetryTimers, sleep } from '../../runtime/retry';
import {
  BATCH_GET_MAX_ROWS,
  BATCH_WRITE_LIMITS,
  estimateWriteBytes,
  rowIdentity,
  splitIntoBatches,
} from './batch';
import {
  classifyFailure,
  rejectsSearchToken,
  type SdkErrorAndResponse,
  SearchTokenRejected,
  TablestoreError,
  toTablestoreError,
} from './errors';
import {
  mayRetry,
  type RepeatSafety,
  repeatSafetyOf,
  showsEffectOf,
  TABLESTORE_RETRY_POLICY,
} from './retry';
import {
  callSdk,
  columnConditionToSdk,
  columnsToSdk,
  conditionToSdk,
  createIndexParams,
  createSdkClient,
  createTableParams,
  describeFromSdk,
  keepAliveAgent,
  primaryKeyFromSdk,
  primaryKeyToSdk,
  rowFromSdk,
  rowWriteToSdk,
  SdkCallFailure,
  type SdkClient,
  type SdkCredentials,
  updateToSdk,
} from './sdk';
import {
  createSearchIndexParams,
  describeSearchIndexFromSdk,
  isSearchTokenForm,
  parallelScanParams,
  scanPageFromSdk,
  searchPageFromSdk,
  searchParams,
} from './search-sdk';
import type {
  ScanPage,
  ScanRequest,
  ScanSession,
  SearchIndexDefinition,
  SearchIndexDescription,
  SearchPage,
  SearchRequest,
  TablestoreSearchClient,
} from './search-types';
import type {
  Columns,
  Condition,
  IndexDefinition,
  PrimaryKey,
  RangePage,
  RangeRequest,
  Row,
  RowUpdate,
  RowWrite,
  TableDefinition,
  TableDescription,
} from './types';

export type TablestoreCredentials = SdkCredentials;

export interface RetryEvent {
  operation: string;
  table: string | undefined;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  error: TablestoreError;
}

export interface TablestoreClientOptions extends RetryTimers {
  /** Full URL of the instance: https://<instance>.<region>.ots.aliyuncs.com, or http for local. */
  endpoint: string;
  instanceName: string;
  /**
   * Called before every request. FC hands each invocation fresh credentials: when they change
   * the SDK client is rebuilt. Never logged.
   */
  credentials: () => TablestoreCredentials;
  retry?: Partial<RetryPolicy>;
  /** Socket timeout per request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Told about each retry, e.g. to log it (the event holds no credentials). */
  onRetry?: (event: RetryEvent) => void;
}

export type RowWriteResult = { ok: true } | { ok: false; error: TablestoreError };

export interface RangeOptions {
  /** Rows per GetRange call (the service caps a page at 5,000 rows / 4 MB). */
  pageSize?: number;
  /** Stop after this many rows. */
  maxRows?: number;
}

export interface TablestoreClient {
  getRow(
    table: string,
    primaryKey: PrimaryKey,
    options?: { columns?: readonly string[] },
  ): Promise<Row | undefined>;
  putRow(
    table: string,
    primaryKey: PrimaryKey,
    columns: Columns,
    options?: { condition?: Condition },
  ): Promise<void>;
  updateRow(
    table: string,
    primaryKey: PrimaryKey,
    update: RowUpdate,
    options?: { condition?: Condition },
  ): Promise<void>;
  deleteRow(
    table: string,
    primaryKey: PrimaryKey,
    options?: { condition?: Condition },
  ): Promise<void>;
  /** One GetRange call. */
  getRange(request: RangeRequest & { limit?: number }): Promise<RangePage>;
  /** Every row of the range, following next_start_primary_key page by page. */
  iterateRange(request: RangeRequest & RangeOptions): AsyncGenerator<Row, void, undefined>;
  /** Rows in the order of `keys`; undefined where a row does not exist. Split at 100 rows. */
  batchGetRows(
    table: string,
    keys: readonly PrimaryKey[],
    options?: { columns?: readonly string[] },
  ): Promise<Array<Row | undefined>>;
  /** Per-row results in the order of `writes`. Split at 200 rows / 4 MB, sent in order. */
  batchWriteRows(writes: readonly RowWrite[]): Promise<RowWriteResult[]>;
  listTables(): Promise<string[]>;
  describeTable(table: string): Promise<TableDescription>;
  createTable(definition: TableDefinition): Promise<void>;
  updateTableOptions(
    table: string,
    options: { timeToLiveSeconds: number; maxVersions: number; allowUpdate?: boolean },
  ): Promise<void>;
  createIndex(table: string, index: IndexDefinition): Promise<void>;
  deleteTable(table: string): Promise<void>;
}

/** Some rows of a batch failed; `failures` names each by its position in the batch. */
export class BatchWriteError extends Error {
  override readonly name = 'BatchWriteError';
  constructor(readonly failures: Array<{ index: number; table: string; error: TablestoreError }>) {
    const first = failures[0];
    super(
      `${failures.length} row write(s) of a batch failed` +
        (first
          ? `; first: row ${first.index} of table ${first.table}: ${first.error.message}`
          : ''),
    );
  }
}

/** Throws BatchWriteError unless every row of the batch succeeded. */
export function assertBatchSucceeded(
  writes: readonly RowWrite[],
  results: readonly RowWriteResult[],
): void {
  const failures: BatchWriteError['failures'] = [];
  results.forEach((result, index) => {
    if (!result.ok)
      failures.push({ index, table: writes[index]?.table ?? '?', error: result.error });
  });
  if (failures.length > 0) throw new BatchWriteError(failures);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

function checkColumnNames(table: string, names: Iterable<string>): void {
  for (const name of names) {
    if (!NAME.test(name)) {
      throw new TypeError(`table ${table}: invalid column name ${JSON.stringify(name)}`);
    }
    // The SDK treats a column literally named `timestamp` as the cell's version timestamp.
    if (name === 'timestamp') {
      throw new TypeError(
        `table ${table}: an attribute column may not be named "timestamp" (the SDK reads it as a cell version)`,
      );
    }
  }
}

function checkWrite(write: RowWrite): void {
  if (write.type === 'put') checkColumnNames(write.table, Object.keys(write.columns));
  if (write.type === 'update') {
    const u = write.update;
    checkColumnNames(write.table, [
      ...Object.keys(u.put ?? {}),
      ...(u.delete ?? []),
      ...Object.keys(u.increment ?? {}),
    ]);
  }
}

/** What a failed call threw: the SDK's failure, or anything thrown before the SDK answered. */
function asFailure(raw: unknown): SdkErrorAndResponse {
  return raw instanceof SdkCallFailure ? raw : { error: raw };
}

interface BatchItem {
  write: RowWrite;
  index: number;
}

interface SdkBatchRowResult {
  isOk: boolean;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/** The client of rows and tables, and of search indexes (search-types.ts). */
export function createTablestoreClient(
  options: TablestoreClientOptions,
): TablestoreClient & TablestoreSearchClient {
  return new SdkTablestoreClient(options);
}

class SdkTablestoreClient implements TablestoreClient, TablestoreSearchClient {
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly agent;
  private current: { credentials: TablestoreCredentials; client: SdkClient } | undefined;

  constructor(private readonly options: TablestoreClientOptions) {
    this.policy = { ...TABLESTORE_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
    this.agent = keepAliveAgent(options.endpoint);
  }

  private sdkClient(): SdkClient {
    const credentials = this.options.credentials();
    if (!credentials.accessKeyId || !credentials.accessKeySecret) {
      throw new Error(
        'Tablestore credentials are incomplete: an AccessKeyId and its secret are required',
      );
    }
    const cached = this.current;
    if (
      cached &&
      cached.credentials.accessKeyId === credentials.accessKeyId &&
      cached.credentials.accessKeySecret === credentials.accessKeySecret &&
      cached.credentials.securityToken === credentials.securityToken
    ) {
      return cached.client;
    }
    const client = createSdkClient({
      endpoint: this.options.endpoint,
      instanceName: this.options.instanceName,
      credentials,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
      agent: this.agent,
    });
    this.current = { credentials: { ...credentials }, client };
    return client;
  }

  private async call(operation: string, params: unknown): Promise<unknown> {
    return callSdk(this.sdkClient(), operation, params);
  }

  private async backoff(
    operation: string,
    table: string | undefined,
    attempt: number,
    error: TablestoreError,
  ) {
    const delayMs = backoffDelay(attempt - 1, this.policy, this.random);
    this.options.onRetry?.({ operation, table, attempt, delayMs, error });
    await this.sleep(delayMs);
  }

  /**
   * Runs `send` until it succeeds or the rules of retry.ts say stop. `readBack` resolves a
   * condition failure that follows a maybe-applied attempt (true: the write had landed).
   */
  private async withRetry<T>(
    operation: string,
    table: string | undefined,
    safety: RepeatSafety,
    send: () => Promise<T>,
    readBack?: () => Promise<boolean>,
  ): Promise<{ value: T } | { landedEarlier: true }> {
    let maybeApplied = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await send() };
      } catch (raw) {
        const error = toTablestoreError(asFailure(raw), { operation, table });
        if (error.code === 'OTSConditionCheckFail' && maybeApplied && readBack) {
          if (await readBack()) return { landedEarlier: true };
          throw error;
        }
        if (!mayRetry(error.failureClass, safety) || attempt >= this.policy.maxAttempts)
          throw error;
        if (error.failureClass === 'maybe-applied') maybeApplied = true;
        await this.backoff(operation, table, attempt, error);
      }
    }
  }

  /** A call whose repeat is harmless (reads, table operations), retried per retry.ts. */
  private async retrying(
    operation: string,
    table: string | undefined,
    safety: 'read' | 'idempotent',
    sdkOperation: string,
    params: unknown,
  ): Promise<unknown> {
    const result = await this.withRetry(operation, table, safety, () =>
      this.call(sdkOperation, params),
    );
    return 'value' in result ? result.value : undefined;
  }

  private async writeRow(
    write: RowWrite,
    operation: string,
    sdkOperation: string,
    params: unknown,
  ) {
    await this.withRetry(
      operation,
      write.table,
      repeatSafetyOf(write),
      () => this.call(sdkOperation, params),
      async () => showsEffectOf(write, await this.getRow(write.table, write.primaryKey)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Rows

  async getRow(
    table: string,
    primaryKey: PrimaryKey,
    options: { columns?: readonly string[] } = {},
  ) {
    const params = {
      tableName: table,
      primaryKey: primaryKeyToSdk(primaryKey),
      maxVersions: 1,
      ...(options.columns ? { columnsToGet: [...options.columns] } : {}),
    };
    const data = (await this.retrying('GetRow', table, 'read', 'getRow', params)) as {
      row?: unknown;
    };
    return rowFromSdk(data.row);
  }

  async putRow(
    table: string,
    primaryKey: PrimaryKey,
    columns: Columns,
    options: { condition?: Condition } = {},
  ) {
    const write: RowWrite = { type: 'put', table, primaryKey, columns, ...options };
    checkWrite(write);
    await this.writeRow(write, 'PutRow', 'putRow', {
      tableName: table,
      primaryKey: primaryKeyToSdk(primaryKey),
      attributeColumns: columnsToSdk(columns),
      condition: conditionToSdk(options.condition),
    });
  }

  async updateRow(
    table: string,
    primaryKey: PrimaryKey,
    update: RowUpdate,
    options: { condition?: Condition } = {},
  ) {
    const write: RowWrite = { type: 'update', table, primaryKey, update, ...options };
    checkWrite(write);
    await this.writeRow(write, 'UpdateRow', 'updateRow', {
      tableName: table,
      primaryKey: primaryKeyToSdk(primaryKey),
      updateOfAttributeColumns: updateToSdk(update),
      condition: conditionToSdk(options.condition),
    });
  }

  async deleteRow(table: string, primaryKey: PrimaryKey, options: { condition?: Condition } = {}) {
    const write: RowWrite = { type: 'delete', table, primaryKey, ...options };
    await this.writeRow(write, 'DeleteRow', 'deleteRow', {
      tableName: table,
      primaryKey: primaryKeyToSdk(primaryKey),
      condition: conditionToSdk(options.condition),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Ranges

  async getRange(request: RangeRequest & { limit?: number }): Promise<RangePage> {
    const params = {
      tableName: request.table,
      direction: request.direction === 'backward' ? 'BACKWARD' : 'FORWARD',
      inclusiveStartPrimaryKey: primaryKeyToSdk(request.start),
      exclusiveEndPrimaryKey: primaryKeyToSdk(request.end),
      maxVersions: 1,
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
      ...(request.columns ? { columnsToGet: [...request.columns] } : {}),
      ...(request.filter ? { columnFilter: columnConditionToSdk(request.filter) } : {}),
    };
    const data = (await this.retrying('GetRange', request.table, 'read', 'getRange', params)) as {
      rows?: unknown[];
      nextStartPrimaryKey?: Array<{ name: string; value: unknown }> | null;
    };
    const rows: Row[] = [];
    for (const raw of data.rows ?? []) {
      const row = rowFromSdk(raw);
      if (row) rows.push(row);
    }
    const next = data.nextStartPrimaryKey;
    return { rows, next: next && next.length > 0 ? primaryKeyFromSdk(next) : undefined };
  }

  async *iterateRange(request: RangeRequest & RangeOptions): AsyncGenerator<Row, void, undefined> {
    let remaining = request.maxRows ?? Number.POSITIVE_INFINITY;
    let start: RangeRequest['start'] | undefined = request.start;
    while (start !== undefined && remaining > 0) {
      const limit = Math.min(request.pageSize ?? 5_000, remaining);
      // A page may be empty yet carry a next key (the server stops at its scan budget).
      const page = await this.getRange({ ...request, start, limit });
      for (const row of page.rows) {
        yield row;
        remaining -= 1;
        if (remaining <= 0) return;
      }
      start = page.next;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Batches

  async batchGetRows(
    table: string,
    keys: readonly PrimaryKey[],
    options: { columns?: readonly string[] } = {},
  ) {
    const results: Array<Row | undefined> = new Array(keys.length).fill(undefined);
    const indexed = keys.map((key, index) => ({ key, index }));
    for (const chunk of splitIntoBatches(
      indexed,
      { maxRows: BATCH_GET_MAX_ROWS, maxBytes: Number.POSITIVE_INFINITY },
      () => 0,
    )) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const params = {
          tables: [
            {
              tableName: table,
              primaryKey: pending.map((p) => primaryKeyToSdk(p.key)),
              maxVersions: 1,
              ...(options.columns ? { columnsToGet: [...options.columns] } : {}),
            },
          ],
        };
        const data = (await this.retrying('BatchGetRow', table, 'read', 'batchGetRow', params)) as {
          tables?: Array<Array<SdkBatchRowResult & { primaryKey?: unknown; attributes?: unknown }>>;
        };
        const rows = data.tables?.[0] ?? [];
        const retry: typeof pending = [];
        let lastError: TablestoreError | undefined;
        pending.forEach((item, i) => {
          const r = rows[i];
          if (r?.isOk) {
            results[item.index] = rowFromSdk(r);
            return;
          }
          const error = this.rowError('BatchGetRow', table, r);
          if (!mayRetry(error.failureClass, 'read') || attempt >= this.policy.maxAttempts)
            throw error;
          lastError = error;
          retry.push(item);
        });
        pending = retry;
        if (lastError) await this.backoff('BatchGetRow', table, attempt, lastError);
      }
    }
    return results;
  }

  private rowError(
    operation: string,
    table: string,
    r: SdkBatchRowResult | undefined,
  ): TablestoreError {
    const code = r?.errorCode ?? 'UnknownError';
    const message = r?.errorMessage ?? (r ? '' : 'the response has no result for this row');
    return new TablestoreError({
      code,
      serverMessage: message,
      httpStatus: undefined,
      requestId: undefined,
      operation,
      table,
      failureClass: classifyFailure(code, message, undefined),
    });
  }

  async batchWriteRows(writes: readonly RowWrite[]): Promise<RowWriteResult[]> {
    for (const write of writes) checkWrite(write);
    const results: RowWriteResult[] = new Array(writes.length);
    const items: BatchItem[] = writes.map((write, index) => ({ write, index }));
    const batches = splitIntoBatches(
      items,
      BATCH_WRITE_LIMITS,
      (item) => estimateWriteBytes(item.write),
      (item) => rowIdentity(item.write.table, item.write.primaryKey),
    );
    for (const batch of batches) await this.writeBatch(batch, results);
    return results;
  }

  /** One request's rows, grouped by table as BatchWriteRow wants; results come back in that order. */
  private async sendBatch(items: readonly BatchItem[]): Promise<RowWriteResult[]> {
    const byTable = new Map<string, BatchItem[]>();
    for (const item of items) {
      const group = byTable.get(item.write.table);
      if (group) group.push(item);
      else byTable.set(item.write.table, [item]);
    }
    const params = {
      tables: [...byTable].map(([tableName, group]) => ({
        tableName,
        rows: group.map((item) => rowWriteToSdk(item.write)),
      })),
    };
    const data = (await this.call('batchWriteRow', params)) as { tables?: SdkBatchRowResult[] };
    const flat = data.tables ?? [];
    const ordered = [...byTable.values()].flat();
    if (flat.length !== ordered.length) {
      throw new TablestoreError({
        code: 'UnknownError',
        serverMessage: `BatchWriteRow answered ${flat.length} row results for ${ordered.length} rows`,
        httpStatus: undefined,
        requestId: undefined,
        operation: 'BatchWriteRow',
        failureClass: 'maybe-applied',
      });
    }
    const outcome = new Map<BatchItem, RowWriteResult>();
    ordered.forEach((item, i) => {
      const r = flat[i];
      outcome.set(
        item,
        r?.isOk
          ? { ok: true }
          : { ok: false, error: this.rowError('BatchWriteRow', item.write.table, r) },
      );
    });
    return items.map((item) => outcome.get(item) as RowWriteResult);
  }

  private async writeBatch(batch: readonly BatchItem[], results: RowWriteResult[]): Promise<void> {
    let pending = batch;
    const maybeApplied = new Set<number>();
    for (let attempt = 1; pending.length > 0; attempt++) {
      let outcomes: RowWriteResult[];
      try {
        outcomes = await this.sendBatch(pending);
      } catch (raw) {
        const error = toTablestoreError(asFailure(raw), {
          operation: 'BatchWriteRow',
          table: pending[0]?.write.table,
        });
        outcomes = pending.map(() => ({ ok: false, error }));
      }

      const toVerify: BatchItem[] = [];
      const retry: BatchItem[] = [];
      let lastError: TablestoreError | undefined;
      pending.forEach((item, i) => {
        const outcome = outcomes[i] as RowWriteResult;
        if (outcome.ok) {
          results[item.index] = outcome;
          return;
        }
        const { error } = outcome;
        const safety = repeatSafetyOf(item.write);
        if (
          error.code === 'OTSConditionCheckFail' &&
          maybeApplied.has(item.index) &&
          safety === 'verifiable'
        ) {
          toVerify.push(item);
          results[item.index] = outcome; // replaced below if the read-back shows the write landed
        } else if (mayRetry(error.failureClass, safety) && attempt < this.policy.maxAttempts) {
          if (error.failureClass === 'maybe-applied') maybeApplied.add(item.index);
          lastError = error;
          retry.push(item);
        } else {
          results[item.index] = outcome;
        }
      });

      for (const item of toVerify) {
        const current = await this.getRow(item.write.table, item.write.primaryKey);
        if (showsEffectOf(item.write, current)) results[item.index] = { ok: true };
      }

      pending = retry;
      if (lastError && pending.length > 0) {
        await this.backoff('BatchWriteRow', pending[0]?.write.table, attempt, lastError);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tables

  async listTables(): Promise<string[]> {
    const data = (await this.retrying('ListTable', undefined, 'read', 'listTable', {})) as {
      tableNames?: string[];
    };
    return [...(data.tableNames ?? [])];
  }

  async describeTable(table: string): Promise<TableDescription> {
    const data = await this.retrying('DescribeTable', table, 'read', 'describeTable', {
      tableName: table,
    });
    return describeFromSdk(table, data);
  }

  // Table operations repeat harmlessly or fail with OTSObjectAlreadyExist / OTSObjectNotExist,
  // which callers (ensureTables) treat as done.
  async createTable(definition: TableDefinition): Promise<void> {
    checkColumnNames(
      definition.name,
      (definition.definedColumns ?? []).map((c) => c.name),
    );
    const params = createTableParams(definition);
    await this.retrying('CreateTable', definition.name, 'idempotent', 'createTable', params);
  }

  async updateTableOptions(
    table: string,
    options: { timeToLiveSeconds: number; maxVersions: number; allowUpdate?: boolean },
  ) {
    const params = {
      tableName: table,
      tableOptions: {
        timeToLive: options.timeToLiveSeconds,
        maxVersions: options.maxVersions,
        ...(options.allowUpdate !== undefined ? { allowUpdate: options.allowUpdate } : {}),
      },
    };
    await this.retrying('UpdateTable', table, 'idempotent', 'updateTable', params);
  }

  async createIndex(table: string, index: IndexDefinition): Promise<void> {
    const params = createIndexParams(table, index);
    await this.retrying('CreateIndex', table, 'idempotent', 'createIndex', params);
  }

  async deleteTable(table: string): Promise<void> {
    await this.retrying('DeleteTable', table, 'idempotent', 'deleteTable', { tableName: table });
  }

  // -------------------------------------------------------------------------------------------
  // Search indexes: reads (Describe, List, Search, ComputeSplits, ParallelScan) are retried as
  // reads; Create, Update and Delete repeat harmlessly or fail with OTSObjectAlreadyExist /
  // OTSObjectNotExist, which their callers (ensureSearchIndexes) read as done.

  async createSearchIndex(definition: SearchIndexDefinition): Promise<void> {
    const params = createSearchIndexParams(definition);
    await this.retrying(
      'CreateSearchIndex',
      definition.table,
      'idempotent',
      'createSearchIndex',
      params,
    );
  }

  async describeSearchIndex(table: string, index: string): Promise<SearchIndexDescription> {
    const data = await this.retrying('DescribeSearchIndex', table, 'read', 'describeSearchIndex', {
      tableName: table,
      indexName: index,
    });
    return describeSearchIndexFromSdk(table, index, data);
  }

  async listSearchIndexes(table?: string): Promise<Array<{ table: string; index: string }>> {
    const data = (await this.retrying(
      'ListSearchIndex',
      table,
      'read',
      'listSearchIndex',
      table === undefined ? {} : { tableName: table },
    )) as { indices?: Array<{ tableName?: string; indexName?: string }> };
    return (data.indices ?? []).map((info) => ({
      table: info.tableName ?? table ?? '',
      index: info.indexName ?? '',
    }));
  }

  async updateSearchIndexTtl(table: string, index: string, timeToLiveSeconds: number) {
    await this.retrying('UpdateSearchIndex', table, 'idempotent', 'updateSearchIndex', {
      tableName: table,
      indexName: index,
      timeToLive: timeToLiveSeconds,
    });
  }

  async deleteSearchIndex(table: string, index: string): Promise<void> {
    await this.retrying('DeleteSearchIndex', table, 'idempotent', 'deleteSearchIndex', {
      tableName: table,
      indexName: index,
    });
  }

  /** A read with a token or session: a refusal of it is SearchTokenRejected. */
  private async readWithToken(
    operation: 'Search' | 'ParallelScan',
    table: string,
    index: string,
    withToken: boolean,
    send: () => Promise<unknown>,
  ): Promise<unknown> {
    try {
      const result = await this.withRetry(operation, table, 'read', send);
      return 'value' in result ? result.value : undefined;
    } catch (error) {
      if (withToken && error instanceof TablestoreError && rejectsSearchToken(error)) {
        throw new SearchTokenRejected(operation, table, index, error.serverMessage, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async search(request: SearchRequest): Promise<SearchPage> {
    const token = request.nextToken;
    if (token !== undefined && !isSearchTokenForm(token)) {
      throw new SearchTokenRejected('Search', request.table, request.index, 'not a token');
    }
    const params = searchParams(request);
    const data = await this.readWithToken(
      'Search',
      request.table,
      request.index,
      token !== undefined,
      () => this.call('search', params),
    );
    return searchPageFromSdk(data);
  }

  async computeSplits(table: string, index: string): Promise<ScanSession> {
    const data = (await this.retrying('ComputeSplits', table, 'read', 'computeSplits', {
      tableName: table,
      searchIndexSplitsOptions: { indexName: index },
    })) as { sessionId?: Uint8Array; splitsSize?: number };
    return {
      sessionId: Buffer.from(data.sessionId ?? new Uint8Array(0)).toString('base64'),
      splits: data.splitsSize ?? 1,
    };
  }

  async parallelScan(request: ScanRequest): Promise<ScanPage> {
    for (const token of [request.session.sessionId, request.nextToken]) {
      if (token !== undefined && !isSearchTokenForm(token)) {
        throw new SearchTokenRejected('ParallelScan', request.table, request.index, 'not a token');
      }
    }
    const params = parallelScanParams(request);
    const data = await this.readWithToken('ParallelScan', request.table, request.index, true, () =>
      this.call('parallelScan', params),
    );
    return scanPageFromSdk(data);
  }
}
