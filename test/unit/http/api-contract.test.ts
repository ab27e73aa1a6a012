// The contract check every test's fetch goes through (test/support/api-contract-setup.ts): it
// must refuse answers the OpenAPI document does not allow, or the e2e suite proves nothing about
// the document. Checked directly, and through fetch against a server that answers wrongly.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, apiContract } from '../../support/api-contract';

const json = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1' };
const envelope = (code: string) =>
  JSON.stringify({ code, message: 'm', details: null, requestId: 'r-1' });

function answer(partial: Partial<Answer> & Pick<Answer, 'url'>): Answer {
  return {
    method: 'GET',
    status: 200,
    headers: new Headers(json),
    body: '{"status":"ok"}',
    ...partial,
  };
}

describe('the contract check', () => {
  const check = (a: Answer) => apiContract().check(a);

  it('accepts what the document allows', () => {
    expect(check(answer({ url: '/v1/health' }))).toEqual([]);
    expect(
      check(
        answer({
          url: '/v1/members/2000000000000001',
          status: 404,
          body: envelope('NotFound'),
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        answer({
          url: '/v1/roles/report',
          headers: new Headers({ 'content-type': 'text/csv', 'x-request-id': 'r' }),
          body: 'a,b\n',
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a body that breaks its schema, a missing x-request-id, an undeclared status', () => {
    expect(check(answer({ url: '/v1/health', body: '{"status":"up"}' })).join()).toMatch(
      /does not match/,
    );
    expect(
      check(
        answer({ url: '/v1/health', headers: new Headers({ 'content-type': 'application/json' }) }),
      ),
    ).toContain('no x-request-id header');
    expect(
      check(answer({ url: '/v1/health', status: 404, body: envelope('NotFound') })).join(),
    ).toMatch(/does not declare status 404/);
  });

  it('refuses a 503 without Retry-After, an error outside the envelope, an undeclared type', () => {
    const unavailable = answer({ url: '/v1/members', status: 503, body: envelope('Busy') });
    expect(check(unavailable)).toContain('no Retry-After header');
    expect(
      check(answer({ url: '/v1/members', status: 400, body: '{"error":"bad"}' })).join(),
    ).toMatch(/does not match/);
    expect(
      check(
        answer({
          url: '/v1/members',
          headers: new Headers({ 'content-type': 'text/csv', 'x-request-id': 'r' }),
          body: 'x',
        }),
      ).join(),
    ).toMatch(/text\/csv is not declared/);
  });

  it('expects 404 for an unknown path and 405 for an undeclared method, in the envelope', () => {
    expect(check(answer({ url: '/v1/nothing', status: 404, body: envelope('NotFound') }))).toEqual(
      [],
    );
    expect(check(answer({ url: '/v1/nothing', status: 200 })).join()).toMatch(/not 404/);
    expect(
      check(
        answer({
          method: 'PUT',
          url: '/v1/members',
          status: 405,
          body: envelope('MethodNotAllowed'),
        }),
      ),
    ).toEqual([]);
  });
});

describe('fetch in tests', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r' });
      res.end('{"status":"down"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fails a request whose answer breaks the document, naming what's wrong", async () => {
    await expect(fetch(`${base}/v1/health`)).rejects.toThrow(
      /GET \/v1\/health answered 200.*\n- body does not match/,
    );
  });

  it('leaves answers outside the API alone', async () => {
    expect((await fetch(`${base}/elsewhere`)).status).toBe(200);
  });
});
