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
import { OtsError } from './model/errors';
import { detachSearchIndexes, type Instance, Instances } from './model/instance';
import { isValidInstanceName, LIMITS } from './model/schema';
import type { BackgroundScheduler } from './model/search-index';
import { ChangeRecorder, InstancesStore, type StartupTimings } from './persistence/instances-store';
import { OPERATIONS } from './wire/operations';
import { encode } from './wire/proto';
import {
  contentMd5,
  hmacSha1,
  requestStringToSign,
  responseAuthorization,
  signaturesEqual,
} from './wire/signature';

export interface TablestoreServiceOptions {
  /** Where data lives; absent keeps everything in memory. */
  dataDir?: string;
  /** Time for versions, TTL, auto-increment and search-index visibility (default: wall clock). */
  clock?: Clock;
  /** Initial search-index visibility delay in ms (default 0). */
  searchVisibilityDelayMs?: number;
  /** Fold the write-ahead log into a snapshot once it exceeds this many bytes (default 64 MB). */
  compactAfterBytes?: number;
  /**
   * Where a new search index's FULL phase runs its slices (default: the next turn of the event
   * loop). Tests pass their own to decide when background work happens.
   */
  searchBackground?: BackgroundScheduler;
}

export interface InstanceSummary {
  accountId: string;
  instanceName: string;
  tables: string[];
}

export interface TablestoreService extends LocalService {
  /** How long after a write a search index shows it (ms; 0 = at once, the default). */
  searchVisibilityDelayMs(): number;
  setSearchVisibilityDelay(ms: number): void;
  /** How long the last start spent replaying the data directory and rebuilding search indexes. */
  startupTimings(): StartupTimings;
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
  if (!resolution.ok) throw authFailed(CREDENTIAL_MESSAGES[resolution.code] ?? resolution.message);
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
    throw authFailed('Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
  }
  return { principal: resolution.principal, accessKeyId, secret: resolution.secret };
}

function action(req: LocalRequest): string {
  return req.url.pathname.replace(/^\/+/, '') || 'Unknown';
}

export function createTablestoreService(options: TablestoreServiceOptions = {}): TablestoreService {
  const clock = options.clock ?? { now: () => Date.now() };
  const settings = { visibilityDelayMs: options.searchVisibilityDelayMs ?? 0 };
  const instances = new Instances({
    settings,
    clock: () => clock.now(),
    ...(options.searchBackground ? { schedule: options.searchBackground } : {}),
  });
  const store = new InstancesStore(instances, options);
  let closed = false;

  async function handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome> {
    const requestId = ctx.requestId();
    const path = req.url.pathname;
    const operation = action(req);
    let caller: Caller | undefined;
    let written: { instance: Instance; recorder: ChangeRecorder } | undefined;
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
      const instance = instances.find(accountId, instanceName);
      if (!instance) {
        throw authFailed(
          `The instance is not found. Instance '${instanceName}' does not exist in account ${accountId}.`,
        );
      }
      const recorder = new ChangeRecorder();
      written = { instance, recorder };
      const handler = OPERATIONS[operation];
      if (!handler) {
        throw new OtsError(
          'OTSParameterInvalid',
          `Unsupported operation: '${operation}'. (localcloud emulates table, row, range, batch, secondary index and search index operations.)`,
        );
      }
      const scope = {
        now: (options.clock ?? ctx.clock).now(),
        changed: recorder.changed.bind(recorder),
        journal: recorder.row.bind(recorder),
      };
      const body = handler(instance, req.body, scope);
      store.commit(instance, recorder);
      return {
        response: respond(200, body, requestId, path, caller),
        caller: caller.principal,
        result: 'ok',
      };
    } catch (error) {
      // A batch may have committed rows before a later row failed: keep what was applied.
      if (written) store.commit(written.instance, written.recorder);
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
      if (instances.find(accountId, instanceName)) return;
      instances.ensure(accountId, instanceName);
      store.instanceCreated(accountId, instanceName);
    },
    deleteInstance(accountId, instanceName) {
      const instance = instances.find(accountId, instanceName);
      if (!instance) return;
      detachSearchIndexes(instance);
      instances.delete(accountId, instanceName);
      store.instanceDeleted(accountId, instanceName);
    },
    listInstances() {
      return [...instances.all()].map((instance) => ({
        accountId: instance.accountId,
        instanceName: instance.name,
        tables: instance
          .mainTables()
          .map((table) => table.name)
          .sort(),
      }));
    },
    compact() {
      store.compact();
    },
    searchVisibilityDelayMs: () => settings.visibilityDelayMs,
    setSearchVisibilityDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new RangeError(`the search visibility delay must be a number of ms >= 0, got ${ms}`);
      }
      settings.visibilityDelayMs = ms;
    },
    startupTimings: () => ({ ...store.startup }),
    async close() {
      if (closed) return;
      closed = true;
      for (const instance of instances.all()) detachSearchIndexes(instance);
      store.close();
    },
  };
}
