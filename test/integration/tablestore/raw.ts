// Raw Tablestore requests for cases the SDK cannot produce (a wrong MD5, a corrupted checksum,
// another HTTP method): the body is encoded and signed with the SDK's own encoder and signer.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ALICE, INSTANCE } from './harness';
import { TableStore } from './sdk';

const require = createRequire(import.meta.url);
const protos = require('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: {
    proto: Record<
      string,
      {
        encode(message: object): { finish(): Uint8Array };
        decode(bytes: Uint8Array): Record<string, unknown>;
      }
    >;
  };
};

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  error?: { code: string; message: string };
}

/** Encodes an SDK operation's request body exactly as the SDK would (e.g. 'putRow'). */
export function sdkRequestBody(operation: string, params: Record<string, unknown>): Buffer {
  const message = TableStore.encoder.encode(operation, params);
  const type = (message as { constructor: { encode(message: object): { finish(): Uint8Array } } })
    .constructor;
  return Buffer.from(type.encode(message).finish());
}

export function decodeRequest(messageName: string, body: Buffer): Record<string, unknown> {
  return protos.main.proto[messageName]?.decode(body) ?? {};
}

export function encodeRequest(messageName: string, message: Record<string, unknown>): Buffer {
  const type = protos.main.proto[messageName];
  if (!type) throw new Error(`no message ${messageName}`);
  return Buffer.from(type.encode(message).finish());
}

export interface RawOptions {
  method?: string;
  /** Applied after signing (to tamper with a signed header). */
  override?: Record<string, string>;
  date?: Date;
  account?: { accessKeyId: string; secret: string };
  md5?: string;
}

export async function sendRaw(
  endpoint: string,
  operation: string,
  body: Buffer,
  options: RawOptions = {},
): Promise<RawResponse> {
  const path = `/${operation}`;
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = {
    'x-ots-apiversion': '2015-12-31',
    'x-ots-instancename': INSTANCE,
    'x-ots-contentmd5': options.md5 ?? createHash('md5').update(body).digest('base64'),
  };
  const account = options.account ?? ALICE;
  new TableStore.Signer({ path, method, headers }).addAuthorization(
    { accessKeyId: account.accessKeyId, secretAccessKey: account.secret },
    options.date ?? new Date(),
  );
  Object.assign(headers, options.override ?? {});
  const response = await fetch(`${endpoint}${path}`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  const responseBody = Buffer.from(await response.arrayBuffer());
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    responseHeaders[name] = value;
  });
  const result: RawResponse = {
    status: response.status,
    headers: responseHeaders,
    body: responseBody,
  };
  if (response.status >= 300 && responseBody.length > 0) {
    const error = decodeRequest('Error', responseBody);
    result.error = { code: String(error.code), message: String(error.message) };
  }
  return result;
}
