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
