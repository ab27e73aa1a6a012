import { describe, expect, it } from 'vitest';
import {
  describeFailure,
  failureKind,
  readSdkFailure,
  withRetry,
} from '../../../shared/cloud/openapi';

function sdkError(statusCode: number, code: string, message = 'm') {
  return Object.assign(new Error(`code: ${statusCode}, ${message} request id: R`), {
    statusCode,
    code,
    requestId: 'R',
    data: { RequestId: 'R', Code: code, Message: message },
  });
}

describe('reading SDK failures', () => {
  it.each([
    [sdkError(403, 'NoPermission'), 'denied'],
    [sdkError(404, 'InvalidAccessKeyId.NotFound'), 'denied'],
    [sdkError(400, 'InvalidSecurityToken.Expired'), 'denied'],
    [sdkError(400, 'Throttling.User'), 'throttled'],
    [sdkError(503, 'ServiceUnavailable'), 'unavailable'],
    [sdkError(500, 'InternalError'), 'failed'],
    [sdkError(400, 'InvalidParameter'), 'rejected'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unavailable'],
  ])('%#: classifies as %s', (error, kind) => {
    expect(failureKind(readSdkFailure(error))).toBe(kind);
  });

  // The SLS SDK's errors: code = errorCode, statusCode = HTTP status, the message prefixed with
  // the code, the request id in data (as @alicloud/gateway-sls raises them).
  function slsError(statusCode: number, code: string, message = 'm') {
    return Object.assign(new Error(`${code}: ${message}`), {
      code,
      statusCode,
      data: { httpCode: statusCode, requestId: 'SLSREQ', statusCode },
    });
  }

  it.each([
    [slsError(403, 'ShardWriteQuotaExceed'), 'throttled'],
    [slsError(403, 'ShardReadQuotaExceed'), 'throttled'],
    [slsError(403, 'WriteQuotaExceed'), 'throttled'],
    [slsError(403, 'ReadQuotaExceed'), 'throttled'],
    [slsError(401, 'Unauthorized'), 'denied'],
    [slsError(404, 'LogStoreNotExist'), 'rejected'],
    [slsError(400, 'InvalidCursor'), 'rejected'],
    [slsError(503, 'ServerBusy'), 'unavailable'],
    [slsError(500, 'InternalServerError'), 'failed'],
  ])('SLS %#: classifies as %s', (error, kind) => {
    expect(failureKind(readSdkFailure(error))).toBe(kind);
  });

  it('reads an SLS error without repeating its code in the message', () => {
    expect(readSdkFailure(slsError(404, 'ProjectNotExist', 'Project p does not exist'))).toEqual({
      code: 'ProjectNotExist',
      message: 'Project p does not exist',
      httpStatus: 404,
      requestId: 'SLSREQ',
      network: false,
    });
  });

  it('takes code, message and request id from the error body', () => {
    expect(readSdkFailure(sdkError(403, 'NoPermission', 'not authorized'))).toEqual({
      code: 'NoPermission',
      message: 'not authorized',
      httpStatus: 403,
      requestId: 'R',
      network: false,
    });
  });

  it('describes a failure with the API, the account and a hint', () => {
    expect(
      describeFailure(
        'ResourceManager',
        'ListAccounts',
        '1000000000000001',
        sdkError(403, 'NoPermission'),
        () => 'grant it',
      ),
    ).toEqual({
      service: 'ResourceManager',
      api: 'ListAccounts',
      accountId: '1000000000000001',
      kind: 'denied',
      cloudCode: 'NoPermission',
      cloudMessage: 'm',
      cloudRequestId: 'R',
      httpStatus: 403,
      hint: 'grant it',
    });
  });
});

describe('retry', () => {
  const policy = (sleeps: number[]) => ({
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    sleep: async (ms: number) => void sleeps.push(ms),
    random: () => 0.5,
  });

  it('retries transient failures with growing backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(async () => {
      calls += 1;
      if (calls < 3) throw sdkError(400, 'Throttling.Api');
      return 'ok';
    }, policy(sleeps));
    expect(result).toBe('ok');
    // Full jitter below a ceiling that doubles (shared/runtime/retry.ts): half of 100, of 200.
    expect(sleeps).toEqual([50, 100]);
  });

  it('does not retry a refusal, and stops after the last attempt', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw sdkError(403, 'NoPermission');
      }, policy([])),
    ).rejects.toMatchObject({ code: 'NoPermission' });
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw sdkError(500, 'InternalError');
      }, policy([])),
    ).rejects.toMatchObject({ code: 'InternalError' });
    expect(calls).toBe(3);
  });
});
