// MemberProbe over MemberAccess: a member is reachable when AssumeRole into its access role
// succeeds. A refusal becomes the member's recorded failure (role ARN, STS code, reason).

import { CloudApiError, MemberAccessDenied } from '../../errors';
import type { MemberProbe } from '../../onboarding/ports';
import type { MemberAccess } from './member-access';

export function memberProbe(access: MemberAccess): MemberProbe {
  return {
    roleArn: (accountId) => access.roleArn(accountId),
    async probe(accountId) {
      try {
        await access.credentialsFor(accountId);
        return { ok: true };
      } catch (error) {
        if (error instanceof MemberAccessDenied) {
          return {
            ok: false,
            failure: { reason: error.reason, roleArn: error.roleArn, code: error.cloudCode },
          };
        }
        if (error instanceof CloudApiError) {
          return {
            ok: false,
            failure: {
              reason: error.message,
              roleArn: access.roleArn(accountId),
              code: error.failure.cloudCode,
            },
          };
        }
        throw error;
      }
    },
  };
}
