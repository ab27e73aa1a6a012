import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationUnavailable, Forbidden, Unauthenticated } from '../../../shared/errors';
import {
  authorize,
  bearerToken,
  createTokenVerifier,
  rolesFromClaims,
  type TokenVerifier,
} from '../../../shared/http/auth';
import { AUDIENCE, createTestIssuer, ISSUER, type TestIssuer } from './support/tokens';

let issuer: TestIssuer;
let verifier: TokenVerifier;

beforeAll(async () => {
  issuer = await createTestIssuer();
  verifier = createTokenVerifier(issuer.config);
});

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('roles from the claim', () => {
  it('reads an array or a space-separated string; operator implies viewer', () => {
    expect(rolesFromClaims({ roles: ['viewer'] }, 'roles')).toEqual(['viewer']);
    expect(rolesFromClaims({ roles: 'operator' }, 'roles')).toEqual(['viewer', 'operator']);
    expect(rolesFromClaims({ roles: 'viewer  admin operator' }, 'roles')).toEqual([
      'viewer',
      'operator',
    ]);
    expect(rolesFromClaims({ roles: ['admin', 7] }, 'roles')).toEqual([]);
    expect(rolesFromClaims({}, 'roles')).toEqual([]);
  });

  it('follows a dotted path when no top-level claim has that name', () => {
    expect(rolesFromClaims({ realm_access: { roles: ['viewer'] } }, 'realm_access.roles')).toEqual([
      'viewer',
    ]);
    expect(rolesFromClaims({ 'https://x.io/roles': ['operator'] }, 'https://x.io/roles')).toEqual([
      'viewer',
      'operator',
    ]);
  });
});

describe('token verification', () => {
  it('accepts a token from the configured issuer for the configured audience', async () => {
    const principal = await verifier.verify(await issuer.mint({ sub: 'bob', roles: ['operator'] }));
    expect(principal).toEqual({ subject: 'bob', roles: ['viewer', 'operator'] });
  });

  it.each([
    [
      'expired',
      () => issuer.mint({ roles: ['viewer'] }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      /expired/,
    ],
    [
      'for another audience',
      () => issuer.mint({ roles: ['viewer'] }, { audience: 'other-api' }),
      /audience/,
    ],
    [
      'from another issuer',
      () => issuer.mint({ roles: ['viewer'] }, { issuer: 'https://evil.test/' }),
      /issuer/,
    ],
  ])('refuses a token %s with 401', async (_label, mint, reason) => {
    const error = await refusal(verifier.verify(await mint()));
    expect(error).toBeInstanceOf(Unauthenticated);
    const unauthenticated = error as Unauthenticated;
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.message).toMatch(reason);
    expect(unauthenticated.headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="rd-governance", error="invalid_token"/,
    );
  });

  it('refuses a token signed by a key outside the key set (bad signature)', async () => {
    const stranger = await createTestIssuer('test-key'); // same kid, different key
    const error = await refusal(verifier.verify(await stranger.mint({ roles: ['operator'] })));
    expect(error).toBeInstanceOf(Unauthenticated);
    expect((error as Error).message).toMatch(/signature/);
  });

  it('refuses a tampered payload', async () => {
    const token = await issuer.mint({ roles: ['viewer'] });
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        sub: 'alice',
        roles: ['operator'],
        iss: ISSUER,
        aud: AUDIENCE,
        exp: 9999999999,
      }),
    ).toString('base64url');
    const error = await refusal(verifier.verify(`${header}.${forged}.${signature}`));
    expect(error).toBeInstanceOf(Unauthenticated);
  });

  it('refuses HMAC tokens and tokens without exp', async () => {
    const hs = await new SignJWT({ roles: ['operator'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-of-sufficient-length!'));
    expect(await refusal(verifier.verify(hs))).toBeInstanceOf(Unauthenticated);
    const noExp = await issuer.signRaw({
      sub: 'alice',
      roles: ['operator'],
      iss: ISSUER,
      aud: AUDIENCE,
    });
    expect(await refusal(verifier.verify(noExp))).toBeInstanceOf(Unauthenticated);
    const withExp = await issuer.signRaw({
      sub: 'alice',
      roles: ['operator'],
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    expect((await verifier.verify(withExp)).roles).toEqual(['viewer', 'operator']);
    expect(await refusal(verifier.verify('not.a.jwt'))).toBeInstanceOf(Unauthenticated);
  });

  it('checks expiry against the injected clock', async () => {
    const token = await issuer.mint({ roles: ['viewer'] }, { expiresIn: '10m' });
    const later = createTokenVerifier(issuer.config, {
      now: () => new Date(Date.now() + 11 * 60_000),
    });
    expect(await refusal(later.verify(token))).toBeInstanceOf(Unauthenticated);
  });
});

describe('bearer header and authorization', () => {
  it('401 without a header, with the Bearer challenge and no error code', () => {
    try {
      bearerToken(undefined);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(Unauthenticated);
      expect((error as Unauthenticated).headers['WWW-Authenticate']).toBe(
        'Bearer realm="rd-governance"',
      );
    }
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow(Unauthenticated);
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
  });

  it('403 for a viewer on an operator route and for a token without roles', async () => {
    const viewer = await issuer.mint({ roles: ['viewer'] });
    const error = await refusal(authorize(verifier, 'operator', `Bearer ${viewer}`));
    expect(error).toBeInstanceOf(Forbidden);
    expect((error as Forbidden).details).toEqual({
      requiredRole: 'operator',
      grantedRoles: ['viewer'],
    });
    const roleless = await issuer.mint({ roles: [] });
    expect(await refusal(authorize(verifier, 'viewer', `Bearer ${roleless}`))).toBeInstanceOf(
      Forbidden,
    );
    expect(await authorize(verifier, 'viewer', `Bearer ${viewer}`)).toEqual({
      subject: 'alice',
      roles: ['viewer'],
    });
    expect(await authorize(verifier, 'public', undefined)).toBeUndefined();
  });
});

describe('remote JWKS', () => {
  let server: Server;
  let fetches = 0;
  let url: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(issuer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches the key set once and reuses it across verifications', async () => {
    const remote = createTokenVerifier({ ...issuer.config, jwks: { kind: 'url', url } });
    for (let i = 0; i < 3; i++) {
      await remote.verify(await issuer.mint({ roles: ['viewer'] }));
    }
    expect(fetches).toBe(1);
  });

  it('503 when the key set cannot be fetched', async () => {
    const closed = createTokenVerifier({
      ...issuer.config,
      jwks: { kind: 'url', url: 'http://127.0.0.1:1/jwks.json' },
    });
    const error = await refusal(closed.verify(await issuer.mint({ roles: ['viewer'] })));
    expect(error).toBeInstanceOf(AuthenticationUnavailable);
    expect((error as AuthenticationUnavailable).status).toBe(503);
  });
});
