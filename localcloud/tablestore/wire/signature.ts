// The x-ots-* signature scheme (HMAC-SHA1, base64), for requests and for responses.
//
// Request string to sign:  <path>\nPOST\n<sorted query>\n<canonical headers>\n
// Response string to sign: <canonical headers>\n<path>
// Canonical headers: every x-ots-* header except x-ots-signature, lower-cased, sorted by name,
// as `name:value` lines joined by \n. The response is signed with the caller's secret and
// carried as `Authorization: OTS <AccessKeyId>:<signature>`.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function canonicalHeaders(headers: Record<string, string>): string {
  return Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-ots-') && name !== 'x-ots-signature')
    .sort()
    .map((name) => `${name}:${(headers[name] ?? '').trim()}`)
    .join('\n');
}

function sortedQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(pairs).toString();
}

export function requestStringToSign(
  url: URL,
  method: string,
  headers: Record<string, string>,
): string {
  return `${url.pathname}\n${method}\n${sortedQuery(url)}\n${canonicalHeaders(headers)}\n`;
}

export function hmacSha1(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function responseAuthorization(
  accessKeyId: string,
  secret: string,
  path: string,
  headers: Record<string, string>,
): string {
  return `OTS ${accessKeyId}:${hmacSha1(secret, `${canonicalHeaders(headers)}\n${path}`)}`;
}

export function contentMd5(body: Uint8Array): string {
  return createHash('md5').update(body).digest('base64');
}
