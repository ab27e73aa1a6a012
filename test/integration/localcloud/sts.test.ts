// STS through the official SDK: who may assume which role, as the trust policy says.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOrganization,
  FUNCTION_ROLE_NAME,
  type LocalCloud,
  startLocalCloud,
} from '../../../localcloud/index';
import {
  accessRoleArn,
  assumeRole,
  failure,
  type Keys,
  management,
  members,
  ram,
  ramClient,
  rm,
  rmClient,
  rootKeys,
  sts,
  stsClient,
} from './support';

let cloud: LocalCloud;
let admin: Keys;
let memberA: { id: string; keys: Keys };
let memberB: { id: string; keys: Keys };

beforeAll(async () => {
  cloud = await startLocalCloud({ organization: buildOrganization({ members: 5, seed: 'sts' }) });
  admin = management(cloud);
  const [a, b] = members(cloud);
  if (!a || !b) throw new Error('need two members');
  memberA = { id: a.id, keys: a };
  memberB = { id: b.id, keys: b };
});
afterAll(async () => {
  await cloud.stop();
});

describe('AssumeRole', () => {
  it('lets the management account into a member, and GetCallerIdentity shows the assumed role', async () => {
    const response = await stsClient(cloud, admin).assumeRole(
      new sts.AssumeRoleRequest({
        roleArn: accessRoleArn(memberA.id),
        roleSessionName: 'fn-directory.req-42',
        durationSeconds: 1800,
      }),
    );
    const body = response.body;
    expect(body?.assumedRoleUser?.arn).toBe(
      `acs:ram::${memberA.id}:role/resourcedirectoryaccountaccessrole/fn-directory.req-42`,
    );
    expect(body?.credentials?.accessKeyId).toMatch(/^STS\.[A-Za-z0-9]+$/);
    const expiresAt = Date.parse(body?.credentials?.expiration ?? '');
    expect(Math.abs(expiresAt - (cloud.control.now() + 1800_000))).toBeLessThan(5_000);

    const session = {
      accessKeyId: body?.credentials?.accessKeyId ?? '',
      accessKeySecret: body?.credentials?.accessKeySecret ?? '',
      securityToken: body?.credentials?.securityToken ?? '',
    };
    const identity = (await stsClient(cloud, session).getCallerIdentity()).body;
    expect(identity?.accountId).toBe(memberA.id);
    expect(identity?.identityType).toBe('AssumedRoleUser');
    expect(identity?.arn).toBe(
      `acs:ram::${memberA.id}:assumed-role/resourcedirectoryaccountaccessrole/fn-directory.req-42`,
    );
    expect(identity?.principalId).toMatch(/^\d+:fn-directory\.req-42$/);
  });

  it('matches the role name case-insensitively', async () => {
    const session = await assumeRole(
      cloud,
      admin,
      `acs:ram::${memberA.id}:role/resourcedirectoryaccountaccessrole`,
    );
    expect(session.accessKeyId).toMatch(/^STS\./);
  });

  it('refuses root account keys', async () => {
    const error = await failure(
      stsClient(cloud, rootKeys(management(cloud))).assumeRole(
        new sts.AssumeRoleRequest({
          roleArn: accessRoleArn(memberA.id),
          roleSessionName: 'root-try',
        }),
      ),
    );
    expect(error.code).toBe('NoPermission');
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain('Roles may not be assumed by root accounts.');
  });

  it('refuses a caller the trust policy does not name (member B into member A)', async () => {
    const error = await failure(assumeRole(cloud, memberB.keys, accessRoleArn(memberA.id)));
    expect(error.code).toBe('NoPermission');
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain('No permission perform sts:AssumeRole on this Role');
  });

  it('follows trust policy changes made through the controls', async () => {
    const roleArn = accessRoleArn(memberB.id);
    // Break it: the role now trusts member A only, not the management account.
    cloud.control.setTrustPolicy(memberB.id, 'ResourceDirectoryAccountAccessRole', {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: [`acs:ram::${memberA.id}:root`] },
        },
      ],
    });
    expect((await failure(assumeRole(cloud, admin, roleArn))).code).toBe('NoPermission');
    await expect(assumeRole(cloud, memberA.keys, roleArn)).resolves.toHaveProperty('securityToken');

    // Through the HTTP control plane: trust only the management account's user `admin`.
    const response = await fetch(
      `${cloud.env.control}/accounts/${memberB.id}/roles/ResourceDirectoryAccountAccessRole/trust`,
      {
        method: 'PUT',
        body: JSON.stringify({
          Version: '1',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { RAM: [`acs:ram::${cloud.env.managementAccountId}:user/admin`] },
            },
          ],
        }),
      },
    );
    expect(response.status).toBe(200);
    await expect(assumeRole(cloud, admin, roleArn)).resolves.toHaveProperty('securityToken');
    expect((await failure(assumeRole(cloud, memberA.keys, roleArn))).code).toBe('NoPermission');
  });

  it('lets an explicit Deny win over an Allow', async () => {
    const role = cloud.control.addRole(memberA.id, {
      name: 'denied-for-admin',
      trustPolicy: JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { RAM: [cloud.env.managementAccountId] },
          },
          {
            Effect: 'Deny',
            Action: 'sts:AssumeRole',
            Principal: { RAM: [`acs:ram::${cloud.env.managementAccountId}:user/admin`] },
          },
        ],
      }),
    });
    const error = await failure(assumeRole(cloud, admin, role.arn));
    expect(error.code).toBe('NoPermission');
    expect(error.message).toContain('denies');
  });

  it('lets the FC service principal assume the functions role, and no one else', async () => {
    const fcKeys = cloud.env.servicePrincipals['fc.aliyuncs.com'];
    if (!fcKeys) throw new Error('no fc.aliyuncs.com keys in env');
    const roleArn = `acs:ram::${cloud.env.managementAccountId}:role/${FUNCTION_ROLE_NAME}`;
    const session = await assumeRole(cloud, fcKeys, roleArn, { sessionName: 'fc-api' });
    const identity = (await stsClient(cloud, session).getCallerIdentity()).body;
    expect(identity?.arn).toBe(
      `acs:ram::${cloud.env.managementAccountId}:assumed-role/${FUNCTION_ROLE_NAME}/fc-api`,
    );
    // The functions' role reads the directory as the management account.
    const accounts = await rmClient(cloud, session).listAccounts(new rm.ListAccountsRequest({}));
    expect(accounts.body?.totalCount).toBe(6);
    expect((await failure(assumeRole(cloud, admin, roleArn))).code).toBe('NoPermission');
  });

  it('validates the role, session name, duration and session policy', async () => {
    const missingRole = await failure(
      assumeRole(cloud, admin, `acs:ram::${memberA.id}:role/no-such-role`),
    );
    expect(missingRole.code).toBe('EntityNotExist.Role');
    expect(missingRole.statusCode).toBe(404);

    const badArn = await failure(assumeRole(cloud, admin, 'arn:aws:iam::123:role/x'));
    expect(badArn.code).toBe('InvalidParameter.RoleArn');

    const badSession = await failure(
      assumeRole(cloud, admin, accessRoleArn(memberA.id), { sessionName: 'has space' }),
    );
    expect(badSession.code).toBe('InvalidParameter.RoleSessionName');

    const tooLong = await failure(
      assumeRole(cloud, admin, accessRoleArn(memberA.id), { durationSeconds: 7200 }),
    );
    expect(tooLong.code).toBe('InvalidParameter.DurationSeconds');
    const tooShort = await failure(
      assumeRole(cloud, admin, accessRoleArn(memberA.id), { durationSeconds: 600 }),
    );
    expect(tooShort.code).toBe('InvalidParameter.DurationSeconds');

    const badPolicy = await failure(
      assumeRole(cloud, admin, accessRoleArn(memberA.id), {
        policy: '{"Version":"1","Statement":',
      }),
    );
    expect(badPolicy.code).toBe('InvalidParameter.PolicyGrammar');
  });

  it('refuses the sessions of a deleted role, also once a role of that name is back; a changed trust policy leaves sessions alone', async () => {
    const [, , target] = members(cloud);
    if (!target) throw new Error('need a third member');
    const roleName = 'ResourceDirectoryAccountAccessRole';
    const trust = cloud.organization.findRole(target.id, roleName)?.trustPolicy ?? '';
    const getRole = (keys: Keys) =>
      ramClient(cloud, keys).getRole(new ram.GetRoleRequest({ roleName }));
    const before = await assumeRole(cloud, admin, accessRoleArn(target.id));
    await expect(getRole(before)).resolves.toBeDefined();

    // Trust no longer names the management account: AssumeRole is refused, the session issued
    // before goes on working until it expires (trust is evaluated only by AssumeRole).
    cloud.control.setTrustPolicy(target.id, roleName, {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: [`acs:ram::${memberA.id}:root`] },
        },
      ],
    });
    expect((await failure(assumeRole(cloud, admin, accessRoleArn(target.id)))).code).toBe(
      'NoPermission',
    );
    await expect(getRole(before)).resolves.toBeDefined();

    // Deleted: the session has no permissions left, in RAM as in ResourceManager.
    cloud.control.deleteRole(target.id, roleName);
    const refused = await failure(getRole(before));
    expect(refused.code).toBe('NoPermission');
    expect(refused.statusCode).toBe(403);
    expect(refused.message).toContain('no longer exists');
    const viaRm = await failure(
      rmClient(cloud, before).getRole(new rm.GetRoleRequest({ roleName })),
    );
    expect(viaRm.code).toBe('NoPermission');

    // Created again with the old trust: a new role (a new id); the old session stays refused,
    // a new one works.
    cloud.control.addRole(target.id, { name: roleName, trustPolicy: trust });
    expect((await failure(getRole(before))).code).toBe('NoPermission');
    const after = await assumeRole(cloud, admin, accessRoleArn(target.id));
    await expect(getRole(after)).resolves.toBeDefined();
  });

  it('keeps the session policy with the token and enforces it', async () => {
    const policy = JSON.stringify({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['ram:GetRole', 'ram:ListRoles'], Resource: '*' }],
    });
    const session = await assumeRole(cloud, admin, accessRoleArn(memberA.id), { policy });
    const role = await ramClient(cloud, session).getRole(
      new ram.GetRoleRequest({ roleName: 'ResourceDirectoryAccountAccessRole' }),
    );
    expect(role.body?.role?.roleName).toBe('ResourceDirectoryAccountAccessRole');
    const denied = await failure(
      ramClient(cloud, session).createRole(
        new ram.CreateRoleRequest({ roleName: 'x', assumeRolePolicyDocument: '{}' }),
      ),
    );
    expect(denied.code).toBe('NoPermission');
    expect(denied.statusCode).toBe(403);
  });
});
