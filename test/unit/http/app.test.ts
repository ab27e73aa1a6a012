// The HTTP frame every route runs in, exercised through a test-only app (the API of this issue
// has no operator route yet; the frame's behaviour is the same for every route).
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createHttpApp,
  defineRoute,
  NO_QUERY,
  type RouteDefinition,
} from '../../../shared/http/app';
import { createTokenVerifier } from '../../../shared/http/auth';
import { jsonResponse } from '../../../shared/http/validation';
import { serveHttpEvent } from '../../../shared/runtime/http';
import { bindings, capturingLogger } from '../../support/invocation';
import { createTestIssuer, type TestIssuer } from '../../support/tokens';

const thingSchema = z.strictObject({ name: z.string().min(1), size: z.number().int().positive() });

const routes: RouteDefinition[] = [
  defineRoute({
    method: 'GET',
    path: '/things',
    summary: 'things',
    access: 'viewer',
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10).optional() }),
    responses: { 200: { description: 'the limit' } },
    handle: (_c, query) =>
      jsonResponse('GET /things', z.object({ limit: z.number() }), {
        limit: query.limit ?? 5,
      }),
  }),
  defineRoute({
    method: 'POST',
    path: '/things',
    summary: 'a thing',
    access: 'operator',
    query: NO_QUERY,
    body: thingSchema,
    responses: { 201: { description: 'the thing', json: thingSchema } },
    handle: (_c, _query, { body }) => jsonResponse('POST /things', thingSchema, body, 201),
  }),
  defineRoute({
    method: 'GET',
    path: '/boom',
    summary: 'fails',
    access: 'public',
    query: NO_QUERY,
    responses: { 200: { description: 'never' } },
    handle: () => {
      throw new Error('db connection failed: password=hunter2');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/broken-contract',
    summary: 'fails',
    access: 'public',
    query: NO_QUERY,
    responses: { 200: { description: 'never' } },
    handle: () =>
      jsonResponse('GET /broken-contract', z.object({ n: z.number() }), { n: 'x' } as never),
  }),
];

let issuer: TestIssuer;
let app: ReturnType<typeof createHttpApp>;
let viewer: string;
let operator: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  app = createHttpApp({ routes, verifier: createTokenVerifier(issuer.config), maxBodyBytes: 64 });
  viewer = await issuer.mint({ roles: ['viewer'] });
  operator = await issuer.mint({ roles: 'operator' });
});

async function call(
  method: string,
  path: string,
  init: { token?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const captured = capturingLogger();
  const response = await app.fetch(
    new Request(`https://api.test${path}`, {
      method,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
    }),
    bindings({ requestId: 'req-42' }, captured.logger),
  );
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? JSON.parse(text) : null,
    logs: captured.lines,
  };
}

function expectEnvelope(json: Record<string, unknown>, code: string) {
  expect(Object.keys(json).sort()).toEqual(['code', 'details', 'message', 'requestId']);
  expect(json).toMatchObject({ code, message: expect.any(String), requestId: 'req-42' });
  expect(json.details === null || typeof json.details === 'object').toBe(true);
}

describe('authentication and roles', () => {
  it('401 without a token, with WWW-Authenticate and the envelope', async () => {
    const res = await call('GET', '/things');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="rd-governance"');
    expect(res.json).toMatchObject({ code: 'Unauthenticated', details: null, requestId: 'req-42' });
    expect(res.headers.get('x-request-id')).toBe('req-42');
  });

  it('401 with an expired token', async () => {
    const expired = await issuer.mint(
      { roles: ['viewer'] },
      { expiresIn: Math.floor(Date.now() / 1000) - 300 },
    );
    const res = await call('GET', '/things', { token: expired });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('401 naming the claim for a token issued in the future or without sub, in the envelope', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer.config.issuer, aud: issuer.config.audience, roles: ['viewer'] };
    const future = await issuer.signRaw({
      ...claims,
      sub: 'alice',
      iat: now + 3600,
      exp: now + 7200,
    });
    const anonymous = await issuer.signRaw({ ...claims, iat: now, exp: now + 600 });
    for (const [token, claim] of [
      [future, 'iat'],
      [anonymous, 'sub'],
    ] as const) {
      const res = await call('GET', '/things', { token });
      expect(res.status).toBe(401);
      expectEnvelope(res.json, 'Unauthenticated');
      expect(res.json.details).toEqual({ claim });
      expect(res.json.message).toContain(`"${claim}"`);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('403 for a viewer on an operator route; the operator passes', async () => {
    const refused = await call('POST', '/things', {
      token: viewer,
      body: '{"name":"a","size":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(403);
    expectEnvelope(refused.json, 'Forbidden');
    expect(refused.json.details).toEqual({ requiredRole: 'operator', grantedRoles: ['viewer'] });
    const accepted = await call('POST', '/things', {
      token: operator,
      body: '{"name":"a","size":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.json).toEqual({ name: 'a', size: 1 });
  });

  it('operator implies viewer on read routes', async () => {
    expect((await call('GET', '/things', { token: operator })).status).toBe(200);
  });
});

describe('bad input is a 4xx with field details', () => {
  it('400 for a malformed query, naming the field', async () => {
    const res = await call('GET', '/things?limit=99', { token: viewer });
    expect(res.status).toBe(400);
    expectEnvelope(res.json, 'InvalidRequest');
    expect(res.json.details.issues).toEqual([
      { location: 'query', field: 'limit', message: expect.any(String) },
    ]);
  });

  it('400 for an unknown query parameter', async () => {
    const res = await call('GET', '/things?limt=3', { token: viewer });
    expect(res.status).toBe(400);
    expect(res.json.details.issues).toEqual([
      { location: 'query', field: 'limt', message: 'unknown query parameter "limt"' },
    ]);
  });

  it('400 for an invalid JSON body, per field', async () => {
    const res = await call('POST', '/things', {
      token: operator,
      body: '{"name":"","size":-1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json.details.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'name',
      'size',
    ]);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await call('POST', '/things', {
      token: operator,
      body: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('The request body is not valid JSON');
  });

  it('415 for a non-JSON content type on a JSON route', async () => {
    const res = await call('POST', '/things', {
      token: operator,
      body: 'name=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expectEnvelope(res.json, 'UnsupportedMediaType');
  });

  it('413 for an oversized body', async () => {
    const res = await call('POST', '/things', {
      token: operator,
      body: JSON.stringify({ name: 'x'.repeat(100), size: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expectEnvelope(res.json, 'PayloadTooLarge');
  });

  it('404 for an unknown route', async () => {
    const res = await call('GET', '/nope', { token: viewer });
    expect(res.status).toBe(404);
    expectEnvelope(res.json, 'NotFound');
  });

  it('405 with Allow for a known path and another method', async () => {
    const res = await call('DELETE', '/things', { token: operator });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD');
    expectEnvelope(res.json, 'MethodNotAllowed');
  });

  it('answers HEAD on a GET route', async () => {
    const res = await call('HEAD', '/things', { token: viewer });
    expect(res.status).toBe(200);
  });
});

describe('bugs are 500 without leaking', () => {
  it('an unexpected error is 500 InternalError; the message stays in the (redacted) log', async () => {
    const res = await call('GET', '/boom');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      code: 'InternalError',
      message: 'An internal error occurred; quote request id req-42 when reporting it.',
      details: null,
      requestId: 'req-42',
    });
    const logged = JSON.stringify(res.logs);
    expect(logged).toContain('db connection failed');
    expect(logged).toContain('stack');
    expect(logged).not.toContain('hunter2');
  });

  it('a response that breaks its schema is a 500, not a wrong answer', async () => {
    const res = await call('GET', '/broken-contract');
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.logs)).toContain('does not match its schema');
  });
});

describe('through the FC adapter', () => {
  it('serves an FC HTTP event and echoes the FC request id', async () => {
    const captured = capturingLogger();
    const event = Buffer.from(
      JSON.stringify({
        version: 'v1',
        rawPath: '/things',
        headers: { Authorization: `Bearer ${viewer}` },
        queryParameters: { limit: '3' },
        body: '',
        isBase64Encoded: false,
        requestContext: { requestId: 'ignored', http: { method: 'GET', path: '/things' } },
      }),
    );
    const result = await serveHttpEvent(
      app,
      event,
      {
        requestId: 'fc-req-9',
        function: { name: 'rdgov-api' },
        credentials: { accessKeyId: 'a', accessKeySecret: 'b', securityToken: 'c' },
      },
      captured.logger,
    );
    expect(result).toMatchObject({ statusCode: 200, body: '{"limit":3}', isBase64Encoded: false });
    expect(result.headers['x-request-id']).toBe('fc-req-9');
    const access = captured.lines.find((l) => l.message === 'request');
    expect(access).toMatchObject({
      requestId: 'fc-req-9',
      function: 'rdgov-api',
      method: 'GET',
      path: '/things',
      status: 200,
    });
    expect(JSON.stringify(captured.lines)).not.toContain(viewer);
  });

  it('a malformed event is a 400 envelope, not a thrown error', async () => {
    const result = await serveHttpEvent(
      app,
      Buffer.from('{"rawPath":3}'),
      { requestId: 'fc-req-10' },
      capturingLogger().logger,
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({
      code: 'InvalidRequest',
      requestId: 'fc-req-10',
    });
  });
});
