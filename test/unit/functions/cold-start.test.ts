// The api function reads its configuration when its module loads (FC cold start): a missing or
// invalid variable stops the start with a message naming it.
import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { ...process.env };
const API_VARIABLES = [
  'CLOUD_PROTOCOL',
  'RESOURCEMANAGER_ENDPOINT',
  'STS_ENDPOINT',
  'RAM_ENDPOINT',
  'FUNCTION_COMPUTE_ENDPOINT',
  'TABLESTORE_ENDPOINT',
  'TABLESTORE_INSTANCE',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'AUTH_JWKS_URL',
  'AUTH_JWKS',
  'AUTH_ROLES_CLAIM',
  'LOG_LEVEL',
];

function setEnv(values: Record<string, string>) {
  for (const name of API_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

afterEach(() => {
  for (const name of API_VARIABLES) delete process.env[name];
  Object.assign(process.env, saved);
  vi.resetModules();
});

describe('api function cold start', () => {
  it('stops with a ConfigurationError naming the missing variable', async () => {
    setEnv({
      AUTH_ISSUER: 'https://idp.test/',
      AUTH_AUDIENCE: 'api',
      AUTH_JWKS_URL: 'https://idp.test/jwks',
    });
    vi.resetModules();
    await expect(import('../../../functions/api/index')).rejects.toThrow(
      /^Configuration error: RESOURCEMANAGER_ENDPOINT is required/,
    );
  });

  it('starts and answers when the configuration is complete', async () => {
    setEnv({
      RESOURCEMANAGER_ENDPOINT: '127.0.0.1:1',
      STS_ENDPOINT: '127.0.0.1:1',
      RAM_ENDPOINT: '127.0.0.1:1',
      FUNCTION_COMPUTE_ENDPOINT: '127.0.0.1:1',
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:1',
      TABLESTORE_INSTANCE: 'rdgov',
      CLOUD_PROTOCOL: 'http',
      AUTH_ISSUER: 'https://idp.test/',
      AUTH_AUDIENCE: 'api',
      AUTH_JWKS_URL: 'https://idp.test/jwks',
      LOG_CENTRAL_PROJECT: 'rdgov-logs-test',
      LOG_LEVEL: 'error',
    });
    vi.resetModules();
    const { handler } = await import('../../../functions/api/index');
    const event = Buffer.from(
      JSON.stringify({ rawPath: '/v1/health', requestContext: { http: { method: 'GET' } } }),
    );
    const result = await handler(event, { requestId: 'cold-1', function: { name: 'rdgov-api' } });
    expect(result).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });
    expect(result.headers['x-request-id']).toBe('cold-1');
  });
});
