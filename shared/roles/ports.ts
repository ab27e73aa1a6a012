// What the service-linked-role capability needs from the world: where it keeps its checks, what
// it reads of the management scope (members and scopes, which onboarding owns), a member's
// roles (read and create, with that member's credentials), the catalog of roles per service, and
// where what a check finds about reaching a member goes (async fan-out is shared/domain/fan-out.ts).

import type { ActivityLog } from '../domain/activity';
import type { Caller } from '../domain/caller';
import type { AccessRefusal, ManagedMember, Scope } from '../onboarding/model';
import type { Reachability } from '../onboarding/ports';

import type { RoleCheck } from './model';

/**
 * Role checks are observations that sweeps and onboarding may write out of order: a check is
 * kept only if it is newer than the one already kept for the same member and role.
 */
export interface RoleCheckRepository {
  /** Keeps each check unless one of the same member and role at the same time or later is. */
  recordAll(checks: readonly RoleCheck[]): Promise<Array<'recorded' | 'superseded'>>;
  listForMember(accountId: string): Promise<RoleCheck[]>;
  all(): AsyncIterable<RoleCheck>;
  /** Removes every check kept for a member (on offboarding). Returns how many were removed. */
  clearMember(accountId: string): Promise<number>;
}

/** The managed members, as onboarding keeps them (read only here). */
export interface ManagedMemberReader {
  get(accountId: string): Promise<ManagedMember | undefined>;
  list(): Promise<ManagedMember[]>;
}

/** The scopes, as onboarding keeps them (read only here). */
export interface ScopeReader {
  list(): Promise<Scope[]>;
}

/** Where role checks are kept and what they are checked against. */
export interface RoleStore {
  members: ManagedMemberReader;
  scopes: ScopeReader;
  roleChecks: RoleCheckRepository;
  activity: Pick<ActivityLog, 'append'>;
}

/** A role some enabled service needs in a member. */
export interface NeededRole {
  roleName: string;
  /** For CreateServiceLinkedRole; null where no service name is documented (check only). */
  serviceName: string | null;
  /** The project's service keys that need it, e.g. security-center. */
  services: string[];
}

export type RoleLookup =
  | { state: 'present' }
  | { state: 'missing' }
  | { state: 'error'; reason: string; code?: string }
  /** The member refused the session, and its access role could not be assumed again. */
  | { state: 'unreachable'; refusal: AccessRefusal };

export type RoleCreation =
  | { created: true; roleName?: string }
  | { created: false; reason: string; code?: string; unreachable?: AccessRefusal };

/**
 * One member's roles, reached with its temporary credentials. Credentials the member refuses
 * (its access role deleted or changed since they were issued) are dropped and the role assumed
 * again once; when that fails too the answer is `unreachable`.
 */
export interface MemberRoles {
  getRole(roleName: string): Promise<RoleLookup>;
  createServiceLinkedRole(serviceName: string): Promise<RoleCreation>;
}

export type MemberRolesAccess = (
  accountId: string,
) => Promise<{ ok: true; roles: MemberRoles } | ({ ok: false } & AccessRefusal)>;

/**
 * The management scope's record of whether a member can be reached (its status and failure),
 * which onboarding owns: a role check or sweep reports what it found, and onboarding decides what
 * the member's record says (with versioned writes, never over a newer record).
 */
export interface MemberReachability {
  record(accountId: string, observation: Reachability, caller: Caller): Promise<void>;
}

export interface RoleCatalogPort {
  rolesFor(services: readonly string[]): NeededRole[];
}
