import { createServer, type Server, type ServerResponse } from 'node:http';
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
import {
  AUDIENCE,
  createTestIssuer,
  ISSUER,
  type TestAlgorithm,
  type TestIssuer,
} from '../../support/tokens';

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

describe('claims beyond the signature (iat, sub, maximum age)', () => {
  // A fixed clock: every token below says exactly when it was issued.
  const NOW = new Date('2026-03-01T12:00:00Z');
  const nowSeconds = NOW.getTime() / 1000;
  const fixedClock = () => NOW;

  async function signedBy(alg: TestAlgorithm) {
    const signer = await createTestIssuer(`key-${alg}`, alg);
    const claims = (extra: Record<string, unknown>) =>
      signer.signRaw({
        iss: ISSUER,
        aud: AUDIENCE,
        sub: 'alice',
        roles: ['viewer'],
        iat: nowSeconds,
        exp: nowSeconds + 3600 * 24 * 400,
        ...extra,
      });
    return { signer, claims };
  }

  async function claimRefusal(
    verifierUnderTest: TokenVerifier,
    token: string,
  ): Promise<Unauthenticated> {
    const error = await refusal(verifierUnderTest.verify(token));
    expect(error).toBeInstanceOf(Unauthenticated);
    return error as Unauthenticated;
  }

  it.each<TestAlgorithm>(['ES256', 'RS256'])(
    '%s: accepts a token issued now, and iat up to 60 s ahead of the clock',
    async (alg) => {
      const { signer, claims } = await signedBy(alg);
      const check = createTokenVerifier(signer.config, { now: fixedClock });
      expect(await check.verify(await claims({}))).toEqual({ subject: 'alice', roles: ['viewer'] });
      expect((await check.verify(await claims({ iat: nowSeconds + 60 }))).subject).toBe('alice');
      // No iat at all is fine while no maximum age is configured.
      expect((await check.verify(await claims({ iat: undefined }))).subject).toBe('alice');
    },
  );

  it.each<[TestAlgorithm, string, number]>([
    ['ES256', '61 s', 61],
    ['ES256', 'an hour', 3600],
    ['RS256', 'an hour', 3600],
    ['RS256', 'a year', 365 * 24 * 3600],
  ])(
    '%s: refuses a token issued %s in the future with 401 naming iat',
    async (alg, _label, ahead) => {
      const { signer, claims } = await signedBy(alg);
      const check = createTokenVerifier(signer.config, { now: fixedClock });
      const error = await claimRefusal(check, await claims({ iat: nowSeconds + ahead }));
      expect(error.status).toBe(401);
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toMatch(/"iat" claim lies \d+ s in the future/);
      expect(error.details).toEqual({ claim: 'iat' });
      expect(error.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
    },
  );

  it.each<TestAlgorithm>(['ES256', 'RS256'])(
    '%s: refuses a token without sub, or with an empty one, with 401 naming sub',
    async (alg) => {
      const { signer, claims } = await signedBy(alg);
      const check = createTokenVerifier(signer.config, { now: fixedClock });
      const missing = await claimRefusal(check, await claims({ sub: undefined }));
      expect(missing.message).toBe('The bearer token has no "sub" claim');
      expect(missing.details).toEqual({ claim: 'sub' });
      for (const sub of ['', '  ', 42]) {
        const bad = await claimRefusal(check, await claims({ sub }));
        expect(bad.details).toEqual({ claim: 'sub' });
        expect(bad.message).toMatch(/"sub"/);
      }
    },
  );

  it.each<TestAlgorithm>(['ES256', 'RS256'])(
    '%s: with a maximum token age, refuses older tokens and tokens without iat',
    async (alg) => {
      const { signer, claims } = await signedBy(alg);
      const check = createTokenVerifier(
        { ...signer.config, maxTokenAgeSeconds: 600 },
        { now: fixedClock, clockToleranceSeconds: 30 },
      );
      expect((await check.verify(await claims({ iat: nowSeconds - 600 }))).subject).toBe('alice');
      expect((await check.verify(await claims({ iat: nowSeconds - 630 }))).subject).toBe('alice');
      const old = await claimRefusal(check, await claims({ iat: nowSeconds - 631 }));
      expect(old.message).toMatch(/issued more than 600 s ago \("iat" claim\)/);
      expect(old.details).toEqual({ claim: 'iat' });
      const undated = await claimRefusal(check, await claims({ iat: undefined }));
      expect(undated.message).toMatch(/no "iat" claim/);
      expect(undated.details).toEqual({ claim: 'iat' });
      // The future check still holds.
      expect((await claimRefusal(check, await claims({ iat: nowSeconds + 3600 }))).details).toEqual(
        { claim: 'iat' },
      );
    },
  );

  it('verifies against a key set holding an RS256 and an ES256 key, each by its kid', async () => {
    const rsa = await createTestIssuer('rsa-key', 'RS256');
    const ec = await createTestIssuer('ec-key', 'ES256');
    const both = createTokenVerifier({
      ...rsa.config,
      jwks: { kind: 'inline', jwks: { keys: [...rsa.jwks.keys, ...ec.jwks.keys] } },
    });
    expect((await both.verify(await rsa.mint({ sub: 'r' }))).subject).toBe('r');
    expect((await both.verify(await ec.mint({ sub: 'e' }))).subject).toBe('e');
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

  it('503, not 401, when fetching the key set times out', async () => {
    // Accepts the connection and never answers: only the verifier's timeout ends the fetch.
    const held: ServerResponse[] = [];
    const silent = createServer((_req, res) => {
      held.push(res);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = createTokenVerifier(
        {
          ...issuer.config,
          jwks: {
            kind: 'url',
            url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`,
          },
        },
        { jwksTimeoutMs: 100 },
      );
      const error = await refusal(slow.verify(await issuer.mint({ roles: ['viewer'] })));
      expect(error).toBeInstanceOf(AuthenticationUnavailable);
      expect((error as AuthenticationUnavailable).status).toBe(503);
      expect((error as AuthenticationUnavailable).code).toBe('AuthenticationUnavailable');
      expect(held.length).toBe(1);
    } finally {
      for (const res of held) res.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
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
