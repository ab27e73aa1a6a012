// The coverage rules: which scopes cover an account, who can never be a member, and what a
// reconcile does for one account given the directory and the record it has.

import { describe, expect, it } from 'vitest';
import type { FolderRecord, MemberRecord } from '../../../shared/directory/model';
import {
  coveringScopes,
  desiredState,
  ineligibility,
  placeAll,
  planAccount,
  type ScopeRule,
} from '../../../shared/onboarding/coverage';
import type { ManagedMember } from '../../../shared/onboarding/model';

const MGMT = '1000000000000001';
const ADMIN = '1000000000000002';
const admin = {
  managementAccountId: MGMT,
  delegations: [{ accountId: ADMIN, displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' }],
};

// Root > Prod > Web, Root > Sandbox
const folders: FolderRecord[] = [
  { id: 'r-root', name: 'Root', parentId: null },
  { id: 'fd-prod', name: 'Prod', parentId: 'r-root' },
  { id: 'fd-web', name: 'Web', parentId: 'fd-prod' },
  { id: 'fd-sandbox', name: 'Sandbox', parentId: 'r-root' },
];

function record(accountId: string, folderId: string, joinMethod = 'created'): MemberRecord {
  return {
    accountId,
    displayName: `acct-${accountId.slice(-2)}`,
    folderId,
    joinMethod,
    type: 'ResourceAccount',
    status: 'CreateSuccess',
    joinTime: null,
    modifyTime: null,
  };
}

const WEB = '2000000000000010';
const SANDBOX = '2000000000000020';
const placements = placeAll(folders, [
  record(WEB, 'fd-web'),
  record(SANDBOX, 'fd-sandbox', 'invited'),
  record(MGMT, 'r-root'),
  record(ADMIN, 'fd-prod'),
]);

const scopes: ScopeRule[] = [
  { id: 'folder:fd-prod', kind: 'folder', targetId: 'fd-prod' },
  { id: `account:${SANDBOX}`, kind: 'account', targetId: SANDBOX },
];

function stored(desired: Partial<ManagedMember> & { accountId: string }): ManagedMember {
  return {
    status: 'managed',
    scopeIds: [],
    version: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...desired,
  };
}

describe('placeAll', () => {
  it('places each member with its folders from the root down', () => {
    expect(placements.get(WEB)?.folders.map((f) => f.id)).toEqual(['r-root', 'fd-prod', 'fd-web']);
    expect(placements.get(SANDBOX)?.folders.map((f) => f.id)).toEqual(['r-root', 'fd-sandbox']);
  });
});

describe('coveringScopes', () => {
  it('a folder scope covers nested folders; an account scope only its account', () => {
    const web = placements.get(WEB);
    const sandbox = placements.get(SANDBOX);
    if (!web || !sandbox) throw new Error('fixture');
    expect(coveringScopes(scopes, web)).toEqual(['folder:fd-prod']);
    expect(coveringScopes(scopes, sandbox)).toEqual([`account:${SANDBOX}`]);
    const withDirectory = [
      ...scopes,
      { id: 'directory:rd-1', kind: 'directory' as const, targetId: 'rd-1' },
    ];
    expect(coveringScopes(withDirectory, web)).toEqual(['directory:rd-1', 'folder:fd-prod']);
  });

  it('a folder scope does not cover a sibling folder', () => {
    const sandbox = placements.get(SANDBOX);
    if (!sandbox) throw new Error('fixture');
    expect(
      coveringScopes([{ id: 'folder:fd-web', kind: 'folder', targetId: 'fd-web' }], sandbox),
    ).toEqual([]);
  });
});

describe('ineligibility', () => {
  it('excludes the management account and delegated administrators, naming why', () => {
    expect(ineligibility(MGMT, admin)).toContain('management account');
    expect(ineligibility(ADMIN, admin)).toContain('delegated administrator (sas.aliyuncs.com)');
    expect(ineligibility(WEB, admin)).toBeUndefined();
  });

  it('a folder scope over a delegated administrator does not make it a member', () => {
    const desired = desiredState(ADMIN, placements.get(ADMIN), scopes, admin);
    expect(desired).toEqual({ covered: false, reason: expect.stringContaining('delegated') });
  });
});

describe('planAccount', () => {
  const want = desiredState(WEB, placements.get(WEB), scopes, admin);

  it('onboards a covered account with no record', () => {
    expect(planAccount(WEB, want, undefined)).toMatchObject({
      action: 'onboard',
      desired: {
        scopeIds: ['folder:fd-prod'],
        folderId: 'fd-web',
        folderPath: [
          { id: 'r-root', name: 'Root' },
          { id: 'fd-prod', name: 'Prod' },
          { id: 'fd-web', name: 'Web' },
        ],
        joinMethod: 'created',
      },
    });
  });

  it('leaves an up-to-date record alone', () => {
    if (!want.covered) throw new Error('fixture');
    expect(planAccount(WEB, want, stored({ ...want.member })).action).toBe('unchanged');
  });

  it('follows a move between covered folders as an update with from and to', () => {
    if (!want.covered) throw new Error('fixture');
    const current = stored({ ...want.member, folderId: 'fd-prod', folderPath: [] });
    expect(planAccount(WEB, want, current)).toMatchObject({
      action: 'update',
      moved: { fromFolderId: 'fd-prod', toFolderId: 'fd-web' },
    });
  });

  it('offboards a member that left the directory or every scope, saying which', () => {
    const current = stored({ accountId: WEB, scopeIds: ['folder:fd-prod'] });
    expect(planAccount(WEB, desiredState(WEB, undefined, scopes, admin), current)).toMatchObject({
      action: 'offboard',
      reason: 'left the Resource Directory',
    });
    expect(
      planAccount(WEB, desiredState(WEB, placements.get(WEB), [], admin), current),
    ).toMatchObject({
      action: 'offboard',
      reason: 'no scope covers it',
    });
  });

  it('retries members that are unreachable, still onboarding or were being offboarded', () => {
    if (!want.covered) throw new Error('fixture');
    for (const status of ['unreachable', 'onboarding', 'offboarding'] as const) {
      expect(planAccount(WEB, want, stored({ ...want.member, status })).action).toBe('retry');
    }
  });

  it('does nothing for an uncovered account with no record', () => {
    expect(
      planAccount(SANDBOX, desiredState(SANDBOX, placements.get(SANDBOX), [], admin), undefined),
    ).toEqual({
      action: 'none',
      accountId: SANDBOX,
    });
  });
});
