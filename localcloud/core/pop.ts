// POP (Alibaba Cloud OpenAPI) request handling shared by STS, ResourceManager and RAM: reading
// the parameters (query and form body), authenticating either signature style the SDKs send,
// rejecting replays and skewed clocks, enforcing session policies, and rendering JSON answers
// and errors the way the SDKs parse them ({RequestId, HostId, Code, Message, Recommend}).

import type {
  LocalRequest,
  LocalResponse,
  LocalService,
  Principal,
  ServiceContext,
  ServiceName,
  ServiceOutcome,
} from './contracts';
import { parsePolicy, permissionAllows } from './policy';
import {
  ACS3_ALGORITHM,
  acs3Signature,
  acs3StringToSign,
  buildCanonicalRequest,
  parseAcs3Authorization,
  parseSignedTimestamp,
  parseUrlEncoded,
  rpcSignature,
  rpcStringToSign,
  sha256Hex,
  signaturesEqual,
} from './signing';

/** An error answered to the caller in the service's wire format. */
export class PopError extends Error {
  override name = 'PopError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const NONCE_TTL_MS = MAX_CLOCK_SKEW_MS;

/** Remembers SignatureNonces for the skew window: a nonce seen twice is a replay. */
export class NonceRegistry {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  /** Records the nonce; false when it was already used within the window. */
  claim(accessKeyId: string, nonce: string, wallNow: number): boolean {
    if (wallNow - this.lastSweep > 60_000) {
      for (const [key, expiresAt] of this.seen) if (expiresAt <= wallNow) this.seen.delete(key);
      this.lastSweep = wallNow;
    }
    const key = `${accessKeyId}\u0000${nonce}`;
    const expiresAt = this.seen.get(key);
    if (expiresAt !== undefined && expiresAt > wallNow) return false;
    this.seen.set(key, wallNow + NONCE_TTL_MS);
    return true;
  }
}

export interface PopRequestParts {
  action: string | undefined;
  version: string | undefined;
  /** Query and form-body parameters, decoded. */
  params: Array<[string, string]>;
}

function isFormBody(req: LocalRequest): boolean {
  return (req.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
}

export function readPopRequest(req: LocalRequest): PopRequestParts {
  const query = parseUrlEncoded(req.url.search.replace(/^\?/, ''));
  const form =
    isFormBody(req) && req.body.length > 0 ? parseUrlEncoded(req.body.toString('utf8')) : [];
  const params = [...query, ...form];
  const param = (name: string): string | undefined => params.find(([key]) => key === name)?.[1];
  return {
    action: req.headers['x-acs-action'] ?? param('Action'),
    version: req.headers['x-acs-version'] ?? param('Version'),
    params,
  };
}

/** A call after authentication, handed to an action handler. */
export class PopCall {
  constructor(
    readonly action: string,
    readonly caller: Principal,
    readonly requestId: string,
    private readonly params: Array<[string, string]>,
  ) {}

  param(name: string): string | undefined {
    for (const [key, value] of this.params) if (key === name) return value;
    return undefined;
  }

  required(name: string): string {
    const value = this.param(name);
    if (value === undefined || value === '') {
      throw new PopError(400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    return value;
  }

  /** An integer parameter within [min, max]; `fallback` when absent. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.param(name);
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new PopError(
        400,
        'InvalidParameter',
        `The specified parameter ${name} is invalid: "${raw}" is not an integer from ${min} to ${max}.`,
      );
    }
    return value;
  }

  boolean(name: string): boolean {
    return (this.param(name) ?? '').toLowerCase() === 'true';
  }
}

export type PopActionHandler = (
  call: PopCall,
  ctx: ServiceContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface PopServiceSpec {
  name: ServiceName;
  /** API version this service answers, e.g. 2015-04-01. */
  version: string;
  /** Product code used in RAM action names (sts, resourcemanager, ram). */
  product: string;
  /** HostId in error bodies, e.g. sts.aliyuncs.com */
  hostId: string;
  actions: Record<string, PopActionHandler>;
  /** The resource ARN an action addresses, for session-policy checks (undefined = none). */
  resourceOf?: (action: string, call: PopCall) => string | undefined;
  /** Actions any authenticated caller may invoke whatever its session policy says. */
  unrestrictedActions?: string[];
  /** Maps errors thrown by the domain (e.g. OrganizationError) to wire errors. */
  mapError?: (error: unknown) => PopError | undefined;
}

export interface PopDependencies {
  nonces: NonceRegistry;
  /** Real time for timestamp skew checks (the SDKs stamp requests with it). */
  wallNow: () => number;
}

export function popJson(
  status: number,
  body: Record<string, unknown>,
  requestId: string,
): LocalResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json;charset=utf-8',
      'x-acs-request-id': requestId,
    },
    body: JSON.stringify(body),
  };
}

export function popErrorResponse(
  hostId: string,
  product: string,
  status: number,
  code: string,
  message: string,
  requestId: string,
): LocalResponse {
  return popJson(
    status,
    {
      RequestId: requestId,
      HostId: hostId,
      Code: code,
      Message: message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=${product}`,
    },
    requestId,
  );
}

const SIGNATURE_MISMATCH = 'Specified signature is not matched with our calculation.';

function checkTimestamp(
  value: string | undefined,
  wallNow: number,
  missingCode: string,
  name: string,
): void {
  if (value === undefined || value === '') {
    throw new PopError(400, missingCode, `${name} is mandatory for this action.`);
  }
  const at = parseSignedTimestamp(value);
  if (at === undefined) {
    throw new PopError(
      400,
      'InvalidTimeStamp.Format',
      'Specified time stamp or date value is not well formatted.',
    );
  }
  if (Math.abs(wallNow - at) > MAX_CLOCK_SKEW_MS) {
    throw new PopError(
      400,
      'InvalidTimeStamp.Expired',
      `Specified time stamp or date value is expired. (request ${value}, server ${new Date(wallNow).toISOString()})`,
    );
  }
}

function resolveCaller(
  ctx: ServiceContext,
  accessKeyId: string,
  token: string | undefined,
): { secret: string; principal: Principal } {
  const resolved = ctx.credentials.resolve(accessKeyId, token);
  if (!resolved.ok) {
    const status =
      resolved.code === 'InvalidAccessKeyId.NotFound'
        ? 404
        : resolved.code === 'NoPermission'
          ? 403
          : 400;
    throw new PopError(status, resolved.code, resolved.message);
  }
  return resolved;
}

/** ACS3-HMAC-SHA256 (Authorization header), as openapi-core clients sign by default. */
export function authenticateAcs3(
  req: LocalRequest,
  ctx: ServiceContext,
  deps: PopDependencies,
): Principal {
  const authorization = parseAcs3Authorization(req.headers.authorization ?? '');
  if (!authorization) {
    throw new PopError(400, 'IncompleteSignature', 'The Authorization header is not well formed.');
  }
  if (authorization.algorithm !== ACS3_ALGORITHM) {
    throw new PopError(
      400,
      'InvalidSignatureMethod',
      `Specified signature method ${authorization.algorithm} is not supported; use ${ACS3_ALGORITHM}.`,
    );
  }
  const signed = new Set(authorization.signedHeaders.map((name) => name.toLowerCase()));
  for (const name of Object.keys(req.headers)) {
    if ((name.startsWith('x-acs-') || name === 'host') && !signed.has(name)) {
      throw new PopError(
        400,
        'IncompleteSignature',
        `The header ${name} must be signed (SignedHeaders).`,
      );
    }
  }
  for (const name of ['x-acs-signature-nonce', 'x-acs-content-sha256']) {
    if (!req.headers[name])
      throw new PopError(400, 'MissingParameter', `The header ${name} is required.`);
  }
  checkTimestamp(req.headers['x-acs-date'], deps.wallNow(), 'MissingParameter', 'x-acs-date');
  const { secret, principal } = resolveCaller(
    ctx,
    authorization.accessKeyId,
    req.headers['x-acs-security-token'],
  );
  const hashedPayload = req.headers['x-acs-content-sha256'] ?? '';
  if (hashedPayload !== sha256Hex(req.body)) {
    throw new PopError(
      400,
      'SignatureDoesNotMatch',
      `${SIGNATURE_MISMATCH} The x-acs-content-sha256 header does not match the body.`,
    );
  }
  // The body is covered by x-acs-content-sha256; only the query is canonicalized.
  const query = parseUrlEncoded(req.url.search.replace(/^\?/, ''));
  const canonicalRequest = buildCanonicalRequest({
    method: req.method,
    canonicalUri: req.url.pathname,
    query,
    headers: req.headers,
    signedHeaders: [...signed],
    hashedPayload,
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  if (
    !signaturesEqual(acs3Signature(secret, stringToSign), authorization.signature.toLowerCase())
  ) {
    throw new PopError(
      400,
      'SignatureDoesNotMatch',
      `${SIGNATURE_MISMATCH} server string to sign is:${stringToSign}`,
    );
  }
  if (
    !deps.nonces.claim(
      authorization.accessKeyId,
      req.headers['x-acs-signature-nonce'] ?? '',
      deps.wallNow(),
    )
  ) {
    throw new PopError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  }
  return principal;
}

/** HMAC-SHA1 RPC signature (Signature and friends in the query and/or form body). */
export function authenticateRpc(
  req: LocalRequest,
  params: Array<[string, string]>,
  ctx: ServiceContext,
  deps: PopDependencies,
): Principal {
  const param = (name: string): string | undefined => params.find(([key]) => key === name)?.[1];
  for (const name of ['AccessKeyId', 'SignatureMethod', 'SignatureNonce']) {
    if (!param(name))
      throw new PopError(400, `Missing${name}`, `${name} is mandatory for this action.`);
  }
  const method = param('SignatureMethod');
  if (method !== 'HMAC-SHA1') {
    throw new PopError(
      400,
      'InvalidSignatureMethod',
      `Specified signature method ${method} is not supported; use HMAC-SHA1.`,
    );
  }
  const version = param('SignatureVersion');
  if (version !== undefined && version !== '1.0') {
    throw new PopError(
      400,
      'InvalidSignatureVersion',
      `Specified signature version ${version} is not valid.`,
    );
  }
  checkTimestamp(param('Timestamp'), deps.wallNow(), 'MissingTimestamp', 'Timestamp');
  const accessKeyId = param('AccessKeyId') ?? '';
  const { secret, principal } = resolveCaller(ctx, accessKeyId, param('SecurityToken'));
  const stringToSign = rpcStringToSign(req.method, params);
  if (!signaturesEqual(rpcSignature(secret, stringToSign), param('Signature') ?? '')) {
    // The credentials SDK compares this suffix with its own string to sign to tell a wrong
    // secret from a signing bug, so it is printed exactly.
    throw new PopError(
      400,
      'SignatureDoesNotMatch',
      `${SIGNATURE_MISMATCH} server string to sign is:${stringToSign}`,
    );
  }
  if (!deps.nonces.claim(accessKeyId, param('SignatureNonce') ?? '', deps.wallNow())) {
    throw new PopError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  }
  return principal;
}

export function authenticatePop(
  req: LocalRequest,
  params: Array<[string, string]>,
  ctx: ServiceContext,
  deps: PopDependencies,
): Principal {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('ACS3-')) {
    return authenticateAcs3(req, ctx, deps);
  }
  if (params.some(([key]) => key === 'Signature')) return authenticateRpc(req, params, ctx, deps);
  if (req.headers['x-acs-version'] !== undefined) {
    throw new PopError(400, 'MissingAuthorization', 'The Authorization header is required.');
  }
  throw new PopError(400, 'MissingSignature', 'Signature is mandatory for this action.');
}

/** Builds a LocalService answering one POP product version. */
export function createPopService(spec: PopServiceSpec, deps: PopDependencies): LocalService {
  const errorResponse = (status: number, code: string, message: string, requestId: string) =>
    popErrorResponse(spec.hostId, spec.product, status, code, message, requestId);
  const unrestricted = new Set(spec.unrestrictedActions ?? []);

  return {
    name: spec.name,
    matches(req) {
      if (req.url.pathname.startsWith('/__localcloud/')) return false;
      return readPopRequest(req).version === spec.version;
    },
    action(req) {
      return readPopRequest(req).action ?? 'Unknown';
    },
    errorResponse,
    async handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome> {
      const requestId = ctx.requestId();
      let caller: Principal | undefined;
      try {
        const parts = readPopRequest(req);
        caller = authenticatePop(req, parts.params, ctx, deps);
        const action = parts.action ?? '';
        const handler = Object.hasOwn(spec.actions, action) ? spec.actions[action] : undefined;
        if (!handler) {
          throw new PopError(
            404,
            'InvalidAction.NotFound',
            `Specified api is not found, please check your url and method. (${action || 'no Action'} in ${spec.product} ${spec.version})`,
          );
        }
        const call = new PopCall(action, caller, requestId, parts.params);
        enforceSessionPolicy(spec, call, unrestricted);
        const body = await handler(call, ctx);
        return {
          response: popJson(200, { RequestId: requestId, ...body }, requestId),
          caller,
          result: 'ok',
        };
      } catch (error) {
        const popError = error instanceof PopError ? error : spec.mapError?.(error);
        if (!popError) throw error;
        return {
          response: errorResponse(popError.status, popError.code, popError.message, requestId),
          ...(caller ? { caller } : {}),
          result: popError.code,
        };
      }
    },
  };
}

function enforceSessionPolicy(
  spec: PopServiceSpec,
  call: PopCall,
  unrestricted: Set<string>,
): void {
  const policyText = call.caller.sessionPolicy;
  if (policyText === undefined || unrestricted.has(call.action)) return;
  const parsed = parsePolicy(policyText, 'permission');
  const ramAction = `${spec.product}:${call.action}`;
  const resource = spec.resourceOf?.(call.action, call);
  if (!parsed.ok || !permissionAllows(parsed.policy, ramAction, resource)) {
    throw new PopError(
      403,
      'NoPermission',
      `You are not authorized to do this action. The session policy of ${call.caller.arn}/${call.caller.sessionName ?? ''} does not allow ${ramAction}${resource ? ` on ${resource}` : ''}.`,
    );
  }
}
