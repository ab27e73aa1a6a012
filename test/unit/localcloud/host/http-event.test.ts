import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderName,
  fromHandlerResult,
  InvalidHttpResponseError,
  isTextContentType,
  toHttpTriggerEvent,
} from '../../../../localcloud/host/http-event';

const meta = {
  requestId: 'req-1',
  accountId: '1000000000000001',
  domainName: '127.0.0.1:9000',
  domainPrefix: 'api',
  now: new Date('2024-05-06T07:08:09.123Z'),
};

const request = (overrides: Partial<Parameters<typeof toHttpTriggerEvent>[0]> = {}) => ({
  method: 'post',
  target: '/v1/things/a%20b?x=1&x=2&y=%C3%A9',
  httpVersion: '1.1',
  rawHeaders: [
    'content-type',
    'application/json',
    'x-fc-trace',
    'a',
    'X-FC-TRACE',
    'b',
    'user-agent',
    'curl/8',
  ],
  body: Buffer.from('{"k":"v"}'),
  sourceIp: '127.0.0.1',
  ...overrides,
});

describe('HTTP request -> FC 3.0 HTTP event', () => {
  it('has the shape of the FC 3.0 sample event', () => {
    const sample = JSON.parse(
      readFileSync(new URL('../../../fixtures/fc3-events/http.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown> & { requestContext: Record<string, unknown> & { http: object } };
    const event = toHttpTriggerEvent(request(), meta);
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(event)).toEqual(keys(sample));
    // The sample also carries triggerId; every field the contract names is present.
    for (const key of keys(event.requestContext)) expect(sample.requestContext).toHaveProperty(key);
    expect(keys(event.requestContext.http)).toEqual(keys(sample.requestContext.http));
    expect(event.version).toBe('v1');
  });

  it('maps path, query, headers, method and time', () => {
    const event = toHttpTriggerEvent(request(), meta);
    expect(event.rawPath).toBe('/v1/things/a%20b');
    expect(event.requestContext.http.path).toBe('/v1/things/a b');
    expect(event.requestContext.http.method).toBe('POST');
    expect(event.requestContext.http.protocol).toBe('HTTP/1.1');
    expect(event.requestContext.http.userAgent).toBe('curl/8');
    expect(event.queryParameters).toEqual({ x: '1,2', y: 'é' });
    expect(event.headers['Content-Type']).toBe('application/json');
    expect(event.headers['X-Fc-Trace']).toBe('a,b');
    expect(event.requestContext.time).toBe('2024-05-06T07:08:09Z');
    expect(event.requestContext.timeEpoch).toBe(String(meta.now.getTime()));
    expect(event.requestContext.requestId).toBe('req-1');
    expect(event.body).toBe('{"k":"v"}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('base64-encodes a binary body', () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const event = toHttpTriggerEvent(
      request({ rawHeaders: ['Content-Type', 'application/octet-stream'], body: bytes }),
      meta,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
  });

  it('base64-encodes bytes that are not UTF-8 even under a text type', () => {
    const event = toHttpTriggerEvent(
      request({ rawHeaders: ['Content-Type', 'text/plain'], body: Buffer.from([0xc3, 0x28]) }),
      meta,
    );
    expect(event.isBase64Encoded).toBe(true);
  });

  it('canonicalises header names as FC does', () => {
    expect(canonicalHeaderName('x-acs-content-sha256')).toBe('X-Acs-Content-Sha256');
    expect(canonicalHeaderName('AUTHORIZATION')).toBe('Authorization');
  });

  it('knows text content types', () => {
    expect(isTextContentType('application/json; charset=utf-8')).toBe(true);
    expect(isTextContentType('application/problem+json')).toBe(true);
    expect(isTextContentType('text/csv')).toBe(true);
    expect(isTextContentType('image/png')).toBe(false);
    expect(isTextContentType('application/x-protobuf')).toBe(false);
  });
});

describe('handler result -> HTTP response', () => {
  it('maps statusCode, headers and body', () => {
    const response = fromHandlerResult({
      statusCode: 404,
      headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] },
      body: '{"code":"NotFound"}',
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers).toEqual([
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(response.body.toString()).toBe('{"code":"NotFound"}');
  });

  it('decodes a base64 body', () => {
    const response = fromHandlerResult({
      statusCode: 200,
      body: 'AAEC/w==',
      isBase64Encoded: true,
    });
    expect([...response.body]).toEqual([0, 1, 2, 255]);
  });

  it('takes any other value as the body of a 200', () => {
    expect(fromHandlerResult('hi').body.toString()).toBe('hi');
    expect(fromHandlerResult({ a: 1 }).body.toString()).toBe('{"a":1}');
    expect(fromHandlerResult({ a: 1 }).headers).toEqual([['Content-Type', 'application/json']]);
    expect(fromHandlerResult(undefined).body.length).toBe(0);
  });

  it('refuses an impossible status code', () => {
    expect(() => fromHandlerResult({ statusCode: 42 })).toThrow(InvalidHttpResponseError);
  });
});
