// Whether the account this deployment runs in could give up its delegation: never while it still
// manages members, and the answer says why either way.

import { describe, expect, it } from 'vitest';
import type { DirectoryRoot } from '../../../shared/directory/ports';
import { delegatedAdministratorRemovable } from '../../../shared/onboarding/delegated-administrator';
import type { ManagedMember } from '../../../shared/onboarding/model';

const MGMT = '1000000000000001';
const ADMIN = '1000000000000002';
const root: DirectoryRoot = {
  resourceDirectoryId: 'rd-1',
  managementAccountId: MGMT,
  rootFolderId: 'r-root',
  delegations: [
    { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' },
    { accountId: '1000000000000003', displayName: 'other', servicePrincipal: 'x.aliyuncs.com' },
    { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'cloudfw.aliyuncs.com' },
  ],
};

function member(accountId: string, displayName?: string): ManagedMember {
  return {
    accountId,
    status: 'managed',
    scopeIds: ['s'],
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...(displayName === undefined ? {} : { displayName }),
  };
}

const ask = (accountId: string, members: ManagedMember[]) =>
  delegatedAdministratorRemovable(
    { readRoot: async () => root },
    { list: async () => members },
    accountId,
  );

describe('delegatedAdministratorRemovable', () => {
  it('a delegated administrator that manages members may not give up its delegation', async () => {
    expect(
      await ask(ADMIN, [member('2000000000000001', 'web'), member('2000000000000002')]),
    ).toStrictEqual({
      accountId: ADMIN,
      delegatedAdministrator: true,
      servicePrincipals: ['cloudfw.aliyuncs.com', 'sas.aliyuncs.com'],
      removable: false,
      reason: `Delegated administrator ${ADMIN} still manages 2 members: remove them from every scope (DELETE /v1/scopes/...) before removing the delegation`,
      managedMembers: [
        { accountId: '2000000000000001', status: 'managed', displayName: 'web' },
        { accountId: '2000000000000002', status: 'managed' },
      ],
    });
  });

  it('one that manages none may', async () => {
    expect(await ask(ADMIN, [])).toMatchObject({
      delegatedAdministrator: true,
      removable: true,
      reason: `Delegated administrator ${ADMIN} manages no members: its delegation can be removed`,
      managedMembers: [],
    });
  });

  it('an account that is no delegated administrator is told so, and whether it manages members', async () => {
    expect(await ask('1000000000000009', [member('2000000000000001')])).toStrictEqual({
      accountId: '1000000000000009',
      delegatedAdministrator: false,
      servicePrincipals: [],
      removable: false,
      reason: 'Account 1000000000000009 is not a delegated administrator; it manages 1 members',
      managedMembers: [{ accountId: '2000000000000001', status: 'managed' }],
    });
    expect((await ask(MGMT, [])).reason).toBe(
      `Account ${MGMT} is not a delegated administrator (it is the management account); it manages no members`,
    );
  });
});
