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
  sameFailure,
} from '../../../shared/onboarding/coverage';
import {
  MANAGED_SERVICES,
  type ManagedMember,
  managedServiceSchema,
  scopeIdFor,
} from '../../../shared/onboarding/model';

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

describe('planAccount: every field of the record is compared', () => {
  if (!placements.get(WEB)) throw new Error('fixture');
  const want = desiredState(WEB, placements.get(WEB), scopes, admin);
  if (!want.covered) throw new Error('fixture');
  const upToDate = stored({ ...want.member });

  it.each<[string, Partial<ManagedMember>]>([
    ['display name', { displayName: 'renamed' }],
    ['join method', { joinMethod: 'invited' }],
    ['join method now unknown', { joinMethod: undefined }],
    ['covering scopes', { scopeIds: ['folder:fd-prod', 'account:x'] }],
    ['covering scopes, same count', { scopeIds: ['folder:other'] }],
    [
      'folder path (a folder renamed)',
      {
        folderPath: [
          { id: 'r-root', name: 'Root' },
          { id: 'fd-prod', name: 'Production' },
          { id: 'fd-web', name: 'Web' },
        ],
      },
    ],
    [
      'folder path (an id changed)',
      {
        folderPath: [
          { id: 'r-root', name: 'Root' },
          { id: 'fd-prod2', name: 'Prod' },
          { id: 'fd-web', name: 'Web' },
        ],
      },
    ],
    ['folder path (shorter)', { folderPath: [{ id: 'r-root', name: 'Root' }] }],
    ['folder path (none kept)', { folderPath: undefined }],
  ])('a changed %s is an update in place, not a move', (_what, patch) => {
    expect(planAccount(WEB, want, { ...upToDate, ...patch })).toEqual({
      action: 'update',
      accountId: WEB,
      desired: want.member,
      current: { ...upToDate, ...patch },
    });
  });

  it('a changed folder is a move from the old folder to the new', () => {
    const current = { ...upToDate, folderId: 'fd-sandbox' };
    expect(planAccount(WEB, want, current)).toEqual({
      action: 'update',
      accountId: WEB,
      desired: want.member,
      current,
      moved: { fromFolderId: 'fd-sandbox', toFolderId: 'fd-web' },
    });
    const unknown = { ...upToDate, folderId: undefined };
    expect(planAccount(WEB, want, unknown)).toMatchObject({
      moved: { fromFolderId: undefined, toFolderId: 'fd-web' },
    });
  });

  it('what is not part of the record (status aside, version, times, failure) changes nothing', () => {
    const current = {
      ...upToDate,
      version: 9,
      updatedAt: '2027-01-01T00:00:00.000Z',
      lastReconcileAt: '2027-01-01T00:00:00.000Z',
    };
    expect(planAccount(WEB, want, current)).toEqual({
      action: 'unchanged',
      accountId: WEB,
      current,
    });
  });

  it('the offboard plan carries the record and the reason; the onboard plan the account', () => {
    const current = stored({ accountId: WEB });
    expect(planAccount(WEB, { covered: false, reason: 'why' }, current)).toEqual({
      action: 'offboard',
      accountId: WEB,
      current,
      reason: 'why',
    });
    expect(planAccount(WEB, want, undefined)).toEqual({
      action: 'onboard',
      accountId: WEB,
      desired: want.member,
    });
    const retrying = { ...upToDate, status: 'unreachable' as const };
    expect(planAccount(WEB, want, retrying)).toEqual({
      action: 'retry',
      accountId: WEB,
      desired: want.member,
      current: retrying,
    });
  });
});

describe('desiredState', () => {
  it('holds the account, its name, scopes, folder and path; a join method only when known', () => {
    const unknownJoin = placeAll(folders, [record(WEB, 'fd-web', 'Unknown')]).get(WEB);
    expect(desiredState(WEB, unknownJoin, scopes, admin)).toEqual({
      covered: true,
      member: {
        accountId: WEB,
        displayName: 'acct-10',
        scopeIds: ['folder:fd-prod'],
        folderId: 'fd-web',
        folderPath: [
          { id: 'r-root', name: 'Root' },
          { id: 'fd-prod', name: 'Prod' },
          { id: 'fd-web', name: 'Web' },
        ],
      },
    });
    const invited = desiredState(SANDBOX, placements.get(SANDBOX), scopes, admin);
    expect(invited).toMatchObject({ covered: true, member: { joinMethod: 'invited' } });
    const created = desiredState(WEB, placements.get(WEB), scopes, admin);
    expect(created).toMatchObject({ covered: true, member: { joinMethod: 'created' } });
  });

  it('says why an account is not covered', () => {
    expect(desiredState(WEB, undefined, scopes, admin)).toEqual({
      covered: false,
      reason: 'left the Resource Directory',
    });
    expect(desiredState(MGMT, placements.get(MGMT), scopes, admin)).toEqual({
      covered: false,
      reason: `account ${MGMT} is the management account of the Resource Directory`,
    });
    expect(desiredState(WEB, placements.get(WEB), [], admin)).toEqual({
      covered: false,
      reason: 'no scope covers it',
    });
  });
});

describe('ineligibility and scopes, exactly', () => {
  it('lists each service a delegated administrator holds once, sorted', () => {
    const several = {
      managementAccountId: MGMT,
      delegations: [
        { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' },
        { accountId: WEB, displayName: 'web', servicePrincipal: 'other.aliyuncs.com' },
        { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'cloudfw.aliyuncs.com' },
        { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' },
      ],
    };
    expect(ineligibility(ADMIN, several)).toBe(
      `account ${ADMIN} is a delegated administrator (cloudfw.aliyuncs.com, sas.aliyuncs.com)`,
    );
    expect(ineligibility(SANDBOX, several)).toBeUndefined();
  });

  it('an account scope covers only its own account, and scope ids come back sorted', () => {
    const web = placements.get(WEB);
    if (!web) throw new Error('fixture');
    expect(
      coveringScopes(
        [
          { id: 'z-account', kind: 'account', targetId: WEB },
          { id: 'b-other-account', kind: 'account', targetId: SANDBOX },
          { id: 'a-folder-by-account-id', kind: 'folder', targetId: WEB },
          { id: 'm-account-by-folder-id', kind: 'account', targetId: 'fd-web' },
          { id: 'c-directory', kind: 'directory', targetId: 'rd-x' },
        ],
        web,
      ),
    ).toEqual(['c-directory', 'z-account']);
  });
});

describe('placeAll, corners', () => {
  it('stops at a parent cycle and at an unknown folder', () => {
    const cyclic: FolderRecord[] = [
      { id: 'a', name: 'A', parentId: 'b' },
      { id: 'b', name: 'B', parentId: 'a' },
    ];
    const placed = placeAll(cyclic, [record(WEB, 'a'), record(SANDBOX, 'nowhere')]);
    expect(placed.get(WEB)?.folders.map((f) => f.id)).toEqual(['b', 'a']);
    expect(placed.get(SANDBOX)).toEqual({ member: record(SANDBOX, 'nowhere'), folders: [] });
  });

  it('members in one folder share its chain', () => {
    const placed = placeAll(folders, [record(WEB, 'fd-web'), record(SANDBOX, 'fd-web')]);
    expect(placed.get(SANDBOX)?.folders).toBe(placed.get(WEB)?.folders);
    expect(placed.get(SANDBOX)?.folders.map((f) => f.name)).toEqual(['Root', 'Prod', 'Web']);
  });
});

describe('sameFailure', () => {
  const failure = { reason: 'denied', code: 'NoPermission', roleArn: 'arn', at: 't1' };
  it('compares reason, code and role, not the time', () => {
    expect(sameFailure(failure, { ...failure, at: 't2' })).toBe(true);
    expect(sameFailure(failure, { ...failure, reason: 'other' })).toBe(false);
    expect(sameFailure(failure, { ...failure, code: 'Other' })).toBe(false);
    expect(sameFailure(failure, { ...failure, roleArn: 'other' })).toBe(false);
    expect(sameFailure(undefined, undefined)).toBe(true);
    expect(sameFailure(failure, undefined)).toBe(false);
    expect(sameFailure(undefined, failure)).toBe(false);
  });
});

describe('planAccount: a record that kept no folder path', () => {
  it('matches a desired member placed in no folder', () => {
    const placed = placeAll([], [record(WEB, 'gone')]).get(WEB);
    const want = desiredState(
      WEB,
      placed,
      [{ id: 'directory:rd', kind: 'directory', targetId: 'rd' }],
      admin,
    );
    if (!want.covered) throw new Error('fixture');
    expect(want.member.folderPath).toEqual([]);
    const { folderPath: _none, ...withoutPath } = want.member;
    expect(planAccount(WEB, want, stored(withoutPath)).action).toBe('unchanged');
  });
});

describe('model', () => {
  it('a service key outside the catalog is refused naming the keys allowed', () => {
    const parsed = managedServiceSchema.safeParse('waf');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(`must be one of ${MANAGED_SERVICES.join(', ')}`);
    expect(managedServiceSchema.parse('bdrc')).toBe('bdrc');
  });
  it('scope ids are kind:target', () => {
    expect(scopeIdFor('folder', 'fd-1')).toBe('folder:fd-1');
  });
});
