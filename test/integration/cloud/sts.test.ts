// Cross-account access through the official STS SDK against localcloud: the functions' role
// (assumed as FC would, by the fc.aliyuncs.com service principal) assumes the member access role.
import * as Ram from '@alicloud/ram20150501';
import * as Sts from '@alicloud/sts20150401';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { createOpenApiClient } from '../../../shared/cloud/openapi';
import {
  createMemberCredentialCache,
  createStsAssumeRole,
  MemberAccess,
  roleSessionName,
  sessionPolicyAllowing,
  type TemporaryCredentials,
} from '../../../shared/cloud/sts';
import { MemberAccessDenied } from '../../../shared/errors';
import type { CloudCredentials } from '../../../shared/runtime/context';
import { FUNCTION_ROLE, memberId, testOrganization } from '../../support/organization';

let cloud: LocalCloud;
let functionCredentials: TemporaryCredentials;

const noRetry = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

function assumeRoleAs(credentials: CloudCredentials, callerAccountId: string) {
  return createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials,
    callerAccountId,
    retry: noRetry,
  });
}

async function callerIdentity(credentials: CloudCredentials) {
  const client = createOpenApiClient(
    Sts.default,
    { endpoint: cloud.env.endpoints.sts, protocol: 'http' },
    credentials,
  );
  return (await client.getCallerIdentity()).body;
}

beforeAll(async () => {
  const organization = testOrganization({ members: 6 });
  // member-004 has no access role at all; member-005's access role trusts another account only.
  organization.members = organization.members.map((m) =>
    m.name === 'member-004'
      ? { ...m, withoutAccessRole: true }
      : m.name === 'member-005'
        ? {
            ...m,
            withoutAccessRole: true,
            roles: [
              {
                name: 'ResourceDirectoryAccountAccessRole',
                trustedPrincipals: ['1999999999999999'],
              },
            ],
          }
        : m,
  );
  cloud = await startLocalCloud({ port: 0, organization });
  const fc = cloud.env.servicePrincipals['fc.aliyuncs.com'];
  if (!fc) throw new Error('localcloud env has no fc.aliyuncs.com service principal');
  functionCredentials = await assumeRoleAs(
    fc,
    'fc.aliyuncs.com',
  )({
    accountId: cloud.env.managementAccountId,
    roleArn: `acs:ram::${cloud.env.managementAccountId}:role/${FUNCTION_ROLE}`,
    sessionName: 'fc-integration',
    durationSeconds: 3600,
  });
});
afterAll(async () => {
  await cloud?.stop();
});

function memberAccess(sessionPolicy?: string) {
  return new MemberAccess({
    roleName: 'ResourceDirectoryAccountAccessRole',
    assumeRole: assumeRoleAs(functionCredentials, cloud.env.managementAccountId),
    cache: createMemberCredentialCache(),
    sessionName: roleSessionName('rdgov-api', 'integration-request-1'),
    ...(sessionPolicy ? { sessionPolicy } : {}),
  });
}

describe('member access over STS', () => {
  it('assumes the member access role: the credentials act in the member', async () => {
    const credentials = await memberAccess().credentialsFor(memberId(1));
    expect(credentials.securityToken).toBeTruthy();
    expect(credentials.expiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    const identity = await callerIdentity(credentials);
    expect(identity?.accountId).toBe(memberId(1));
    expect(identity?.arn?.toLowerCase()).toContain(
      'role/resourcedirectoryaccountaccessrole/rdgov-api.integration-request-1',
    );
  });

  it('reports each member: a missing role and a trust policy without the caller are MemberAccessDenied with the role ARN', async () => {
    const results = await memberAccess().forMembers([
      memberId(1),
      memberId(4),
      memberId(2),
      memberId(5),
    ]);
    expect(results.map((r) => [r.accountId, r.ok])).toEqual([
      [memberId(1), true],
      [memberId(4), false],
      [memberId(2), true],
      [memberId(5), false],
    ]);
    for (const result of results) {
      if (result.ok) continue;
      expect(result.error).toBeInstanceOf(MemberAccessDenied);
      const denied = result.error as MemberAccessDenied;
      expect(denied.roleArn).toBe(
        `acs:ram::${result.accountId}:role/ResourceDirectoryAccountAccessRole`,
      );
      expect(denied.cloudCode).not.toBe('');
      expect(denied.message).toContain(result.accountId);
      expect(denied.message).not.toMatch(/^AccessDenied$/);
    }
  });

  it('keeps credentials per member: a second request for the member reuses them', async () => {
    const access = memberAccess();
    const first = await access.credentialsFor(memberId(3));
    const again = await Promise.all([
      access.credentialsFor(memberId(3)),
      access.credentialsFor(memberId(3)),
    ]);
    expect(again.every((c) => c.accessKeyId === first.accessKeyId)).toBe(true);
  });

  it('passes its session policy, which STS keeps with the token: identity works, other calls are refused', async () => {
    const access = memberAccess(sessionPolicyAllowing([]));
    const credentials = await access.credentialsFor(memberId(2));
    expect((await callerIdentity(credentials))?.accountId).toBe(memberId(2));
    const ram = createOpenApiClient(
      Ram.default,
      { endpoint: cloud.env.endpoints.ram, protocol: 'http' },
      credentials,
    );
    await expect(
      ram.getRole(new Ram.GetRoleRequest({ roleName: 'ResourceDirectoryAccountAccessRole' })),
    ).rejects.toMatchObject({ code: 'NoPermission' });
  });
});
