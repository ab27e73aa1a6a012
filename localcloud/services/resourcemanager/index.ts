// ResourceManager 2020-03-31: the Resource Directory (read APIs) and the service-linked-role and
// role operations. Directory APIs answer only the management account and delegated
// administrators; role operations act on the caller's own account.

import { randomUUID } from 'node:crypto';
import type { LocalService } from '../../core/contracts';
import { pageByNumber } from '../../core/paging';
import { createPopService, type PopCall, type PopDependencies, PopError } from '../../core/pop';
import type { Account, Folder, Organization } from '../../org/organization';
import {
  callerAccount,
  directoryRoleBody,
  mapOrganizationError,
  requireRole,
  roleResource,
} from '../../org/role-api';
import { serviceLinkedRoleFor } from '../../org/service-linked-roles';

export const RESOURCE_MANAGER_VERSION = '2020-03-31';

export interface ResourceManagerDependencies extends PopDependencies {
  organization: Organization;
}

const MAX_PAGE_NUMBER = 2 ** 31 - 1;

function paging(call: PopCall): { pageNumber: number; pageSize: number } {
  return {
    pageNumber: call.integer('PageNumber', 1, 1, MAX_PAGE_NUMBER),
    pageSize: call.integer('PageSize', 10, 1, 100),
  };
}

/** Directory APIs: the management account, or a delegated administrator (read only). */
function requireDirectoryReader(organization: Organization, call: PopCall): Account {
  const caller = call.caller;
  const account = caller.accountId ? organization.accounts.get(caller.accountId) : undefined;
  const allowed =
    account?.inDirectory &&
    (account.kind === 'management' || organization.isDelegatedAdministrator(account.id));
  if (!account || !allowed) {
    throw new PopError(
      403,
      'NoPermission',
      `You are not authorized to do this action. ${call.action} answers only the management account ${organization.managementAccountId} of resource directory ${organization.resourceDirectoryId} or a delegated administrator; the caller is ${caller.arn}. Use the management account's credentials (or assume a role in it), or register this account as a delegated administrator.`,
    );
  }
  return account;
}

function tagFilter(call: PopCall): Array<{ key: string; value?: string }> {
  const filters: Array<{ key: string; value?: string }> = [];
  for (let n = 1; n <= 20; n++) {
    const key = call.param(`Tag.${n}.Key`);
    if (key === undefined) break;
    const value = call.param(`Tag.${n}.Value`);
    filters.push({ key, ...(value === undefined ? {} : { value }) });
  }
  return filters;
}

function matchesTags(account: Account, filters: Array<{ key: string; value?: string }>): boolean {
  return filters.every((filter) =>
    account.tags.some(
      (tag) => tag.key === filter.key && (filter.value === undefined || tag.value === filter.value),
    ),
  );
}

function matchesKeyword(account: Account, keyword: string | undefined): boolean {
  if (!keyword) return true;
  const wanted = keyword.toLowerCase();
  return account.id.includes(keyword) || account.displayName.toLowerCase().includes(wanted);
}

function requireDirectoryFolder(organization: Organization, folderId: string): Folder {
  const folder = organization.folders.get(folderId);
  if (!folder) {
    throw new PopError(
      404,
      'EntityNotExists.Folder',
      `The specified folder does not exist: ${folderId}.`,
    );
  }
  return folder;
}

function requireDirectoryAccount(organization: Organization, accountId: string): Account {
  const account = organization.accounts.get(accountId);
  if (!account?.inDirectory) {
    throw new PopError(
      404,
      'EntityNotExists.Account',
      `The specified account does not exist in resource directory ${organization.resourceDirectoryId}: ${accountId}.`,
    );
  }
  return account;
}

function accountItem(
  organization: Organization,
  account: Account,
  includeTags: boolean,
  withPath: boolean,
): Record<string, unknown> {
  return {
    AccountId: account.id,
    DisplayName: account.displayName,
    FolderId: account.folderId,
    JoinMethod: account.joinMethod,
    JoinTime: account.joinTime,
    ModifyTime: account.modifyTime,
    ResourceDirectoryId: organization.resourceDirectoryId,
    ...(withPath ? { ResourceDirectoryPath: organization.accountPath(account) } : {}),
    Status: account.status,
    Type: account.type,
    ...(includeTags
      ? { Tags: { Tag: account.tags.map((tag) => ({ Key: tag.key, Value: tag.value })) } }
      : {}),
  };
}

function actions(
  organization: Organization,
): Record<string, (call: PopCall) => Record<string, unknown>> {
  return {
    GetResourceDirectory(call) {
      requireDirectoryReader(organization, call);
      const management = organization.management;
      return {
        ResourceDirectory: {
          ControlPolicyStatus: 'Disabled',
          CreateTime: organization.createTime,
          MasterAccountId: management.id,
          MasterAccountName: management.displayName,
          MemberDeletionStatus: 'Disabled',
          ResourceDirectoryId: organization.resourceDirectoryId,
          RootFolderId: organization.rootFolderId,
        },
      };
    },

    ListAccounts(call) {
      requireDirectoryReader(organization, call);
      const { pageNumber, pageSize } = paging(call);
      const includeTags = call.boolean('IncludeTags');
      const filters = tagFilter(call);
      const accounts = organization
        .directoryAccounts()
        .filter((account) => matchesTags(account, filters));
      const page = pageByNumber(accounts, pageNumber, pageSize);
      return {
        Accounts: {
          Account: page.items.map((account) =>
            accountItem(organization, account, includeTags, true),
          ),
        },
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        TotalCount: page.totalCount,
      };
    },

    ListAccountsForParent(call) {
      requireDirectoryReader(organization, call);
      const parentId = call.required('ParentFolderId');
      requireDirectoryFolder(organization, parentId);
      const { pageNumber, pageSize } = paging(call);
      const includeTags = call.boolean('IncludeTags');
      const filters = tagFilter(call);
      const keyword = call.param('QueryKeyword');
      const accounts = organization
        .directoryAccounts()
        .filter(
          (account) =>
            account.folderId === parentId &&
            matchesKeyword(account, keyword) &&
            matchesTags(account, filters),
        );
      const page = pageByNumber(accounts, pageNumber, pageSize);
      return {
        Accounts: {
          Account: page.items.map((account) =>
            accountItem(organization, account, includeTags, false),
          ),
        },
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        TotalCount: page.totalCount,
      };
    },

    ListFoldersForParent(call) {
      requireDirectoryReader(organization, call);
      const parentId = call.param('ParentFolderId') || organization.rootFolderId;
      requireDirectoryFolder(organization, parentId);
      const { pageNumber, pageSize } = paging(call);
      const keyword = call.param('QueryKeyword')?.toLowerCase();
      const folders = organization
        .childFolders(parentId)
        .filter(
          (folder) =>
            !keyword || folder.name.toLowerCase().includes(keyword) || folder.id.includes(keyword),
        );
      const page = pageByNumber(folders, pageNumber, pageSize);
      return {
        Folders: {
          Folder: page.items.map((folder) => ({
            CreateTime: folder.createTime,
            FolderId: folder.id,
            FolderName: folder.name,
          })),
        },
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        TotalCount: page.totalCount,
      };
    },

    GetAccount(call) {
      requireDirectoryReader(organization, call);
      const account = requireDirectoryAccount(organization, call.required('AccountId'));
      const location = organization
        .folderChain(account.folderId)
        .map((id) => organization.folders.get(id)?.name ?? id)
        .join('/');
      return {
        Account: {
          AccountId: account.id,
          AccountName: account.accountName,
          DisplayName: account.displayName,
          FolderId: account.folderId,
          JoinMethod: account.joinMethod,
          JoinTime: account.joinTime,
          Location: location,
          ModifyTime: account.modifyTime,
          ResourceDirectoryId: organization.resourceDirectoryId,
          ResourceDirectoryPath: organization.accountPath(account),
          Status: account.status,
          Type: account.type,
          ...(call.boolean('IncludeTags')
            ? { Tags: account.tags.map((tag) => ({ Key: tag.key, Value: tag.value })) }
            : {}),
        },
      };
    },

    GetFolder(call) {
      requireDirectoryReader(organization, call);
      const folder = requireDirectoryFolder(organization, call.required('FolderId'));
      return {
        Folder: {
          CreateTime: folder.createTime,
          FolderId: folder.id,
          FolderName: folder.name,
          ...(folder.parentId ? { ParentFolderId: folder.parentId } : {}),
          ResourceDirectoryPath: organization.folderPath(folder.id),
        },
      };
    },

    ListDelegatedAdministrators(call) {
      requireDirectoryReader(organization, call);
      const { pageNumber, pageSize } = paging(call);
      const servicePrincipal = call.param('ServicePrincipal');
      const delegations = organization.delegations.filter(
        (delegation) =>
          (!servicePrincipal || delegation.servicePrincipal === servicePrincipal) &&
          organization.accounts.get(delegation.accountId)?.inDirectory,
      );
      const page = pageByNumber(delegations, pageNumber, pageSize);
      return {
        Accounts: {
          Account: page.items.map((delegation) => {
            const account = organization.accounts.get(delegation.accountId);
            return {
              AccountId: delegation.accountId,
              DelegationEnabledTime: delegation.enabledTime,
              DisplayName: account?.displayName ?? '',
              JoinMethod: account?.joinMethod ?? '',
              ServicePrincipal: delegation.servicePrincipal,
            };
          }),
        },
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        TotalCount: page.totalCount,
      };
    },

    ListDelegatedServicesForAccount(call) {
      requireDirectoryReader(organization, call);
      const account = requireDirectoryAccount(organization, call.required('AccountId'));
      return {
        DelegatedServices: {
          DelegatedService: organization.delegationsOf(account.id).map((delegation) => ({
            DelegationEnabledTime: delegation.enabledTime,
            ServicePrincipal: delegation.servicePrincipal,
            Status: 'ENABLED',
          })),
        },
      };
    },

    CreateServiceLinkedRole(call) {
      const account = callerAccount(organization, call.caller);
      const serviceName = call.required('ServiceName');
      const spec = serviceLinkedRoleFor(serviceName);
      if (!spec) {
        throw new PopError(
          400,
          'InvalidParameter.ServiceName',
          `The service ${serviceName} does not support service-linked roles (localcloud knows: see localcloud/org/service-linked-roles.ts).`,
        );
      }
      if (call.param('CustomSuffix')) {
        throw new PopError(
          400,
          'InvalidParameter.CustomSuffix',
          `The service ${serviceName} does not support a custom suffix for its service-linked role.`,
        );
      }
      if (organization.findRole(account.id, spec.roleName)) {
        throw new PopError(
          409,
          'EntityAlreadyExists.Role',
          `The role already exists: ${spec.roleName} (account ${account.id}).`,
        );
      }
      const description = call.param('Description');
      const role = organization.addRole(account.id, {
        name: spec.roleName,
        serviceName: spec.serviceName,
        ...(description ? { description } : {}),
      });
      const body = directoryRoleBody(organization, account.id, role);
      return {
        Role: {
          Arn: body.Arn,
          AssumeRolePolicyDocument: body.AssumeRolePolicyDocument,
          CreateDate: body.CreateDate,
          Description: body.Description,
          IsServiceLinkedRole: true,
          RoleId: body.RoleId,
          RoleName: body.RoleName,
          RolePrincipalName: body.RolePrincipalName,
        },
      };
    },

    DeleteServiceLinkedRole(call) {
      const account = callerAccount(organization, call.caller);
      const role = requireRole(organization, account, call.required('RoleName'));
      const task = organization.deleteServiceLinkedRole(account.id, role.name, randomUUID());
      return { DeletionTaskId: task.id };
    },

    GetServiceLinkedRoleDeletionStatus(call) {
      const account = callerAccount(organization, call.caller);
      const taskId = call.required('DeletionTaskId');
      const task = organization.deletionTasks.get(taskId);
      if (!task) {
        throw new PopError(
          404,
          'EntityNotExist.DeletionTask',
          `The deletion task does not exist: ${taskId}.`,
        );
      }
      if (task.accountId !== account.id) {
        throw new PopError(
          403,
          'NoPermission',
          `You are not authorized to do this action. Deletion task ${taskId} belongs to account ${task.accountId}; call with that account's credentials.`,
        );
      }
      return { Status: task.status };
    },

    GetRole(call) {
      const account = callerAccount(organization, call.caller);
      const role = requireRole(organization, account, call.required('RoleName'));
      return { Role: directoryRoleBody(organization, account.id, role) };
    },

    ListRoles(call) {
      const account = callerAccount(organization, call.caller);
      const { pageNumber, pageSize } = paging(call);
      const page = pageByNumber([...account.roles.values()], pageNumber, pageSize);
      return {
        Roles: {
          Role: page.items.map((role) => directoryRoleBody(organization, account.id, role)),
        },
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        TotalCount: page.totalCount,
      };
    },
  };
}

const ROLE_ACTIONS = new Set(['DeleteServiceLinkedRole', 'GetRole']);

export function createResourceManagerService(deps: ResourceManagerDependencies): LocalService {
  return createPopService(
    {
      name: 'resourcemanager',
      version: RESOURCE_MANAGER_VERSION,
      product: 'resourcemanager',
      hostId: 'resourcemanager.aliyuncs.com',
      actions: actions(deps.organization),
      resourceOf: (action, call) => {
        const roleName = call.param('RoleName');
        if (ROLE_ACTIONS.has(action) && roleName)
          return roleResource(call.caller.accountId, roleName);
        return undefined;
      },
      mapError: mapOrganizationError,
    },
    deps,
  );
}
