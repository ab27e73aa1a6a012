// FC 3.0 HTTP trigger mapping for built-in runtimes: an HTTP request becomes the event JSON the
// handler receives, and the handler's return value becomes the HTTP response.
// Request struct: { version: 'v1', rawPath, headers, queryParameters, body, isBase64Encoded,
// requestContext{ accountId, domainName, domainPrefix, requestId, time, timeEpoch,
// http{ method, path, protocol, sourceIp, userAgent } } }. Repeated headers and query
// parameters are joined with commas; header names arrive canonicalised (`Content-Type`), as
// FC's gateway delivers them; a binary body is base64-encoded.

export interface FcHttpEvent {
  version: 'v1';
  rawPath: string;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix: string;
    requestId: string;
    time: string;
    timeEpoch: string;
    http: {
      method: string;
      path: string;
      protocol: string;
      sourceIp: string;
      userAgent: string;
    };
  };
}

export interface RawHttpRequest {
  method: string;
  /** Request target as received: path plus optional query string. */
  target: string;
  /** e.g. "1.1" */
  httpVersion: string;
  /** Alternating names and values, as node's IncomingMessage.rawHeaders. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
}

export interface InvocationMeta {
  requestId: string;
  accountId: string;
  /** The trigger's host name, e.g. api.127.0.0.1:9000 locally. */
  domainName: string;
  domainPrefix: string;
  now: Date;
}

/** Go's textproto.CanonicalMIMEHeaderKey: `x-fc-trace-id` -> `X-Fc-Trace-Id`. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name)) return name;
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part ? (part[0] ?? '').toUpperCase() + part.slice(1) : part))
    .join('-');
}

const TEXT_TYPES = [
  /^text\//,
  /^application\/(json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson|yaml)\b/,
  /^application\/[\w.+-]+\+(json|xml)\b/,
];

/** True when a body of this content type travels as text (anything else is base64). */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.trim().toLowerCase();
  return TEXT_TYPES.some((pattern) => pattern.test(type));
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** FC's time format in events: second precision, `Z`. */
export function fcTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function toHttpTriggerEvent(request: RawHttpRequest, meta: InvocationMeta): FcHttpEvent {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(request.rawHeaders[i] ?? '');
    const value = request.rawHeaders[i + 1] ?? '';
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }

  const queryIndex = request.target.indexOf('?');
  const rawPath = queryIndex === -1 ? request.target : request.target.slice(0, queryIndex);
  const rawQuery = queryIndex === -1 ? '' : request.target.slice(queryIndex + 1);
  const queryParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    queryParameters[key] = key in queryParameters ? `${queryParameters[key]},${value}` : value;
  }

  const asText =
    request.body.length === 0 ||
    (isTextContentType(headers['Content-Type']) && isValidUtf8(request.body));
  return {
    version: 'v1',
    rawPath,
    headers,
    queryParameters,
    body: asText ? request.body.toString('utf8') : request.body.toString('base64'),
    isBase64Encoded: !asText,
    requestContext: {
      accountId: meta.accountId,
      domainName: meta.domainName,
      domainPrefix: meta.domainPrefix,
      requestId: meta.requestId,
      time: fcTimestamp(meta.now),
      timeEpoch: String(meta.now.getTime()),
      http: {
        method: request.method.toUpperCase(),
        path: safeDecode(rawPath),
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['User-Agent'] ?? '',
      },
    },
  };
}

export interface HttpTriggerResponse {
  statusCode: number;
  /** Header name and value pairs; a name may repeat (Set-Cookie). */
  headers: Array<[string, string]>;
  body: Buffer;
}

export class InvalidHttpResponseError extends Error {
  constructor(reason: string) {
    super(`the function's HTTP response is invalid: ${reason}`);
    this.name = 'InvalidHttpResponseError';
  }
}

function toBytes(body: unknown, base64: boolean): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === 'string') return Buffer.from(body, base64 ? 'base64' : 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/**
 * Maps a handler's return value to the HTTP response. `{ statusCode, headers, body,
 * isBase64Encoded }` is taken as the response struct; any other value is the body of a 200.
 */
export function fromHandlerResult(result: unknown): HttpTriggerResponse {
  const isStruct =
    result !== null &&
    typeof result === 'object' &&
    !Buffer.isBuffer(result) &&
    !(result instanceof Uint8Array) &&
    'statusCode' in result;
  if (!isStruct) {
    if (typeof result === 'string') {
      return {
        statusCode: 200,
        headers: [['Content-Type', 'text/plain']],
        body: toBytes(result, false),
      };
    }
    if (Buffer.isBuffer(result) || result instanceof Uint8Array) {
      return {
        statusCode: 200,
        headers: [['Content-Type', 'application/octet-stream']],
        body: toBytes(result, false),
      };
    }
    if (result === undefined || result === null) {
      return { statusCode: 200, headers: [], body: Buffer.alloc(0) };
    }
    return {
      statusCode: 200,
      headers: [['Content-Type', 'application/json']],
      body: toBytes(result, false),
    };
  }
  const struct = result as Record<string, unknown>;
  const statusCode = Number(struct.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new InvalidHttpResponseError(`statusCode ${String(struct.statusCode)} is not 100..599`);
  }
  const headers: Array<[string, string]> = [];
  if (struct.headers !== undefined && struct.headers !== null) {
    if (typeof struct.headers !== 'object')
      throw new InvalidHttpResponseError('headers is not a map');
    for (const [name, value] of Object.entries(struct.headers)) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.push([name, String(item)]);
    }
  }
  return { statusCode, headers, body: toBytes(struct.body, struct.isBase64Encoded === true) };
}
