// The Tablestore service of localcloud: POST /<Operation> with protobuf bodies, the x-ots-*
// signature checked against the caller's secret, one instance namespace per account (the
// instance from x-ots-instancename, the account from the access key), responses with the headers
// and the signed Authorization the service sends.

import type {
  Clock,
  LocalRequest,
  LocalResponse,
  LocalService,
  Principal,
  ServiceContext,
  ServiceOutcome,
} from '../core/contracts';
import { OtsError } from './errors';
import {
  Instance,
  installIndex,
  installTable,
  OPERATIONS,
  type RequestScope,
  removeIndex,
  removeTable,
} from './operations';
import { decodeRow, encodeRow } from './plainbuffer';
import { encode } from './proto';
import { type Column, commitRow, type Row, type Table, toPlainBufferRow } from './rows';
import { isValidInstanceName, LIMITS } from './schema';
import {
  contentMd5,
  hmacSha1,
  requestStringToSign,
  responseAuthorization,
  signaturesEqual,
} from './signature';
import { DurableLog, type LogEntry, type StoreRecord } from './store';
import { encodeRowKey, type PkValue } from './values';

export interface TablestoreServiceOptions {
  /** Where data lives; absent keeps everything in memory. */
  dataDir?: string;
  /** Time for versions, TTL and auto-increment; defaults to the server's clock per request. */
  clock?: Clock;
  /** Fold the write-ahead log into a snapshot once it exceeds this many bytes (default 64 MB). */
  compactAfterBytes?: number;
}

export interface InstanceSummary {
  accountId: string;
  instanceName: string;
  tables: string[];
}

export interface TablestoreService extends LocalService {
  /** Creates an instance for an account (idempotent). */
  createInstance(accountId: string, instanceName: string): void;
  /** Removes an instance and all its tables. */
  deleteInstance(accountId: string, instanceName: string): void;
  listInstances(): InstanceSummary[];
  /** Writes a snapshot and empties the write-ahead log (no-op in memory). */
  compact(): void;
  /** Flushes to disk and releases the data directory. */
  close(): Promise<void>;
}

const REQUIRED_HEADERS = [
  'x-ots-date',
  'x-ots-apiversion',
  'x-ots-accesskeyid',
  'x-ots-contentmd5',
  'x-ots-signature',
  'x-ots-instancename',
];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const CREDENTIAL_MESSAGES: Record<string, string> = {
  'InvalidAccessKeyId.NotFound': 'The AccessKeyID does not exist.',
  'InvalidAccessKeyId.Inactive': 'The AccessKeyID is disabled.',
};

interface Caller {
  principal: Principal;
  accessKeyId: string;
  secret: string;
}

function authFailed(message: string): OtsError {
  return new OtsError('OTSAuthFailed', message);
}

export function createTablestoreService(options: TablestoreServiceOptions = {}): TablestoreService {
  const instances = new Map<string, Map<string, Instance>>();
  const log = options.dataDir
    ? new DurableLog(options.dataDir, options.compactAfterBytes ?? 64 * 1024 * 1024)
    : undefined;
  let closed = false;

  function findInstance(accountId: string, name: string): Instance | undefined {
    return instances.get(accountId)?.get(name);
  }

  function ensureInstance(accountId: string, name: string): Instance {
    let byName = instances.get(accountId);
    if (!byName) {
      byName = new Map();
      instances.set(accountId, byName);
    }
    let instance = byName.get(name);
    if (!instance) {
      instance = new Instance(accountId, name);
      byName.set(name, instance);
    }
    return instance;
  }

  // ----------------------------------------------------------------------- persistence

  function rowFromPlainBuffer(base64: string): { pk: PkValue[]; row: Row | null } {
    const decoded = decodeRow(Buffer.from(base64, 'base64'));
    const pk = decoded.pk.map((cell) => cell.value as PkValue);
    if (decoded.deleteMarker) return { pk, row: null };
    const columns: Column[] = [];
    for (const cell of decoded.cells) {
      let column = columns.at(-1);
      if (!column || column.name !== cell.name) {
        column = { name: cell.name, cells: [] };
        columns.push(column);
      }
      column.cells.push({
        ts: Number(cell.ts ?? 0n),
        value: cell.value as Row['columns'][number]['cells'][number]['value'],
      });
    }
    return { pk, row: { pk, columns } };
  }

  function applyRecord(instance: Instance, record: StoreRecord): void {
    switch (record.op) {
      case 'createTable': {
        removeTable(instance, record.meta.name);
        const table = installTable(instance, { ...record.meta, indexes: [...record.meta.indexes] });
        table.autoIncrementLast = record.autoIncrement ?? 0;
        return;
      }
      case 'updateTable': {
        const table = instance.tables.get(record.meta.name);
        if (!table) return;
        table.meta = record.meta;
        for (const index of table.indexTables.values()) {
          index.meta = {
            ...index.meta,
            options: { ...index.meta.options, timeToLive: record.meta.options.timeToLive },
          };
        }
        return;
      }
      case 'deleteTable':
        removeTable(instance, record.table);
        return;
      case 'createIndex': {
        const main = instance.tables.get(record.table);
        if (!main) return;
        removeIndex(instance, main, record.index.name);
        installIndex(instance, main, record.index, record.includeBaseData);
        return;
      }
      case 'dropIndex': {
        const main = instance.tables.get(record.table);
        if (main) removeIndex(instance, main, record.index);
        return;
      }
      case 'rows': {
        const table = instance.tables.get(record.table);
        if (!table) return;
        for (const encoded of record.rows) {
          const { pk, row } = rowFromPlainBuffer(encoded);
          commitRow(table, encodeRowKey(pk), row);
        }
        table.autoIncrementLast = Math.max(table.autoIncrementLast, record.autoIncrement ?? 0);
        return;
      }
    }
  }

  function applyEntry(entry: LogEntry): void {
    if (entry.deleteInstance) {
      instances.get(entry.account)?.delete(entry.instance);
      return;
    }
    const instance = ensureInstance(entry.account, entry.instance);
    for (const record of entry.records ?? []) applyRecord(instance, record);
  }

  function* snapshot(): Generator<LogEntry> {
    for (const [account, byName] of instances) {
      for (const [name, instance] of byName) {
        yield { account, instance: name, createInstance: true };
        for (const table of instance.mainTables()) {
          yield {
            account,
            instance: name,
            records: [
              { op: 'createTable', meta: table.meta, autoIncrement: table.autoIncrementLast },
            ],
          };
          let rows: string[] = [];
          for (const [, row] of table.rows.entries()) {
            rows.push(encodeRow(toPlainBufferRow(table, row)).toString('base64'));
            if (rows.length === 1000) {
              yield { account, instance: name, records: [{ op: 'rows', table: table.name, rows }] };
              rows = [];
            }
          }
          if (rows.length > 0)
            yield { account, instance: name, records: [{ op: 'rows', table: table.name, rows }] };
        }
      }
    }
  }

  function persist(entries: LogEntry[]): void {
    if (!log) return;
    if (log.append(entries)) log.compact(snapshot());
  }

  if (log) for (const entry of log.replay()) applyEntry(entry);

  // ----------------------------------------------------------------------- HTTP

  function errorBody(code: string, message: string): Buffer {
    return encode('Error', { code, message });
  }

  function respond(
    status: number,
    body: Buffer,
    requestId: string,
    path: string,
    caller?: Caller,
  ): LocalResponse {
    const headers: Record<string, string> = {
      'x-ots-requestid': requestId,
      'x-ots-date': new Date().toISOString(),
      'x-ots-contentmd5': contentMd5(body),
      'x-ots-contenttype': 'protocol buffer',
    };
    const signed = caller
      ? responseAuthorization(caller.accessKeyId, caller.secret, path, headers)
      : undefined;
    return {
      status,
      headers: {
        ...headers,
        'content-type': 'application/x-protobuf',
        ...(signed ? { authorization: signed } : {}),
      },
      body,
    };
  }

  function authenticate(req: LocalRequest, ctx: ServiceContext): Caller {
    for (const name of REQUIRED_HEADERS) {
      if (req.headers[name] === undefined)
        throw new OtsError('OTSParameterInvalid', `Missing header: '${name}'.`);
    }
    const date = req.headers['x-ots-date'] as string;
    if (!ISO_DATE.test(date) || Number.isNaN(Date.parse(date))) {
      throw new OtsError('OTSParameterInvalid', `Invalid date format: ${date}.`);
    }
    const accessKeyId = req.headers['x-ots-accesskeyid'] as string;
    const resolution = ctx.credentials.resolve(accessKeyId, req.headers['x-ots-ststoken']);
    if (!resolution.ok)
      throw authFailed(CREDENTIAL_MESSAGES[resolution.code] ?? resolution.message);
    const expected = hmacSha1(
      resolution.secret,
      requestStringToSign(req.url, req.method, req.headers),
    );
    if (!signaturesEqual(expected, req.headers['x-ots-signature'] as string))
      throw authFailed('Signature mismatch.');
    // The SDK stamps x-ots-date from the machine's wall clock, so skew is judged against it.
    if (Math.abs(Date.now() - Date.parse(date)) > LIMITS.dateSkewMs) {
      throw authFailed(`Mismatch between system time and x-ots-date: ${date}.`);
    }
    if (contentMd5(req.body) !== req.headers['x-ots-contentmd5']) {
      throw authFailed(
        'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
      );
    }
    return { principal: resolution.principal, accessKeyId, secret: resolution.secret };
  }

  function action(req: LocalRequest): string {
    return req.url.pathname.replace(/^\/+/, '') || 'Unknown';
  }

  async function handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome> {
    const requestId = ctx.requestId();
    const path = req.url.pathname;
    const operation = action(req);
    let caller: Caller | undefined;
    const entries: LogEntry[] = [];
    let persisted = false;
    try {
      if (closed) throw new OtsError('OTSServerUnavailable', 'Server is not available.');
      if (req.method !== 'POST') {
        throw new OtsError(
          'OTSMethodNotAllowed',
          'OTSMethodNotAllowedOnly POST method for requests is supported.',
        );
      }
      if (req.body.length > LIMITS.requestBodyBytes) {
        throw new OtsError('OTSRequestBodyTooLarge', 'The size of POST data is too large.');
      }
      caller = authenticate(req, ctx);
      const instanceName = req.headers['x-ots-instancename'] as string;
      if (!isValidInstanceName(instanceName)) {
        throw new OtsError('OTSParameterInvalid', `Invalid instance name: '${instanceName}'.`);
      }
      const accountId = caller.principal.accountId;
      const instance = findInstance(accountId, instanceName);
      if (!instance) {
        throw authFailed(
          `The instance is not found. Instance '${instanceName}' does not exist in account ${accountId}.`,
        );
      }
      const handler = OPERATIONS[operation];
      if (!handler) {
        throw new OtsError(
          'OTSParameterInvalid',
          `Unsupported operation: '${operation}'. (localcloud emulates table, row, range, batch and secondary index operations.)`,
        );
      }
      const records: StoreRecord[] = [];
      const scope: RequestScope = {
        now: (options.clock ?? ctx.clock).now(),
        record: (record) => records.push(record),
        journal: (table: Table, pk: PkValue[], row: Row | null) => {
          const encoded = encodeRow(
            row
              ? toPlainBufferRow(table, row)
              : { ...toPlainBufferRow(table, { pk, columns: [] }, false), deleteMarker: true },
          ).toString('base64');
          const last = records.at(-1);
          if (last?.op === 'rows' && last.table === table.name) {
            last.rows.push(encoded);
            if (table.autoIncrementLast) last.autoIncrement = table.autoIncrementLast;
          } else {
            records.push({
              op: 'rows',
              table: table.name,
              rows: [encoded],
              ...(table.autoIncrementLast ? { autoIncrement: table.autoIncrementLast } : {}),
            });
          }
        },
      };
      entries.push({ account: accountId, instance: instanceName, records });
      const body = handler(instance, req.body, scope);
      persisted = true;
      persist(entries);
      return {
        response: respond(200, body, requestId, path, caller),
        caller: caller.principal,
        result: 'ok',
      };
    } catch (error) {
      // Batch writes may have committed rows before a later row failed: keep what was applied.
      if (!persisted && entries.some((entry) => (entry.records?.length ?? 0) > 0)) persist(entries);
      const failure =
        error instanceof OtsError
          ? error
          : new OtsError('OTSInternalServerError', 'Internal server error.');
      if (!(error instanceof OtsError)) {
        console.error(`[localcloud tablestore] ${operation} failed (request ${requestId}):`, error);
      }
      return {
        response: respond(
          failure.status,
          errorBody(failure.code, failure.message),
          requestId,
          path,
          caller,
        ),
        ...(caller ? { caller: caller.principal } : {}),
        result: failure.code,
      };
    }
  }

  return {
    name: 'tablestore',
    matches: (req) => req.headers['x-ots-apiversion'] !== undefined,
    action,
    handle,
    // Injected throttling and server errors, as the service reports them. (The Node SDK sees
    // only the HTTP status, and retries 5xx on read operations only.)
    faultErrors: {
      throttle: { status: 503, code: 'OTSServerBusy', message: 'Server is busy.' },
      error5xx: { status: 500, code: 'OTSInternalServerError', message: 'Internal server error.' },
    },
    errorResponse(status, code, message, requestId) {
      return respond(status, errorBody(code, message), requestId, '/');
    },
    createInstance(accountId, instanceName) {
      if (!isValidInstanceName(instanceName)) {
        throw new Error(
          `Invalid Tablestore instance name '${instanceName}': use 3 to 16 letters, digits or hyphens, starting with a letter and not ending with a hyphen.`,
        );
      }
      if (findInstance(accountId, instanceName)) return;
      ensureInstance(accountId, instanceName);
      persist([{ account: accountId, instance: instanceName, createInstance: true }]);
    },
    deleteInstance(accountId, instanceName) {
      if (!findInstance(accountId, instanceName)) return;
      instances.get(accountId)?.delete(instanceName);
      persist([{ account: accountId, instance: instanceName, deleteInstance: true }]);
    },
    listInstances() {
      const result: InstanceSummary[] = [];
      for (const [accountId, byName] of instances) {
        for (const [instanceName, instance] of byName) {
          result.push({
            accountId,
            instanceName,
            tables: instance
              .mainTables()
              .map((table) => table.name)
              .sort(),
          });
        }
      }
      return result;
    },
    compact() {
      log?.compact(snapshot());
    },
    async close() {
      if (closed) return;
      closed = true;
      if (log) {
        log.compact(snapshot());
        log.close();
      }
    },
  };
}
