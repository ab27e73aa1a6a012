// Cross-account access for a function: one credential cache per process, one MemberAccess per
// invocation (bound to the invocation's caller credentials and request id).

import type { CloudConfig, StsConfig } from '../../config';
import { FunctionMisconfigured } from '../../errors';
import type { Invocation } from '../../runtime/context';
import type { RetryOptions } from '../openapi';
import { createStsAssumeRole, type TemporaryCredentials } from './assume-role';
import { CredentialCache, type CredentialCacheOptions } from './credential-cache';
import { MemberAccess } from './member-access';
import { assumeRoleLimiter } from './rate-limit';
import { roleSessionName } from './session-name';

export * from './assume-role';
export * from './credential-cache';
export * from './member-access';
export * from './rate-limit';
export * from './session-name';
export * from './session-policy';

export function createMemberCredentialCache(
  options: CredentialCacheOptions = {},
): CredentialCache<TemporaryCredentials> {
  return new CredentialCache<TemporaryCredentials>(options);
}

export function memberAccessFor(
  config: { cloud: CloudConfig; sts: StsConfig },
  invocation: Invocation,
  cache: CredentialCache<TemporaryCredentials>,
  options: RetryOptions & {
    durationSeconds?: number;
    sessionPolicy?: string;
    /** This invocation's share of the account's AssumeRole rate, instead of the configured one. */
    assumeRoleRate?: { ratePerSecond: number; share: string };
  } = {},
): MemberAccess {
  if (!invocation.credentials) {
    throw new FunctionMisconfigured(
      `Function ${invocation.functionName} has no role credentials; set "role" in s.yaml`,
    );
  }
  return new MemberAccess({
    roleName: config.sts.memberAccessRole,
    cache,
    sessionName: roleSessionName(invocation.functionName, invocation.requestId),
    ...(options.durationSeconds !== undefined ? { durationSeconds: options.durationSeconds } : {}),
    ...(options.sessionPolicy !== undefined ? { sessionPolicy: options.sessionPolicy } : {}),
    assumeRole: createStsAssumeRole({
      endpoint: config.sts.endpoint,
      protocol: config.cloud.protocol,
      credentials: invocation.credentials,
      callerAccountId: invocation.accountId,
      limiter: options.assumeRoleRate
        ? assumeRoleLimiter(
            invocation.accountId,
            options.assumeRoleRate.ratePerSecond,
            options.assumeRoleRate.share,
          )
        : assumeRoleLimiter(invocation.accountId, config.sts.assumeRoleRatePerSecond),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    }),
  });
}
export * from './member-probe';
