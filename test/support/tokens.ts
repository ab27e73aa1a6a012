// A local token issuer for tests: a key pair (ES256 unless asked for RS256), its public JWKS, and
// minted JWTs.
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { AuthConfig } from '../../shared/config';

export const ISSUER = 'https://issuer.test/';
export const AUDIENCE = 'rd-governance-api';

export interface TestIssuer {
  jwks: { keys: object[] };
  config: AuthConfig;
  mint(
    claims?: JWTPayload,
    options?: { expiresIn?: string | number; audience?: string; issuer?: string },
  ): Promise<string>;
  /** Signs exactly `payload` (no claims added). */
  signRaw(payload: JWTPayload): Promise<string>;
}

export type TestAlgorithm = 'ES256' | 'RS256';

export async function createTestIssuer(
  kid = 'test-key',
  alg: TestAlgorithm = 'ES256',
): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const jwks = { keys: [jwk] };
  return {
    jwks,
    config: {
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { kind: 'inline', jwks },
      rolesClaim: 'roles',
    },
    async mint(claims = {}, options = {}) {
      return new SignJWT({ sub: 'alice', ...claims })
        .setProtectedHeader({ alg, kid })
        .setIssuer(options.issuer ?? ISSUER)
        .setAudience(options.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '10m')
        .sign(privateKey);
    },
    signRaw(payload) {
      return new SignJWT(payload).setProtectedHeader({ alg, kid }).sign(privateKey);
    },
  };
}
