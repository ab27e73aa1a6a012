import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLocalIssuer } from '../../../../localcloud/host/auth';

describe('local token issuer', async () => {
  const issuer = await createLocalIssuer();
  const keys = createLocalJWKSet(issuer.jwks as Parameters<typeof createLocalJWKSet>[0]);
  const verify = (token: string) =>
    jwtVerify(token, keys, { issuer: issuer.issuer, audience: issuer.audience });

  it('publishes one ES256 public key, without its private part', () => {
    expect(issuer.jwks.keys).toHaveLength(1);
    const [key] = issuer.jwks.keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key?.kid).toBeTruthy();
    expect(key).not.toHaveProperty('d');
  });

  it('signs operator and viewer tokens verifiable with the JWKS', async () => {
    const operator = await verify(issuer.tokens.operator);
    expect(operator.payload).toMatchObject({ sub: 'local-operator', roles: ['operator'] });
    const viewer = await verify(issuer.tokens.viewer);
    expect(viewer.payload).toMatchObject({ sub: 'local-viewer', roles: ['viewer'] });
    expect(decodeProtectedHeader(issuer.tokens.operator)).toMatchObject({
      alg: 'ES256',
      kid: issuer.jwks.keys[0]?.kid,
    });
    expect(issuer.issuer).toBe('http://127.0.0.1/localcloud-issuer');
    expect(issuer.audience).toBe('rd-governance');
  });

  it('mints tokens with any claims, including ones that must be refused', async () => {
    const custom = await verify(await issuer.tokens.mint({ sub: 'alice', roles: ['auditor'] }));
    expect(custom.payload).toMatchObject({ sub: 'alice', roles: ['auditor'] });

    const expired = await issuer.tokens.mint({
      sub: 'bob',
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    await expect(verify(expired)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });

    const otherAudience = await issuer.tokens.mint({ sub: 'carol', aud: 'someone-else' });
    await expect(verify(otherAudience)).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('uses a fresh key per issuer, so another issuer’s tokens do not verify', async () => {
    const other = await createLocalIssuer();
    await expect(verify(other.tokens.operator)).rejects.toBeTruthy();
  });
});
