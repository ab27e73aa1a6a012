import type { DirectorySnapshot, MemberRecord } from '../../shared/directory/model';

export function member(
  accountId: string,
  folderId: string,
  overrides: Partial<MemberRecord> = {},
): MemberRecord {
  return {
    accountId,
    displayName: `member-${accountId}`,
    folderId,
    joinMethod: 'created',
    type: 'ResourceAccount',
    status: 'CreateSuccess',
    joinTime: '2024-01-01T00:00:00Z',
    modifyTime: null,
    ...overrides,
  };
}

/** Root > Production > Web, Root > Sandbox; members in Root, Web and Sandbox. */
export function sampleSnapshot(): DirectorySnapshot {
  return {
    resourceDirectoryId: 'rd-abc123',
    managementAccountId: '1000000000000001',
    managementAccountName: 'management',
    rootFolderId: 'r-root01',
    folders: [
      { id: 'r-root01', name: 'Root', parentId: null },
      { id: 'fd-web', name: 'Web', parentId: 'fd-prod' },
      { id: 'fd-prod', name: 'Production', parentId: 'r-root01' },
      { id: 'fd-sandbox', name: 'Sandbox', parentId: 'r-root01' },
    ],
    members: [
      member('2000000000000003', 'fd-web', { displayName: 'web-b' }),
      member('2000000000000002', 'fd-web', {
        displayName: 'web-a',
        joinMethod: 'invited',
        type: 'CloudAccount',
        status: 'InviteSuccess',
      }),
      member('2000000000000004', 'fd-sandbox', { displayName: 'sandbox' }),
      member('1000000000000001', 'r-root01', {
        displayName: 'management',
        type: 'CloudAccount',
        joinMethod: 'invited',
      }),
    ],
    delegations: [
      { accountId: '2000000000000002', displayName: 'web-a', servicePrincipal: 'sas.aliyuncs.com' },
      {
        accountId: '2000000000000002',
        displayName: 'web-a',
        servicePrincipal: 'bastionhost.aliyuncs.com',
      },
      {
        accountId: '2000000000000004',
        displayName: 'sandbox',
        servicePrincipal: 'cloudfw.aliyuncs.com',
      },
    ],
  };
}
