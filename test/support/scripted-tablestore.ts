// TEST DOUBLE — NOT the real check. A loopback HTTP server that answers Tablestore requests from
// a script, so the adapter's retry, read-back and credential handling can be driven through the
// real SDK with exact fault sequences (503 then 200, 500 then a condition failure...).
// Responses are encoded with the SDK's compiled Tablestore proto and its PlainBuffer builder,
// i.e. the service's own message definitions, not the adapter's code.

import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore') as {
  PlainBufferBuilder: { serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer };
  Long: { fromString(s: string): unknown };
};
type Message = { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };
const proto = require('tablestore/lib/protocol/tablestore_compiled_proto.js').main.proto as Record<
  string,
  Message
>;

export interface ScriptedRequest {
  operation: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The request decoded with the SDK's proto (e.g. PutRowRequest). */
  decoded: unknown;
}

export type ScriptedResponse =
  | { status: number; body: Buffer; headers?: Record<string, string> }
  | 'hang-up';

export type Responder = (req: ScriptedRequest) => ScriptedResponse;

function message(name: string, value: unknown): Buffer {
  const type = proto[name];
  if (!type) throw new Error(`no proto message ${name}`);
  return Buffer.from(type.encode(value).finish());
}

const consumed = { capacityUnit: { read: 0, write: 1 } };

export const reply = {
  error(status: number, code: string, msg = ''): ScriptedResponse {
    return {
      status,
      body: message('Error', { code, message: msg }),
      headers: { 'x-ots-requestid': `req-${code}` },
    };
  },
  ok(operation: 'PutRow' | 'UpdateRow' | 'DeleteRow'): ScriptedResponse {
    return { status: 200, body: message(`${operation}Response`, { consumed }) };
  },
  /** A GetRow answer; columns use SDK value shapes (int64 via `int64('5')`). */
  row(pk: Record<string, unknown>, columns: Record<string, unknown> | undefined): ScriptedResponse {
    const row = columns
      ? TableStore.PlainBufferBuilder.serializeForPutRow(
          Object.entries(pk).map(([k, v]) => ({ [k]: v })),
          Object.entries(columns).map(([k, v]) => ({ [k]: v })),
        )
      : Buffer.alloc(0);
    return { status: 200, body: message('GetRowResponse', { consumed, row }) };
  },
  batchWrite(
    tables: Array<{
      tableName: string;
      rows: Array<{ ok: true } | { ok: false; code: string; message?: string }>;
    }>,
  ): ScriptedResponse {
    return {
      status: 200,
      body: message('BatchWriteRowResponse', {
        tables: tables.map((t) => ({
          tableName: t.tableName,
          rows: t.rows.map((r) =>
            r.ok
              ? { isOk: true, consumed }
              : { isOk: false, error: { code: r.code, message: r.message ?? '' } },
          ),
        })),
      }),
    };
  },
};

export function int64(decimal: string): unknown {
  return TableStore.Long.fromString(decimal);
}

export interface ScriptedTablestore {
  endpoint: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

export async function startScriptedTablestore(respond: Responder): Promise<ScriptedTablestore> {
  const requests: ScriptedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = (req.url ?? '/').slice(1);
      const body = Buffer.concat(chunks);
      const type = proto[`${operation}Request`];
      const scripted: ScriptedRequest = {
        operation,
        headers: req.headers,
        body,
        decoded: type ? type.decode(body) : undefined,
      };
      requests.push(scripted);
      const answer = respond(scripted);
      if (answer === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
