// FC 3.0 InvokeFunction through the official SDK (@alicloud/fc20230330) against localcloud:
// first with the local system running test/fixtures/host-app (sync results and errors, async
// invocations that run in the host, authentication, authorization, faults, the call log), then
// with the FC service over a scripted dispatcher (the async queue's bounds, failures, drain and
// close).

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import * as fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NonceRegistry } from '../../../localcloud/core/pop';
import {
  createFcService,
  type FcService,
  type LocalCloud,
  type OrganizationFixture,
  startLocalCloud,
} from '../../../localcloud/index';
import { type LocalSystem, startLocalSystem } from '../../../localcloud/system';
import { LogCapture } from '../../support/function-host';
import { FUNCTION_ROLE, HOST_APP_S_YAML } from '../../support/host-cloud';
import { assumeRole, failure, type Keys, management, members } from './support';

function sdkClass<T>(imported: T): T {
  return (imported as { default?: T }).default ?? imported;
}
const FcClient = sdkClass(fc.default);
type FcClientInstance = InstanceType<typeof FcClient>;
type RuntimeOptions = Parameters<FcClientInstance['invokeFunctionWithOptions']>[3];

const organization: OrganizationFixture = {
  seed: 'fc-integration',
  region: 'cn-hangzhou',
  management: {
    name: 'fc-management',
    roles: [{ name: FUNCTION_ROLE, trustedServices: ['fc.aliyuncs.com'] }],
  },
  members: [{ name: 'fc-member' }],
  servicePrincipals: ['fc.aliyuncs.com'],
};

function fcClient(cloud: LocalCloud, keys: Keys): FcClientInstance {
  return new FcClient(
    new $OpenApiUtil.Config({
      accessKeyId: keys.accessKeyId,
      accessKeySecret: keys.accessKeySecret,
      ...(keys.securityToken ? { securityToken: keys.securityToken } : {}),
      endpoint: cloud.env.endpoints.fc,
      protocol: 'http',
      regionId: cloud.env.region,
    }),
  );
}

interface Invoked {
  statusCode: number | undefined;
  headers: Record<string, string>;
  body: Buffer;
}

async function invoke(
  client: FcClientInstance,
  functionName: string,
  event: string | Buffer,
  options: { type?: 'Sync' | 'Async'; qualifier?: string } = {},
): Promise<Invoked> {
  const response = await client.invokeFunctionWithOptions(
    functionName,
    new fc.InvokeFunctionRequest({
      body: Readable.from(Buffer.from(event)),
      ...(options.qualifier ? { qualifier: options.qualifier } : {}),
    }),
    new fc.InvokeFunctionHeaders({ xFcInvocationType: options.type ?? 'Sync' }),
    {} as RuntimeOptions,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? Readable.from([])) chunks.push(Buffer.from(chunk));
  return {
    statusCode: response.statusCode,
    headers: response.headers ?? {},
    body: Buffer.concat(chunks),
  };
}

const FC_REQUEST_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

describe('FC InvokeFunction served by the local function host', () => {
  let system: LocalSystem;
  let admin: Keys;
  let client: FcClientInstance;
  const output = new LogCapture();

  beforeAll(async () => {
    system = await startLocalSystem({
      organization,
      sYamlPath: HOST_APP_S_YAML,
      envFile: false,
      forwardDirectoryEvents: false,
      host: { schedule: false, log: output.log },
    });
    admin = management(system.cloud);
    client = fcClient(system.cloud, admin);
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
  });

  afterEach(() => {
    system.cloud.control.clearFaults();
  });

  it('runs a Sync invocation and answers what the handler returned', async () => {
    const event = { specversion: '1.0', id: randomUUID(), source: 'acs.test' };
    const result = await invoke(client, 'host-events', JSON.stringify(event));
    expect(result.statusCode).toBe(200);
    expect(result.headers['x-fc-request-id']).toMatch(FC_REQUEST_ID);
    expect(result.headers['x-fc-error-type']).toBeUndefined();
    const body = JSON.parse(result.body.toString('utf8')) as {
      received: unknown;
      batch: boolean;
      context: { function: { name: string }; credentials: { stsKey: boolean } };
    };
    expect(body.received).toEqual(event);
    expect(body.batch).toBe(false);
    expect(body.context.function.name).toBe('host-events');
    expect(body.context.credentials.stsKey).toBe(true);
  });

  it('answers a failed Sync invocation with 200, x-fc-error-type and FC error body', async () => {
    const result = await invoke(client, 'host-events', 'this is not JSON');
    expect(result.statusCode).toBe(200);
    expect(result.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    const body = JSON.parse(result.body.toString('utf8')) as Record<string, unknown>;
    expect(body.errorType).toBe('SyntaxError');
    expect(String(body.errorMessage)).toMatch(/JSON/);
    const logged = system.cloud.control.calls({ service: 'fc' }).at(-1);
    expect(logged).toMatchObject({
      action: 'InvokeFunction',
      status: 200,
      result: 'UnhandledInvocationError',
    });
  });

  it('accepts an Async invocation with 202 and runs it in the host', async () => {
    const marker = randomUUID();
    const result = await invoke(client, 'host-timer', JSON.stringify({ marker }), {
      type: 'Async',
    });
    expect(result.statusCode).toBe(202);
    expect(result.headers['x-fc-request-id']).toMatch(FC_REQUEST_ID);
    expect(result.body.length).toBe(0);
    await system.asyncInvocations.drain();
    expect(system.asyncInvocations.pending()).toBe(0);
    expect(output.lines).toContain(`[host-timer] TIMER ${JSON.stringify({ marker })}`);
  });

  it('runs every one of many Async invocations', async () => {
    const markers = Array.from({ length: 12 }, () => randomUUID());
    const answers = await Promise.all(
      markers.map((marker) =>
        invoke(client, 'host-timer', JSON.stringify({ marker }), { type: 'Async' }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(markers.map(() => 202));
    await system.asyncInvocations.drain();
    for (const marker of markers) {
      expect(output.lines).toContain(`[host-timer] TIMER ${JSON.stringify({ marker })}`);
    }
  });

  it('logs a failed Async invocation as one line', async () => {
    const result = await invoke(client, 'host-events', 'not JSON either', { type: 'Async' });
    expect(result.statusCode).toBe(202);
    await system.asyncInvocations.drain();
    const requestId = result.headers['x-fc-request-id'] ?? '';
    const line = output.lines.find((l) => l.includes(`async invocation ${requestId}`));
    expect(line).toMatch(
      new RegExp(`^\\[fc\\] async invocation ${requestId} of host-events failed: SyntaxError: `),
    );
  });

  it('accepts calls signed with the function role (as functions call it) and qualifier LATEST', async () => {
    const principal = system.env.servicePrincipals['fc.aliyuncs.com'];
    if (!principal) throw new Error('no fc.aliyuncs.com keys in env');
    const roleArn = `acs:ram::${system.env.managementAccountId}:role/${FUNCTION_ROLE}`;
    const roleKeys = await assumeRole(system.cloud, principal, roleArn, { sessionName: 'fanout' });
    const result = await invoke(fcClient(system.cloud, roleKeys), 'host-events', '{"a":1}', {
      qualifier: 'LATEST',
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body.toString('utf8'))).toMatchObject({ received: { a: 1 } });
    const logged = system.cloud.control.calls({ service: 'fc' }).at(-1);
    expect(logged?.callerArn).toBe(`${roleArn}/fanout`);
  });

  it('refuses a session policy that does not allow fc:InvokeFunction on the function', async () => {
    const principal = system.env.servicePrincipals['fc.aliyuncs.com'];
    if (!principal) throw new Error('no fc.aliyuncs.com keys in env');
    const roleArn = `acs:ram::${system.env.managementAccountId}:role/${FUNCTION_ROLE}`;
    const policy = JSON.stringify({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'fc:InvokeFunction',
          Resource: 'acs:fc:*:*:functions/host-timer',
        },
      ],
    });
    const narrowed = fcClient(
      system.cloud,
      await assumeRole(system.cloud, principal, roleArn, { policy }),
    );
    expect((await invoke(narrowed, 'host-timer', '{}')).statusCode).toBe(200);
    const refused = await failure(invoke(narrowed, 'host-events', '{}'));
    expect(refused).toMatchObject({ code: 'AccessDenied', statusCode: 403 });
    expect(refused.message).toMatch(/session policy .* does not allow fc:InvokeFunction/);
  });

  it('answers 404 FunctionNotFound for a function that is not deployed', async () => {
    const refused = await failure(invoke(client, 'no-such-function', '{}', { type: 'Async' }));
    expect(refused).toMatchObject({ code: 'FunctionNotFound', statusCode: 404 });
    expect(refused.message).toMatch(/function 'no-such-function' does not exist/);
    expect(refused.message).toMatch(/request id: 1-[0-9a-f]{8}-/);
  });

  it('answers 404 for versions and aliases (only LATEST is deployed)', async () => {
    expect(await failure(invoke(client, 'host-events', '{}', { qualifier: 'prod' }))).toMatchObject(
      { code: 'AliasNotFound', statusCode: 404 },
    );
    expect(await failure(invoke(client, 'host-events', '{}', { qualifier: '3' }))).toMatchObject({
      code: 'VersionNotFound',
      statusCode: 404,
    });
  });

  it('refuses an Async payload over 128 KB with EntityTooLarge', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(128 * 1024) });
    const refused = await failure(invoke(client, 'host-timer', big, { type: 'Async' }));
    expect(refused).toMatchObject({ code: 'EntityTooLarge', statusCode: 400 });
    expect(system.asyncInvocations.pending()).toBe(0);
  });

  it('refuses a wrong signature and an unknown AccessKey', async () => {
    const wrongSecret = fcClient(system.cloud, { ...admin, accessKeySecret: 'not-the-secret' });
    expect(await failure(invoke(wrongSecret, 'host-events', '{}'))).toMatchObject({
      code: 'SignatureNotMatch',
      statusCode: 403,
    });
    const unknownKey = fcClient(system.cloud, {
      accessKeyId: 'LTAI00000000000000000000',
      accessKeySecret: 'whatever',
    });
    expect(await failure(invoke(unknownKey, 'host-events', '{}'))).toMatchObject({
      code: 'InvalidAccessKeyID',
      statusCode: 403,
    });
    const unsigned = await fetch(
      `${system.cloud.url}/2023-03-30/functions/host-events/invocations`,
      { method: 'POST', body: '{}' },
    );
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ Code: 'IncompleteSignature' });
  });

  it("refuses another account's credentials: the functions belong to the management account", async () => {
    const member = members(system.cloud)[0];
    if (!member) throw new Error('no member');
    const refused = await failure(invoke(fcClient(system.cloud, member), 'host-events', '{}'));
    expect(refused).toMatchObject({ code: 'AccessDenied', statusCode: 403 });
  });

  it('lets injected throttling reach the SDK as an error, and records it', async () => {
    system.cloud.control.addFault({
      service: 'fc',
      action: 'InvokeFunction',
      kind: 'throttle',
      rate: 1,
    });
    const refused = await failure(invoke(client, 'host-timer', '{}', { type: 'Async' }));
    expect(refused).toMatchObject({ code: 'ResourceExhausted', statusCode: 429 });
    expect(system.cloud.control.calls({ service: 'fc' }).at(-1)).toMatchObject({
      action: 'InvokeFunction',
      status: 429,
      result: 'ResourceExhausted',
      injected: true,
    });
    expect(system.asyncInvocations.pending()).toBe(0);
  });

  it('records each call with its caller in the call log', () => {
    const calls = system.cloud.control.calls({ service: 'fc', action: 'InvokeFunction' });
    expect(calls.length).toBeGreaterThan(5);
    expect(calls.some((c) => c.status === 202 && c.result === 'ok')).toBe(true);
    expect(
      calls.some((c) => c.callerAccountId === system.env.managementAccountId && c.status === 200),
    ).toBe(true);
  });
});

describe('FC async queue (scripted dispatcher)', () => {
  let cloud: LocalCloud;
  let service: FcService;
  let client: FcClientInstance;
  const lines: string[] = [];
  const done: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let gate: Promise<void> | undefined;

  beforeAll(async () => {
    cloud = await startLocalCloud({ organization });
    service = createFcService({
      dispatcher: {
        has: (name) => name === 'worker' || name === 'echo',
        async invoke(name, payload) {
          const text = payload.toString('utf8');
          if (name === 'echo') {
            if (text === 'undefined') return undefined;
            if (text === 'bytes') return new Uint8Array([1, 2, 3]);
            if (text === 'string') return 'plain text';
            return { echoed: text };
          }
          running++;
          maxRunning = Math.max(maxRunning, running);
          try {
            await (gate ?? new Promise((resolve) => setTimeout(resolve, 15)));
            if (text.startsWith('fail')) {
              throw Object.assign(new Error('boom'), {
                payload: { errorType: 'Boom', errorMessage: `it failed\nsecond line` },
              });
            }
            if (text.startsWith('crash')) throw new Error('the host could not run it');
            done.push(text);
            return text;
          } finally {
            running--;
          }
        },
      },
      accountId: cloud.env.managementAccountId,
      region: cloud.env.region,
      nonces: new NonceRegistry(),
      wallNow: () => cloud.clock.wallNow(),
      asyncConcurrencyPerFunction: 2,
      log: (line) => lines.push(line),
    });
    cloud.addService(service);
    client = fcClient(cloud, management(cloud));
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('encodes what the handler returned as FC does', async () => {
    expect((await invoke(client, 'echo', 'x')).body.toString()).toBe('{"echoed":"x"}');
    expect((await invoke(client, 'echo', 'string')).body.toString()).toBe('plain text');
    expect([...(await invoke(client, 'echo', 'bytes')).body]).toEqual([1, 2, 3]);
    expect((await invoke(client, 'echo', 'undefined')).body.length).toBe(0);
  });

  it('runs queued invocations in order, at most N of a function at once, none lost on error', async () => {
    const payloads = ['a1', 'fail-1', 'a2', 'crash-1', 'a3', 'a4', 'a5', 'a6'];
    for (const payload of payloads) {
      expect((await invoke(client, 'worker', payload, { type: 'Async' })).statusCode).toBe(202);
    }
    await service.asyncInvocations.drain();
    expect(done).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(maxRunning).toBe(2);
    const failures = lines.filter((l) => l.includes(' of worker failed: '));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(
      /^\[fc\] async invocation 1-\S+ of worker failed: Boom: it failed$/,
    );
    expect(failures[1]).toMatch(/failed: the host could not run it$/);
  });

  it('close() cancels waiting invocations, refuses new ones and waits for running ones', async () => {
    let release = () => {};
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    done.length = 0;
    for (const payload of ['b1', 'b2', 'b3', 'b4']) {
      await invoke(client, 'worker', payload, { type: 'Async' });
    }
    expect(service.asyncInvocations.pending()).toBe(4);
    let closed = false;
    const closing = service.asyncInvocations.close().then(() => {
      closed = true;
    });
    expect(lines.filter((l) => / of worker cancelled: /.test(l))).toHaveLength(2);
    expect(await failure(invoke(client, 'worker', 'b5', { type: 'Async' }))).toMatchObject({
      code: 'ServiceUnavailable',
      statusCode: 503,
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(done).toEqual(['b1', 'b2']);
    expect(service.asyncInvocations.pending()).toBe(0);
    await service.asyncInvocations.drain();
  });
});
