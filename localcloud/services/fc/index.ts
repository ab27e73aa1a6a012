// FC 3.0 (API 2023-03-30) InvokeFunction, answered by the local function host:
//   POST /2023-03-30/functions/{functionName}/invocations[?qualifier=LATEST]
// with the event as the body and `x-fc-invocation-type: Sync|Async` (default Sync). The request
// is a ROA call signed with ACS3-HMAC-SHA256 (the body covered by x-acs-content-sha256) and must
// come from the account that owns the functions (its RAM user or an STS token of one of its
// roles, as functions call it with their own role's credentials); a session policy must allow
// fc:InvokeFunction on acs:fc:<region>:<account>:functions/<name>.
// Sync answers 200 with what the handler returned; a failed invocation answers 200 with
// `x-fc-error-type: UnhandledInvocationError` and {errorMessage, errorType, stackTrace}.
// Async answers 202 and queues the invocation (async-invocations.ts). Errors are FC 3.0's
// {Code, Message, RequestId}. This service never imports the host: it is handed a dispatcher.

import { randomBytes } from 'node:crypto';
import type {
  FaultError,
  LocalRequest,
  LocalResponse,
  LocalService,
  Principal,
  ServiceContext,
  ServiceOutcome,
} from '../../core/contracts';
import { parsePolicy, permissionAllows } from '../../core/policy';
import { authenticateAcs3, type PopDependencies, PopError } from '../../core/pop';
import {
  type AsyncInvocation,
  AsyncInvocationQueue,
  type AsyncInvocations,
  AsyncQueueClosedError,
} from './async-invocations';

export type { AsyncInvocation, AsyncInvocations } from './async-invocations';

export const FC_API_VERSION = '2023-03-30';
/** Documented request payload limits: 32 MB synchronous, 128 KB asynchronous. */
export const FC_SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;
export const FC_ASYNC_PAYLOAD_LIMIT = 128 * 1024;

const PREFIX = `/${FC_API_VERSION}/`;
const INVOCATIONS_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations\/?$/;

/** How the FC service reaches the functions (the local function host). */
export interface FunctionDispatcher {
  /** Runs the function with the event bytes; resolves with the handler's result, rejects with
   *  an error whose `payload` is FC's {errorMessage, errorType, stackTrace} when it failed. */
  invoke(functionName: string, payload: Buffer): Promise<unknown>;
  /** Whether a function of that (FC) name is deployed. */
  has(functionName: string): boolean;
}

export interface FcServiceOptions extends PopDependencies {
  dispatcher: FunctionDispatcher;
  /** The account the functions belong to (the management account). */
  accountId: string;
  region: string;
  /** Async invocations of one function running at once (default 4, the host's instance cap). */
  asyncConcurrencyPerFunction?: number;
  /** Where failed async invocations are reported, one line each (default: console.error). */
  log?: (line: string) => void;
}

export interface FcService extends LocalService {
  asyncInvocations: AsyncInvocations;
}

class FcError extends Error {
  override name = 'FcError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** FC's request ids: 1-<8 hex: epoch seconds>-<24 hex>. */
export function fcRequestId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return `1-${seconds}-${randomBytes(12).toString('hex')}`;
}

function fcJson(status: number, body: unknown, requestId: string): LocalResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-fc-request-id': requestId,
    },
    body: JSON.stringify(body),
  };
}

function fcErrorResponse(
  status: number,
  code: string,
  message: string,
  requestId: string,
): LocalResponse {
  return fcJson(status, { Code: code, Message: message, RequestId: requestId }, requestId);
}

/** The POP authentication failures, as FC 3.0 names the ones it documents. */
function fcAuthError(error: PopError, accessKeyId: string): FcError {
  if (error.code === 'SignatureDoesNotMatch') {
    return new FcError(
      403,
      'SignatureNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your access key and signing method',
    );
  }
  if (error.code === 'InvalidAccessKeyId.NotFound') {
    return new FcError(403, 'InvalidAccessKeyID', `invalid access key ID '${accessKeyId}'`);
  }
  return new FcError(error.status, error.code, error.message);
}

function accessKeyIdOf(req: LocalRequest): string {
  return /Credential=([^,\s]+)/.exec(req.headers.authorization ?? '')?.[1] ?? '';
}

function callerName(principal: Principal): string {
  return principal.type === 'AssumedRoleUser' && principal.sessionName
    ? `${principal.arn}/${principal.sessionName}`
    : principal.arn;
}

/** What the handler returned, as FC puts it in the response body. */
export function invocationResultBody(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

interface InvocationErrorPayload {
  errorMessage: string;
  errorType: string;
  stackTrace?: unknown;
}

function invocationErrorPayload(error: unknown): InvocationErrorPayload | undefined {
  const payload = (error as { payload?: Record<string, unknown> } | null)?.payload;
  if (!payload || typeof payload.errorMessage !== 'string') return undefined;
  return {
    errorMessage: payload.errorMessage,
    errorType: typeof payload.errorType === 'string' ? payload.errorType : 'Error',
    ...(payload.stackTrace !== undefined ? { stackTrace: payload.stackTrace } : {}),
  };
}

function tooLarge(limit: number): FcError {
  return new FcError(
    400,
    'EntityTooLarge',
    `payload size exceeds maximum allowed size (${limit} bytes)`,
  );
}

export function createFcService(options: FcServiceOptions): FcService {
  const log = options.log ?? ((line: string) => console.error(line));
  const { dispatcher } = options;
  const asyncInvocations = new AsyncInvocationQueue({
    run: (invocation: AsyncInvocation) =>
      dispatcher.invoke(invocation.functionName, invocation.payload),
    concurrencyPerFunction: options.asyncConcurrencyPerFunction ?? 4,
    log,
  });
  const functionArn = (name: string) =>
    `acs:fc:${options.region}:${options.accountId}:functions/${name}`;

  function authorize(caller: Principal, functionName: string): void {
    const resource = functionArn(functionName);
    if (caller.accountId !== options.accountId) {
      throw new FcError(
        403,
        'AccessDenied',
        `${callerName(caller)} is not authorized to perform fc:InvokeFunction on ${resource}: the function belongs to account ${options.accountId}`,
      );
    }
    if (caller.sessionPolicy === undefined) return;
    const parsed = parsePolicy(caller.sessionPolicy, 'permission');
    if (!parsed.ok || !permissionAllows(parsed.policy, 'fc:InvokeFunction', resource)) {
      throw new FcError(
        403,
        'AccessDenied',
        `the session policy of ${callerName(caller)} does not allow fc:InvokeFunction on ${resource}`,
      );
    }
  }

  async function invoke(
    req: LocalRequest,
    functionName: string,
    requestId: string,
  ): Promise<{ response: LocalResponse; result: string }> {
    if (!dispatcher.has(functionName)) {
      throw new FcError(404, 'FunctionNotFound', `function '${functionName}' does not exist.`);
    }
    const qualifier = req.url.searchParams.get('qualifier');
    if (qualifier !== null && qualifier !== '' && qualifier !== 'LATEST') {
      // Only LATEST is deployed locally: no versions, no aliases.
      if (/^\d+$/.test(qualifier)) {
        throw new FcError(
          404,
          'VersionNotFound',
          `version '${qualifier}' of function '${functionName}' does not exist`,
        );
      }
      throw new FcError(
        404,
        'AliasNotFound',
        `alias '${qualifier}' of function '${functionName}' does not exist`,
      );
    }
    const invocationType = req.headers['x-fc-invocation-type'] ?? 'Sync';
    if (invocationType !== 'Sync' && invocationType !== 'Async') {
      throw new FcError(
        400,
        'InvalidArgument',
        `invalid x-fc-invocation-type '${invocationType}': must be Sync or Async`,
      );
    }
    const logType = req.headers['x-fc-log-type'];
    if (logType !== undefined && logType !== 'None' && logType !== 'Tail') {
      throw new FcError(
        400,
        'InvalidArgument',
        `invalid x-fc-log-type '${logType}': must be None or Tail`,
      );
    }

    if (invocationType === 'Async') {
      if (req.body.length > FC_ASYNC_PAYLOAD_LIMIT) throw tooLarge(FC_ASYNC_PAYLOAD_LIMIT);
      try {
        asyncInvocations.enqueue({ requestId, functionName, payload: Buffer.from(req.body) });
      } catch (error) {
        if (error instanceof AsyncQueueClosedError) {
          throw new FcError(503, 'ServiceUnavailable', error.message);
        }
        throw error;
      }
      return {
        response: { status: 202, headers: { 'x-fc-request-id': requestId }, body: '' },
        result: 'ok',
      };
    }

    if (req.body.length > FC_SYNC_PAYLOAD_LIMIT) throw tooLarge(FC_SYNC_PAYLOAD_LIMIT);
    let value: unknown;
    try {
      value = await dispatcher.invoke(functionName, req.body);
    } catch (error) {
      const payload = invocationErrorPayload(error);
      if (!payload) throw error;
      return {
        response: {
          status: 200,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'x-fc-request-id': requestId,
            'x-fc-error-type': 'UnhandledInvocationError',
          },
          body: JSON.stringify(payload),
        },
        // The call succeeded; the call log still shows that the function failed.
        result: 'UnhandledInvocationError',
      };
    }
    return {
      response: {
        status: 200,
        headers: { 'content-type': 'application/octet-stream', 'x-fc-request-id': requestId },
        body: invocationResultBody(value),
      },
      result: 'ok',
    };
  }

  const throttle: FaultError = {
    status: 429,
    code: 'ResourceExhausted',
    message: 'Resources are exhausted: too many concurrent invocations of the function',
  };

  return {
    name: 'fc',
    asyncInvocations,
    faultErrors: { throttle },
    matches(req) {
      return req.url.pathname.startsWith(PREFIX);
    },
    action(req) {
      return req.method === 'POST' && INVOCATIONS_PATH.test(req.url.pathname)
        ? 'InvokeFunction'
        : 'Unknown';
    },
    errorResponse: fcErrorResponse,
    async handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome> {
      const requestId = fcRequestId(options.wallNow());
      let caller: Principal | undefined;
      try {
        try {
          caller = authenticateAcs3(req, ctx, options);
        } catch (error) {
          if (error instanceof PopError) throw fcAuthError(error, accessKeyIdOf(req));
          throw error;
        }
        const match = INVOCATIONS_PATH.exec(req.url.pathname);
        if (req.method !== 'POST' || !match) {
          throw new FcError(
            400,
            'PathNotSupported',
            `'${req.method}' against '${req.url.pathname}' is not supported`,
          );
        }
        let functionName: string;
        try {
          functionName = decodeURIComponent(match[1] ?? '');
        } catch {
          throw new FcError(400, 'InvalidArgument', `invalid function name in ${req.url.pathname}`);
        }
        authorize(caller, functionName);
        return { ...(await invoke(req, functionName, requestId)), caller };
      } catch (error) {
        if (!(error instanceof FcError)) throw error;
        return {
          response: fcErrorResponse(error.status, error.code, error.message, requestId),
          ...(caller ? { caller } : {}),
          result: error.code,
        };
      }
    },
    async close() {
      await asyncInvocations.close();
    },
  };
}
