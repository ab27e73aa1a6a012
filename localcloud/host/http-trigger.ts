// One loopback HTTP listener per HTTP-triggered function (FC gives each its own domain, so the
// path reaches the handler unchanged). Requests become FC 3.0 HTTP events; the handler's return
// value becomes the response. A failed invocation answers 502 with FC's error payload and
// `x-fc-error-type`, so callers see a function failure as they would in the cloud.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionRuntime } from './function-runtime';
import { fromHandlerResult, toHttpTriggerEvent } from './http-event';
import { FunctionInvocationError } from './instance';
import type { HttpTriggerSpec } from './s-yaml';

/** FC's limit for a synchronous invocation's payload. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface HttpTriggerServer {
  url: string;
  close(): Promise<void>;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function startHttpTrigger(options: {
  runtime: FunctionRuntime;
  trigger: HttpTriggerSpec;
  accountId: string;
  port: number;
  log: (line: string) => void;
}): Promise<HttpTriggerServer> {
  const { runtime, trigger, accountId, log } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const fcHeaders = { 'x-fc-request-id': requestId };
    const method = (req.method ?? 'GET').toUpperCase();
    if (!trigger.methods.includes(method)) {
      sendJson(
        res,
        405,
        {
          ErrorCode: 'MethodNotAllowed',
          ErrorMessage: `method ${method} is not allowed by HTTP trigger ${trigger.name} (allowed: ${trigger.methods.join(', ')})`,
        },
        fcHeaders,
      );
      return;
    }
    const body = await readBody(req);
    if (!body) {
      sendJson(
        res,
        413,
        { ErrorCode: 'PayloadTooLarge', ErrorMessage: 'request body exceeds 32 MB' },
        fcHeaders,
      );
      return;
    }
    const host = req.headers.host ?? '127.0.0.1';
    const event = toHttpTriggerEvent(
      {
        method,
        target: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      },
      {
        requestId,
        accountId,
        domainName: host,
        domainPrefix: runtime.name,
        now: new Date(),
      },
    );
    try {
      const result = await runtime.invoke(Buffer.from(JSON.stringify(event)), requestId);
      const response = fromHandlerResult(result.value);
      const headers: Array<[string, string]> = [
        ...response.headers.filter(([name]) => name.toLowerCase() !== 'content-length'),
        ['x-fc-request-id', requestId],
        ['content-length', String(response.body.length)],
      ];
      res.writeHead(response.statusCode, headers.flat());
      res.end(method === 'HEAD' ? undefined : response.body);
    } catch (error) {
      if (error instanceof FunctionInvocationError) {
        const errorType =
          error.kind === 'unhandled' || error.kind === 'timeout' || error.kind === 'crash'
            ? 'UnhandledInvocationError'
            : 'HandledInvocationError';
        sendJson(res, 502, error.payload, { ...fcHeaders, 'x-fc-error-type': errorType });
        return;
      }
      log(`HTTP trigger ${trigger.name}: ${(error as Error).stack ?? String(error)}`);
      sendJson(
        res,
        502,
        { errorMessage: (error as Error).message, errorType: 'InvalidResponse', stackTrace: [] },
        { ...fcHeaders, 'x-fc-error-type': 'UnhandledInvocationError' },
      );
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`HTTP trigger ${trigger.name}: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
