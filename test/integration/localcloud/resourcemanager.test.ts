// ResourceManager 2020-03-31 through the official SDK: directory reads (who may call, paging over
// a large directory), and role operations confined to the caller's own account.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrganization, type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import {
  accessRoleArn,
  assumeRole,
  delegatedAdministrator,
  failure,
  type Keys,
  management,
  members,
  rm,
  rmClient,
} from './support';

const MEMBER_COUNT = 250;
let cloud: LocalCloud;
let admin: Keys;

beforeAll(async () => {
  cloud = await startLocalCloud({
    organization: buildOrganization({ members: MEMBER_COUNT, seed: 'rm-250' }),
  });
  admin = management(cloud);
});
afterAll(async () => {
  await cloud.stop();
});

describe('directory reads', () => {
  it('pages ListAccounts over 250 members: every account exactly once, TotalCount right', async () => {
    const client = rmClient(cloud, admin);
    const seen: string[] = [];
    let totalCount = -1;
    for (let pageNumber = 1; ; pageNumber++) {
      const page = (
        await client.listAccounts(new rm.ListAccountsRequest({ pageNumber, pageSize: 100 }))
      ).body;
      totalCount = page?.totalCount ?? -1;
      expect(page?.pageNumber).toBe(pageNumber);
      expect(page?.pageSize).toBe(100);
      const ids = (page?.accounts?.account ?? []).map((account) => account.accountId ?? '');
      if (ids.length === 0) break;
      seen.push(...ids);
    }
    const expected = cloud.env.accounts.map((account) => account.id).sort();
    expect(totalCount).toBe(MEMBER_COUNT + 1);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(expected);
  });

  it('defaults to pages of 10 and refuses PageSize outside 1..100', async () => {
    const client = rmClient(cloud, admin);
    const first = (await client.listAccounts(new rm.ListAccountsRequest({}))).body;
    expect(first?.pageSize).toBe(10);
    expect(first?.accounts?.account).toHaveLength(10);
    const tooBig = await failure(
      client.listAccounts(new rm.ListAccountsRequest({ pageSize: 101 })),
    );
    expect(tooBig.code).toBe('InvalidParameter');
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.message).toContain('PageSize');
    const zero = await failure(client.listAccounts(new rm.ListAccountsRequest({ pageNumber: 0 })));
    expect(zero.code).toBe('InvalidParameter');
  });

  it('answers the delegated administrator and refuses a plain member', async () => {
    const delegated = (
      await rmClient(cloud, delegatedAdministrator(cloud)).listAccounts(
        new rm.ListAccountsRequest({ pageSize: 5 }),
      )
    ).body;
    expect(delegated?.totalCount).toBe(MEMBER_COUNT + 1);

    const member = members(cloud)[0];
    if (!member) throw new Error('no member');
    const refused = await failure(
      rmClient(cloud, member).listAccounts(new rm.ListAccountsRequest({})),
    );
    expect(refused.code).toBe('NoPermission');
    expect(refused.statusCode).toBe(403);
    expect(refused.message).toContain(cloud.env.managementAccountId);

    // A member's access role, assumed by the management account, is still the member.
    const session = await assumeRole(cloud, admin, accessRoleArn(member.id));
    expect((await failure(rmClient(cloud, session).getResourceDirectory())).code).toBe(
      'NoPermission',
    );
  });

  it('walks the folder tree with paths', async () => {
    const client = rmClient(cloud, admin);
    const directory = (await client.getResourceDirectory()).body?.resourceDirectory;
    expect(directory?.masterAccountId).toBe(cloud.env.managementAccountId);
    expect(directory?.resourceDirectoryId).toMatch(/^rd-[a-z0-9]{6}$/);
    const root = directory?.rootFolderId ?? '';

    const topLevel = (await client.listFoldersForParent(new rm.ListFoldersForParentRequest({})))
      .body;
    const production = topLevel?.folders?.folder?.find(
      (folder) => folder.folderName === 'Production',
    );
    expect(production?.folderId).toMatch(/^fd-[A-Za-z0-9]{10}$/);
    const retail = (
      await client.listFoldersForParent(
        new rm.ListFoldersForParentRequest({ parentFolderId: production?.folderId }),
      )
    ).body?.folders?.folder?.find((folder) => folder.folderName === 'Retail');
    const payments = (
      await client.listFoldersForParent(
        new rm.ListFoldersForParentRequest({ parentFolderId: retail?.folderId }),
      )
    ).body?.folders?.folder?.find((folder) => folder.folderName === 'Payments');
    const folder = (
      await client.getFolder(new rm.GetFolderRequest({ folderId: payments?.folderId }))
    ).body?.folder;
    expect(folder?.parentFolderId).toBe(retail?.folderId);
    expect(folder?.resourceDirectoryPath).toBe(
      `${directory?.resourceDirectoryId}/${root}/${production?.folderId}/${retail?.folderId}/${payments?.folderId}`,
    );

    const inPayments = (
      await client.listAccountsForParent(
        new rm.ListAccountsForParentRequest({ parentFolderId: payments?.folderId, pageSize: 100 }),
      )
    ).body;
    expect(inPayments?.totalCount).toBeGreaterThan(0);
    const first = inPayments?.accounts?.account?.[0];
    expect(first?.folderId).toBe(payments?.folderId);
    const account = (
      await client.getAccount(new rm.GetAccountRequest({ accountId: first?.accountId }))
    ).body?.account;
    expect(account?.resourceDirectoryPath).toBe(
      `${folder?.resourceDirectoryPath}/${first?.accountId}`,
    );
    expect(['created', 'invited']).toContain(account?.joinMethod);
    expect(['CloudAccount', 'ResourceAccount']).toContain(account?.type);

    const missing = await failure(
      client.getFolder(new rm.GetFolderRequest({ folderId: 'fd-doesnotexist' })),
    );
    expect(missing.code).toBe('EntityNotExists.Folder');
  });

  it('lists delegated administrators and their services', async () => {
    const client = rmClient(cloud, admin);
    const delegated = delegatedAdministrator(cloud);
    const list = (
      await client.listDelegatedAdministrators(
        new rm.ListDelegatedAdministratorsRequest({ servicePrincipal: 'cloudfw.aliyuncs.com' }),
      )
    ).body;
    expect(list?.accounts?.account?.map((account) => account.accountId)).toEqual([delegated.id]);
    const services = (
      await client.listDelegatedServicesForAccount(
        new rm.ListDelegatedServicesForAccountRequest({ accountId: delegated.id }),
      )
    ).body?.delegatedServices?.delegatedService?.map((service) => service.servicePrincipal);
    expect(services).toEqual([
      'cloudfw.aliyuncs.com',
      'sas.aliyuncs.com',
      'bastionhost.aliyuncs.com',
    ]);
  });

  it('reflects members created, moved and removed through the controls', async () => {
    const client = rmClient(cloud, admin);
    const before =
      (await client.listAccounts(new rm.ListAccountsRequest({}))).body?.totalCount ?? 0;
    const folders = cloud.control.organization().folders;
    const security = folders.find((folder) => folder.path === 'Root/Security');
    const sandbox = folders.find((folder) => folder.path.endsWith('/Sandbox'));
    const created = cloud.control.createMember({
      name: 'fresh-member',
      folderId: security?.id ?? '',
    });
    expect((await client.listAccounts(new rm.ListAccountsRequest({}))).body?.totalCount).toBe(
      before + 1,
    );
    const fetched = (await client.getAccount(new rm.GetAccountRequest({ accountId: created.id })))
      .body?.account;
    expect(fetched?.joinMethod).toBe('created');
    expect(fetched?.status).toBe('CreateSuccess');
    expect(fetched?.type).toBe('ResourceAccount');

    cloud.control.moveMember(created.id, sandbox?.id ?? '');
    const moved = (await client.getAccount(new rm.GetAccountRequest({ accountId: created.id })))
      .body?.account;
    expect(moved?.folderId).toBe(sandbox?.id);

    // The new member can be reached at once through its access role.
    await expect(assumeRole(cloud, admin, accessRoleArn(created.id))).resolves.toHaveProperty(
      'securityToken',
    );

    cloud.control.removeMember(created.id);
    expect((await client.listAccounts(new rm.ListAccountsRequest({}))).body?.totalCount).toBe(
      before,
    );
    expect(
      (await failure(client.getAccount(new rm.GetAccountRequest({ accountId: created.id })))).code,
    ).toBe('EntityNotExists.Account');
  });
});

describe('role operations act on the caller account only', () => {
  it("shows a member's roles only to that member's credentials", async () => {
    // member-0001 (index 0) has the Security Center roles; member-0002 (index 1) has none.
    const owner = cloud.env.accounts.find((account) => account.name === 'member-0001');
    const other = cloud.env.accounts.find((account) => account.name === 'member-0002');
    if (!owner || !other) throw new Error('fixture members missing');
    const request = new rm.GetRoleRequest({ roleName: 'AliyunServiceRoleForSasRd' });

    const own = (await rmClient(cloud, owner).getRole(request)).body?.role;
    expect(own?.isServiceLinkedRole).toBe(true);
    expect(own?.arn).toBe(
      `acs:ram::${owner.id}:role/aliyun-service-role/aliyunserviceroleforsasrd`,
    );

    const foreign = await failure(rmClient(cloud, other).getRole(request));
    expect(foreign.code).toBe('EntityNotExist.Role');
    expect(foreign.statusCode).toBe(404);

    // Through the member's access role the management account sees the member's roles.
    const session = await assumeRole(cloud, admin, accessRoleArn(owner.id));
    expect((await rmClient(cloud, session).getRole(request)).body?.role?.roleId).toBe(own?.roleId);

    const listed = (
      await rmClient(cloud, other).listRoles(new rm.ListRolesRequest({ pageSize: 100 }))
    ).body;
    expect(listed?.roles?.role?.map((role) => role.roleName)).toEqual([
      'ResourceDirectoryAccountAccessRole',
    ]);
    expect(listed?.totalCount).toBe(1);
  });

  it('creates a service-linked role that GetRole then sees, and deletes it', async () => {
    const member = cloud.env.accounts.find((account) => account.name === 'member-0002');
    if (!member) throw new Error('fixture member missing');
    const client = rmClient(cloud, member);
    const created = (
      await client.createServiceLinkedRole(
        new rm.CreateServiceLinkedRoleRequest({ serviceName: 'rd.sas.aliyuncs.com' }),
      )
    ).body?.role;
    expect(created?.roleName).toBe('AliyunServiceRoleForSasRd');
    expect(created?.isServiceLinkedRole).toBe(true);
    expect(
      JSON.parse(created?.assumeRolePolicyDocument ?? '{}').Statement[0].Principal.Service,
    ).toEqual(['rd.sas.aliyuncs.com']);

    const fetched = (
      await client.getRole(new rm.GetRoleRequest({ roleName: 'AliyunServiceRoleForSasRd' }))
    ).body?.role;
    expect(fetched?.roleId).toBe(created?.roleId);

    const again = await failure(
      client.createServiceLinkedRole(
        new rm.CreateServiceLinkedRoleRequest({ serviceName: 'rd.sas.aliyuncs.com' }),
      ),
    );
    expect(again.code).toBe('EntityAlreadyExists.Role');

    const unknown = await failure(
      client.createServiceLinkedRole(
        new rm.CreateServiceLinkedRoleRequest({ serviceName: 'nope.aliyuncs.com' }),
      ),
    );
    expect(unknown.code).toBe('InvalidParameter.ServiceName');

    const taskId = (
      await client.deleteServiceLinkedRole(
        new rm.DeleteServiceLinkedRoleRequest({ roleName: 'AliyunServiceRoleForSasRd' }),
      )
    ).body?.deletionTaskId;
    expect(taskId).toMatch(/^task\/acs:ram::\d{16}:role\//);
    const status = (
      await client.getServiceLinkedRoleDeletionStatus(
        new rm.GetServiceLinkedRoleDeletionStatusRequest({ deletionTaskId: taskId }),
      )
    ).body?.status;
    expect(status).toBe('SUCCEEDED');
    // Another account may not read this account's deletion task.
    const foreignTask = await failure(
      rmClient(cloud, admin).getServiceLinkedRoleDeletionStatus(
        new rm.GetServiceLinkedRoleDeletionStatusRequest({ deletionTaskId: taskId }),
      ),
    );
    expect(foreignTask.code).toBe('NoPermission');
    expect(
      (
        await failure(
          client.getRole(new rm.GetRoleRequest({ roleName: 'AliyunServiceRoleForSasRd' })),
        )
      ).code,
    ).toBe('EntityNotExist.Role');
  });
});
