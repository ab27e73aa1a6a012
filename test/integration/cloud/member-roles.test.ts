// A member's roles through the official RAM and ResourceManager SDKs against localcloud, with the
// member's temporary credentials (AssumeRole into ResourceDirectoryAccountAccessRole with the
// management account's admin keys).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import type { RetryOptions } from '../../../shared/cloud/openapi';
import { createMemberRoles, createMemberRolesAccess } from '../../../shared/cloud/ram/member-roles';
import {
  createMemberCredentialCache,
  createStsAssumeRole,
  MemberAccess,
  memberRoleArn,
} from '../../../shared/cloud/sts';
import type { CloudCredentials } from '../../../shared/runtime/context';
import { memberId, testOrganization } from '../../support/organization';

const ACCESS_ROLE = 'ResourceDirectoryAccountAccessRole';
const noRetry: RetryOptions = { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } };
let cloud: LocalCloud;

beforeAll(async () => {
  const organization = testOrganization({ members: 4 });
  // member-001 already has Security Center's multi-account role; the others have none.
  organization.members = organization.members.map((m) =>
    m.name === 'member-001' ? { ...m, serviceLinkedRoles: ['rd.sas.aliyuncs.com'] } : m,
  );
  cloud = await startLocalCloud({ port: 0, organization });
});
afterAll(async () => {
  await cloud?.stop();
});
afterEach(() => {
  cloud.control.clearFaults();
});

function managementKeys(): CloudCredentials {
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('no management account in localcloud env');
  return { accessKeyId: management.accessKeyId, accessKeySecret: management.accessKeySecret };
}

async function memberCredentials(accountId: string, policy?: string): Promise<CloudCredentials> {
  const assume = createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials: managementKeys(),
    callerAccountId: cloud.env.managementAccountId,
    ...noRetry,
  });
  const { accessKeyId, accessKeySecret, securityToken } = await assume({
    accountId,
    roleArn: memberRoleArn(accountId, ACCESS_ROLE),
    sessionName: 'member-roles-integration',
    durationSeconds: 900,
    ...(policy ? { policy } : {}),
  });
  return { accessKeyId, accessKeySecret, securityToken };
}

function rolesOf(accountId: string, credentials: CloudCredentials, retry: RetryOptions = noRetry) {
  return createMemberRoles({
    ramEndpoint: cloud.env.endpoints.ram,
    resourceManagerEndpoint: cloud.env.endpoints.resourcemanager,
    protocol: 'http',
    credentials,
    accountId,
    ...retry,
  });
}

function callsSince(since: number, service: string, action: string) {
  return cloud.control.calls({ service, action, since });
}

const lastSeq = () => Math.max(0, ...cloud.control.calls().map((c) => c.seq));

describe('member roles over RAM and ResourceManager', () => {
  it('finds a role the member has (service-linked or not)', async () => {
    const roles = rolesOf(memberId(1), await memberCredentials(memberId(1)));
    expect(await roles.getRole('AliyunServiceRoleForSasRd')).toEqual({ state: 'present' });
    // RAM role names are case-insensitive.
    expect(await roles.getRole('aliyunservicerolefor' + 'sasrd')).toEqual({ state: 'present' });
    expect(await roles.getRole(ACCESS_ROLE)).toEqual({ state: 'present' });
  });

  it('reports a role the member lacks as missing', async () => {
    const roles = rolesOf(memberId(2), await memberCredentials(memberId(2)));
    expect(await roles.getRole('AliyunServiceRoleForSasRd')).toEqual({ state: 'missing' });
    expect(await roles.getRole('AliyunServiceRoleForBdrcRd')).toEqual({ state: 'missing' });
  });

  it('creates a service-linked role in the member, which is then present; creating it again counts as created', async () => {
    const roles = rolesOf(memberId(2), await memberCredentials(memberId(2)));
    expect(await roles.getRole('AliyunServiceRoleForSasCloudSiem')).toEqual({ state: 'missing' });
    expect(await roles.createServiceLinkedRole('cloudsiem.sas.aliyuncs.com')).toEqual({
      created: true,
      roleName: 'AliyunServiceRoleForSasCloudSiem',
    });
    expect(await roles.getRole('AliyunServiceRoleForSasCloudSiem')).toEqual({ state: 'present' });
    expect(
      cloud.organization.findRole(memberId(2), 'AliyunServiceRoleForSasCloudSiem')?.serviceName,
    ).toBe('cloudsiem.sas.aliyuncs.com');
    // Only in that member.
    expect(cloud.organization.findRole(memberId(3), 'AliyunServiceRoleForSasCloudSiem')).toBe(
      undefined,
    );

    const since = lastSeq();
    expect(await roles.createServiceLinkedRole('cloudsiem.sas.aliyuncs.com')).toEqual({
      created: true,
    });
    expect(
      callsSince(since, 'resourcemanager', 'CreateServiceLinkedRole').map((c) => c.result),
    ).toEqual(['EntityAlreadyExists.Role']);
  });

  it('reports a service name the cloud does not take as not created, with the code', async () => {
    const roles = rolesOf(memberId(3), await memberCredentials(memberId(3)));
    const unknown = await roles.createServiceLinkedRole('nope.aliyuncs.com');
    expect(unknown).toMatchObject({ created: false, code: 'InvalidParameter.ServiceName' });
    if (unknown.created) throw new Error('unreachable');
    expect(unknown.reason).toContain(
      `ResourceManager CreateServiceLinkedRole as account ${memberId(3)}`,
    );
    expect(unknown.reason).toContain('ROLE_CATALOG_EXTRA');
    // localcloud does not accept an assumed, undocumented service name either.
    expect(await roles.createServiceLinkedRole('rd.bdrc.aliyuncs.com')).toMatchObject({
      created: false,
      code: 'InvalidParameter.ServiceName',
    });
    expect(cloud.organization.findRole(memberId(3), 'AliyunServiceRoleForBdrcRd')).toBe(undefined);
  });

  it("refuses another account's credentials: an answer about the wrong account is an error", async () => {
    // member-001's credentials, wired as if they were member-002's.
    const roles = rolesOf(memberId(2), await memberCredentials(memberId(1)));
    const lookup = await roles.getRole('AliyunServiceRoleForSasRd');
    expect(lookup).toMatchObject({ state: 'error', code: 'AccountMismatch' });
    if (lookup.state !== 'error') throw new Error('unreachable');
    expect(lookup.reason).toContain(`answered for account ${memberId(1)}`);
    expect(lookup.reason).toContain(memberId(2));
  });

  it('reports a refusal as an error with the cloud code, without retrying it', async () => {
    // A session narrowed to GetCallerIdentity: RAM refuses GetRole.
    const narrow = JSON.stringify({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }],
    });
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      sleep: async () => {},
    };
    const roles = rolesOf(memberId(1), await memberCredentials(memberId(1), narrow), retry);
    const since = lastSeq();
    const lookup = await roles.getRole('AliyunServiceRoleForSasRd');
    expect(lookup).toMatchObject({ state: 'error', code: 'NoPermission' });
    if (lookup.state !== 'error') throw new Error('unreachable');
    expect(lookup.reason).toMatch(/RAM GetRole as account \d+ failed: NoPermission/);
    expect(lookup.reason).toContain('ram:GetRole');
    expect(callsSince(since, 'ram', 'GetRole')).toHaveLength(1);

    const created = await roles.createServiceLinkedRole('rd.sas.aliyuncs.com');
    expect(created).toMatchObject({ created: false, code: 'NoPermission' });

    const forged = rolesOf(memberId(1), {
      ...(await memberCredentials(memberId(1))),
      accessKeySecret: 'not-the-secret',
    });
    expect(await forged.getRole(ACCESS_ROLE)).toMatchObject({ state: 'error' });
  });

  it('retries throttling, then answers', async () => {
    const credentials = await memberCredentials(memberId(1));
    cloud.control.addFault({ service: 'ram', action: 'GetRole', kind: 'throttle', rate: 1 });
    const sleeps: number[] = [];
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      sleep: async (ms: number) => {
        sleeps.push(ms);
        // The throttling passes while the adapter waits.
        cloud.control.clearFaults();
      },
    };
    const since = lastSeq();
    expect(await rolesOf(memberId(1), credentials, retry).getRole(ACCESS_ROLE)).toEqual({
      state: 'present',
    });
    const calls = callsSince(since, 'ram', 'GetRole');
    expect(calls.map((c) => [c.result, c.injected ?? false])).toEqual([
      ['Throttling.Api', true],
      ['ok', false],
    ]);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up after the retry budget with the throttling code', async () => {
    const credentials = await memberCredentials(memberId(1));
    cloud.control.addFault({ service: 'ram', action: 'GetRole', kind: 'throttle', rate: 1 });
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      sleep: async () => {},
    };
    const since = lastSeq();
    const lookup = await rolesOf(memberId(1), credentials, retry).getRole(ACCESS_ROLE);
    expect(lookup).toMatchObject({ state: 'error', code: 'Throttling.Api' });
    expect(callsSince(since, 'ram', 'GetRole')).toHaveLength(3);
  });

  it('retries a 5xx on CreateServiceLinkedRole and creates the role once', async () => {
    const credentials = await memberCredentials(memberId(3));
    cloud.control.addFault({
      service: 'resourcemanager',
      action: 'CreateServiceLinkedRole',
      kind: 'error5xx',
      rate: 1,
    });
    const retry: RetryOptions = {
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      sleep: async () => {
        cloud.control.clearFaults();
      },
    };
    const since = lastSeq();
    expect(
      await rolesOf(memberId(3), credentials, retry).createServiceLinkedRole(
        'audit.log.aliyuncs.com',
      ),
    ).toEqual({ created: true, roleName: 'AliyunServiceRoleForSLSAudit' });
    expect(
      callsSince(since, 'resourcemanager', 'CreateServiceLinkedRole').map((c) => c.result),
    ).toEqual(['ServiceUnavailable', 'ok']);
  });
});

describe('member roles through MemberAccess (credentials cached per member)', () => {
  function rolesAccess() {
    const access = new MemberAccess({
      roleName: ACCESS_ROLE,
      cache: createMemberCredentialCache(),
      sessionName: 'member-roles-access',
      assumeRole: createStsAssumeRole({
        endpoint: cloud.env.endpoints.sts,
        protocol: 'http',
        credentials: managementKeys(),
        callerAccountId: cloud.env.managementAccountId,
        ...noRetry,
      }),
    });
    return createMemberRolesAccess({
      access,
      ramEndpoint: cloud.env.endpoints.ram,
      resourceManagerEndpoint: cloud.env.endpoints.resourcemanager,
      protocol: 'http',
      ...noRetry,
    });
  }

  async function reach(access: ReturnType<typeof rolesAccess>, accountId: string) {
    const reached = await access(accountId);
    if (!reached.ok) throw new Error(`${accountId} unreachable: ${reached.reason}`);
    return reached.roles;
  }

  it('drops the session of a deleted access role and answers unreachable, with the role ARN and STS refusal', async () => {
    const target = memberId(2);
    const trust = cloud.organization.findRole(target, ACCESS_ROLE)?.trustPolicy ?? '';
    const access = rolesAccess();
    expect(await (await reach(access, target)).getRole(ACCESS_ROLE)).toEqual({ state: 'present' });
    try {
      cloud.control.deleteRole(target, ACCESS_ROLE);
      const since = lastSeq();
      // The cached session is still handed out: the member refuses it, then AssumeRole fails.
      const roles = await reach(access, target);
      const [first, second] = await Promise.all([
        roles.getRole('AliyunServiceRoleForSasRd'),
        roles.getRole('AliyunServiceRoleForSasCloudSiem'),
      ]);
      for (const lookup of [first, second]) {
        expect(lookup).toEqual({
          state: 'unreachable',
          refusal: {
            roleArn: memberRoleArn(target, ACCESS_ROLE),
            code: 'EntityNotExist.Role',
            reason: expect.stringContaining(ACCESS_ROLE),
          },
        });
      }
      expect(callsSince(since, 'ram', 'GetRole').map((c) => c.result)).toEqual([
        'NoPermission',
        'NoPermission',
      ]);
      // One AssumeRole for both refused calls.
      expect(callsSince(since, 'sts', 'AssumeRole').map((c) => c.result)).toEqual([
        'EntityNotExist.Role',
      ]);
      // Asked again, the member is unreachable from the start: nothing is cached for it.
      expect(await access(target)).toMatchObject({ ok: false, code: 'EntityNotExist.Role' });

      // Created again (a new role id): the old session is refused once, a new one answers.
      cloud.control.addRole(target, { name: ACCESS_ROLE, trustPolicy: trust });
      const renewed = rolesAccess();
      expect(await (await reach(renewed, target)).getRole(ACCESS_ROLE)).toEqual({
        state: 'present',
      });
    } finally {
      if (!cloud.organization.findRole(target, ACCESS_ROLE)) {
        cloud.control.addRole(target, { name: ACCESS_ROLE, trustPolicy: trust });
      }
    }
  });

  it('a session refused after the role was created again is renewed once and the call answered', async () => {
    const target = memberId(3);
    const trust = cloud.organization.findRole(target, ACCESS_ROLE)?.trustPolicy ?? '';
    const access = rolesAccess();
    expect(await (await reach(access, target)).getRole(ACCESS_ROLE)).toEqual({ state: 'present' });
    cloud.control.deleteRole(target, ACCESS_ROLE);
    cloud.control.addRole(target, { name: ACCESS_ROLE, trustPolicy: trust });
    const since = lastSeq();
    const roles = await reach(access, target);
    expect(await roles.getRole('AliyunServiceRoleForSasRd')).toEqual({ state: 'missing' });
    expect(callsSince(since, 'ram', 'GetRole').map((c) => c.result)).toEqual([
      'NoPermission',
      'EntityNotExist.Role',
    ]);
    expect(callsSince(since, 'sts', 'AssumeRole').map((c) => c.result)).toEqual(['ok']);
  });
});
