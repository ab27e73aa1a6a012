// STS AssumeRole over the official SDK (@alicloud/sts20150401), with the caller's credentials
// (the function role's, from the FC context). Each attempt first takes a token from the calling
// account's rate limiter (rate-limit.ts: STS allows 100 a second per account). A refusal becomes
// MemberAccessDenied naming the member, the role and the reason; throttling and outages are
// retried, then CloudApiError.

import * as Sts from '@alicloud/sts20150401';
import { type Clock, systemClock } from '../../domain/clock';
import { CloudApiError, MemberAccessDenied } from '../../errors';
import type { CloudCredentials } from '../../runtime/context';
import {
  type CloudEndpoint,
  createOpenApiClient,
  describeFailure,
  failureKind,
  type RetryOptions,
  readSdkFailure,
  withRetry,
} from '../openapi';
import { assumeRoleLimiter, type RateLimiter } from './rate-limit';
import { SESSION_NAME_PATTERN } from './session-name';

export interface TemporaryCredentials extends CloudCredentials {
  securityToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface AssumeRoleInput {
  /** The member whose role is assumed. */
  accountId: string;
  roleArn: string;
  sessionName: string;
  /** 900..3600. */
  durationSeconds: number;
  /** Session policy narrowing the role for this session (JSON). */
  policy?: string;
}

export type AssumeRole = (input: AssumeRoleInput) => Promise<TemporaryCredentials>;

export interface StsAssumeRoleOptions extends CloudEndpoint, RetryOptions {
  /** The caller's credentials (the function role's). */
  credentials: CloudCredentials;
  /** The caller's account, for error messages. */
  callerAccountId: string;
  clock?: Clock;
  /** Paces the calls of the caller's account; default: the process's limiter for
   *  `callerAccountId` at the default rate. */
  limiter?: RateLimiter;
}

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 3600;

export function memberRoleArn(accountId: string, roleName: string): string {
  return `acs:ram::${accountId}:role/${roleName}`;
}

export function createStsAssumeRole(options: StsAssumeRoleOptions): AssumeRole {
  const clock = options.clock ?? systemClock;
  const limiter = options.limiter ?? assumeRoleLimiter(options.callerAccountId);
  const client = createOpenApiClient(Sts.default, options, options.credentials);

  return async (input) => {
    if (!SESSION_NAME_PATTERN.test(input.sessionName)) {
      throw new Error(`Invalid RoleSessionName "${input.sessionName}": 2-64 of [A-Za-z0-9_.@-]`);
    }
    if (
      !Number.isInteger(input.durationSeconds) ||
      input.durationSeconds < MIN_DURATION_SECONDS ||
      input.durationSeconds > MAX_DURATION_SECONDS
    ) {
      throw new Error(
        `DurationSeconds must be an integer in ${MIN_DURATION_SECONDS}..${MAX_DURATION_SECONDS}; got ${input.durationSeconds}`,
      );
    }
    let response: Awaited<ReturnType<typeof client.assumeRole>>;
    try {
      response = await withRetry(async () => {
        await limiter.acquire();
        return client.assumeRole(
          new Sts.AssumeRoleRequest({
            roleArn: input.roleArn,
            roleSessionName: input.sessionName,
            durationSeconds: input.durationSeconds,
            ...(input.policy !== undefined ? { policy: input.policy } : {}),
          }),
        );
      }, options);
    } catch (error) {
      const failure = readSdkFailure(error);
      const kind = failureKind(failure);
      if (kind === 'denied' || kind === 'rejected') {
        throw new MemberAccessDenied(input.accountId, input.roleArn, failure.code, failure.message);
      }
      throw new CloudApiError(
        describeFailure(
          'STS',
          'AssumeRole',
          options.callerAccountId,
          error,
          () => `The call was assuming ${input.roleArn} in member ${input.accountId}.`,
        ),
        error,
      );
    }
    const credentials = response.body?.credentials;
    if (!credentials?.accessKeyId || !credentials.accessKeySecret || !credentials.securityToken) {
      throw new CloudApiError({
        service: 'STS',
        api: 'AssumeRole',
        accountId: options.callerAccountId,
        kind: 'failed',
        cloudCode: 'UnexpectedResponse',
        cloudMessage: `no credentials in the answer for ${input.roleArn}`,
      });
    }
    const expiration = Date.parse(credentials.expiration ?? '');
    return {
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      securityToken: credentials.securityToken,
      expiresAt: Number.isNaN(expiration) ? clock.now() + input.durationSeconds * 1000 : expiration,
    };
  };
}
