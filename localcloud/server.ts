// The one loopback HTTP server of localcloud: reads each request, answers the control plane under
// /__localcloud/, otherwise routes to the first service that claims the request, applies injected
// faults before the service sees it, and records every call.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CallLog } from './core/call-log';
import { isoSeconds } from './core/clock';
import type {
  FaultError,
  LocalRequest,
  LocalResponse,
  LocalService,
  Principal,
  ServiceContext,
} from './core/contracts';
import {
  CONTROL_PREFIX,
  handleControlRequest,
  isLoopback,
  type LocalCloudControl,
} from './core/control';
import type { FaultInjector, FaultRule } from './core/faults';

export const DEFAULT_FAULT_ERRORS: Record<'throttle' | 'error5xx', FaultError> = {
  throttle: {
    status: 400,
    code: 'Throttling.Api',
    message: 'Request was denied due to api flow control.',
  },
  error5xx: {
    status: 503,
    code: 'ServiceUnavailable',
    message: 'The request has failed due to a temporary failure of the server.',
  },
};
const INTERNAL_ERROR: FaultError = {
  status: 500,
  code: 'InternalError',
  message: 'The request processing has failed due to some unknown error, exception or failure.',
};

export interface LocalCloudServerOptions {
  services: LocalService[];
  context: ServiceContext;
  faults: FaultInjector;
  calls: CallLog;
  control: LocalCloudControl;
  /** Time for call-log timestamps (localcloud's clock). */
  now: () => number;
  /** Where unexpected service failures are reported. */
  onServiceError?: (error: unknown, service: string, action: string) => void;
}

function headerRecord(headers: http.IncomingHttpHeaders): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') record[name] = value;
    else if (Array.isArray(value)) record[name] = value.join(', ');
  }
  return record;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function plainJson(status: number, body: unknown): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

export class LocalCloudServer {
  private readonly server: http.Server;
  private readonly services: LocalService[];

  constructor(private readonly options: LocalCloudServerOptions) {
    this.services = [...options.services];
    this.server = http.createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        options.onServiceError?.(error, 'server', req.url ?? '');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ code: INTERNAL_ERROR.code, message: INTERNAL_ERROR.message }));
        } else {
          res.destroy();
        }
      });
    });
    // SDK clients keep connections alive; never let an idle socket hold the process.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Adds a service after start (e.g. FC, served by the function host). */
  addService(service: LocalService): void {
    this.services.push(service);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const service of this.services) await service.close?.();
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const body = await readBody(req);
    const headers = headerRecord(req.headers);
    const local: LocalRequest = {
      method: req.method ?? 'GET',
      url: requestUrl(req.url ?? '/', headers.host),
      headers,
      body,
      remoteAddress: req.socket.remoteAddress ?? '',
    };
    if (
      local.url.pathname === CONTROL_PREFIX ||
      local.url.pathname.startsWith(`${CONTROL_PREFIX}/`)
    ) {
      send(res, this.serviceControl(local) ?? handleControlRequest(this.options.control, local));
      return;
    }
    const service = this.services.find((candidate) => candidate.matches(local));
    if (!service) {
      send(
        res,
        plainJson(404, {
          Code: 'InvalidProduct.NotFound',
          Message: `localcloud has no service for ${local.method} ${local.url.pathname} (STS, ResourceManager and RAM are told apart by x-acs-version or Version).`,
        }),
      );
      return;
    }
    const action = service.action(local);
    const log = (status: number, result: string, injected: boolean, caller?: Principal) => {
      this.options.calls.record({
        time: isoSeconds(this.options.now()),
        service: service.name,
        action,
        ...(caller?.accountId ? { callerAccountId: caller.accountId } : {}),
        ...(caller ? { callerArn: callerArn(caller) } : {}),
        status,
        result,
        ...(injected ? { injected: true } : {}),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      });
    };

    const fault = this.options.faults.pick(service.name, action);
    if (fault) {
      const answered = await this.applyFault(fault, service, res, log);
      if (answered) return;
    }
    let outcome: { response: LocalResponse; result: string; caller?: Principal };
    try {
      outcome = await service.handle(local, this.options.context);
    } catch (error) {
      this.options.onServiceError?.(error, service.name, action);
      const requestId = this.options.context.requestId();
      outcome = {
        response: service.errorResponse(
          INTERNAL_ERROR.status,
          INTERNAL_ERROR.code,
          INTERNAL_ERROR.message,
          requestId,
        ),
        result: INTERNAL_ERROR.code,
      };
    }
    log(outcome.response.status, outcome.result, fault !== undefined, outcome.caller);
    send(res, outcome.response);
  }

  /** A service's own controls (/__localcloud/<service>/...), or undefined for the common ones. */
  private serviceControl(req: LocalRequest): LocalResponse | undefined {
    const segments = req.url.pathname
      .slice(CONTROL_PREFIX.length)
      .split('/')
      .filter((part) => part !== '')
      .map((part) => {
        try {
          return decodeURIComponent(part);
        } catch {
          return part;
        }
      });
    const service = this.services.find((candidate) => candidate.name === segments[0]);
    if (!service?.control) return undefined;
    if (!isLoopback(req.remoteAddress)) {
      return plainJson(403, {
        code: 'Forbidden',
        message: 'the control plane answers loopback clients only',
      });
    }
    return service.control(req, segments.slice(1));
  }

  /** Applies a fault; true when the fault answered (or dropped) the request itself. */
  private async applyFault(
    fault: FaultRule,
    service: LocalService,
    res: http.ServerResponse,
    log: (status: number, result: string, injected: boolean) => void,
  ): Promise<boolean> {
    if (fault.kind === 'latency') {
      await sleep(fault.latencyMs ?? 0);
      return false;
    }
    if (fault.kind === 'reset') {
      log(0, 'ConnectionReset', true);
      res.socket?.destroy();
      return true;
    }
    const defaults = DEFAULT_FAULT_ERRORS[fault.kind];
    let error = service.faultErrors?.[fault.kind] ?? defaults;
    if (fault.kind === 'error5xx' && fault.status === 500 && !service.faultErrors?.error5xx) {
      error = INTERNAL_ERROR;
    }
    const requestId = this.options.context.requestId();
    log(error.status, error.code, true);
    send(res, service.errorResponse(error.status, error.code, error.message, requestId));
    return true;
  }
}

/** The request URL; a Host the URL parser refuses (SLS's `<project>.127.0.0.1:<port>`) falls back
 *  to loopback: services that address by host read the Host header itself. */
function requestUrl(target: string, host: string | undefined): URL {
  try {
    return new URL(target, `http://${host ?? '127.0.0.1'}`);
  } catch {
    return new URL(target, 'http://127.0.0.1');
  }
}

function callerArn(principal: Principal): string {
  if (principal.type === 'AssumedRoleUser' && principal.sessionName) {
    return `${principal.arn}/${principal.sessionName}`;
  }
  return principal.arn;
}

function send(res: http.ServerResponse, response: LocalResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
  res.end(body);
}
