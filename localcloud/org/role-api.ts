// What RAM's and ResourceManager's role operations share: they act on the CALLER's own account,
// as in the cloud (a member's roles are reachable only with that member's credentials), answer a
// role in the same shape, and report the directory's refusals as POP errors.

import type { Principal } from '../core/contracts';
import { PopError } from '../core/pop';
import { type Account, type Organization, OrganizationError, type Role } from './organization';

/** The account whose roles the caller may see; services have none. */
export function callerAccount(organization: Organization, caller: Principal): Account {
  const account = caller.accountId ? organization.accounts.get(caller.accountId) : undefined;
  if (!account) {
    throw new PopError(
      403,
      'NoPermission',
      `You are not authorized to do this action. ${caller.arn} does not belong to an account; role APIs act on the caller's own account.`,
    );
  }
  return account;
}

export function requireRole(organization: Organization, account: Account, roleName: string): Role {
  const role = organization.findRole(account.id, roleName);
  if (!role) {
    throw new PopError(404, 'EntityNotExist.Role', `The role not exists: ${roleName}.`);
  }
  return role;
}

export function rolePrincipalName(accountId: string, role: Role): string {
  return `${role.name}@role.${accountId}.onaliyunservice.com`;
}

/** Resource ARN of a role, for session-policy checks. */
export function roleResource(accountId: string, roleName: string): string {
  return `acs:ram::${accountId}:role/${roleName.toLowerCase()}`;
}

/** A role as RAM's GetRole answers it. */
export function roleBody(
  organization: Organization,
  accountId: string,
  role: Role,
): Record<string, unknown> {
  return {
    Arn: organization.roleArn(accountId, role),
    AssumeRolePolicyDocument: role.trustPolicy,
    CreateDate: role.createDate,
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    RoleId: role.roleId,
    RoleName: role.name,
    UpdateDate: role.updateDate,
  };
}

/** A role as ResourceManager's GetRole answers it: RAM's fields, and whether it is service-linked. */
export function directoryRoleBody(
  organization: Organization,
  accountId: string,
  role: Role,
): Record<string, unknown> {
  return {
    ...roleBody(organization, accountId, role),
    IsServiceLinkedRole: role.serviceName !== undefined,
    RolePrincipalName: rolePrincipalName(accountId, role),
  };
}

/** The directory's refusals (OrganizationError) as the POP error the services answer. */
export function mapOrganizationError(error: unknown): PopError | undefined {
  if (error instanceof OrganizationError)
    return new PopError(error.status, error.code, error.message);
  return undefined;
}
