// Serves the Tablestore LocalService on 127.0.0.1:0 with an in-test credential store, the way
// localcloud's server will (routing, faults rendered by the service's errorResponse, a call
// log), so the official SDK can be pointed at it by endpoint only.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Clock,
  CredentialResolution,
  CredentialStore,
  LocalRequest,
  LocalResponse,
  Principal,
} from '../../../localcloud/core/contracts';
import { createTablestoreService, type TablestoreService } from '../../../localcloud/tablestore';
import { type SdkClient, TableStore } from './sdk';

export const ALICE = {
  accountId: '1111111111111111',
  accessKeyId: 'LTAI5tAliceLocalKey01',
  secret: 'alice-local-secret-0001',
};
export const BOB = {
  accountId: '2222222222222222',
  accessKeyId: 'LTAI5tBobLocalKey0002',
  secret: 'bob-local-secret-00002',
};
export const INSTANCE = 'rdg-local';

export class TestClock implements Clock {
  offsetMs = 0;
  private frozenAt: number | undefined;
  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offsetMs;
  }
  /** Stops the clock at the current time: from now on only `advance` moves it. */
  freeze(): void {
    this.frozenAt = Date.now();
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

interface KeyEntry {
  secret: string;
  principal: Principal;
  inactive?: boolean;
}

interface TokenEntry extends KeyEntry {
  token: string;
  expiresAt: number;
}

/** accessKeyId -> secret and principal; STS.* keys also need their token, which expires. */
export class TestCredentials implements CredentialStore {
  readonly keys = new Map<string, KeyEntry>();
  readonly tokens = new Map<string, TokenEntry>();
  constructor(private readonly clock: Clock) {}

  addAccount(account: { accountId: string; accessKeyId: string; secret: string }): void {
    this.keys.set(account.accessKeyId, {
      secret: account.secret,
      principal: {
        accountId: account.accountId,
        type: 'Account',
        arn: `acs:ram::${account.accountId}:root`,
        accessKeyId: account.accessKeyId,
      },
    });
  }

  addStsToken(
    accountId: string,
    roleName: string,
    ttlMs: number,
  ): { accessKeyId: string; secret: string; token: string } {
    const accessKeyId = `STS.${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    const secret = randomUUID();
    const token = `token-${randomUUID()}`;
    this.tokens.set(accessKeyId, {
      secret,
      token,
      expiresAt: this.clock.now() + ttlMs,
      principal: {
        accountId,
        type: 'AssumedRoleUser',
        arn: `acs:ram::${accountId}:role/${roleName}`,
        accessKeyId,
        roleName,
        sessionName: 'test',
      },
    });
    return { accessKeyId, secret, token };
  }

  resolve(accessKeyId: string, securityToken: string | undefined): CredentialResolution {
    if (accessKeyId.startsWith('STS.')) {
      const entry = this.tokens.get(accessKeyId);
      if (!entry)
        return {
          ok: false,
          code: 'InvalidAccessKeyId.NotFound',
          message: 'Specified access key is not found.',
        };
      if (securityToken !== entry.token) {
        return {
          ok: false,
          code: 'InvalidSecurityToken.MismatchWithAccessKey',
          message: 'The security token does not match the access key.',
        };
      }
      if (this.clock.now() >= entry.expiresAt) {
        return {
          ok: false,
          code: 'InvalidSecurityToken.Expired',
          message: 'The security token you provided has expired.',
        };
      }
      return { ok: true, secret: entry.secret, principal: entry.principal };
    }
    const entry = this.keys.get(accessKeyId);
    if (!entry)
      return {
        ok: false,
        code: 'InvalidAccessKeyId.NotFound',
        message: 'Specified access key is not found.',
      };
    if (entry.inactive)
      return {
        ok: false,
        code: 'InvalidAccessKeyId.Inactive',
        message: 'Specified access key is disabled.',
      };
    return { ok: true, secret: entry.secret, principal: entry.principal };
  }
}

export interface RecordedCall {
  action: string;
  status: number;
  result: string;
  request: LocalRequest;
  response: LocalResponse;
}

export interface Fault {
  status: number;
  code: string;
  message: string;
}

export interface Harness {
  endpoint: string;
  port: number;
  service: TablestoreService;
  clock: TestClock;
  credentials: TestCredentials;
  calls: RecordedCall[];
  /** Faults answered (via the service's errorResponse) before the next requests reach it. */
  faults: Fault[];
  client(options?: {
    instance?: string;
    account?: typeof ALICE;
    sts?: { accessKeyId: string; secret: string; token: string };
  }): SdkClient;
  close(): Promise<void>;
}

export function requestId(): string {
  const hex = randomUUID().replaceAll('-', '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export async function startHarness(
  options: { dataDir?: string; service?: TablestoreService } = {},
): Promise<Harness> {
  const clock = new TestClock();
  const credentials = new TestCredentials(clock);
  credentials.addAccount(ALICE);
  credentials.addAccount(BOB);
  const service =
    options.service ??
    createTablestoreService({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), clock });
  service.createInstance(ALICE.accountId, INSTANCE);
  service.createInstance(BOB.accountId, INSTANCE);
  const calls: RecordedCall[] = [];
  const faults: Fault[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(', ');
      }
      const local: LocalRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`),
        headers,
        body: Buffer.concat(chunks),
        remoteAddress: req.socket.remoteAddress ?? '',
      };
      const send = (response: LocalResponse, result: string): void => {
        calls.push({
          action: service.action(local),
          status: response.status,
          result,
          request: local,
          response,
        });
        res.writeHead(response.status, response.headers);
        res.end(response.body);
      };
      if (!service.matches(local)) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no service for this request');
        return;
      }
      const fault = faults.shift();
      if (fault) {
        send(
          service.errorResponse(fault.status, fault.code, fault.message, requestId()),
          fault.code,
        );
        return;
      }
      service
        .handle(local, { credentials, clock, requestId })
        .then((outcome) => send(outcome.response, outcome.result))
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    service,
    clock,
    credentials,
    calls,
    faults,
    client(clientOptions = {}) {
      const account = clientOptions.account ?? ALICE;
      return new TableStore.Client({
        accessKeyId: clientOptions.sts?.accessKeyId ?? account.accessKeyId,
        secretAccessKey: clientOptions.sts?.secret ?? account.secret,
        ...(clientOptions.sts ? { stsToken: clientOptions.sts.token } : {}),
        endpoint,
        instancename: clientOptions.instance ?? INSTANCE,
        maxRetries: 0,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
    },
  };
}

/** The error code and message the service put in its Error protobuf (the SDK leaves raw bytes). */
export function otsError(error: unknown): {
  status: number | string;
  code: string;
  message: string;
} {
  const sdkError = error as { code?: number | string; message?: string };
  const text = sdkError.message ?? '';
  // Error{code=1, message=2}: after the code comes the message's tag byte 0x12 and its length.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: 0x12 is the protobuf tag of Error.message
  const match = /(OTS[A-Za-z]+)\x12[\s\S]{1,2}?([\s\S]*?) requestId:/.exec(text);
  const fallback = /(OTS[A-Za-z]+)/.exec(text);
  return {
    status: sdkError.code ?? 0,
    code: match?.[1] ?? fallback?.[1] ?? '',
    message: (match?.[2] ?? text).replace(/^[^ -~]+/, ''),
  };
}

/** Runs a call that must fail and returns the service's error. */
export async function expectOtsError(
  call: Promise<unknown>,
): Promise<{ status: number | string; code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return otsError(error);
  }
  throw new Error('expected the Tablestore call to fail, it succeeded');
}
