// Role APIs act on the CALLER's own account, as in the cloud: a member's roles are reachable only
// with that member's credentials. Shared by RAM and ResourceManager's role operations.

import type { Principal } from '../../core/contracts';
import { PopError } from '../../core/pop';
import type { Account, Organization, Role } from '../../org/organization';

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
