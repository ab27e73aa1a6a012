// The FC async-invocation adapter (shared/cloud/fc/invoke.ts) against localcloud with the local
// function host running test/fixtures/host-app: invocations are queued and run, failures become
// CloudApiError naming FC, InvokeFunction, the function and the account; throttling is retried.

import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OrganizationFixture } from '../../../localcloud/index';
import { type LocalSystem, startLocalSystem } from '../../../localcloud/system';
import { createFcInvoker, type FunctionInvoker } from '../../../shared/cloud/fc/invoke';
import type { RetryOptions } from '../../../shared/cloud/openapi';
import { CloudApiError } from '../../../shared/errors';
import type { CloudCredentials } from '../../../shared/runtime/context';
import { LogCapture } from '../../support/function-host';
import { FUNCTION_ROLE, HOST_APP_S_YAML } from '../../support/host-cloud';
import { assumeRole } from '../localcloud/support';

const organization: OrganizationFixture = {
  seed: 'fc-invoker-integration',
  region: 'cn-hangzhou',
  management: {
    name: 'fc-invoker-management',
    roles: [{ name: FUNCTION_ROLE, trustedServices: ['fc.aliyuncs.com'] }],
  },
  members: [{ name: 'fc-invoker-member' }],
  servicePrincipals: ['fc.aliyuncs.com'],
};

const noRetry: RetryOptions = { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } };

let system: LocalSystem;
let roleCredentials: CloudCredentials;
const output = new LogCapture();

function invoker(credentials: CloudCredentials, retry: RetryOptions = noRetry): FunctionInvoker {
  return createFcInvoker({
    endpoint: system.env.endpoints.fc,
    protocol: 'http',
    credentials,
    accountId: system.env.managementAccountId,
    ...retry,
  });
}

async function rejection(call: Promise<unknown>): Promise<CloudApiError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof CloudApiError)) throw new Error(`expected CloudApiError, got ${error}`);
  return error;
}

beforeAll(async () => {
  system = await startLocalSystem({
    organization,
    sYamlPath: HOST_APP_S_YAML,
    envFile: false,
    forwardDirectoryEvents: false,
    host: { schedule: false, log: output.log },
  });
  // The credentials a function has: its role, assumed by the FC service principal.
  const principal = system.env.servicePrincipals['fc.aliyuncs.com'];
  if (!principal) throw new Error('no fc.aliyuncs.com keys in env');
  roleCredentials = await assumeRole(
    system.cloud,
    principal,
    `acs:ram::${system.env.managementAccountId}:role/${FUNCTION_ROLE}`,
    { sessionName: 'fc-invoker-test' },
  );
}, 60_000);

afterAll(async () => {
  await system?.stop();
});

afterEach(() => {
  system.cloud.control.clearFaults();
});

describe('createFcInvoker', () => {
  it('queues an async invocation that runs the function with the payload as JSON', async () => {
    const chunk = { chunk: 1, members: [randomUUID(), randomUUID()] };
    const { requestId } = await invoker(roleCredentials).invokeAsync('host-timer', chunk);
    expect(requestId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    await system.asyncInvocations.drain();
    expect(output.lines).toContain(`[host-timer] TIMER ${JSON.stringify(chunk)}`);
    const call = system.cloud.control.calls({ service: 'fc', action: 'InvokeFunction' }).at(-1);
    expect(call).toMatchObject({ status: 202, result: 'ok' });
    expect(call?.callerArn).toMatch(new RegExp(`:role/${FUNCTION_ROLE}/fc-invoker-test$`));
  });

  it('names FC, InvokeFunction, the function and the account when the function does not exist', async () => {
    const error = await rejection(invoker(roleCredentials).invokeAsync('no-such-function', {}));
    expect(error.failure).toMatchObject({
      service: 'FC',
      api: 'InvokeFunction',
      accountId: system.env.managementAccountId,
      kind: 'rejected',
      cloudCode: 'FunctionNotFound',
      httpStatus: 404,
    });
    expect(error.failure.cloudRequestId).toMatch(/^1-/);
    expect(error.message).toContain('no-such-function');
    expect(error.message).toContain(system.env.managementAccountId);
    expect(error.message).toMatch(/^FC InvokeFunction as account \d+ failed: FunctionNotFound/);
  });

  it('reports a payload over the async limit with a hint to send smaller chunks', async () => {
    const error = await rejection(
      invoker(roleCredentials).invokeAsync('host-timer', { pad: 'x'.repeat(130 * 1024) }),
    );
    expect(error.failure).toMatchObject({ cloudCode: 'EntityTooLarge', kind: 'rejected' });
    expect(error.message).toMatch(/smaller chunks/);
  });

  it('reports refused credentials as denied', async () => {
    const error = await rejection(
      invoker({ ...roleCredentials, accessKeySecret: 'wrong-secret' }).invokeAsync(
        'host-timer',
        {},
      ),
    );
    expect(error.failure).toMatchObject({ kind: 'denied', cloudCode: 'SignatureNotMatch' });
    expect(error.status).toBe(502);
  });

  it('retries throttling, then succeeds', async () => {
    system.cloud.control.addFault({
      service: 'fc',
      action: 'InvokeFunction',
      kind: 'throttle',
      rate: 1,
    });
    const since = system.cloud.control.calls().at(-1)?.seq ?? 0;
    const sleeps: number[] = [];
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      sleep: async (ms) => {
        sleeps.push(ms);
        // The throttling stops before the second attempt.
        system.cloud.control.clearFaults();
      },
    };
    const marker = randomUUID();
    await invoker(roleCredentials, retry).invokeAsync('host-timer', { marker });
    expect(sleeps).toHaveLength(1);
    const calls = system.cloud.control.calls({ service: 'fc', since });
    expect(calls.map((c) => [c.status, c.result])).toEqual([
      [429, 'ResourceExhausted'],
      [202, 'ok'],
    ]);
    await system.asyncInvocations.drain();
    expect(output.lines).toContain(`[host-timer] TIMER ${JSON.stringify({ marker })}`);
  });

  it('gives up after the attempts of its retry policy and reports throttling', async () => {
    system.cloud.control.addFault({
      service: 'fc',
      action: 'InvokeFunction',
      kind: 'throttle',
      rate: 1,
    });
    const since = system.cloud.control.calls().at(-1)?.seq ?? 0;
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => {},
    };
    const error = await rejection(invoker(roleCredentials, retry).invokeAsync('host-timer', {}));
    expect(system.cloud.control.calls({ service: 'fc', since })).toHaveLength(3);
    expect(error.failure).toMatchObject({
      kind: 'throttled',
      cloudCode: 'ResourceExhausted',
      httpStatus: 429,
    });
    expect(error.code).toBe('CloudThrottled');
    expect(error.headers['Retry-After']).toBe('1');
  });
});
