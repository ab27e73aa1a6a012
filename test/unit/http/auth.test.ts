import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationUnavailable, Forbidden, Unauthenticated } from '../../../shared/errors';
import {
  authorize,
  bearerToken,
  createTokenVerifier,
  MAX_SCOPE_ENTRIES,
  permits,
  rolesFromClaims,
  scopeEntries,
  scopeFromClaims,
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
});
// Built per test, not once: code under test that runs in a beforeAll and throws only skips the
// tests, which mutation testing (Stryker's vitest runner) does not count as a failure.
beforeEach(() => {
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

describe('every accepted algorithm, and the refusals word for word', () => {
  const NOW = new Date('2026-03-01T12:00:00Z');
  const nowSeconds = NOW.getTime() / 1000;
  const base = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', roles: ['viewer'], iat: nowSeconds };

  it.each([
    ['RS256'],
    ['RS384'],
    ['RS512'],
    ['PS256'],
    ['PS384'],
    ['PS512'],
    ['ES256'],
    ['ES384'],
    ['ES512'],
    ['EdDSA'],
    ['Ed25519'],
  ])('accepts a token signed with %s', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg };
    const check = createTokenVerifier(
      { ...issuer.config, jwks: { kind: 'inline', jwks: { keys: [jwk] } } },
      { now: () => NOW },
    );
    const token = await new SignJWT({ ...base, exp: nowSeconds + 60 })
      .setProtectedHeader({ alg, kid: 'k' })
      .sign(privateKey);
    expect(await check.verify(token)).toEqual({ subject: 'alice', roles: ['viewer'] });
  });

  async function refusedWith(token: string, now = NOW) {
    const error = await refusal(
      createTokenVerifier(issuer.config, { now: () => now }).verify(token),
    );
    expect(error).toBeInstanceOf(Unauthenticated);
    const e = error as Unauthenticated;
    return { message: e.message, challenge: e.headers['WWW-Authenticate'], details: e.details };
  }
  const challenge = (description: string) =>
    `Bearer realm="rd-governance", error="invalid_token", error_description="${description}"`;

  it('expired', async () => {
    const token = await issuer.signRaw({ ...base, exp: nowSeconds - 31 });
    expect(await refusedWith(token)).toEqual({
      message: 'The bearer token has expired',
      challenge: challenge('token expired'),
      details: null,
    });
  });

  it('tolerates 30 s of clock skew by default', async () => {
    const check = createTokenVerifier(issuer.config, { now: () => NOW });
    expect(
      (await check.verify(await issuer.signRaw({ ...base, exp: nowSeconds - 29 }))).subject,
    ).toBe('alice');
    const strict = createTokenVerifier(issuer.config, { now: () => NOW, clockToleranceSeconds: 0 });
    await expect(
      strict.verify(await issuer.signRaw({ ...base, exp: nowSeconds - 1 })),
    ).rejects.toThrow('expired');
  });

  it('not valid yet, an issuer or audience mismatch, and an unacceptable claim', async () => {
    const exp = nowSeconds + 3600;
    expect(
      await refusedWith(await issuer.signRaw({ ...base, exp, nbf: nowSeconds + 120 })),
    ).toEqual({
      message: 'The bearer token is not valid yet',
      challenge: challenge('token is not valid yet'),
      details: { claim: 'nbf' },
    });
    expect(
      await refusedWith(await issuer.signRaw({ ...base, exp, iss: 'https://evil.test/' })),
    ).toEqual({
      message: 'The bearer token is not from the accepted issuer',
      challenge: challenge('token is not from the accepted issuer'),
      details: { claim: 'iss' },
    });
    expect(await refusedWith(await issuer.signRaw({ ...base, exp, aud: 'other' }))).toEqual({
      message: 'The bearer token is not for this API (audience)',
      challenge: challenge('token is not for this API (audience)'),
      details: { claim: 'aud' },
    });
    expect(
      await refusedWith(
        await issuer.signRaw({ ...base, exp, iat: 'yesterday' as unknown as number }),
      ),
    ).toEqual({
      message: 'The bearer token has an unacceptable "iat" claim',
      challenge: challenge("token has an unacceptable 'iat' claim"),
      details: { claim: 'iat' },
    });
    const { exp: _none, ...withoutExp } = { ...base, exp };
    expect(await refusedWith(await issuer.signRaw(withoutExp))).toEqual({
      message: 'The bearer token has no "exp" claim',
      challenge: challenge("token has no 'exp' claim"),
      details: { claim: 'exp' },
    });
  });

  it('a bad signature, a refused algorithm, a malformed token', async () => {
    const exp = nowSeconds + 3600;
    const stranger = await createTestIssuer('test-key');
    expect(await refusedWith(await stranger.signRaw({ ...base, exp }))).toEqual({
      message: "The bearer token's signature does not verify against the issuer's keys",
      challenge: challenge('signature invalid'),
      details: null,
    });
    const hs = await new SignJWT({ ...base, exp })
      .setProtectedHeader({ alg: 'HS256', kid: 'test-key' })
      .sign(new TextEncoder().encode('a-shared-secret-of-sufficient-length!'));
    expect(await refusedWith(hs)).toEqual({
      message: 'The bearer token is signed with an algorithm this API does not accept',
      challenge: challenge('algorithm not accepted'),
      details: null,
    });
    expect(await refusedWith('not.a.jwt')).toEqual({
      message: 'The bearer token is malformed',
      challenge: challenge('malformed token'),
      details: null,
    });
  });

  it('sub, iat in the future, too old, or missing under a maximum age', async () => {
    const exp = nowSeconds + 3600;
    expect(await refusedWith(await issuer.signRaw({ ...base, exp, sub: ' ' }))).toEqual({
      message: 'The bearer token\'s "sub" claim must name the caller (a non-empty string)',
      challenge: challenge("token 'sub' claim is empty"),
      details: { claim: 'sub' },
    });
    expect(
      await refusedWith(await issuer.signRaw({ ...base, exp, iat: nowSeconds + 61.4 })),
    ).toEqual({
      message:
        'The bearer token\'s "iat" claim lies 61 s in the future (at most 60 s are tolerated)',
      challenge: challenge("token 'iat' claim is in the future"),
      details: { claim: 'iat' },
    });
    const aged = createTokenVerifier(
      { ...issuer.config, maxTokenAgeSeconds: 100 },
      { now: () => NOW, clockToleranceSeconds: 0 },
    );
    const old = await refusal(
      aged.verify(await issuer.signRaw({ ...base, exp, iat: nowSeconds - 101 })),
    );
    expect(old).toMatchObject({
      message:
        'The bearer token was issued more than 100 s ago ("iat" claim), longer than this API accepts',
      headers: { 'WWW-Authenticate': challenge('token too old') },
    });
    expect(
      (await aged.verify(await issuer.signRaw({ ...base, exp, iat: nowSeconds - 100 }))).subject,
    ).toBe('alice');
    const { iat: _iat, ...undated } = base;
    const none = await refusal(aged.verify(await issuer.signRaw({ ...undated, exp })));
    expect(none).toMatchObject({
      message:
        'The bearer token has no "iat" claim; this API accepts only tokens that say when they were issued',
      headers: { 'WWW-Authenticate': challenge("token has no 'iat' claim") },
    });
  });
});

describe('roles claim, corners', () => {
  it('a dotted path through something that is not an object grants nothing', () => {
    expect(rolesFromClaims({ realm_access: null }, 'realm_access.roles')).toEqual([]);
    expect(rolesFromClaims({ realm_access: 'operator' }, 'realm_access.roles')).toEqual([]);
    expect(rolesFromClaims({ realm_access: {} }, 'realm_access.roles')).toEqual([]);
    expect(rolesFromClaims({ a: { b: { c: 'operator' } } }, 'a.b.c')).toEqual([
      'viewer',
      'operator',
    ]);
    expect(rolesFromClaims({ roles: { operator: true } }, 'roles')).toEqual([]);
    // A top-level claim wins over the path its name spells.
    expect(rolesFromClaims({ 'a.b': 'viewer', a: { b: 'operator' } }, 'a.b')).toEqual(['viewer']);
  });
});

describe('the Authorization header, exactly', () => {
  function refused(header: string | undefined) {
    try {
      bearerToken(header);
    } catch (error) {
      expect(error).toBeInstanceOf(Unauthenticated);
      const e = error as Unauthenticated;
      return { message: e.message, challenge: e.headers['WWW-Authenticate'] };
    }
    throw new Error(`${header} was accepted`);
  }
  const missing = {
    message: 'This route requires an Authorization: Bearer <token> header',
    challenge: 'Bearer realm="rd-governance"',
  };
  const notBearer = {
    message: 'The Authorization header must use the Bearer scheme with a token',
    challenge:
      'Bearer realm="rd-governance", error="invalid_token", error_description="Authorization is not a Bearer token"',
  };

  it('no header or a blank one is a missing token', () => {
    expect(refused(undefined)).toEqual(missing);
    expect(refused('')).toEqual(missing);
    expect(refused('   ')).toEqual(missing);
  });

  it.each(['Bearer abc junk', 'xBearer abc', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b'])(
    '%j is not a bearer token',
    (header) => {
      expect(refused(header)).toEqual(notBearer);
    },
  );

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc', 'abc'],
    ['Bearer abc  ', 'abc'],
    ['Bearer a-b_c.d~e+f/g==', 'a-b_c.d~e+f/g=='],
  ])('%j carries %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('role checks, exactly', () => {
  it('public needs no role; a role needs that role', () => {
    expect(permits([], 'public')).toBe(true);
    expect(permits([], 'viewer')).toBe(false);
    expect(permits(['viewer'], 'viewer')).toBe(true);
    expect(permits(['viewer'], 'operator')).toBe(false);
  });

  it('a 403 names the role required and the roles granted', async () => {
    const viewer = await issuer.mint({ roles: ['viewer'] });
    const error = await refusal(authorize(verifier, 'operator', `Bearer ${viewer}`));
    expect((error as Forbidden).message).toBe(
      'This route requires the operator role; the token grants viewer',
    );
    const none = await refusal(
      authorize(verifier, 'viewer', `Bearer ${await issuer.mint({ roles: [] })}`),
    );
    expect((none as Forbidden).message).toBe(
      'This route requires the viewer role; the token grants no role',
    );
    expect((none as Forbidden).details).toEqual({ requiredRole: 'viewer', grantedRoles: [] });
  });

  it('a public route reads no header at all', async () => {
    const never: TokenVerifier = {
      verify: () => Promise.reject(new Error('verify must not be called')),
    };
    expect(await authorize(never, 'public', 'Bearer junk junk')).toBeUndefined();
  });
});

describe('remote JWKS, timeouts and failures', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives up on a key set fetch after 3 s unless told otherwise', async () => {
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    const refusedFetch = async (options: { jwksTimeoutMs?: number }) =>
      refusal(
        createTokenVerifier(
          { ...issuer.config, jwks: { kind: 'url', url: 'http://127.0.0.1:1/jwks.json' } },
          options,
        ).verify(await issuer.mint({ roles: ['viewer'] })),
      );
    await refusedFetch({});
    await refusedFetch({ jwksTimeoutMs: 250 });
    expect(timeouts.mock.calls.map(([ms]) => ms)).toEqual([3_000, 250]);
  });

  it('a key set that cannot be fetched is a 503 that keeps the cause, whatever the token', async () => {
    const error = await refusal(
      createTokenVerifier({
        ...issuer.config,
        jwks: { kind: 'url', url: 'http://127.0.0.1:1/jwks.json' },
      }).verify(await issuer.mint({ roles: ['viewer'] })),
    );
    expect(error).toBeInstanceOf(AuthenticationUnavailable);
    expect((error as Error).message).toBe(
      "The issuer's key set could not be loaded; try again later",
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('a key set that is not one is a 503 too', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: 'none' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const error = await refusal(
        createTokenVerifier({ ...issuer.config, jwks: { kind: 'url', url } }).verify(
          await issuer.mint({ roles: ['viewer'] }),
        ),
      );
      expect(error).toBeInstanceOf(AuthenticationUnavailable);
      expect((error as Error).message).toBe(
        "The issuer's key set could not be loaded; try again later",
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the scope claim', () => {
  it('reads folder and account ids from an array or a space-separated string; absent is unscoped', () => {
    expect(
      scopeFromClaims({ rdgov_scope: ['fd-abc', '2000000000000001', 'r-Root1'] }, 'rdgov_scope'),
    ).toEqual({
      folderIds: ['fd-abc', 'r-Root1'],
      accountIds: ['2000000000000001'],
    });
    expect(scopeFromClaims({ ext: { scope: 'fd-a fd-a 2000000000000002' } }, 'ext.scope')).toEqual({
      folderIds: ['fd-a'],
      accountIds: ['2000000000000002'],
    });
    expect(scopeFromClaims({}, 'rdgov_scope')).toBeUndefined();
    expect(scopeFromClaims({ rdgov_scope: [] }, 'rdgov_scope')).toEqual({
      folderIds: [],
      accountIds: [],
    });
  });

  it('refuses anything else in it with 401 naming the claim, rather than misread a scope', () => {
    for (const value of [['Production'], [42], 'fd-a ../x', { folder: 'fd-a' }, ['123']]) {
      expect(
        () => scopeFromClaims({ rdgov_scope: value }, 'rdgov_scope'),
        JSON.stringify(value),
      ).toThrow(expect.objectContaining({ status: 401, details: { claim: 'rdgov_scope' } }));
    }
  });

  it('refuses an entry that only contains a folder or account id', () => {
    for (const entry of [
      'xfd-abc',
      'fd-abc!',
      'fd-',
      `fd-${'a'.repeat(65)}`,
      'x2000000000000001',
      '2000000000000001x',
      '20000000000000012',
    ]) {
      expect(() => scopeFromClaims({ s: [entry] }, 's'), entry).toThrow(Unauthenticated);
    }
    expect(scopeFromClaims({ s: [`fd-${'a'.repeat(64)}`] }, 's')?.folderIds).toHaveLength(1);
  });

  it('reads a string claim split on any run of blanks, at either end too', () => {
    expect(scopeFromClaims({ s: ' fd-a\t\n 2000000000000001  r-b ' }, 's')).toEqual({
      folderIds: ['fd-a', 'r-b'],
      accountIds: ['2000000000000001'],
    });
  });

  it(`takes at most ${MAX_SCOPE_ENTRIES} entries`, () => {
    const accounts = Array.from({ length: MAX_SCOPE_ENTRIES + 1 }, (_, i) =>
      String(2_000_000_000_000_000 + i),
    );
    expect(
      scopeFromClaims({ s: accounts.slice(0, MAX_SCOPE_ENTRIES) }, 's')?.accountIds,
    ).toHaveLength(MAX_SCOPE_ENTRIES);
    expect(() => scopeFromClaims({ s: accounts }, 's')).toThrow(
      expect.objectContaining({ status: 401, details: { claim: 's' } }),
    );
  });

  it('says what the claim must hold, names the first entry that is neither (cut at 80), and why in the challenge', () => {
    const refused = (value: unknown): Unauthenticated => {
      try {
        scopeFromClaims({ rdgov_scope: value }, 'rdgov_scope');
      } catch (error) {
        if (error instanceof Unauthenticated) return error;
      }
      throw new Error('expected a refusal');
    };
    const must =
      'The bearer token\'s "rdgov_scope" claim must list folder ids (fd-..., r-...) and 16-digit account ids, at most 1000';
    expect(refused(['fd-a', 'Production', 'Staging']).message).toBe(
      `${must}; "Production" is neither`,
    );
    expect(refused({ folder: 'fd-a' }).message).toBe(must);
    expect(refused([`fd-${'x'.repeat(100)}`]).message).toBe(
      `${must}; "fd-${'x'.repeat(77)}" is neither`,
    );
    expect(refused(['Production']).headers['WWW-Authenticate']).toContain(
      `error_description="token 'rdgov_scope' claim is invalid"`,
    );
  });

  it('a verified token carries the scope of its rdgov_scope claim, or of the claim AUTH_SCOPE_CLAIM names', async () => {
    const scoped = await issuer.mint({ roles: ['viewer'], rdgov_scope: 'fd-abc 2000000000000001' });
    expect(await verifier.verify(scoped)).toStrictEqual({
      subject: 'alice',
      roles: ['viewer'],
      scope: { folderIds: ['fd-abc'], accountIds: ['2000000000000001'] },
    });
    expect(await verifier.verify(await issuer.mint({ roles: ['viewer'] }))).toStrictEqual({
      subject: 'alice',
      roles: ['viewer'],
    });

    const custom = createTokenVerifier({ ...issuer.config, scopeClaim: 'ext.scope' });
    const token = await issuer.mint({
      roles: ['viewer'],
      rdgov_scope: ['fd-ignored'],
      ext: { scope: ['r-root'] },
    });
    expect((await custom.verify(token)).scope).toEqual({ folderIds: ['r-root'], accountIds: [] });

    const error = await refusal(
      verifier.verify(await issuer.mint({ roles: ['viewer'], rdgov_scope: ['Production'] })),
    );
    expect(error).toMatchObject({ status: 401, details: { claim: 'rdgov_scope' } });
  });

  it('lists folder ids, then account ids, as the activity log records them', () => {
    expect(scopeEntries({ folderIds: ['fd-a', 'r-b'], accountIds: ['2000000000000001'] })).toEqual([
      'fd-a',
      'r-b',
      '2000000000000001',
    ]);
  });
});
