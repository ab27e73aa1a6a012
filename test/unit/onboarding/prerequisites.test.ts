// Prerequisites: each failed check says what is wrong and how to fix it; outages are not verdicts.

import { describe, expect, it } from 'vitest';
import type { DirectoryRoot } from '../../../shared/directory/ports';
import { CloudApiError } from '../../../shared/errors';
import { checkPrerequisites, PrerequisitesNotMet } from '../../../shared/onboarding/prerequisites';

const root: DirectoryRoot = {
  resourceDirectoryId: 'rd-abc',
  managementAccountId: '1000000000000001',
  rootFolderId: 'r-abc',
  delegations: [
    { accountId: '1000000000000002', displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' },
  ],
};
const reads = (value: DirectoryRoot) => ({ readRoot: async () => value });
const fails = (kind: 'denied' | 'throttled' | 'rejected', cloudCode: string) => ({
  readRoot: async (): Promise<DirectoryRoot> => {
    throw new CloudApiError({
      service: 'ResourceManager',
      api: 'GetResourceDirectory',
      accountId: '1000000000000009',
      kind,
      cloudCode,
      cloudMessage: 'no',
    });
  },
});
const settings = {
  callerAccountId: '1000000000000001',
  memberAccessRole: 'ResourceDirectoryAccountAccessRole',
};

describe('checkPrerequisites', () => {
  it('passes in the management account', async () => {
    const report = await checkPrerequisites(reads(root), settings);
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.ok && c.fix === undefined)).toBe(true);
  });

  it('a delegated administrator passes only for the configured service principal', async () => {
    const caller = { ...settings, callerAccountId: '1000000000000002' };
    expect(
      (await checkPrerequisites(reads(root), { ...caller, servicePrincipal: 'sas.aliyuncs.com' }))
        .ok,
    ).toBe(true);
    const other = await checkPrerequisites(reads(root), {
      ...caller,
      servicePrincipal: 'cloudfw.aliyuncs.com',
    });
    const check = other.checks.find((c) => c.name === 'administrator-account');
    expect(check?.ok).toBe(false);
    expect(check?.message).toContain('it is for sas.aliyuncs.com');
    expect(check?.fix).toContain('RegisterDelegatedAdministrator');
    const unset = await checkPrerequisites(reads(root), caller);
    expect(unset.checks.find((c) => c.name === 'administrator-account')?.message).toContain(
      'no DELEGATED_SERVICE_PRINCIPAL',
    );
  });

  it('reports Resource Directory not enabled with how to enable it', async () => {
    const report = await checkPrerequisites(
      fails('rejected', 'EntityNotExists.ResourceDirectory'),
      settings,
    );
    expect(report.ok).toBe(false);
    const check = report.checks.find((c) => c.name === 'resource-directory-enabled');
    expect(check?.message).toContain('not enabled');
    expect(check?.fix).toContain('EnableResourceDirectory');
    expect(() => {
      throw new PrerequisitesNotMet(report);
    }).toThrow(/Scope changes are refused/);
  });

  it('a denied read fails the check with the permission to grant; throttling is rethrown', async () => {
    const denied = await checkPrerequisites(fails('denied', 'NoPermission'), settings);
    expect(denied.checks[0]?.fix).toContain('resourcemanager:GetResourceDirectory');
    await expect(
      checkPrerequisites(fails('throttled', 'Throttling.User'), settings),
    ).rejects.toThrow(CloudApiError);
  });
});

describe('checkPrerequisites, word for word', () => {
  const MGMT = '1000000000000001';
  const ADMIN = '1000000000000002';

  it('in the management account: three passing checks that say what they found', async () => {
    expect(await checkPrerequisites(reads(root), settings)).toStrictEqual({
      ok: true,
      root,
      checks: [
        {
          name: 'resource-directory-enabled',
          ok: true,
          message: `Resource Directory rd-abc is enabled (management account ${MGMT})`,
        },
        {
          name: 'administrator-account',
          ok: true,
          message: `The functions run in the management account ${MGMT}`,
        },
        {
          name: 'member-access-role',
          ok: true,
          message:
            'Members are reached through role ResourceDirectoryAccountAccessRole (acs:ram::<member>:role/ResourceDirectoryAccountAccessRole)',
        },
      ],
    });
  });

  it('a delegated administrator for the configured service, or for another', async () => {
    const delegated = { ...settings, callerAccountId: ADMIN, servicePrincipal: 'sas.aliyuncs.com' };
    expect((await checkPrerequisites(reads(root), delegated)).checks[1]).toStrictEqual({
      name: 'administrator-account',
      ok: true,
      message: `Account ${ADMIN} is a delegated administrator for sas.aliyuncs.com`,
    });
    const other = await checkPrerequisites(reads(root), {
      ...delegated,
      servicePrincipal: 'x.aliyuncs.com',
    });
    expect(other.ok).toBe(false);
    expect(other.checks[1]).toStrictEqual({
      name: 'administrator-account',
      ok: false,
      message: `Account ${ADMIN} is not a delegated administrator for x.aliyuncs.com (it is for sas.aliyuncs.com)`,
      fix: `Deploy in the management account ${MGMT}, or have it run RegisterDelegatedAdministrator for account ${ADMIN} and service principal x.aliyuncs.com and set DELEGATED_SERVICE_PRINCIPAL.`,
    });
    const stranger = {
      ...settings,
      callerAccountId: '1000000000000009',
      servicePrincipal: 'sas.aliyuncs.com',
    };
    expect((await checkPrerequisites(reads(root), stranger)).checks[1]?.message).toBe(
      'Account 1000000000000009 is not a delegated administrator for sas.aliyuncs.com',
    );
    const unset = await checkPrerequisites(reads(root), { ...settings, callerAccountId: ADMIN });
    expect(unset.checks[1]).toStrictEqual({
      name: 'administrator-account',
      ok: false,
      message: `Account ${ADMIN} is not the management account (${MGMT}) and no DELEGATED_SERVICE_PRINCIPAL is configured`,
      fix: `Deploy in the management account ${MGMT}, or have it run RegisterDelegatedAdministrator for account ${ADMIN} and service principal <DELEGATED_SERVICE_PRINCIPAL> and set DELEGATED_SERVICE_PRINCIPAL.`,
    });
  });

  it('a directory that cannot be read: why, how to fix it, and the administrator check waits', async () => {
    const notEnabled = await checkPrerequisites(
      fails('rejected', 'EntityNotExists.ResourceDirectory'),
      settings,
    );
    expect(notEnabled).toStrictEqual({
      ok: false,
      checks: [
        {
          name: 'resource-directory-enabled',
          ok: false,
          message: `Resource Directory is not enabled for account ${MGMT}`,
          fix: 'Enable Resource Directory in the management account (Resource Management console, or EnableResourceDirectory), or deploy in an account of an enabled directory.',
        },
        {
          name: 'administrator-account',
          ok: false,
          message:
            'Cannot tell whether this account administers the directory: it could not be read',
          fix: 'Fix resource-directory-enabled first.',
        },
        expect.objectContaining({ name: 'member-access-role', ok: true }),
      ],
    });
    const denied = await checkPrerequisites(fails('denied', 'NoPermission'), settings);
    expect(denied.checks[0]).toStrictEqual({
      name: 'resource-directory-enabled',
      ok: false,
      message: `The Resource Directory could not be read as account ${MGMT}: ResourceManager GetResourceDirectory as account 1000000000000009 failed: NoPermission: no.`,
      fix: "Grant the function's role resourcemanager:GetResourceDirectory and resourcemanager:ListDelegatedAdministrators (deploy/function-role-policy.json).",
    });
  });

  it('outages and throttling are rethrown, and so is anything that is not a cloud error', async () => {
    for (const kind of ['throttled', 'unavailable'] as const) {
      await expect(
        checkPrerequisites(fails(kind as never, 'ServiceUnavailable'), settings),
      ).rejects.toBeInstanceOf(CloudApiError);
    }
    const broken = {
      readRoot: async (): Promise<DirectoryRoot> => {
        throw new TypeError('bug');
      },
    };
    await expect(checkPrerequisites(broken, settings)).rejects.toThrow('bug');
  });

  it('the member access role must be a RAM role name, whole', async () => {
    for (const role of ['x'.repeat(64), 'a.b-c', 'Role1']) {
      expect(
        (await checkPrerequisites(reads(root), { ...settings, memberAccessRole: role })).ok,
      ).toBe(true);
    }
    for (const role of ['', 'x'.repeat(65), 'has space', '-ok-but-then!', '!bad', 'bad!']) {
      const report = await checkPrerequisites(reads(root), { ...settings, memberAccessRole: role });
      expect(report.checks[2]).toStrictEqual({
        name: 'member-access-role',
        ok: false,
        message: `MEMBER_ACCESS_ROLE ${JSON.stringify(role)} is not a RAM role name`,
        fix: 'Set MEMBER_ACCESS_ROLE to the role every member trusts the administrator with.',
      });
      expect(report.ok).toBe(false);
    }
  });

  it('names every service a delegated administrator holds when none is the one configured', async () => {
    const twice: DirectoryRoot = {
      ...root,
      delegations: [
        { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'sas.aliyuncs.com' },
        { accountId: ADMIN, displayName: 'sec', servicePrincipal: 'cloudfw.aliyuncs.com' },
      ],
    };
    const report = await checkPrerequisites(reads(twice), {
      ...settings,
      callerAccountId: ADMIN,
      servicePrincipal: 'x.aliyuncs.com',
    });
    expect(report.checks[1]?.message).toBe(
      `Account ${ADMIN} is not a delegated administrator for x.aliyuncs.com (it is for sas.aliyuncs.com, cloudfw.aliyuncs.com)`,
    );
  });

  it('PrerequisitesNotMet joins several failed checks', async () => {
    const report = await checkPrerequisites(reads(root), {
      ...settings,
      callerAccountId: '1000000000000009',
      memberAccessRole: 'bad role',
    });
    expect(new PrerequisitesNotMet(report).message).toBe(
      'Scope changes are refused until the prerequisites pass: administrator-account: Account 1000000000000009 is not the management account (1000000000000001) and no DELEGATED_SERVICE_PRINCIPAL is configured; member-access-role: MEMBER_ACCESS_ROLE "bad role" is not a RAM role name. See GET /v1/prerequisites.',
    );
  });

  it('PrerequisitesNotMet lists only the failed checks', async () => {
    const report = await checkPrerequisites(reads(root), {
      ...settings,
      memberAccessRole: 'bad role',
    });
    const error = new PrerequisitesNotMet(report);
    expect(error).toMatchObject({
      status: 409,
      code: 'PrerequisitesNotMet',
      message:
        'Scope changes are refused until the prerequisites pass: member-access-role: MEMBER_ACCESS_ROLE "bad role" is not a RAM role name. See GET /v1/prerequisites.',
      details: { failed: [report.checks[2]] },
    });
  });
});
