// What the service-linked-role capability needs from the world: a member's roles (read and
// create, with that member's credentials), the catalog of roles per service, and async fan-out.

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
  | { state: 'error'; reason: string; code?: string };

export type RoleCreation =
  | { created: true; roleName?: string }
  | { created: false; reason: string; code?: string };

/** One member's roles, reached with its temporary credentials. */
export interface MemberRoles {
  getRole(roleName: string): Promise<RoleLookup>;
  createServiceLinkedRole(serviceName: string): Promise<RoleCreation>;
}

export type MemberRolesAccess = (
  accountId: string,
) => Promise<
  { ok: true; roles: MemberRoles } | { ok: false; roleArn: string; reason: string; code?: string }
>;

export interface RoleCatalogPort {
  rolesFor(services: readonly string[]): NeededRole[];
}

/** FC async invocation of a worker function. */
export interface FanOut {
  invokeAsync(functionName: string, payload: unknown): Promise<{ requestId: string }>;
}
