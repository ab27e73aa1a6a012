// The two request signatures SLS accepts, written from the service's signature documentation
// (independent of the SDKs' signers):
//
// v1  Authorization: LOG <AccessKeyId>:<base64 HMAC(secret, StringToSign)>, HMAC-SHA1 unless
//     x-log-signaturemethod is hmac-sha256 (the Node SDK sends hmac-sha256).
//     StringToSign = VERB\nCONTENT-MD5\nCONTENT-TYPE\nDATE\nCanonicalizedLOGHeaders
//                    CanonicalizedResource
//     CanonicalizedLOGHeaders: every x-log-* and x-acs-* header, lower-case name, sorted,
//     `name:value\n`. CanonicalizedResource: the path, then `?` and the query parameters sorted
//     by name as `name=value` (decoded values) joined by `&`.
// v4  Authorization: SLS4-HMAC-SHA256 Credential=<AK>/<yyyymmdd>/<region>/sls/aliyun_v4_request,
//     Signature=<hex>; x-log-date (yyyymmddThhmmssZ) and x-log-content-sha256 headers; signed
//     headers are host, content-type and every x-log-*/x-acs-* header, sorted.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** Decoded path, e.g. /logstores/app/shards/0 */
  path: string;
  /** Decoded query parameters. */
  query: Array<[string, string]>;
  /** Lower-cased names. */
  headers: Record<string, string>;
}

function byName(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

export function canonicalizedResource(path: string, query: Array<[string, string]>): string {
  if (query.length === 0) return path;
  return `${path}?${[...query]
    .sort(byName)
    .map(([name, value]) => `${name}=${value}`)
    .join('&')}`;
}

export function v1StringToSign(req: SignedRequest): string {
  const logHeaders = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-log-') || name.startsWith('x-acs-'))
    .sort()
    .map((name) => `${name}:${req.headers[name]}\n`)
    .join('');
  return [
    req.method.toUpperCase(),
    req.headers['content-md5'] ?? '',
    req.headers['content-type'] ?? '',
    req.headers.date ?? '',
    `${logHeaders}${canonicalizedResource(req.path, req.query)}`,
  ].join('\n');
}

export function v1Signature(secret: string, req: SignedRequest): string {
  const algorithm = req.headers['x-log-signaturemethod'] === 'hmac-sha256' ? 'sha256' : 'sha1';
  return createHmac(algorithm, secret).update(v1StringToSign(req), 'utf8').digest('base64');
}

/** Content-MD5 as SLS carries it: upper-case hex. */
export function contentMd5Hex(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

export const V4_ALGORITHM = 'SLS4-HMAC-SHA256';
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export interface V4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  signature: string;
}

export function parseV4Authorization(header: string): V4Authorization | undefined {
  const match =
    /^SLS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/sls\/aliyun_v4_request\s*,\s*Signature=([0-9a-f]{64})$/.exec(
      header.trim(),
    );
  if (!match) return undefined;
  const [, accessKeyId = '', date = '', region = '', signature = ''] = match;
  return { accessKeyId, date, region, signature };
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function v4Signature(
  secret: string,
  req: SignedRequest,
  scope: { date: string; region: string },
): string {
  const signed = Object.keys(req.headers)
    .filter(
      (name) =>
        name.startsWith('x-log-') ||
        name.startsWith('x-acs-') ||
        name === 'host' ||
        name === 'content-type',
    )
    .sort();
  const query = [...req.query]
    .sort(byName)
    .map(([name, value]) => (value === '' ? name : `${name}=${rfc3986(value)}`))
    .join('&');
  const canonical = [
    req.method.toUpperCase(),
    req.path === '' ? '/' : req.path,
    query,
    signed.map((name) => `${name}:${(req.headers[name] ?? '').trim()}\n`).join(''),
    signed.join(';'),
    req.headers['x-log-content-sha256'] ?? EMPTY_SHA256,
  ].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/sls/aliyun_v4_request`;
  const stringToSign = [
    V4_ALGORITHM,
    req.headers['x-log-date'] ?? '',
    credentialScope,
    createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  const hmac = (key: Buffer | string, data: string) =>
    createHmac('sha256', key).update(data, 'utf8').digest();
  let key = hmac(`aliyun_v4${secret}`, scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, 'sls');
  key = hmac(key, 'aliyun_v4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}
