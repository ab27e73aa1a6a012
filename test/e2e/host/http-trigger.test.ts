// HTTP triggers end to end: a request to the function's loopback port reaches the handler as
// an FC 3.0 HTTP event, and the handler's answer comes back as the HTTP response.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionHost, startFunctionHost } from '../../../localcloud/host/index';
import type { LocalCloud } from '../../../localcloud/index';
import { LogCapture } from '../../support/function-host';
import { FUNCTION_ROLE, HOST_APP_S_YAML, startHostTestCloud } from '../../support/host-cloud';

interface Echo {
  event: {
    version: string;
    rawPath: string;
    headers: Record<string, string>;
    queryParameters: Record<string, string>;
    body: string;
    isBase64Encoded: boolean;
    requestContext: {
      accountId: string;
      requestId: string;
      time: string;
      timeEpoch: string;
      http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    };
  };
  eventIsBuffer: boolean;
  context: {
    requestId: string;
    function: { name: string; handler: string; memory: number; timeout: number };
    region: string;
    accountId: string;
    credentials: Record<string, boolean>;
    hasLogger: boolean;
  };
  env: Record<string, string | undefined>;
  credentialEnv: Record<string, boolean>;
  leakedHostVariable: string | null;
  instance: { pid: number; invocations: number };
}

describe('HTTP trigger', () => {
  let cloud: LocalCloud;
  let host: FunctionHost;
  const output = new LogCapture();

  beforeAll(async () => {
    process.env.HOST_APP_SENTINEL = 'must not reach functions';
    cloud = await startHostTestCloud();
    host = await startFunctionHost({
      sYamlPath: HOST_APP_S_YAML,
      cloud: cloud.env,
      schedule: false,
      log: output.log,
      now: () => cloud.clock.now(),
    });
  });

  afterAll(async () => {
    delete process.env.HOST_APP_SENTINEL;
    await host?.stop();
    await cloud?.stop();
  });

  const url = (path: string) => `${host.httpUrls['host-http']}${path}`;

  it('serves each HTTP-triggered function on its own loopback port', () => {
    expect(Object.keys(host.httpUrls)).toEqual(['host-http']);
    expect(host.apiUrl).toBe(host.httpUrls['host-http']);
    expect(host.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('hands the handler an FC 3.0 HTTP event as a Buffer', async () => {
    const response = await fetch(url('/things/a%20b?x=1&x=2&y=z'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': 'yes', 'user-agent': 'e2e' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-fc-request-id');
    const echo = (await response.json()) as Echo;
    expect(echo.eventIsBuffer).toBe(true);
    expect(echo.event).toMatchObject({
      version: 'v1',
      rawPath: '/things/a%20b',
      queryParameters: { x: '1,2', y: 'z' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: cloud.env.managementAccountId,
        requestId,
        http: {
          method: 'POST',
          path: '/things/a b',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'e2e',
        },
      },
    });
    expect(echo.event.headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Custom': 'yes',
    });
    expect(echo.event.requestContext.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(echo.event.requestContext.timeEpoch)).toBeGreaterThan(0);
  });

  it('base64-encodes a binary request body', async () => {
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    const response = await fetch(url('/upload'), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const echo = (await response.json()) as Echo;
    expect(echo.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(echo.event.body, 'base64')).toEqual(bytes);
  });

  it('maps status, headers and a base64 body back to the response', async () => {
    const created = await fetch(url('/created'));
    expect(created.status).toBe(201);
    expect(created.headers.get('x-fixture')).toBe('yes');
    expect(created.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await created.text()).toBe('made it');

    const binary = await fetch(url('/binary'));
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');
    expect([...Buffer.from(await binary.arrayBuffer())]).toEqual([0, 1, 2, 254, 255]);
  });

  it('gives the context FC gives: request id, function, region, account, logger', async () => {
    const response = await fetch(url('/'));
    const echo = (await response.json()) as Echo;
    expect(echo.context).toMatchObject({
      requestId: response.headers.get('x-fc-request-id'),
      function: { name: 'host-http', handler: 'index.handler', memory: 256, timeout: 2 },
      region: cloud.env.region,
      accountId: cloud.env.managementAccountId,
      hasLogger: true,
    });
  });

  it('sets FC and local-cloud environment variables over s.yaml, and nothing of the host', async () => {
    const echo = (await (await fetch(url('/'))).json()) as Echo;
    expect(echo.env).toMatchObject({
      GREETING: 'hello from s.yaml',
      LOG_LEVEL: 'info',
      CLOUD_PROTOCOL: 'http',
      // s.yaml says sts.example-cloud.invalid; locally every endpoint is the local cloud.
      STS_ENDPOINT: cloud.env.endpoints.sts,
      RESOURCEMANAGER_ENDPOINT: cloud.env.endpoints.resourcemanager,
      RAM_ENDPOINT: cloud.env.endpoints.ram,
      FUNCTION_COMPUTE_ENDPOINT: cloud.env.endpoints.fc,
      TABLESTORE_ENDPOINT: `http://${cloud.env.endpoints.tablestore}`,
      TABLESTORE_INSTANCE: 'rdgov',
      SLS_ENDPOINT: `{region}.log.aliyuncs.com@${cloud.env.endpoints.sls}`,
      SLS_OWN_REGION_ENDPOINT: `{region}-intranet.log.aliyuncs.com@${cloud.env.endpoints.sls}`,
      AUTH_ISSUER: host.auth.issuer,
      AUTH_AUDIENCE: 'rd-governance',
      AUTH_ROLES_CLAIM: 'roles',
      FC_REGION: cloud.env.region,
      FC_ACCOUNT_ID: cloud.env.managementAccountId,
      FC_FUNCTION_NAME: 'host-http',
      FC_FUNCTION_HANDLER: 'index.handler',
      FC_FUNCTION_MEMORY_SIZE: '256',
      TZ: 'UTC',
    });
    expect(JSON.parse(echo.env.AUTH_JWKS ?? '{}')).toEqual(host.auth.jwks);
    expect(echo.env.AUTH_JWKS_URL).toBeUndefined();
    expect(echo.env.FC_INSTANCE_ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.credentialEnv).toEqual({
      accessKeyId: true,
      accessKeySecret: true,
      securityToken: true,
    });
    expect(echo.leakedHostVariable).toBeNull();
  });

  it("runs as the function's role, with credentials from the local cloud's STS", async () => {
    const echo = (await (await fetch(url('/'))).json()) as Echo;
    expect(echo.context.credentials).toEqual({
      hasAccessKeyId: true,
      stsKey: true,
      hasSecret: true,
      hasSecurityToken: true,
      sameAsEnvironment: true,
    });
    const caller = (await (await fetch(url('/caller'))).json()) as { arn: string };
    expect(caller.arn).toBe(
      `acs:ram::${cloud.env.managementAccountId}:assumed-role/${FUNCTION_ROLE}/fc-host-http`,
    );
  });

  it('assumes the role once and reuses the credentials until they near expiry', async () => {
    const assumeRoles = () =>
      cloud.control.calls({ service: 'sts', action: 'AssumeRole' }).filter((c) => c.status === 200);
    const before = assumeRoles().length;
    await fetch(url('/'));
    await fetch(url('/'));
    expect(assumeRoles().length).toBe(before);

    // Past the refresh margin on the local cloud's clock, the host asks STS again.
    cloud.control.advanceClock(3600 - 60);
    const caller = (await (await fetch(url('/caller'))).json()) as { arn: string };
    expect(caller.arn).toMatch(/assumed-role\/host-app-function\/fc-host-http$/);
    expect(assumeRoles().length).toBe(before + 1);
  });

  it('keeps an instance warm between invocations', async () => {
    const first = (await (await fetch(url('/'))).json()) as Echo;
    const second = (await (await fetch(url('/'))).json()) as Echo;
    expect(second.instance.pid).toBe(first.instance.pid);
    expect(second.instance.invocations).toBe(first.instance.invocations + 1);
  });

  it('runs concurrent requests in separate instances (instanceConcurrency 1)', async () => {
    const [a, b] = await Promise.all([
      fetch(url('/pid?ms=300')).then((r) => r.json() as Promise<{ pid: number }>),
      fetch(url('/pid?ms=300')).then((r) => r.json() as Promise<{ pid: number }>),
    ]);
    expect(a.pid).not.toBe(b.pid);
  });

  it('answers an unhandled error as FC does', async () => {
    const response = await fetch(url('/throw'));
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    const body = (await response.json()) as {
      errorMessage: string;
      errorType: string;
      stackTrace: string[];
    };
    expect(body).toMatchObject({ errorMessage: 'boom from host-http', errorType: 'Error' });
    // Source maps point the stack at the TypeScript source.
    expect(body.stackTrace.join('\n')).toMatch(/functions\/host-http\/index\.ts:\d+/);
  });

  it('enforces the function timeout, then cold-starts a fresh instance', async () => {
    const before = (await (await fetch(url('/pid'))).json()) as { pid: number };
    const started = Date.now();
    const response = await fetch(url('/sleep?ms=10000'));
    const elapsed = Date.now() - started;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      errorType: 'FunctionTimeout',
      errorMessage: 'Function timed out after 2 seconds',
    });
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
    const after = (await (await fetch(url('/pid'))).json()) as { pid: number };
    expect(after.pid).not.toBe(before.pid);
  });

  it('reports an instance that dies, and recovers', async () => {
    const response = await fetch(url('/exit'));
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ errorType: 'ProcessExited' });
    expect((await fetch(url('/'))).status).toBe(200);
  });

  it('refuses methods the trigger does not allow', async () => {
    const response = await fetch(url('/'), { method: 'PATCH' });
    expect(response.status).toBe(405);
    expect(await response.json()).toMatchObject({ ErrorCode: 'MethodNotAllowed' });
  });

  it('prefixes function output with the function name', async () => {
    await fetch(url('/log'));
    await output.waitFor(/^\[host-http\] plain console line$/);
    await output.waitFor(/^\[host-http\] \S+Z [0-9a-f-]{36} \[INFO\] logger line$/);
  });
});

describe('a role the function cannot assume', () => {
  it('fails the invocation naming the role and the reason', async () => {
    const cloud = await startHostTestCloud();
    const output = new LogCapture();
    const host = await startFunctionHost({
      sYamlPath: HOST_APP_S_YAML,
      cloud: cloud.env,
      schedule: false,
      log: output.log,
      sYamlEnv: { HOST_APP_ROLE_NAME: 'no-such-role' },
    });
    try {
      const response = await fetch(`${host.apiUrl}/`);
      expect(response.status).toBe(502);
      const body = (await response.json()) as { errorType: string; errorMessage: string };
      expect(body.errorType).toBe('AssumeRoleFailed');
      expect(body.errorMessage).toContain(
        `acs:ram::${cloud.env.managementAccountId}:role/no-such-role`,
      );
      expect(body.errorMessage).toContain('EntityNotExist.Role');
      await expect(host.invoke('host-events', {})).rejects.toThrow(/AssumeRoleFailed/);
    } finally {
      await host.stop();
      await cloud.stop();
    }
  });
});
