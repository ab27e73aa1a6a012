// The delegated-administrator guard: the account this deployment runs in may not give up its
// delegation while it still manages members (their assets would lose their administrator).

import type { DirectorySource } from '../directory/ports';
import type { MemberRepository } from './ports';

export interface RemovableAnswer {
  accountId: string;
  delegatedAdministrator: boolean;
  servicePrincipals: string[];
  removable: boolean;
  reason: string;
  managedMembers: Array<{ accountId: string; displayName?: string; status: string }>;
}

export async function delegatedAdministratorRemovable(
  directory: Pick<DirectorySource, 'readRoot'>,
  members: Pick<MemberRepository, 'list'>,
  accountId: string,
): Promise<RemovableAnswer> {
  const [root, records] = await Promise.all([directory.readRoot(), members.list()]);
  const servicePrincipals = root.delegations
    .filter((d) => d.accountId === accountId)
    .map((d) => d.servicePrincipal)
    .sort();
  const managedMembers = records.map((m) => ({
    accountId: m.accountId,
    status: m.status,
    ...(m.displayName !== undefined ? { displayName: m.displayName } : {}),
  }));
  const delegatedAdministrator = servicePrincipals.length > 0;
  const removable = managedMembers.length === 0;
  const reason = !delegatedAdministrator
    ? `Account ${accountId} is not a delegated administrator${accountId === root.managementAccountId ? ' (it is the management account)' : ''}; ${removable ? 'it manages no members' : `it manages ${managedMembers.length} members`}`
    : removable
      ? `Delegated administrator ${accountId} manages no members: its delegation can be removed`
      : `Delegated administrator ${accountId} still manages ${managedMembers.length} members: remove them from every scope (DELETE /v1/scopes/...) before removing the delegation`;
  return {
    accountId,
    delegatedAdministrator,
    servicePrincipals,
    removable,
    reason,
    managedMembers,
  };
}
