// FC 3.0 asynchronous invocation over the official SDK (@alicloud/fc20230330 InvokeFunction with
// `x-fc-invocation-type: Async`): the payload is sent as its JSON, FC answers 202 with the
// request id and runs the function later. Throttling and outages are retried (a timer's fan-out
// is idempotent, so an invocation repeated after a lost answer does no harm); failures become
// CloudApiError naming FC, InvokeFunction, the function and the calling account.
// FC 3.0's endpoint is per account: <accountId>.<region>[-internal].fc.aliyuncs.com (FUNCTION_COMPUTE_ENDPOINT).

import { Readable } from 'node:stream';
import * as Fc from '@alicloud/fc20230330';
import { CloudApiError, type CloudCallFailure } from '../../errors';
import type { CloudCredentials } from '../../runtime/context';
import {
  type CloudEndpoint,
  createOpenApiClient,
  describeFailure,
  type RetryOptions,
  readSdkFailure,
  type SdkFailure,
  withRetry,
} from '../openapi';

type RuntimeOptions = Parameters<Fc.default['invokeFunctionWithOptions']>[3];

/** FC's documented limit on an asynchronous invocation's payload. */
export const FC_ASYNC_PAYLOAD_LIMIT_BYTES = 128 * 1024;

export interface FunctionInvoker {
  /** Queues one asynchronous invocation of `functionName` with `payload` (sent as JSON). */
  invokeAsync(functionName: string, payload: unknown): Promise<{ requestId: string }>;
}

export interface FcInvokerOptions extends CloudEndpoint, RetryOptions {
  credentials: CloudCredentials;
  /** The account the credentials belong to (and the functions live in), for error messages. */
  accountId: string;
}

/**
 * FC signals throttling with HTTP 429 (ResourceExhausted, ResourceThrottled) or 503
 * ResourceThrottled: codes without "Throttling" in them, which the shared classifier would call
 * rejected. They are retried and reported as throttled.
 */
export function isFcThrottling(failure: SdkFailure): boolean {
  return failure.httpStatus === 429 || /^Resource(Exhausted|Throttled)$/.test(failure.code);
}

/** Carries an FC throttling error through withRetry, which retries what looks transient. */
class FcThrottled extends Error {
  readonly code = 'Throttling.FC';
  constructor(readonly original: unknown) {
    super('FC throttled the invocation');
  }
}

function hintFor(functionName: string, accountId: string, endpoint: string) {
  return (failure: SdkFailure, kind: string): string | undefined => {
    if (failure.code === 'FunctionNotFound') {
      return `Deploy the function ${functionName} in account ${accountId} and the region FUNCTION_COMPUTE_ENDPOINT (${endpoint}) names.`;
    }
    if (failure.code === 'EntityTooLarge') {
      return `An asynchronous invocation's payload is limited to ${FC_ASYNC_PAYLOAD_LIMIT_BYTES / 1024} KB: fan out in smaller chunks.`;
    }
    if (kind === 'denied') {
      return `Grant the function's role fc:InvokeFunction on acs:fc:*:${accountId}:functions/${functionName} (see deploy/function-role-policy.json).`;
    }
    if (kind === 'throttled') return 'FC is throttling invocations of this account; retry shortly.';
    return undefined;
  };
}

export function createFcInvoker(options: FcInvokerOptions): FunctionInvoker {
  const client = createOpenApiClient(Fc.default, options, options.credentials);
  // The client reads only the fields it finds set; none are needed here.
  const runtime = {} as RuntimeOptions;

  function failed(functionName: string, error: unknown): CloudApiError {
    const original = error instanceof FcThrottled ? error.original : error;
    const throttled = isFcThrottling(readSdkFailure(original));
    const described = describeFailure(
      'FC',
      'InvokeFunction',
      options.accountId,
      original,
      (failure, kind) =>
        hintFor(
          functionName,
          options.accountId,
          options.endpoint,
        )(failure, throttled ? 'throttled' : kind),
    );
    const failure: CloudCallFailure = {
      ...described,
      ...(throttled ? { kind: 'throttled' as const } : {}),
      cloudMessage: `function ${functionName}: ${described.cloudMessage}`,
    };
    return new CloudApiError(failure, original);
  }

  async function send(functionName: string, body: Buffer): Promise<{ requestId: string }> {
    const response = await client.invokeFunctionWithOptions(
      functionName,
      // A fresh stream per attempt: the SDK reads it to sign the body.
      new Fc.InvokeFunctionRequest({ body: Readable.from(body) }),
      new Fc.InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
      runtime,
    );
    // Nothing to read in a 202; consume the stream so the connection is released.
    response.body?.resume();
    const requestId = response.headers?.['x-fc-request-id'] ?? '';
    if (response.statusCode !== 202) {
      throw new CloudApiError({
        service: 'FC',
        api: 'InvokeFunction',
        accountId: options.accountId,
        kind: 'failed',
        cloudCode: 'UnexpectedResponse',
        cloudMessage: `function ${functionName}: an asynchronous invocation answered HTTP ${response.statusCode ?? 'without a status'} instead of 202`,
        ...(requestId ? { cloudRequestId: requestId } : {}),
      });
    }
    return { requestId };
  }

  return {
    async invokeAsync(functionName, payload) {
      const body = Buffer.from(JSON.stringify(payload ?? null) ?? 'null', 'utf8');
      try {
        return await withRetry(async () => {
          try {
            return await send(functionName, body);
          } catch (error) {
            if (error instanceof CloudApiError) throw error;
            throw isFcThrottling(readSdkFailure(error)) ? new FcThrottled(error) : error;
          }
        }, options);
      } catch (error) {
        if (error instanceof CloudApiError) throw error;
        throw failed(functionName, error);
      }
    },
  };
}
