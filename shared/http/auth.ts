// Bearer-token authentication and role checks for every API route.
//
// Tokens are JWTs verified with jose against the configured issuer, audience and key set (a
// remote JWKS URL in the cloud, fetched and cached by jose across invocations of a warm
// instance; or an inline JWKS, which `npm start` generates). Roles come from one claim:
// `viewer` may call read routes, `operator` write routes and, by implication, read routes.
// Beyond the signature, a token must name its subject (`sub`: the activity log records who made
// each change), must not claim to be issued more than 60 s in the future (`iat`), and, when
// AUTH_MAX_TOKEN_AGE_SECONDS is set, must carry an `iat` no older than that. Each refusal is a
// 401 naming the claim; a key set that cannot be loaded (unreachable, slow, invalid) is a 503.

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '../config';
import { AuthenticationUnavailable, Forbidden, Unauthenticated } from '../errors';
import { ACCOUNT_ID } from './validation';

export const ROLES = ['viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];
/** Who may call a route: anyone, or a token granting the role. */
export type Access = 'public' | Role;

export interface Principal {
  /** The token's `sub`. */
  subject: string;
  /** Effective roles (operator includes viewer). */
  roles: Role[];
  /** What the token is limited to (its scope claim); undefined: not limited. */
  scope?: TokenScope;
}

/**
 * The folders and accounts a token is limited to: it sees the accounts listed and every account
 * in a listed folder or below it, evaluated against the directory at each request.
 */
export interface TokenScope {
  folderIds: string[];
  accountIds: string[];
}

const SCOPE_FOLDER = /^(r|fd)-[A-Za-z0-9]{1,64}$/;
/** More entries than this is a mistake in the identity provider's mapping, not a scope. */
export const MAX_SCOPE_ENTRIES = 1000;

/** The scope entries as the activity log records them: folder ids, then account ids. */
export function scopeEntries(scope: TokenScope): string[] {
  return [...scope.folderIds, ...scope.accountIds];
}

/**
 * Reads the scope claim: an array of strings or a space-separated string of folder ids (fd-...,
 * r-...) and 16-digit account ids; absent means the token is not limited. Anything else in it is
 * refused (401 naming the claim): a scope the API misread would show more than it should.
 */
export function scopeFromClaims(payload: JWTPayload, claim: string): TokenScope | undefined {
  const value = claimValue(payload, claim);
  if (value === undefined) return undefined;
  const entries =
    typeof value === 'string'
      ? value.split(/\s+/).filter(Boolean)
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? (value as string[])
        : undefined;
  const bad = entries?.find((e) => !SCOPE_FOLDER.test(e) && !ACCOUNT_ID.test(e));
  if (entries === undefined || bad !== undefined || entries.length > MAX_SCOPE_ENTRIES) {
    throw claimRefusal(
      claim,
      `The bearer token's "${claim}" claim must list folder ids (fd-..., r-...) and 16-digit account ids, at most ${MAX_SCOPE_ENTRIES}${bad !== undefined ? `; "${bad.slice(0, 80)}" is neither` : ''}`,
      `token "${claim}" claim is invalid`,
    );
  }
  return {
    folderIds: [...new Set(entries.filter((e) => SCOPE_FOLDER.test(e)))],
    accountIds: [...new Set(entries.filter((e) => ACCOUNT_ID.test(e)))],
  };
}

/** A claim by name, or by a dotted path when no top-level claim has that name. */
function claimValue(payload: JWTPayload, claim: string): unknown {
  const value: unknown = payload[claim];
  if (value !== undefined || !claim.includes('.')) return value;
  return claim.split('.').reduce<unknown>((node, key) => {
    if (node !== null && typeof node === 'object' && key in node) {
      return (node as Record<string, unknown>)[key];
    }
    return undefined;
  }, payload);
}

export interface TokenVerifier {
  /** Resolves the principal, or throws Unauthenticated / AuthenticationUnavailable. */
  verify(token: string): Promise<Principal>;
}

// Asymmetric algorithms only: a key set never holds the API's own secret, and refusing HS*
// rules out algorithm-confusion attacks with a public key used as an HMAC secret.
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** The scope claim when AUTH_SCOPE_CLAIM is not set. */
export const DEFAULT_SCOPE_CLAIM = 'rdgov_scope';

/** How far a token's `iat` may lie ahead of this API's clock (the issuer's clock may be ahead). */
export const MAX_ISSUED_AT_SKEW_SECONDS = 60;

export interface TokenVerifierOptions {
  /** The clock tokens are checked against (tests move it). */
  now?: () => Date;
  clockToleranceSeconds?: number;
  /** Timeout for fetching a remote JWKS. */
  jwksTimeoutMs?: number;
}

function keySetFor(config: AuthConfig, options: TokenVerifierOptions): JWTVerifyGetKey {
  if (config.jwks.kind === 'inline') {
    return createLocalJWKSet(config.jwks.jwks as JSONWebKeySet);
  }
  return createRemoteJWKSet(new URL(config.jwks.url), {
    timeoutDuration: options.jwksTimeoutMs ?? 3000,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
}

/**
 * Reads roles from the claim: an array of strings or a space-separated string. A claim name that
 * is not a top-level claim but contains dots is followed as a path (Keycloak's realm_access.roles).
 */
export function rolesFromClaims(payload: JWTPayload, claim: string): Role[] {
  const value = claimValue(payload, claim);
  const names =
    typeof value === 'string'
      ? value.split(/\s+/)
      : Array.isArray(value)
        ? value.filter((v): v is string => typeof v === 'string')
        : [];
  const granted = new Set<Role>();
  for (const name of names) {
    if (name === 'operator') {
      granted.add('operator');
      granted.add('viewer');
    } else if (name === 'viewer') {
      granted.add('viewer');
    }
  }
  return ROLES.filter((role) => granted.has(role));
}

function refusal(error: unknown): Unauthenticated | AuthenticationUnavailable {
  if (error instanceof errors.JWTExpired) {
    return new Unauthenticated('The bearer token has expired', 'token expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    const what =
      error.reason === 'missing'
        ? `has no "${claim}" claim`
        : claim === 'aud'
          ? 'is not for this API (audience)'
          : claim === 'iss'
            ? 'is not from the accepted issuer'
            : claim === 'nbf'
              ? 'is not valid yet'
              : `has an unacceptable "${claim}" claim`;
    return new Unauthenticated(`The bearer token ${what}`, `token ${what}`, { claim });
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new Unauthenticated(
      "The bearer token's signature does not verify against the issuer's keys",
      'signature invalid',
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new Unauthenticated(
      'The bearer token is signed with an algorithm this API does not accept',
      'algorithm not accepted',
    );
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthenticationUnavailable(
      "The issuer's key set could not be loaded; try again later",
    );
  }
  if (error instanceof errors.JOSEError) {
    return new Unauthenticated('The bearer token is malformed', 'malformed token');
  }
  // fetch failures of a remote JWKS: the issuer is unreachable, not the caller's fault.
  return new AuthenticationUnavailable(
    "The issuer's key set could not be loaded; try again later",
    {
      cause: error,
    },
  );
}

function claimRefusal(claim: string, message: string, reason: string): Unauthenticated {
  return new Unauthenticated(message, reason, { claim });
}

/** The subject of a verified token: `sub` must be a non-empty string. */
function subjectOf(payload: JWTPayload): string {
  if (typeof payload.sub !== 'string' || payload.sub.trim() === '') {
    throw claimRefusal(
      'sub',
      'The bearer token\'s "sub" claim must name the caller (a non-empty string)',
      'token "sub" claim is empty',
    );
  }
  return payload.sub;
}

/** `iat` checks jose leaves to the caller: not issued in the future, and not too old. */
function checkIssuedAt(
  payload: JWTPayload,
  nowSeconds: number,
  maxAgeSeconds: number | undefined,
  toleranceSeconds: number,
): void {
  const iat = payload.iat;
  if (iat === undefined) {
    if (maxAgeSeconds === undefined) return;
    throw claimRefusal(
      'iat',
      'The bearer token has no "iat" claim; this API accepts only tokens that say when they were issued',
      'token has no "iat" claim',
    );
  }
  const ahead = iat - nowSeconds;
  if (ahead > MAX_ISSUED_AT_SKEW_SECONDS) {
    throw claimRefusal(
      'iat',
      `The bearer token's "iat" claim lies ${Math.round(ahead)} s in the future (at most ${MAX_ISSUED_AT_SKEW_SECONDS} s are tolerated)`,
      'token "iat" claim is in the future',
    );
  }
  if (maxAgeSeconds !== undefined && nowSeconds - iat > maxAgeSeconds + toleranceSeconds) {
    throw claimRefusal(
      'iat',
      `The bearer token was issued more than ${maxAgeSeconds} s ago ("iat" claim), longer than this API accepts`,
      'token too old',
    );
  }
}

export function createTokenVerifier(
  config: AuthConfig,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const keySet = keySetFor(config, options);
  const tolerance = options.clockToleranceSeconds ?? 30;
  return {
    async verify(token) {
      const now = options.now?.() ?? new Date();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySet, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: tolerance,
          currentDate: now,
        }));
      } catch (error) {
        throw refusal(error);
      }
      checkIssuedAt(
        payload,
        Math.floor(now.getTime() / 1000),
        config.maxTokenAgeSeconds,
        tolerance,
      );
      const scope = scopeFromClaims(payload, config.scopeClaim ?? DEFAULT_SCOPE_CLAIM);
      return {
        subject: subjectOf(payload),
        roles: rolesFromClaims(payload, config.rolesClaim),
        ...(scope !== undefined ? { scope } : {}),
      };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header; throws when absent or another scheme. */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new Unauthenticated('This route requires an Authorization: Bearer <token> header');
  }
  const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
  if (!match?.[1]) {
    throw new Unauthenticated(
      'The Authorization header must use the Bearer scheme with a token',
      'Authorization is not a Bearer token',
    );
  }
  return match[1];
}

/** Whether roles satisfy the access a route requires. */
export function permits(roles: readonly Role[], access: Access): boolean {
  return access === 'public' || roles.includes(access);
}

/** Authenticates the request (unless public) and checks its role; returns the principal. */
export async function authorize(
  verifier: TokenVerifier,
  access: Access,
  authorization: string | undefined,
): Promise<Principal | undefined> {
  if (access === 'public') return undefined;
  const principal = await verifier.verify(bearerToken(authorization));
  if (!permits(principal.roles, access)) {
    const granted = principal.roles.length > 0 ? principal.roles.join(', ') : 'no role';
    throw new Forbidden(`This route requires the ${access} role; the token grants ${granted}`, {
      requiredRole: access,
      grantedRoles: principal.roles,
    });
  }
  return principal;
}
