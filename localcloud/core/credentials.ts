// The single source of truth for AccessKeys and STS tokens in localcloud. Long-term keys (root,
// RAM users, service principals) come from the organization; STS tokens are issued here by
// AssumeRole and expire against localcloud's clock. Every service authenticates through
// `resolve()`.

import { randomBytes } from 'node:crypto';
import type { Clock, CredentialResolution, CredentialStore, Principal } from './contracts';
import { randomBase62 } from './ids';

export interface StaticKey {
  secret: string;
  principal: Principal;
  inactive?: boolean;
}

/** Looks up a long-term AccessKey (not STS). */
export type StaticKeyLookup = (accessKeyId: string) => StaticKey | undefined;

/** The id of an account's role as it is now; undefined once the role is deleted. */
export type RoleIdLookup = (accountId: string, roleName: string) => string | undefined;

export interface SessionCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms. */
  expiresAt: number;
  principal: Principal;
}

interface SessionEntry {
  secret: string;
  token: string;
  principal: Principal;
  expiresAt: number;
}

const TOKEN_PREFIX = 'CAIS';
const TOKEN_SHAPE = /^CAIS[A-Za-z0-9+/=]{60,}$/;
/** Expired tokens are forgotten a day after they expire (they answer NotFound afterwards). */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

export const CREDENTIAL_MESSAGES = {
  notFound: 'Specified access key is not found.',
  inactive: 'Specified access key is disabled.',
  expired: 'Specified SecurityToken is expired.',
  malformed: 'Specified SecurityToken is malformed.',
  mismatch: 'Specified SecurityToken mismatch with the AccessKey.',
  roleGone:
    'You are not authorized to do this action. The role this security token was issued for no longer exists',
} as const;

export class LocalCredentialStore implements CredentialStore {
  private readonly sessions = new Map<string, SessionEntry>();

  /**
   * `roleIds` (the organization's roles as they are now): a session is evaluated against its
   * role at every call, so a session whose role was deleted, or deleted and created again (a new
   * role id), is refused with NoPermission; a changed trust policy does not touch sessions
   * already issued (trust is evaluated only by AssumeRole).
   */
  constructor(
    private readonly staticKeys: StaticKeyLookup,
    private readonly clock: Clock,
    private readonly roleIds?: RoleIdLookup,
  ) {}

  resolve(accessKeyId: string, securityToken: string | undefined): CredentialResolution {
    if (accessKeyId.startsWith('STS.')) return this.resolveSession(accessKeyId, securityToken);
    const key = this.staticKeys(accessKeyId);
    if (!key) {
      return {
        ok: false,
        code: 'InvalidAccessKeyId.NotFound',
        message: CREDENTIAL_MESSAGES.notFound,
      };
    }
    if (key.inactive) {
      return {
        ok: false,
        code: 'InvalidAccessKeyId.Inactive',
        message: CREDENTIAL_MESSAGES.inactive,
      };
    }
    return { ok: true, secret: key.secret, principal: key.principal };
  }

  private resolveSession(
    accessKeyId: string,
    securityToken: string | undefined,
  ): CredentialResolution {
    if (securityToken === undefined || securityToken === '' || !TOKEN_SHAPE.test(securityToken)) {
      return {
        ok: false,
        code: 'InvalidSecurityToken.Malformed',
        message: CREDENTIAL_MESSAGES.malformed,
      };
    }
    const session = this.sessions.get(accessKeyId);
    if (!session) {
      return {
        ok: false,
        code: 'InvalidAccessKeyId.NotFound',
        message: CREDENTIAL_MESSAGES.notFound,
      };
    }
    if (session.token !== securityToken) {
      return {
        ok: false,
        code: 'InvalidSecurityToken.MismatchWithAccessKey',
        message: CREDENTIAL_MESSAGES.mismatch,
      };
    }
    if (this.clock.now() >= session.expiresAt) {
      return {
        ok: false,
        code: 'InvalidSecurityToken.Expired',
        message: CREDENTIAL_MESSAGES.expired,
      };
    }
    const { principal } = session;
    if (
      this.roleIds &&
      principal.roleName !== undefined &&
      this.roleIds(principal.accountId, principal.roleName) !== principal.roleId
    ) {
      return {
        ok: false,
        code: 'NoPermission',
        message: `${CREDENTIAL_MESSAGES.roleGone}: ${principal.arn} (role id ${principal.roleId ?? 'unknown'}).`,
      };
    }
    return { ok: true, secret: session.secret, principal };
  }

  /** Issues STS credentials for an assumed-role principal (AssumeRole). */
  issueSession(input: {
    accountId: string;
    roleName: string;
    roleId: string;
    sessionName: string;
    durationSeconds: number;
    sessionPolicy?: string;
  }): SessionCredentials {
    this.forgetExpired();
    const accessKeyId = `STS.${randomBase62(25)}`;
    const accessKeySecret = randomBase62(44);
    const securityToken = `${TOKEN_PREFIX}${randomBytes(120).toString('base64')}`;
    const expiresAt = this.clock.now() + input.durationSeconds * 1000;
    const principal: Principal = {
      accountId: input.accountId,
      type: 'AssumedRoleUser',
      arn: `acs:ram::${input.accountId}:role/${input.roleName.toLowerCase()}`,
      accessKeyId,
      roleName: input.roleName,
      roleId: input.roleId,
      sessionName: input.sessionName,
      expiresAt,
      ...(input.sessionPolicy === undefined ? {} : { sessionPolicy: input.sessionPolicy }),
    };
    this.sessions.set(accessKeyId, {
      secret: accessKeySecret,
      token: securityToken,
      principal,
      expiresAt,
    });
    return { accessKeyId, accessKeySecret, securityToken, expiresAt, principal };
  }

  /**
   * The live sessions issued into `accountId` (all accounts when absent), keys included: for
   * tests in the same process that act as a function's session to show what its policy allows.
   * Never served over HTTP.
   */
  liveSessions(accountId?: string): SessionCredentials[] {
    const now = this.clock.now();
    const out: SessionCredentials[] = [];
    for (const [accessKeyId, session] of this.sessions) {
      if (session.expiresAt <= now) continue;
      if (accountId !== undefined && session.principal.accountId !== accountId) continue;
      out.push({
        accessKeyId,
        accessKeySecret: session.secret,
        securityToken: session.token,
        expiresAt: session.expiresAt,
        principal: session.principal,
      });
    }
    return out;
  }

  /** Number of live STS sessions (for the env/diagnostics). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private forgetExpired(): void {
    const cutoff = this.clock.now() - FORGET_AFTER_MS;
    for (const [accessKeyId, session] of this.sessions) {
      if (session.expiresAt < cutoff) this.sessions.delete(accessKeyId);
    }
  }
}
