// Use cases of service-linked roles: check a member's roles (those its enabled services need),
// repair what is missing where policy allows, and report across the organization. Checks are
// observations: they never delete a role, and a repair only ever creates one.

import type { Caller } from '../domain/caller';
import { type Clock, isoNow, systemClock } from '../domain/clock';
import {
  type AccessRefusal,
  type ManagedMember,
  NotAManagedMember,
  type Scope,
} from '../onboarding/model';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import type { RoleCheck, RoleCheckState } from './model';
import type {
  MemberReachability,
  MemberRolesAccess,
  NeededRole,
  RoleCatalogPort,
  RoleStore,
} from './ports';

export type RepairPolicy = 'report' | 'repair';

export interface RoleResult {
  roleName: string;
  services: string[];
  serviceName: string | null;
  state: RoleCheckState;
  reason?: string;
  /** Set when this check created the role. */
  repaired?: boolean;
  checkedAt: string;
}

export interface MemberRoleReport {
  accountId: string;
  reachable: boolean;
  /** When unreachable: the role that could not be assumed and why. */
  roleArn?: string;
  reason?: string;
  roles: RoleResult[];
}

export interface ServiceLinkedRolesDeps {
  store: RoleStore;
  access: MemberRolesAccess;
  catalog: RoleCatalogPort;
  /** What a check does with a missing role. */
  policy: RepairPolicy;
  /** Where what a check or sweep found about reaching a member goes (onboarding's record). */
  reachability?: MemberReachability;
  /** Members checked at once. Default 8. */
  concurrency?: number;
  clock?: Clock;
  logger?: Logger;
}

export class ServiceLinkedRoles {
  private readonly clock: Clock;

  /** Read once per instance: an instance serves one invocation, whose onboarding of many
   *  members would otherwise read the scopes once per member. */
  private scopesRead: Promise<Scope[]> | undefined;

  constructor(private readonly deps: ServiceLinkedRolesDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  private scopes(): Promise<Scope[]> {
    if (!this.scopesRead) {
      const read = this.deps.store.scopes.list();
      this.scopesRead = read;
      // A failed read is not kept: the next caller reads again.
      read.catch(() => {
        if (this.scopesRead === read) this.scopesRead = undefined;
      });
    }
    return this.scopesRead;
  }

  /** The roles a member's covering scopes need. */
  async neededBy(
    member: Pick<ManagedMember, 'scopeIds'>,
    scopes?: readonly Scope[],
  ): Promise<NeededRole[]> {
    const all = scopes ?? (await this.scopes());
    const services = new Set(
      all.filter((s) => member.scopeIds.includes(s.id)).flatMap((s) => s.services),
    );
    return this.deps.catalog.rolesFor([...services].sort());
  }

  /** The roles a managed member needs and the last check of each; NotAManagedMember otherwise. */
  async memberRoles(
    accountId: string,
  ): Promise<{ accountId: string; needed: NeededRole[]; checks: RoleCheck[] }> {
    const member = await this.managed(accountId);
    const [needed, checks] = await Promise.all([
      this.neededBy(member),
      this.deps.store.roleChecks.listForMember(accountId),
    ]);
    return { accountId, needed, checks };
  }

  /**
   * `checkMember` for a managed member named by its id (NotAManagedMember otherwise); what it
   * found about reaching the member goes to the member's record.
   */
  async checkAccount(
    accountId: string,
    caller: Caller,
    options: { repair?: boolean } = {},
  ): Promise<MemberRoleReport> {
    const member = await this.managed(accountId);
    const { report, refusal } = await this.check(member, caller, options);
    await this.recordReachability(accountId, refusal, caller);
    return report;
  }

  private async managed(accountId: string): Promise<ManagedMember> {
    const member = await this.deps.store.members.get(accountId);
    if (!member) throw new NotAManagedMember(accountId);
    return member;
  }

  /**
   * Checks one member and records the result per role. `repair` overrides the policy (on-demand
   * repair); absent, the deployment's policy decides. The member's own record is left alone: this
   * is the check onboarding runs as one of its steps, and onboarding records the outcome.
   */
  async checkMember(
    member: Pick<ManagedMember, 'accountId' | 'scopeIds'>,
    caller: Caller,
    options: { repair?: boolean; scopes?: readonly Scope[] } = {},
  ): Promise<MemberRoleReport> {
    return (await this.check(member, caller, options)).report;
  }

  private async check(
    member: Pick<ManagedMember, 'accountId' | 'scopeIds'>,
    caller: Caller,
    options: { repair?: boolean; scopes?: readonly Scope[] },
  ): Promise<{ report: MemberRoleReport; refusal?: AccessRefusal }> {
    const needed = await this.neededBy(member, options.scopes);
    const repair = options.repair ?? this.deps.policy === 'repair';
    const access = await this.deps.access(member.accountId);
    const checkedAt = isoNow(this.clock);
    if (!access.ok) {
      const { roleArn, reason, code } = access;
      const refusal = code === undefined ? { roleArn, reason } : { roleArn, reason, code };
      const report = unreachableReport(member.accountId, needed, refusal, checkedAt);
      await this.recordChecks(report);
      return { report, refusal };
    }
    let refusal: AccessRefusal | undefined;
    const roles = await mapWithConcurrency(needed, 4, async (role): Promise<RoleResult> => {
      const base = {
        roleName: role.roleName,
        services: role.services,
        serviceName: role.serviceName,
        checkedAt,
      };
      const lookup = await access.roles.getRole(role.roleName);
      if (lookup.state === 'unreachable') {
        refusal ??= lookup.refusal;
        return { ...base, state: 'unreachable' };
      }
      if (lookup.state === 'present') return { ...base, state: 'present' };
      if (lookup.state === 'error') {
        return { ...base, state: 'error', reason: describe(lookup.code, lookup.reason) };
      }
      if (!repair) return { ...base, state: 'missing', reason: 'not found in the member' };
      if (role.serviceName === null) {
        return {
          ...base,
          state: 'missing',
          reason:
            'not found in the member; no documented service name to create it with: enable the service in the member once, which creates it',
        };
      }
      const created = await access.roles.createServiceLinkedRole(role.serviceName);
      if (!created.created && created.unreachable) {
        refusal ??= created.unreachable;
        return { ...base, state: 'unreachable' };
      }
      await this.deps.store.activity.append({
        accountId: member.accountId,
        cause: caller.cause,
        action: created.created ? 'role.repaired' : 'role.repair-failed',
        target: { type: 'role', id: `${member.accountId}/${role.roleName}` },
        outcome: created.created ? 'succeeded' : 'failed',
        detail: created.created
          ? `CreateServiceLinkedRole ${role.serviceName} created ${role.roleName}`
          : `CreateServiceLinkedRole ${role.serviceName} failed: ${describe(created.code, created.reason)}`,
        ...(caller.requestId ? { requestId: caller.requestId } : {}),
      });
      return created.created
        ? { ...base, state: 'present', repaired: true }
        : {
            ...base,
            state: 'missing',
            reason: `repair failed: ${describe(created.code, created.reason)}`,
          };
    });
    // The member refused its session and could not be reached again: whatever an earlier call
    // of this check read, it cannot be reached now, and every role is reported so.
    const report = refusal
      ? unreachableReport(member.accountId, needed, refusal, checkedAt)
      : { accountId: member.accountId, reachable: true, roles };
    await this.recordChecks(report);
    return refusal ? { report, refusal } : { report };
  }

  private async recordChecks(report: MemberRoleReport): Promise<void> {
    await this.deps.store.roleChecks.recordAll(
      report.roles.map(
        (role): RoleCheck => ({
          accountId: report.accountId,
          roleName: role.roleName,
          service: role.services.join(','),
          state: role.state,
          checkedAt: role.checkedAt,
          ...(role.reason ? { reason: role.reason } : {}),
        }),
      ),
    );
  }

  /** Tells onboarding what the check found; a failure to record it never fails the check. */
  private async recordReachability(
    accountId: string,
    refusal: AccessRefusal | undefined,
    caller: Caller,
  ): Promise<void> {
    if (!this.deps.reachability) return;
    try {
      await this.deps.reachability.record(
        accountId,
        refusal ? { reachable: false, refusal } : { reachable: true },
        caller,
      );
    } catch (error) {
      this.deps.logger?.warn('member reachability not recorded', {
        accountId,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Clears the checks kept for a member that left management. */
  async forgetMember(accountId: string): Promise<void> {
    await this.deps.store.roleChecks.clearMember(accountId);
  }

  /**
   * Checks several members; one failing member never stops the rest (its error is its result).
   * Members no longer managed are skipped.
   */
  async checkAccounts(
    accountIds: readonly string[],
    caller: Caller,
    options: { repair?: boolean } = {},
  ): Promise<Array<MemberRoleReport | { accountId: string; skipped: string }>> {
    const scopes = await this.scopes();
    return mapWithConcurrency(accountIds, this.deps.concurrency ?? 8, async (accountId) => {
      try {
        const member = await this.deps.store.members.get(accountId);
        if (!member) return { accountId, skipped: 'not a managed member' };
        const { report, refusal } = await this.check(member, caller, { ...options, scopes });
        await this.recordReachability(accountId, refusal, caller);
        return report;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.deps.logger?.warn('role check failed', { accountId, reason });
        return { accountId, skipped: `check failed: ${reason}` };
      }
    });
  }
}

/** Every needed role `unreachable`, naming the role that could not be assumed and why. */
function unreachableReport(
  accountId: string,
  needed: readonly NeededRole[],
  refusal: AccessRefusal,
  checkedAt: string,
): MemberRoleReport {
  const reason = describe(refusal.code, refusal.reason);
  return {
    accountId,
    reachable: false,
    roleArn: refusal.roleArn,
    reason,
    roles: needed.map((role) => ({
      roleName: role.roleName,
      services: role.services,
      serviceName: role.serviceName,
      state: 'unreachable',
      reason: `AssumeRole into ${refusal.roleArn} was refused: ${reason}`,
      checkedAt,
    })),
  };
}

function describe(code: string | undefined, reason: string): string {
  return code ? `${code}: ${reason}` : reason;
}
