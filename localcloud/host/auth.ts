// The local stand-in for the API's identity provider: an ES256 key pair made at host start,
// its public JWKS handed to functions as AUTH_JWKS, and tokens signed with the private key.
// The operator and viewer tokens are what `npm start` prints; tests mint their own claims
// (other roles, expired, wrong audience) through `mint`.

import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

export const DEFAULT_AUTH_ISSUER = 'http://127.0.0.1/localcloud-issuer';
export const DEFAULT_AUTH_AUDIENCE = 'rd-governance';
export const AUTH_ROLES_CLAIM = 'roles';
/** Tokens printed by `npm start` last a working day. */
const DEFAULT_TOKEN_TTL_SECONDS = 12 * 3600;

export interface LocalIssuerOptions {
  issuer?: string;
  audience?: string;
}

/** Claims for `mint`: anything a JWT may carry. `iss`, `aud`, `iat` and `exp` default to the
 *  issuer, the audience, now and now + 12 h; pass them to override (e.g. an expired `exp`). */
export type TokenClaims = JWTPayload & { roles?: string[] };

export interface LocalTokens {
  operator: string;
  viewer: string;
  mint(claims: TokenClaims): Promise<string>;
}

export interface LocalIssuer {
  issuer: string;
  audience: string;
  rolesClaim: string;
  /** `{"keys":[...]}` with the public key only. */
  jwks: { keys: JWK[] };
  tokens: LocalTokens;
}

export async function createLocalIssuer(options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const issuer = options.issuer ?? DEFAULT_AUTH_ISSUER;
  const audience = options.audience ?? DEFAULT_AUTH_AUDIENCE;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwk: JWK = { ...publicJwk, kid, alg: 'ES256', use: 'sig' };

  const mint = (claims: TokenClaims): Promise<string> =>
    signToken(privateKey, kid, { issuer, audience }, claims);
  const operator = await mint({ sub: 'local-operator', [AUTH_ROLES_CLAIM]: ['operator'] });
  const viewer = await mint({ sub: 'local-viewer', [AUTH_ROLES_CLAIM]: ['viewer'] });
  return {
    issuer,
    audience,
    rolesClaim: AUTH_ROLES_CLAIM,
    jwks: { keys: [jwk] },
    tokens: { operator, viewer, mint },
  };
}

async function signToken(
  key: CryptoKey,
  kid: string,
  defaults: { issuer: string; audience: string },
  claims: TokenClaims,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: defaults.issuer,
    aud: defaults.audience,
    iat: now,
    exp: now + DEFAULT_TOKEN_TTL_SECONDS,
    jti: randomUUID(),
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(key);
}
