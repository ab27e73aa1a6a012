// Reaching member accounts: AssumeRole into acs:ram::<member>:role/<MEMBER_ACCESS_ROLE>, narrowed
// by the function's one session policy, with credentials kept per member (and policy) until
// shortly before expiry, and per-member results so one member's refusal never fails the others.

import { createHash } from 'node:crypto';
import { CloudApiError, MemberAccessDenied } from '../../errors';
import { mapWithConcurrency } from '../../runtime/concurrency';
import {
  type AssumeRole,
  MAX_DURATION_SECONDS,
  memberRoleArn,
  type TemporaryCredentials,
} from './assume-role';
import type { CredentialCache } from './credential-cache';

export interface MemberAccessOptions {
  /** RAM role assumed in every member (MEMBER_ACCESS_ROLE). */
  roleName: string;
  /** AssumeRole bound to this invocation's caller credentials. */
  assumeRole: AssumeRole;
  /** Process-wide: outlives the invocation so warm instances reuse credentials. */
  cache: CredentialCache<TemporaryCredentials>;
  /** Identifies function and request (see roleSessionName). */
  sessionName: string;
  /** Default 3600 (the maximum for a role session). */
  durationSeconds?: number;
  /** AssumeRole calls in flight at once in forMembers. Default 10. */
  concurrency?: number;
  /**
   * The session policy (JSON) every session of this access carries: the actions the function
   * calls in members (sessionPolicyAllowing). Absent: the session has the whole access role.
   */
  sessionPolicy?: string;
}

export type MemberAccessResult =
  | { accountId: string; ok: true; credentials: TemporaryCredentials }
  | { accountId: string; ok: false; error: MemberAccessDenied | CloudApiError };

const ACCOUNT_ID = /^\d{1,32}$/;

export class MemberAccess {
  constructor(private readonly options: MemberAccessOptions) {}

  roleArn(accountId: string): string {
    return memberRoleArn(accountId, this.options.roleName);
  }

  /**
   * Credentials in the member; throws MemberAccessDenied or CloudApiError. `fresh` drops the
   * cached ones first: a reachability probe proves the role can be assumed now, which cached
   * credentials from an hour ago do not.
   */
  async credentialsFor(
    accountId: string,
    options: { fresh?: boolean } = {},
  ): Promise<TemporaryCredentials> {
    const roleArn = this.roleArn(accountId);
    if (!ACCOUNT_ID.test(accountId)) {
      throw new MemberAccessDenied(accountId, roleArn, 'InvalidAccountId', 'not an account id');
    }
    const key = this.#cacheKey(roleArn);
    if (options.fresh) this.options.cache.invalidate(key);
    const { sessionPolicy } = this.options;
    return this.options.cache.get(key, () =>
      this.options.assumeRole({
        accountId,
        roleArn,
        sessionName: this.options.sessionName,
        durationSeconds: this.options.durationSeconds ?? MAX_DURATION_SECONDS,
        ...(sessionPolicy !== undefined ? { policy: sessionPolicy } : {}),
      }),
    );
  }

  /**
   * New credentials after the member refused `stale` (its role was deleted or changed, the
   * session ended early): drops them from the cache and assumes the role again. Callers that
   * found the same credentials refused at once share one AssumeRole. Throws MemberAccessDenied
   * or CloudApiError when the role cannot be assumed any more: the member is unreachable.
   */
  async renew(accountId: string, stale: TemporaryCredentials): Promise<TemporaryCredentials> {
    this.options.cache.invalidate(this.#cacheKey(this.roleArn(accountId)), stale);
    return this.credentialsFor(accountId);
  }

  /** Credentials for each member, in input order; failures are results, never thrown. */
  async forMembers(accountIds: readonly string[]): Promise<MemberAccessResult[]> {
    return mapWithConcurrency(accountIds, this.options.concurrency ?? 10, async (accountId) => {
      try {
        return { accountId, ok: true, credentials: await this.credentialsFor(accountId) };
      } catch (error) {
        if (error instanceof MemberAccessDenied || error instanceof CloudApiError) {
          return { accountId, ok: false, error };
        }
        throw error;
      }
    });
  }

  /** Per member and policy: functions sharing a process (tests) never share sessions of
   *  different policies. */
  #cacheKey(roleArn: string): string {
    const { sessionPolicy } = this.options;
    const policyKey =
      sessionPolicy === undefined ? '' : createHash('sha256').update(sessionPolicy).digest('hex');
    return `${roleArn}\n${policyKey}`;
  }
}
