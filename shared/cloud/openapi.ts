// What every adapter over an Alibaba Cloud OpenAPI SDK (@alicloud/<product><version>) shares:
// building the client from endpoint + protocol + per-invocation credentials, reading the SDK's
// errors, and retrying what is safe to retry (with the one backoff of shared/runtime/retry.ts).
// No adapter has a "local" branch: localcloud is reached through the same endpoint/protocol
// configuration as the cloud.

import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { CloudProtocol } from '../config';
import type { CloudCallFailure, CloudFailureKind } from '../errors';
import type { CloudCredentials } from '../runtime/context';
import { backoffDelay, type RetryPolicy, type RetryTimers, sleep } from '../runtime/retry';

export interface CloudEndpoint {
  /** host[:port], no scheme. */
  endpoint: string;
  protocol: CloudProtocol;
}

/**
 * The SDKs are CommonJS with `exports.default = Client`. Node's ESM loader (and esbuild bundling
 * an ES-module package) hands the whole exports object to a default import, other loaders the
 * class itself; this accepts both.
 */
function sdkClass<T>(imported: T): T {
  if (typeof imported === 'function') return imported;
  const inner = (imported as { default?: T } | null)?.default;
  if (typeof inner === 'function') return inner;
  throw new Error('The SDK module does not export a client class');
}

/** An OpenAPI SDK client class: every @alicloud/<product><version> client is built from a Config. */
type OpenApiClientClass<C> = new (config: $OpenApiUtil.Config) => C;

/**
 * The one way to build an OpenAPI SDK client: the SDK's default export (`Sts.default`), where it
 * is, and the credentials to sign with (this invocation's, or a member's).
 */
export function createOpenApiClient<C>(
  Client: OpenApiClientClass<C>,
  target: CloudEndpoint,
  credentials: CloudCredentials,
  options: {
    connectTimeoutMs?: number;
    readTimeoutMs?: number;
    /** For SDKs that sign per region (SLS signature v4). */
    regionId?: string;
    /** The SDK's signature version where it has several (SLS: v1, its default, or v4). */
    signatureVersion?: string;
  } = {},
): C {
  const Constructor = sdkClass(Client);
  return new Constructor(
    new $OpenApiUtil.Config({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      endpoint: target.endpoint,
      protocol: target.protocol,
      ...(options.regionId ? { regionId: options.regionId } : {}),
      ...(options.signatureVersion ? { signatureVersion: options.signatureVersion } : {}),
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      readTimeout: options.readTimeoutMs ?? 10_000,
      userAgent: 'rd-governance',
    }),
  );
}

/** What an SDK call's failure says, read defensively (SDK errors, network errors, anything). */
export interface SdkFailure {
  /** The cloud's error code, or the network error code (ECONNREFUSED...). */
  code: string;
  message: string;
  httpStatus?: number;
  requestId?: string;
  /** No HTTP answer came back. */
  network: boolean;
}

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_\w+)$/;

function field(source: unknown, ...names: string[]): unknown {
  if (source === null || typeof source !== 'object') return undefined;
  for (const name of names) {
    const value = (source as Record<string, unknown>)[name];
    if (value !== undefined && value !== null && value !== '' && value !== 'undefined')
      return value;
  }
  return undefined;
}

export function readSdkFailure(error: unknown): SdkFailure {
  const data = field(error, 'data');
  const httpStatus = field(error, 'statusCode');
  const code = String(field(data, 'Code', 'code') ?? field(error, 'code') ?? 'UnknownError');
  const requestId = field(data, 'RequestId', 'requestId') ?? field(error, 'requestId');
  const rawMessage = String(
    field(data, 'Message', 'message') ?? field(error, 'message') ?? String(error),
  );
  const name = String(field(error, 'name') ?? '');
  const network =
    typeof httpStatus !== 'number' && (NETWORK_CODES.test(code) || /timeout/i.test(name + code));
  // The SLS SDK's errors carry no message in `data` and prefix the service's with the code.
  const message = rawMessage.startsWith(`${code}: `)
    ? rawMessage.slice(code.length + 2)
    : rawMessage;
  return {
    code,
    message,
    ...(typeof httpStatus === 'number' ? { httpStatus } : {}),
    ...(requestId !== undefined ? { requestId: String(requestId) } : {}),
    network,
  };
}

const DENIED =
  /^(NoPermission|NotAuthorized|Forbidden|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken)/;

/**
 * Throttling codes without "Throttling" in them. SLS answers 403 with its quota codes (per shard,
 * or per project for writes and reads); they mean "later", not "never".
 */
const THROTTLING_CODES = /^(Shard)?(Read|Write)QuotaExceed$/;

export function failureKind(failure: SdkFailure): CloudFailureKind {
  if (failure.network) return 'unavailable';
  if (/Throttling/i.test(failure.code) || THROTTLING_CODES.test(failure.code)) return 'throttled';
  if (DENIED.test(failure.code) || failure.httpStatus === 401 || failure.httpStatus === 403) {
    return 'denied';
  }
  if (failure.httpStatus === 503 || /ServiceUnavailable/i.test(failure.code)) return 'unavailable';
  if (failure.httpStatus !== undefined && failure.httpStatus >= 500) return 'failed';
  return 'rejected';
}

export function describeFailure(
  service: string,
  api: string,
  accountId: string,
  error: unknown,
  hint?: (failure: SdkFailure, kind: CloudFailureKind) => string | undefined,
): CloudCallFailure {
  const failure = readSdkFailure(error);
  const kind = failureKind(failure);
  const hintText = hint?.(failure, kind);
  return {
    service,
    api,
    accountId,
    kind,
    cloudCode: failure.code,
    cloudMessage: failure.message,
    ...(failure.requestId ? { cloudRequestId: failure.requestId } : {}),
    ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
    ...(hintText ? { hint: hintText } : {}),
  };
}

/** The OpenAPI adapters' default; the wait between attempts is shared/runtime/retry.ts's. */
export const OPENAPI_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

/** What an adapter takes to retry its calls: a policy, and the timers (test seams). */
export interface RetryOptions extends RetryTimers {
  retry?: RetryPolicy;
}

/** Whether a failure is transient (throttling, no answer, 5xx): worth another attempt. */
export function isTransient(error: unknown): boolean {
  const kind = failureKind(readSdkFailure(error));
  return kind === 'throttled' || kind === 'unavailable' || kind === 'failed';
}

/** Runs an idempotent call, retrying transient failures with exponential backoff and jitter. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.retry ?? OPENAPI_RETRY_POLICY;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isTransient(error)) throw error;
      await wait(backoffDelay(attempt - 1, policy, options.random));
    }
  }
}
