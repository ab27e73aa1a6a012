// The two request signatures Alibaba Cloud POP APIs accept, written from the published
// specifications (V3 "ACS3-HMAC-SHA256" and the RPC "HMAC-SHA1" signature), independent of the
// SDKs' own signers: a signer shared between client and stand-in would hide a bug on both sides.
// Everything here is pure.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 3986 percent-encoding: encodeURIComponent also leaves ! ' ( ) * unencoded. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decodes `a=1&b=x%20y` (form or query; `+` is a space) into ordered pairs. */
export function parseUrlEncoded(raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decodeComponent(rawKey), decodeComponent(rawValue)]);
  }
  return pairs;
}

function decodeComponent(value: string): string {
  const spaced = value.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function byKeyThenValue(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] === b[1]) return 0;
  return a[1] < b[1] ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// V3: ACS3-HMAC-SHA256

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

export interface Acs3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; undefined if malformed. */
export function parseAcs3Authorization(header: string): Acs3Authorization | undefined {
  const match = /^(\S+)\s+(.*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, algorithm = '', rest = ''] = match;
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || signedHeaders === undefined || !signature) return undefined;
  return {
    algorithm,
    accessKeyId,
    signedHeaders: signedHeaders.split(';').filter((name) => name !== ''),
    signature,
  };
}

export interface CanonicalRequestInput {
  method: string;
  /** The path as sent on the wire (already percent-encoded), e.g. "/". */
  canonicalUri: string;
  /** Decoded query parameters. */
  query: Array<[string, string]>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Lower-cased, as listed in SignedHeaders. */
  signedHeaders: string[];
  /** Hex SHA-256 of the body, as sent in x-acs-content-sha256. */
  hashedPayload: string;
}

export function canonicalQueryString(query: Array<[string, string]>): string {
  return [...query]
    .sort(byKeyThenValue)
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join('&');
}

/**
 * CanonicalRequest =
 *   Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
 * where CanonicalHeaders has one `name:trimmed-value\n` per signed header, sorted by name.
 */
export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const names = [...input.signedHeaders].map((name) => name.toLowerCase()).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(input.headers[name] ?? '').trim()}\n`)
    .join('');
  return [
    input.method.toUpperCase(),
    input.canonicalUri === '' ? '/' : input.canonicalUri,
    canonicalQueryString(input.query),
    canonicalHeaders,
    names.join(';'),
    input.hashedPayload,
  ].join('\n');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function acs3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// RPC: HMAC-SHA1, parameters in the query and/or a form body

/** StringToSign = Method & %2F & percentEncode(sorted `key=value` pairs joined by &). */
export function rpcStringToSign(method: string, params: Array<[string, string]>): string {
  const canonicalized = [...params]
    .filter(([key]) => key !== 'Signature')
    .sort(byKeyThenValue)
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalized)}`;
}

export function rpcSignature(secret: string, stringToSign: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** Constant-time comparison of two signatures. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses the cloud's timestamp format `YYYY-MM-DDTHH:mm:ssZ` (also accepts milliseconds). */
export function parseSignedTimestamp(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
