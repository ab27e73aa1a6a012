// MemberProbe over MemberAccess: a member is reachable when AssumeRole into its access role
// succeeds now (the probe never answers from cached credentials, which outlive a deleted role or
// a broken trust policy). A refusal becomes the member's recorded failure (role ARN, STS code,
// reason); the credentials the probe obtained are cached for the calls that follow it.

import { CloudApiError, MemberAccessDenied } from '../../errors';
import type { MemberProbe } from '../../onboarding/ports';
import type { MemberAccess } from './member-access';

export interface AccessRefusal {
  reason: string;
  roleArn: string;
  code: string;
}

/**
 * Why credentials for a member could not be had, as a per-member result: STS's refusal, or the
 * call failing after its retries. undefined for anything else (a bug, to be thrown).
 */
export function accessRefusal(
  access: MemberAccess,
  accountId: string,
  error: unknown,
): AccessRefusal | undefined {
  if (error instanceof MemberAccessDenied) {
    return { reason: error.reason, roleArn: error.roleArn, code: error.cloudCode };
  }
  if (error instanceof CloudApiError) {
    return {
      reason: error.message,
      roleArn: access.roleArn(accountId),
      code: error.failure.cloudCode,
    };
  }
  return undefined;
}

export function memberProbe(access: MemberAccess): MemberProbe {
  return {
    roleArn: (accountId) => access.roleArn(accountId),
    async probe(accountId) {
      try {
        await access.credentialsFor(accountId, { fresh: true });
        return { ok: true };
      } catch (error) {
        const failure = accessRefusal(access, accountId, error);
        if (!failure) throw error;
        return { ok: false, failure };
      }
    },
  };
}
