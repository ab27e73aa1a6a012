// FC 3.0 HTTP trigger event <-> Web Request/Response.
//
// FC delivers the HTTP request as a JSON event in a Buffer (shape:
// ../shared/fixtures/fc3-events/http.json) and expects {statusCode, headers, body, isBase64Encoded}
// back. Routing (hono) works on Web Request/Response, so this is the only place that knows FC's
// HTTP event shape.

import { z } from 'zod';

const headerValue = z.union([z.string(), z.array(z.string())]);

export const fcHttpEventSchema = z.looseObject({
  version: z.string().optional(),
  rawPath: z.string().startsWith('/'),
  headers: z.record(z.string(), headerValue).default({}),
  queryParameters: z.record(z.string(), headerValue).default({}),
  body: z.string().default(''),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.looseObject({
    accountId: z.string().optional(),
    requestId: z.string().optional(),
    domainName: z.string().optional(),
    time: z.string().optional(),
    timeEpoch: z.string().optional(),
    http: z.looseObject({
      method: z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method'),
      path: z.string().optional(),
      protocol: z.string().optional(),
      sourceIp: z.string().optional(),
      userAgent: z.string().optional(),
    }),
  }),
});

export type FcHttpEvent = z.infer<typeof fcHttpEventSchema>;

export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export class MalformedHttpEvent extends Error {
  override readonly name = 'MalformedHttpEvent';
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

/** Parses the raw event (Buffer as FC delivers it, or string/object) into a validated HTTP event. */
export function decodeHttpEvent(event: unknown): FcHttpEvent {
  let json: unknown = event;
  if (Buffer.isBuffer(event) || event instanceof Uint8Array || typeof event === 'string') {
    const text = typeof event === 'string' ? event : Buffer.from(event).toString('utf8');
    try {
      json = JSON.parse(text);
    } catch {
      throw new MalformedHttpEvent('The HTTP trigger event is not JSON', ['event: not JSON']);
    }
  }
  const parsed = fcHttpEventSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`,
    );
    throw new MalformedHttpEvent(
      `The HTTP trigger event is malformed: ${problems.join('; ')}`,
      problems,
    );
  }
  return parsed.data;
}

function headerLookup(headers: FcHttpEvent['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The Web Request the event describes. */
export function toWebRequest(event: FcHttpEvent): Request {
  const host =
    headerLookup(event.headers, 'host') ?? event.requestContext.domainName ?? 'localhost';
  const forwardedProto = headerLookup(event.headers, 'x-forwarded-proto');
  const scheme = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : 'https';
  let url: URL;
  try {
    url = new URL(event.rawPath, `${scheme}://${host}`);
  } catch {
    url = new URL(event.rawPath, 'https://localhost');
  }
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(event.queryParameters)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  url.search = search.toString();

  const headers = new Headers();
  for (const [key, value] of Object.entries(event.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(key, item);
      } catch {
        // A header name or value the Fetch API refuses (control characters) cannot reach the app.
      }
    }
  }

  const method = event.requestContext.http.method;
  let body: Uint8Array | undefined;
  if (method !== 'GET' && method !== 'HEAD' && event.body !== '') {
    if (event.isBase64Encoded) {
      const compact = event.body.replace(/\s+/g, '');
      if (!BASE64.test(compact)) {
        throw new MalformedHttpEvent('The HTTP trigger event body is not valid base64', [
          'body: not base64',
        ]);
      }
      body = Buffer.from(compact, 'base64');
    } else {
      body = Buffer.from(event.body, 'utf8');
    }
  }
  // Content-Length must describe the bytes handed over, whatever the event said.
  headers.delete('content-length');
  if (body !== undefined) headers.set('content-length', String(body.byteLength));
  return new Request(url, { method, headers, body });
}

const TEXTUAL =
  /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded)\b)/i;

export function isTextualContentType(contentType: string | null): boolean {
  return contentType !== null && TEXTUAL.test(contentType.trim());
}

/** The FC HTTP response for a Web Response: textual bodies as UTF-8, anything else base64. */
export async function toFcHttpResponse(response: Response): Promise<FcHttpResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies.join(', ');

  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.byteLength === 0) {
    return { statusCode: response.status, headers, body: '', isBase64Encoded: false };
  }
  if (isTextualContentType(response.headers.get('content-type'))) {
    return {
      statusCode: response.status,
      headers,
      body: bytes.toString('utf8'),
      isBase64Encoded: false,
    };
  }
  return {
    statusCode: response.status,
    headers,
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}
