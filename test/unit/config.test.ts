import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig, readConfig } from '../../shared/config';

const jwks = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });

const apiEnv = {
  RESOURCEMANAGER_ENDPOINT: 'resourcemanager.aliyuncs.com',
  AUTH_ISSUER: 'https://issuer.example/',
  AUTH_AUDIENCE: 'rd-governance',
  AUTH_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
};

function configError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('loadConfig', () => {
  it('parses the sections asked for, with defaults', () => {
    const config = loadConfig(apiEnv, ['cloud', 'resourceManager', 'auth', 'logging']);
    expect(config).toEqual({
      cloud: { protocol: 'https' },
      resourceManager: { endpoint: 'resourcemanager.aliyuncs.com' },
      auth: {
        issuer: 'https://issuer.example/',
        audience: 'rd-governance',
        jwks: { kind: 'url', url: 'https://issuer.example/.well-known/jwks.json' },
        rolesClaim: 'roles',
        scopeClaim: 'rdgov_scope',
      },
      logging: { level: 'info' },
    });
  });

  it('names a missing variable and says what it should hold', () => {
    const { RESOURCEMANAGER_ENDPOINT: _, ...env } = apiEnv;
    const error = configError(() => loadConfig(env, ['resourceManager']));
    expect(error.variables).toEqual(['RESOURCEMANAGER_ENDPOINT']);
    expect(error.message).toBe(
      'Configuration error: RESOURCEMANAGER_ENDPOINT is required (host[:port] of the ResourceManager API, e.g. resourcemanager.aliyuncs.com)',
    );
  });

  it('treats an empty value as missing', () => {
    const error = configError(() => loadConfig({ ...apiEnv, AUTH_ISSUER: '  ' }, ['auth']));
    expect(error.variables).toEqual(['AUTH_ISSUER']);
    expect(error.message).toContain('AUTH_ISSUER is required');
  });

  it('names an invalid variable, the value and the reason', () => {
    const error = configError(() => loadConfig({ CLOUD_PROTOCOL: 'ftp' }, ['cloud']));
    expect(error.variables).toEqual(['CLOUD_PROTOCOL']);
    expect(error.message).toMatch(/CLOUD_PROTOCOL is invalid: .*got "ftp" \(expected https/);
  });

  it('refuses an endpoint with a scheme', () => {
    const error = configError(() =>
      loadConfig({ ...apiEnv, RESOURCEMANAGER_ENDPOINT: 'https://resourcemanager.aliyuncs.com' }, [
        'resourceManager',
      ]),
    );
    expect(error.message).toContain(
      'RESOURCEMANAGER_ENDPOINT is invalid: must not include a scheme',
    );
  });

  it('reads Log Service endpoints as templates over the region', () => {
    expect(loadConfig({}, ['sls']).sls).toEqual({
      endpoint: '{region}.log.aliyuncs.com',
      ownRegionEndpoint: '{region}-intranet.log.aliyuncs.com',
    });
    const local = '{region}.log.aliyuncs.com@127.0.0.1:8790';
    expect(
      loadConfig({ SLS_ENDPOINT: local, SLS_OWN_REGION_ENDPOINT: local }, ['sls']).sls,
    ).toEqual({ endpoint: local, ownRegionEndpoint: local });
    for (const [value, problem] of [
      ['cn-hangzhou.log.aliyuncs.com', 'must contain {region}'],
      ['https://{region}.log.aliyuncs.com', 'must not include a scheme'],
      ['{region}.log.aliyuncs.com/path', 'must be a host[:port] template'],
    ] as const) {
      const error = configError(() => loadConfig({ SLS_ENDPOINT: value }, ['sls']));
      expect(error.variables).toEqual(['SLS_ENDPOINT']);
      expect(error.message).toContain(problem);
    }
  });

  it('accepts host:port endpoints (localcloud)', () => {
    const config = loadConfig({ STS_ENDPOINT: '127.0.0.1:40123', CLOUD_PROTOCOL: 'http' }, [
      'sts',
      'cloud',
    ]);
    expect(config.sts).toEqual({
      endpoint: '127.0.0.1:40123',
      memberAccessRole: 'ResourceDirectoryAccountAccessRole',
      assumeRoleRatePerSecond: 95,
    });
    expect(config.cloud.protocol).toBe('http');
  });

  it('reports every problem at once', () => {
    const error = configError(() =>
      loadConfig({ LOG_LEVEL: 'loud' }, ['resourceManager', 'logging', 'sts']),
    );
    expect(error.variables.sort()).toEqual([
      'LOG_LEVEL',
      'RESOURCEMANAGER_ENDPOINT',
      'STS_ENDPOINT',
    ]);
    expect(error.message.split('\n')).toHaveLength(3);
  });

  it('demands only the variables of the sections asked for', () => {
    expect(() => loadConfig({}, ['cloud', 'logging'])).not.toThrow();
    expect(() => loadConfig({}, ['tablestore'])).toThrow(/TABLESTORE_ENDPOINT is required/);
  });

  it('requires exactly one of AUTH_JWKS_URL and AUTH_JWKS', () => {
    const { AUTH_JWKS_URL: _, ...withoutUrl } = apiEnv;
    expect(configError(() => loadConfig(withoutUrl, ['auth'])).message).toContain(
      'AUTH_JWKS_URL or AUTH_JWKS is required',
    );
    expect(
      configError(() => loadConfig({ ...apiEnv, AUTH_JWKS: jwks }, ['auth'])).message,
    ).toContain('both set');
    const inline = loadConfig({ ...withoutUrl, AUTH_JWKS: jwks, AUTH_JWKS_URL: '' }, ['auth']);
    expect(inline.auth.jwks).toEqual({ kind: 'inline', jwks: JSON.parse(jwks) });
  });

  it('reads STS_ASSUME_ROLE_RATE: 1 to 100 calls a second, 95 by default', () => {
    const sts = (rate?: string) =>
      loadConfig(
        {
          STS_ENDPOINT: 'sts.aliyuncs.com',
          ...(rate !== undefined ? { STS_ASSUME_ROLE_RATE: rate } : {}),
        },
        ['sts'],
      ).sts;
    expect(sts().assumeRoleRatePerSecond).toBe(95);
    expect(sts('50').assumeRoleRatePerSecond).toBe(50);
    for (const bad of ['0', '101', '12.5', 'fast']) {
      expect(configError(() => sts(bad)).variables).toEqual(['STS_ASSUME_ROLE_RATE']);
    }
  });

  it('reads AUTH_MAX_TOKEN_AGE_SECONDS as a positive number of seconds, absent by default', () => {
    expect(loadConfig(apiEnv, ['auth']).auth.maxTokenAgeSeconds).toBeUndefined();
    expect(
      loadConfig({ ...apiEnv, AUTH_MAX_TOKEN_AGE_SECONDS: '' }, ['auth']).auth.maxTokenAgeSeconds,
    ).toBeUndefined();
    expect(
      loadConfig({ ...apiEnv, AUTH_MAX_TOKEN_AGE_SECONDS: '3600' }, ['auth']).auth
        .maxTokenAgeSeconds,
    ).toBe(3600);
    for (const bad of ['0', '-5', '1.5', 'an hour']) {
      const error = configError(() =>
        loadConfig({ ...apiEnv, AUTH_MAX_TOKEN_AGE_SECONDS: bad }, ['auth']),
      );
      expect(error.variables).toEqual(['AUTH_MAX_TOKEN_AGE_SECONDS']);
      expect(error.message).toContain('AUTH_MAX_TOKEN_AGE_SECONDS is invalid');
    }
  });

  it('validates AUTH_JWKS as a key set and AUTH_JWKS_URL as https', () => {
    const { AUTH_JWKS_URL: _, ...base } = apiEnv;
    expect(
      configError(() => loadConfig({ ...base, AUTH_JWKS: '{nope' }, ['auth'])).message,
    ).toContain('AUTH_JWKS is invalid: must be JSON');
    expect(
      configError(() => loadConfig({ ...base, AUTH_JWKS: '{"keys":[]}' }, ['auth'])).variables,
    ).toEqual(['AUTH_JWKS']);
    expect(
      configError(() =>
        loadConfig({ ...base, AUTH_JWKS_URL: 'http://issuer.example/jwks' }, ['auth']),
      ).message,
    ).toContain('must use https');
    expect(
      loadConfig({ ...base, AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks' }, ['auth']).auth.jwks,
    ).toEqual({
      kind: 'url',
      url: 'http://127.0.0.1:9999/jwks',
    });
  });

  it('validates the member role name and the Tablestore settings', () => {
    expect(
      configError(() =>
        loadConfig({ STS_ENDPOINT: 'sts.aliyuncs.com', MEMBER_ACCESS_ROLE: 'a/b' }, ['sts']),
      ).variables,
    ).toEqual(['MEMBER_ACCESS_ROLE']);
    expect(
      loadConfig({ TABLESTORE_ENDPOINT: 'http://127.0.0.1:4000', TABLESTORE_INSTANCE: 'rdgov' }, [
        'tablestore',
      ]).tablestore,
    ).toEqual({ endpoint: 'http://127.0.0.1:4000', instance: 'rdgov' });
    expect(
      configError(() =>
        loadConfig(
          { TABLESTORE_ENDPOINT: 'rdgov.ots.aliyuncs.com', TABLESTORE_INSTANCE: 'rdgov' },
          ['tablestore'],
        ),
      ).variables,
    ).toEqual(['TABLESTORE_ENDPOINT']);
  });
});

describe('readConfig', () => {
  it('parses process.env once and keeps the result', () => {
    const before = process.env.LOG_LEVEL;
    try {
      process.env.LOG_LEVEL = 'warn';
      const first = readConfig(['logging']);
      process.env.LOG_LEVEL = 'error';
      expect(readConfig(['logging'])).toBe(first);
      expect(first.logging.level).toBe('warn');
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });
});
