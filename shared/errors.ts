// Errors the application raises on purpose. Each carries the HTTP status and the stable `code` a
// caller sees in the error envelope {code, message, details, requestId}; anything else that
// escapes a handler is a bug and becomes 500 InternalError (see shared/runtime/error-response.ts).

export type ErrorDetails = Record<string, unknown>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly details: ErrorDetails | null;
  /** Extra response headers (WWW-Authenticate, Allow, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    message: string,
    options: {
      details?: ErrorDetails | null;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? null;
    this.headers = options.headers ?? {};
  }
}

/** Where a bad value was found in a request. */
export type RequestLocation = 'query' | 'body' | 'path' | 'header';

export interface FieldIssue {
  location: RequestLocation;
  /** Dotted path of the field inside its location; '' for the whole location. */
  field: string;
  message: string;
}

export class InvalidRequest extends AppError {
  readonly status = 400;
  readonly code = 'InvalidRequest';
  constructor(message: string, issues: FieldIssue[] = []) {
    super(message, { details: { issues } });
  }
}

const REALM = 'rd-governance';

export class Unauthenticated extends AppError {
  readonly status = 401;
  readonly code = 'Unauthenticated';
  /** @param reason why the token was refused; absent when there was no token at all (RFC 6750 3.1).
   *  @param details e.g. `{claim: 'iat'}` when one claim is the reason. */
  constructor(message: string, reason?: string, details?: ErrorDetails) {
    const challenge =
      reason === undefined
        ? `Bearer realm="${REALM}"`
        : `Bearer realm="${REALM}", error="invalid_token", error_description="${reason.replace(/"/g, "'")}"`;
    super(message, { headers: { 'WWW-Authenticate': challenge }, details: details ?? null });
  }
}

export class Forbidden extends AppError {
  readonly status = 403;
  readonly code = 'Forbidden';
  constructor(message: string, details: { requiredRole: string; grantedRoles: string[] }) {
    super(message, {
      details,
      headers: {
        'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", error_description="requires role ${details.requiredRole}"`,
      },
    });
  }
}

export class NotFound extends AppError {
  readonly status = 404;
  readonly code = 'NotFound';
}

/** The request conflicts with the state it would change (the message says which record). */
export class Conflict extends AppError {
  readonly status = 409;
  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetails | null = null,
  ) {
    super(message, { details });
  }
}

export class MethodNotAllowed extends AppError {
  readonly status = 405;
  readonly code = 'MethodNotAllowed';
  constructor(method: string, path: string, allowed: string[]) {
    super(`${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {
      details: { allowedMethods: allowed },
      headers: { Allow: allowed.join(', ') },
    });
  }
}

export class PayloadTooLarge extends AppError {
  readonly status = 413;
  readonly code = 'PayloadTooLarge';
  constructor(limitBytes: number) {
    super(`The request body exceeds the limit of ${limitBytes} bytes`, { details: { limitBytes } });
  }
}

export class UnsupportedMediaType extends AppError {
  readonly status = 415;
  readonly code = 'UnsupportedMediaType';
  constructor(received: string | undefined, expected: string) {
    super(
      `The request body must be ${expected}${received ? `; got ${received}` : '; no Content-Type was sent'}`,
      { details: { expected, received: received ?? null } },
    );
  }
}

/** The token verifier could not reach the issuer's key set: not the caller's fault. */
export class AuthenticationUnavailable extends AppError {
  readonly status = 503;
  readonly code = 'AuthenticationUnavailable';
}

/** How a cloud API call failed, as far as what to do next is concerned. */
export type CloudFailureKind =
  /** The caller's identity may not do this (NoPermission, Forbidden.*, NotAuthorized...). */
  | 'denied'
  /** Throttling.*: retry later. */
  | 'throttled'
  /** The service did not answer (connection refused/reset, timeout, 503). */
  | 'unavailable'
  /** The service refused the request for another reason (4xx). */
  | 'rejected'
  /** The service failed (5xx). */
  | 'failed';

export interface CloudCallFailure {
  service: string;
  api: string;
  /** The account whose credentials made the call. */
  accountId: string;
  kind: CloudFailureKind;
  /** The cloud's error code, e.g. NoPermission or Throttling.User; 'NetworkError' when no answer. */
  cloudCode: string;
  cloudMessage: string;
  cloudRequestId?: string;
  httpStatus?: number;
  /** What an operator should do about it. */
  hint?: string;
}

const cloudStatus: Record<CloudFailureKind, { status: number; code: string }> = {
  denied: { status: 502, code: 'CloudAccessDenied' },
  throttled: { status: 503, code: 'CloudThrottled' },
  unavailable: { status: 503, code: 'CloudUnavailable' },
  rejected: { status: 502, code: 'CloudRequestRejected' },
  failed: { status: 502, code: 'CloudApiFailed' },
};

/** A cloud API call made with the function's own identity failed. */
export class CloudApiError extends AppError {
  readonly status: number;
  readonly code: string;
  constructor(
    readonly failure: CloudCallFailure,
    cause?: unknown,
  ) {
    const hint = failure.hint ? ` ${failure.hint}` : '';
    super(
      `${failure.service} ${failure.api} as account ${failure.accountId} failed: ${failure.cloudCode}: ${failure.cloudMessage.replace(/[.\s]+$/, '')}.${hint}`,
      {
        details: {
          service: failure.service,
          api: failure.api,
          accountId: failure.accountId,
          cloudCode: failure.cloudCode,
          cloudRequestId: failure.cloudRequestId ?? null,
        },
        headers: failure.kind === 'throttled' ? { 'Retry-After': '1' } : {},
        cause,
      },
    );
    this.status = cloudStatus[failure.kind].status;
    this.code = cloudStatus[failure.kind].code;
  }
}

/**
 * AssumeRole into a member was refused. Reported per member, with the role and the reason, so
 * one member's refusal never hides behind a bare AccessDenied or fails the other members.
 */
export class MemberAccessDenied extends AppError {
  readonly status = 502;
  readonly code = 'MemberAccessDenied';
  constructor(
    readonly accountId: string,
    readonly roleArn: string,
    /** The STS error code, e.g. NoPermission or EntityNotExist.Role. */
    readonly cloudCode: string,
    readonly reason: string,
  ) {
    super(
      `Cannot access member ${accountId}: AssumeRole into ${roleArn} was refused (${cloudCode}: ${reason.replace(/[.\s]+$/, '')}). Check that the role exists in the member and that its trust policy names the function's account or role.`,
      { details: { accountId, roleArn, cloudCode, reason } },
    );
  }
}

/** The directory changed while it was being read (a member's folder was not in the folder listing). */
export class DirectoryChanging extends AppError {
  readonly status = 503;
  readonly code = 'DirectoryChanging';
  constructor(message: string, details: ErrorDetails) {
    super(message, { details, headers: { 'Retry-After': '2' } });
  }
}

/** The deployment is missing something the function needs (e.g. no role, so no credentials). */
export class FunctionMisconfigured extends AppError {
  readonly status = 500;
  readonly code = 'FunctionMisconfigured';
}

/**
 * The state store (Tablestore) did not answer, or kept refusing for load, through every retry.
 * Nothing the caller sent is wrong: try again later.
 */
export class StoreUnavailable extends AppError {
  readonly status = 503;
  readonly code = 'StoreUnavailable';
  constructor(operation: string, table: string | undefined, storeCode: string, cause?: unknown) {
    super(
      `The state store did not complete ${operation}${table ? ` on ${table}` : ''} (${storeCode}); try again later.`,
      {
        details: { operation, table: table ?? null, storeCode },
        headers: { 'Retry-After': '2' },
        cause,
      },
    );
  }
}

/**
 * A table or search index the function needs does not exist: the deployment's setup step has
 * not run (or has not finished building a search index). Not the caller's fault, and not a bug.
 */
export class StoreNotReady extends AppError {
  readonly status = 503;
  readonly code = 'StoreNotReady';
  constructor(operation: string, what: string, cause?: unknown) {
    super(
      `The state store is not set up: ${what} does not exist. Run \`npm run setup:tables\` (s.yaml runs it after \`s deploy\`), then try again.`,
      { details: { operation, missing: what }, headers: { 'Retry-After': '30' }, cause },
    );
  }
}

/** A token limited to some folders and accounts asked for something outside them. */
export class OutsideTokenScope extends AppError {
  readonly status = 403;
  readonly code = 'OutsideTokenScope';
  constructor(message: string, details: { outside: string[]; tokenScope: string[] }) {
    super(message, {
      details,
      headers: {
        'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", error_description="outside the token's scope"`,
      },
    });
  }
}
