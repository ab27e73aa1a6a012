import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeHttpEvent,
  MalformedHttpEvent,
  toFcHttpResponse,
  toWebRequest,
} from '../../../shared/runtime/http-event';

const fixturePath = new URL('../../fixtures/fc3-events/http.json', import.meta.url);
const fixture = readFileSync(fixturePath);

describe('FC HTTP event -> Web Request', () => {
  it('decodes the FC 3.0 fixture delivered as a Buffer', async () => {
    const event = decodeHttpEvent(fixture);
    expect(event.requestContext.http.method).toBe('POST');
    const request = toWebRequest(event);
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe(
      '/2023-03-30/functions/fc3-event-test-http-trigger-Darwin-x86_64/invocations',
    );
    expect(request.headers.get('x-acs-action')).toBe('InvokeFunction');
    expect(request.headers.get('content-length')).toBe('4');
    expect(await request.text()).toBe('haha');
  });

  it('carries query parameters (repeated ones too), host and a base64 body', async () => {
    const payload = Buffer.from([0, 1, 2, 250, 255]);
    const request = toWebRequest(
      decodeHttpEvent({
        rawPath: '/v1/things',
        headers: { Host: 'api.example.com', 'Content-Type': 'application/octet-stream' },
        queryParameters: { a: '1', tag: ['x', 'y'], space: 'a b' },
        body: payload.toString('base64'),
        isBase64Encoded: true,
        requestContext: { http: { method: 'PUT' } },
      }),
    );
    const url = new URL(request.url);
    expect(url.host).toBe('api.example.com');
    expect(url.searchParams.get('a')).toBe('1');
    expect(url.searchParams.getAll('tag')).toEqual(['x', 'y']);
    expect(url.searchParams.get('space')).toBe('a b');
    expect(Buffer.from(await request.arrayBuffer())).toEqual(payload);
  });

  it('drops a body on GET', async () => {
    const request = toWebRequest(
      decodeHttpEvent({
        rawPath: '/',
        body: 'ignored',
        requestContext: { http: { method: 'GET' } },
      }),
    );
    expect(request.body).toBeNull();
  });

  it('refuses events that are not FC HTTP events', () => {
    expect(() => decodeHttpEvent(Buffer.from('not json'))).toThrow(MalformedHttpEvent);
    expect(() =>
      decodeHttpEvent({ rawPath: 'no-slash', requestContext: { http: { method: 'GET' } } }),
    ).toThrow(/rawPath/);
    expect(() => decodeHttpEvent({ rawPath: '/' })).toThrow(/requestContext/);
    expect(() =>
      toWebRequest(
        decodeHttpEvent({
          rawPath: '/',
          body: '***',
          isBase64Encoded: true,
          requestContext: { http: { method: 'POST' } },
        }),
      ),
    ).toThrow(/base64/);
  });
});

describe('Web Response -> FC HTTP response', () => {
  it('keeps JSON as text', async () => {
    const response = await toFcHttpResponse(
      new Response(JSON.stringify({ ok: 'é' }), {
        status: 201,
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' },
      }),
    );
    expect(response).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' },
      body: '{"ok":"é"}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes binary bodies', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10]);
    const response = await toFcHttpResponse(
      new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
    );
    expect(response.isBase64Encoded).toBe(true);
    expect(Buffer.from(response.body, 'base64')).toEqual(bytes);
  });

  it('round-trips a request body through an echoing app', async () => {
    const echo = async (request: Request) =>
      new Response(await request.arrayBuffer(), {
        headers: {
          'content-type': request.headers.get('content-type') ?? 'application/octet-stream',
        },
      });
    const event = decodeHttpEvent(fixture);
    const response = await toFcHttpResponse(await echo(toWebRequest(event)));
    expect(response.isBase64Encoded).toBe(true);
    expect(Buffer.from(response.body, 'base64').toString()).toBe(event.body);

    const textEvent = decodeHttpEvent({
      ...JSON.parse(fixture.toString()),
      headers: { 'Content-Type': 'text/plain' },
    });
    const textResponse = await toFcHttpResponse(await echo(toWebRequest(textEvent)));
    expect(textResponse).toMatchObject({ body: 'haha', isBase64Encoded: false });
  });

  it('encodes an empty body as an empty string', async () => {
    expect(await toFcHttpResponse(new Response(null, { status: 204 }))).toEqual({
      statusCode: 204,
      headers: {},
      body: '',
      isBase64Encoded: false,
    });
  });
});
