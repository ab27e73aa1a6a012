// Tablestore failures as a typed error, and the decoding the Node SDK does not do: on a non-2xx
// answer the SDK leaves the HTTP status as a numeric `code` and the body (a protobuf
// `Error { required string code = 1; optional string message = 2; }`) as UTF-8 text in
// `message`. The body is decoded here from the raw bytes when the adapter has them, and from the
// SDK's lossy text otherwise (varint bytes >= 0x80 turn into U+FFFD in that text).

import { StoreNotReady, StoreUnavailable } from '../../errors';

/** Documented Tablestore error codes this application meets; others pass through as strings. */
export type TablestoreErrorCode =
  | 'OTSConditionCheckFail'
  | 'OTSObjectNotExist'
  | 'OTSObjectAlreadyExist'
  | 'OTSParameterInvalid'
  | 'OTSAuthFailed'
  | 'OTSNoPermissionAccess'
  | 'OTSRequestBodyTooLarge'
  | 'OTSOutOfColumnCountLimit'
  | 'OTSOutOfRowSizeLimit'
  | 'OTSServerBusy'
  | 'OTSQuotaExhausted'
  | 'OTSTimeout'
  | 'OTSNotEnoughCapacityUnit'
  | 'OTSOperationThrottled'
  | 'OTSTableNotReady'
  | 'OTSPartitionUnavailable'
  | 'OTSRowOperationConflict'
  | 'OTSInternalServerError'
  | 'OTSServerUnavailable'
  | 'NetworkingError'
  | 'TimeoutError'
  | 'UnknownError'
  | (string & {});

/**
 * What a failure says about the request's effect, which is what decides a retry:
 * - `not-applied`: the service refused before doing anything (throttling, table not ready, row
 *   lock conflict, connection never opened). Retrying is safe for every operation.
 * - `maybe-applied`: the outcome is unknown (5xx, server or client timeout, connection dropped
 *   after the request went out). Safe to retry only where a repeat is harmless (see retry.ts).
 * - `final`: the request was judged and refused (condition failed, bad parameter, auth...).
 */
export type FailureClass = 'not-applied' | 'maybe-applied' | 'final';

export interface TablestoreErrorDetails {
  code: TablestoreErrorCode;
  /** The service's message, as sent. */
  serverMessage: string;
  httpStatus: number | undefined;
  requestId: string | undefined;
  operation: string;
  table?: string | undefined;
  failureClass: FailureClass;
}

export class TablestoreError extends Error {
  override readonly name = 'TablestoreError';
  readonly code: TablestoreErrorCode;
  readonly serverMessage: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly operation: string;
  readonly table: string | undefined;
  readonly failureClass: FailureClass;

  constructor(details: TablestoreErrorDetails, options?: { cause?: unknown }) {
    const where = details.table ? ` on table ${details.table}` : '';
    const facts = [
      details.httpStatus === undefined ? undefined : `HTTP ${details.httpStatus}`,
      details.requestId === undefined ? undefined : `request ${details.requestId}`,
    ].filter((f) => f !== undefined);
    const suffix = facts.length > 0 ? ` (${facts.join(', ')})` : '';
    super(
      `Tablestore ${details.operation}${where} failed: ${details.code}: ${details.serverMessage}${suffix}`,
      options,
    );
    this.code = details.code;
    this.serverMessage = details.serverMessage;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.operation = details.operation;
    this.table = details.table;
    this.failureClass = details.failureClass;
  }

  /** True when a retry could succeed (given the operation allows it: see retry.ts). */
  get retryable(): boolean {
    return this.failureClass !== 'final';
  }
}

/**
 * A search's `next_token`, or a parallel scan's session or token, that the service no longer
 * takes: expired, issued for another query or index (an index replaced by a new version), or
 * not a token at all. Nothing was read; the caller starts again from the first page (an API
 * answers 400 for a token its client sent). `cause` is the service's refusal, when it answered.
 */
export class SearchTokenRejected extends Error {
  override readonly name = 'SearchTokenRejected';
  constructor(
    readonly operation: 'Search' | 'ParallelScan',
    readonly table: string,
    readonly index: string,
    reason: string,
    options?: { cause?: TablestoreError },
  ) {
    super(`Tablestore ${operation} on ${table}/${index}: ${reason}`, options);
  }
}

/** True when a failed Search or ParallelScan refused the token or session it was sent with. */
export function rejectsSearchToken(error: TablestoreError): boolean {
  if (error.code === 'OTSSessionExpired' || error.code === 'OTSSessionNotExist') return true;
  return error.code === 'OTSParameterInvalid' && /token|session/i.test(error.serverMessage);
}

export function isTablestoreError(
  err: unknown,
  code?: TablestoreErrorCode,
): err is TablestoreError {
  return err instanceof TablestoreError && (code === undefined || err.code === code);
}

// ---------------------------------------------------------------------------------------------
// Classification

const NOT_APPLIED_CODES = new Set<string>([
  'OTSServerBusy',
  'OTSNotEnoughCapacityUnit',
  'OTSOperationThrottled',
  'OTSTableNotReady',
  'OTSPartitionUnavailable',
  'OTSRowOperationConflict',
]);

const MAYBE_APPLIED_CODES = new Set<string>([
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'NetworkingError',
  'TimeoutError',
]);

/** Errors raised by the Node http client before any byte was sent. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

export function classifyFailure(
  code: string,
  serverMessage: string,
  httpStatus: number | undefined,
): FailureClass {
  if (NOT_APPLIED_CODES.has(code)) return 'not-applied';
  // OTSQuotaExhausted also covers hard quotas (e.g. too many tables); only the rate quota is
  // transient. The SDK draws the same line.
  if (code === 'OTSQuotaExhausted') {
    return /too frequent/i.test(serverMessage) ? 'not-applied' : 'final';
  }
  if (MAYBE_APPLIED_CODES.has(code)) return 'maybe-applied';
  if (httpStatus !== undefined && httpStatus >= 500) return 'maybe-applied';
  return 'final';
}

// ---------------------------------------------------------------------------------------------
// Protobuf Error decoding

export interface DecodedErrorBody {
  code: string;
  message: string;
}

const ERROR_CODE_SHAPE = /^[A-Za-z][A-Za-z0-9_.]{0,127}$/;

function readVarint(bytes: Uint8Array, offset: number): [value: number, next: number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 10; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}

/**
 * Decodes the protobuf `Error` message of a Tablestore error body. Returns undefined when the
 * bytes are not such a message (a proxy's HTML page, an empty body).
 */
export function decodeErrorBody(bytes: Uint8Array): DecodedErrorBody | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let code: string | undefined;
  let message = '';
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const key = readVarint(bytes, pos);
      if (!key) return undefined;
      const [tag, afterKey] = key;
      const field = Math.floor(tag / 8);
      const wireType = tag & 7;
      pos = afterKey;
      if (wireType === 2) {
        const len = readVarint(bytes, pos);
        if (!len) return undefined;
        const [length, afterLen] = len;
        const end = afterLen + length;
        if (end > bytes.length) return undefined;
        const text = decoder.decode(bytes.subarray(afterLen, end));
        if (field === 1) code = text;
        else if (field === 2) message = text;
        pos = end;
      } else if (wireType === 0) {
        const skipped = readVarint(bytes, pos);
        if (!skipped) return undefined;
        pos = skipped[1];
      } else if (wireType === 1) {
        pos += 8;
      } else if (wireType === 5) {
        pos += 4;
      } else {
        return undefined;
      }
    }
  } catch {
    return undefined; // not UTF-8: not a Tablestore error body
  }
  if (pos !== bytes.length || code === undefined || !ERROR_CODE_SHAPE.test(code)) return undefined;
  return { code, message };
}

/**
 * Recovers code and message from the text the SDK puts in `err.message` for a non-2xx answer:
 * `body.toString() + " requestId:" + id`. The UTF-8 round trip loses varint bytes >= 0x80 (a
 * message of 128 bytes or more has a two-byte length), so after the message tag the length is
 * skipped rather than trusted: every byte >= 0x80, then the final varint byte.
 */
export function decodeErrorFromSdkText(text: string): DecodedErrorBody | undefined {
  const body = text.replace(/ requestId:[^ ]*$/, '');
  const bytes = Buffer.from(body, 'utf8');
  const exact = decodeErrorBody(bytes);
  if (exact) return exact;

  if (bytes[0] !== 0x0a) return undefined;
  const codeLength = bytes[1];
  if (codeLength === undefined || codeLength >= 0x80) return undefined;
  const codeEnd = 2 + codeLength;
  const code = bytes.subarray(2, codeEnd).toString('latin1');
  if (codeEnd > bytes.length || !ERROR_CODE_SHAPE.test(code)) return undefined;
  if (codeEnd === bytes.length) return { code, message: '' };
  if (bytes[codeEnd] !== 0x12) return undefined;
  let pos = codeEnd + 1;
  while (pos < bytes.length && (bytes[pos] as number) >= 0x80) pos++;
  pos++; // the varint's last byte (< 0x80)
  if (pos > bytes.length) return undefined;
  return { code, message: bytes.subarray(pos).toString('utf8') };
}

// ---------------------------------------------------------------------------------------------
// From what the SDK hands back to a TablestoreError

/** The parts of the SDK's error object and response this module reads. */
export interface SdkErrorAndResponse {
  error: unknown;
  /** The SDK response (`this` in its callback); carries the raw body bytes. */
  response?:
    | {
        httpResponse?: {
          statusCode?: number;
          body?: unknown;
          headers?: Record<string, string | string[] | undefined>;
        };
      }
    | undefined;
}

function field(obj: unknown, name: string): unknown {
  return typeof obj === 'object' && obj !== null
    ? (obj as Record<string, unknown>)[name]
    : undefined;
}

function headerValue(
  headers: Record<string, string | string[] | undefined> | undefined,
  name: string,
): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

export function toTablestoreError(
  failure: SdkErrorAndResponse,
  context: { operation: string; table?: string | undefined },
): TablestoreError {
  const { error } = failure;
  if (error instanceof TablestoreError) return error;

  const http = failure.response?.httpResponse;
  const errHeaders = field(error, 'headers') as Record<string, string> | undefined;
  const headers = http?.headers ?? errHeaders;
  const requestId =
    headerValue(headers, 'x-ots-requestid') ?? headerValue(headers, 'x-ots-request-id');
  const sdkCode = field(error, 'code');
  const sdkMessage = String(field(error, 'message') ?? '');

  // Transport failures: no answer from the service at all.
  if (sdkCode === 'NetworkingError' || sdkCode === 'TimeoutError') {
    const syscall = field(error, 'syscall');
    const errno = String(field(error, 'errno') ?? '');
    const neverSent =
      syscall === 'connect' || CONNECT_FAILURES.has(errno) || /ECONNREFUSED/.test(sdkMessage);
    return new TablestoreError(
      {
        code: sdkCode,
        serverMessage: sdkMessage || 'no answer from Tablestore',
        httpStatus: undefined,
        requestId: undefined,
        operation: context.operation,
        table: context.table,
        failureClass: neverSent ? 'not-applied' : 'maybe-applied',
      },
      { cause: error },
    );
  }

  const httpStatus =
    typeof http?.statusCode === 'number'
      ? http.statusCode
      : typeof sdkCode === 'number'
        ? sdkCode
        : undefined;

  const body = http?.body;
  let decoded = body instanceof Uint8Array && body.length > 0 ? decodeErrorBody(body) : undefined;
  if (!decoded && typeof sdkCode === 'number') decoded = decodeErrorFromSdkText(sdkMessage);

  let code: string;
  let serverMessage: string;
  if (decoded) {
    code = decoded.code;
    serverMessage = decoded.message;
  } else if (typeof sdkCode === 'string' && sdkCode !== '') {
    // An error raised inside the SDK (e.g. while encoding a bad parameter) or an empty-bodied
    // 4xx the SDK named itself (Forbidden, NotFound...).
    code = httpStatus === undefined ? 'ClientError' : sdkCode;
    serverMessage = sdkMessage;
  } else if (httpStatus !== undefined) {
    code = httpStatus >= 500 ? 'OTSInternalServerError' : 'UnknownError';
    serverMessage = `HTTP ${httpStatus} with an undecodable body`;
  } else {
    code = 'ClientError';
    serverMessage = error instanceof Error ? error.message : String(error);
  }

  return new TablestoreError(
    {
      code,
      serverMessage,
      httpStatus,
      requestId: requestId || undefined,
      operation: context.operation,
      table: context.table,
      failureClass: classifyFailure(code, serverMessage, httpStatus),
    },
    { cause: error },
  );
}

/** What a missing table or search index reads like: Search names it OTSParameterInvalid. */
const MISSING = /(table|index) \[?([\w.-]+)\]? does not exist|Requested table does not exist/i;

/**
 * A Tablestore failure as the HTTP API answers it (the API's error mapper; wiring passes it to
 * the HTTP app): a missing table or search index is a deployment not yet set up (503
 * StoreNotReady, telling the operator to run setup), a failure a retry could fix that outlived
 * the retries is 503 StoreUnavailable; anything else (a refused parameter, a failed condition
 * nobody caught) is left as it is, a bug the API answers with 500.
 */
export function storeFailureForApi(error: unknown): unknown {
  if (!(error instanceof TablestoreError)) return error;
  const missing =
    error.code === 'OTSObjectNotExist' ||
    (error.code === 'OTSParameterInvalid' && MISSING.test(error.serverMessage));
  if (missing) {
    const named = MISSING.exec(error.serverMessage);
    const what = named?.[2]
      ? `${named[1]?.toLowerCase()} ${named[2]}`
      : `table ${error.table ?? '(unnamed)'}`;
    return new StoreNotReady(error.operation, what, error);
  }
  if (error.retryable) return new StoreUnavailable(error.operation, error.table, error.code, error);
  return error;
}
