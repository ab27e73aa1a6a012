// The Resource Directory read through the ResourceManager 2020-03-31 API with the official SDK:
// GetResourceDirectory, GetFolder (the root's name), ListFoldersForParent (walked from the root,
// every page), ListAccounts and ListDelegatedAdministrators (every page); one account's place by
// GetAccount (its ResourceDirectoryPath names every folder above it) and GetFolder. Failures
// become CloudApiError naming the API and the account whose credentials made the call.

import * as ResourceManager from '@alicloud/resourcemanager20200331';
import type {
  DelegationRecord,
  DirectorySnapshot,
  FolderRecord,
  MemberRecord,
} from '../../directory/model';
import type { AccountPlacement, DirectoryRoot, DirectorySource } from '../../directory/ports';
import { CloudApiError, DirectoryChanging } from '../../errors';
import { mapWithConcurrency } from '../../runtime/concurrency';
import type { CloudCredentials } from '../../runtime/context';
import {
  type CloudEndpoint,
  createOpenApiClient,
  describeFailure,
  type RetryOptions,
  type SdkFailure,
  withRetry,
} from '../openapi';

/** The listing APIs' own maximum for PageSize. */
export const RESOURCE_MANAGER_MAX_PAGE_SIZE = 100;

export interface ResourceManagerDirectoryOptions extends CloudEndpoint, RetryOptions {
  credentials: CloudCredentials;
  /** The account the credentials belong to, for error messages. */
  accountId: string;
  /** 1..100; default 100. */
  pageSize?: number;
  /** ListFoldersForParent calls in flight at once. */
  concurrency?: number;
}

function hintFor(api: string) {
  return (failure: SdkFailure, kind: string): string | undefined => {
    if (failure.code === 'EntityNotExists.ResourceDirectory') {
      return 'Resource Directory is not enabled for this account: deploy in the management account of an enabled directory, or a delegated administrator of it.';
    }
    if (kind === 'denied') {
      return `Grant the function's role resourcemanager:${api} (see deploy/function-role-policy.json), and deploy in the management account or a delegated administrator for Resource Directory.`;
    }
    if (kind === 'throttled') return 'The API is throttling this account; retry shortly.';
    return undefined;
  };
}

/** An account as ListAccounts and GetAccount describe it, as the application keeps it. */
function memberRecord(account: {
  accountId: string;
  folderId: string;
  displayName?: string;
  joinMethod?: string;
  type?: string;
  status?: string;
  joinTime?: string;
  modifyTime?: string;
}): MemberRecord {
  return {
    accountId: account.accountId,
    displayName: account.displayName ?? account.accountId,
    folderId: account.folderId,
    joinMethod: account.joinMethod ?? 'unknown',
    type: account.type ?? 'unknown',
    status: account.status ?? 'unknown',
    joinTime: account.joinTime ?? null,
    modifyTime: account.modifyTime ?? null,
  };
}

export function createResourceManagerDirectory(
  options: ResourceManagerDirectoryOptions,
): DirectorySource {
  const pageSize = Math.min(
    Math.max(options.pageSize ?? RESOURCE_MANAGER_MAX_PAGE_SIZE, 1),
    RESOURCE_MANAGER_MAX_PAGE_SIZE,
  );
  const client = createOpenApiClient(ResourceManager.default, options, options.credentials);

  async function call<T>(api: string, invoke: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(invoke, options);
    } catch (error) {
      throw new CloudApiError(
        describeFailure('ResourceManager', api, options.accountId, error, hintFor(api)),
        error,
      );
    }
  }

  function unexpected(api: string, what: string): CloudApiError {
    return new CloudApiError({
      service: 'ResourceManager',
      api,
      accountId: options.accountId,
      kind: 'failed',
      cloudCode: 'UnexpectedResponse',
      cloudMessage: what,
    });
  }

  /**
   * Every page of a PageNumber/PageSize listing. The first page's TotalCount says how many pages
   * follow; those are fetched a few at a time (a 1,000-member directory is 10 pages: sequential
   * round trips would dominate a reconcile). Pages that come back short, or a TotalCount that
   * grew meanwhile, are followed one by one until an empty page or TotalCount.
   */
  async function allPages<T>(
    api: string,
    fetchPage: (pageNumber: number) => Promise<{ items: T[]; totalCount: number }>,
  ): Promise<T[]> {
    const first = await call(api, () => fetchPage(1));
    const items: T[] = [...first.items];
    if (first.items.length === 0 || items.length >= first.totalCount) return items;
    const pages = Math.ceil(first.totalCount / pageSize);
    const rest = await mapWithConcurrency(
      Array.from({ length: pages - 1 }, (_, i) => i + 2),
      options.concurrency ?? 4,
      (pageNumber) => call(api, () => fetchPage(pageNumber)),
    );
    let totalCount = first.totalCount;
    for (const page of rest) {
      items.push(...page.items);
      totalCount = page.totalCount;
    }
    for (let pageNumber = pages + 1; items.length < totalCount; pageNumber++) {
      const page = await call(api, () => fetchPage(pageNumber));
      if (page.items.length === 0) break;
      items.push(...page.items);
      totalCount = page.totalCount;
    }
    return items;
  }

  async function childFolders(parentId: string): Promise<FolderRecord[]> {
    const folders = await allPages('ListFoldersForParent', async (pageNumber) => {
      const response = await client.listFoldersForParent(
        new ResourceManager.ListFoldersForParentRequest({
          parentFolderId: parentId,
          pageNumber,
          pageSize,
        }),
      );
      const body = response.body;
      return { items: body?.folders?.folder ?? [], totalCount: body?.totalCount ?? 0 };
    });
    return folders.map((folder) => {
      if (!folder.folderId) throw unexpected('ListFoldersForParent', 'a folder without FolderId');
      return { id: folder.folderId, name: folder.folderName ?? folder.folderId, parentId };
    });
  }

  async function allFolders(root: FolderRecord): Promise<FolderRecord[]> {
    const folders: FolderRecord[] = [root];
    const seen = new Set([root.id]);
    let level = [root.id];
    // Level by level from the root; RD folders nest at most 5 deep.
    while (level.length > 0) {
      const children = (
        await mapWithConcurrency(level, options.concurrency ?? 4, childFolders)
      ).flat();
      const next: string[] = [];
      for (const child of children) {
        if (seen.has(child.id)) continue;
        seen.add(child.id);
        folders.push(child);
        next.push(child.id);
      }
      level = next;
    }
    return folders;
  }

  async function members(): Promise<MemberRecord[]> {
    const accounts = await allPages('ListAccounts', async (pageNumber) => {
      const response = await client.listAccounts(
        new ResourceManager.ListAccountsRequest({ pageNumber, pageSize }),
      );
      const body = response.body;
      return { items: body?.accounts?.account ?? [], totalCount: body?.totalCount ?? 0 };
    });
    const byId = new Map<string, MemberRecord>();
    for (const account of accounts) {
      if (!account.accountId || !account.folderId) {
        throw unexpected('ListAccounts', 'an account without AccountId or FolderId');
      }
      byId.set(
        account.accountId,
        memberRecord({ ...account, accountId: account.accountId, folderId: account.folderId }),
      );
    }
    return [...byId.values()];
  }

  async function delegations(): Promise<DelegationRecord[]> {
    const accounts = await allPages('ListDelegatedAdministrators', async (pageNumber) => {
      const response = await client.listDelegatedAdministrators(
        new ResourceManager.ListDelegatedAdministratorsRequest({ pageNumber, pageSize }),
      );
      const body = response.body;
      return { items: body?.accounts?.account ?? [], totalCount: body?.totalCount ?? 0 };
    });
    return accounts.flatMap((account) =>
      account.accountId && account.servicePrincipal
        ? [
            {
              accountId: account.accountId,
              displayName: account.displayName ?? account.accountId,
              servicePrincipal: account.servicePrincipal,
            },
          ]
        : [],
    );
  }

  async function resourceDirectory() {
    const response = await call('GetResourceDirectory', () => client.getResourceDirectory());
    const rd = response.body?.resourceDirectory;
    if (!rd?.resourceDirectoryId || !rd.rootFolderId || !rd.masterAccountId) {
      throw unexpected(
        'GetResourceDirectory',
        'no ResourceDirectoryId, RootFolderId or MasterAccountId in the answer',
      );
    }
    return {
      resourceDirectoryId: rd.resourceDirectoryId,
      rootFolderId: rd.rootFolderId,
      masterAccountId: rd.masterAccountId,
      masterAccountName: rd.masterAccountName,
    };
  }

  /** undefined for EntityNotExists.<entity>: the thing is not in the directory. */
  async function unlessMissing<T>(entity: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof CloudApiError && error.failure.cloudCode === `EntityNotExists.${entity}`)
        return undefined;
      throw error;
    }
  }

  async function folder(folderId: string): Promise<FolderRecord | undefined> {
    return unlessMissing('Folder', async () => {
      const response = await call('GetFolder', () =>
        client.getFolder(new ResourceManager.GetFolderRequest({ folderId })),
      );
      const found = response.body?.folder;
      if (!found?.folderId) throw unexpected('GetFolder', 'a folder without FolderId');
      return {
        id: found.folderId,
        name: found.folderName ?? found.folderId,
        parentId: found.parentFolderId ?? null,
      };
    });
  }

  return {
    async readRoot(): Promise<DirectoryRoot> {
      const [rd, delegationRecords] = await Promise.all([resourceDirectory(), delegations()]);
      return {
        resourceDirectoryId: rd.resourceDirectoryId,
        managementAccountId: rd.masterAccountId,
        rootFolderId: rd.rootFolderId,
        delegations: delegationRecords,
      };
    },

    readFolder: folder,

    async readAccount(accountId: string): Promise<AccountPlacement | undefined> {
      const account = await unlessMissing('Account', async () => {
        const response = await call('GetAccount', () =>
          client.getAccount(new ResourceManager.GetAccountRequest({ accountId })),
        );
        return response.body?.account;
      });
      if (!account) return undefined;
      if (!account.accountId || !account.folderId) {
        throw unexpected('GetAccount', 'an account without AccountId or FolderId');
      }
      // rd-xxx/r-xxx/fd-a/fd-b/<accountId>: the folder ids from the root down.
      const path = (account.resourceDirectoryPath ?? '').split('/');
      const folderIds = path.filter((part) => /^(r|fd)-/.test(part));
      if (folderIds[folderIds.length - 1] !== account.folderId) folderIds.push(account.folderId);
      const folders = await mapWithConcurrency(folderIds, options.concurrency ?? 4, folder);
      if (folders.some((f) => f === undefined)) {
        // A folder above the account vanished between the two reads: the caller retries.
        throw new DirectoryChanging(
          `The folders above account ${accountId} changed while they were read; retry`,
          { accountId },
        );
      }
      return {
        member: memberRecord({
          ...account,
          accountId: account.accountId,
          folderId: account.folderId,
        }),
        folders: folders as FolderRecord[],
      };
    },

    async readSnapshot(): Promise<DirectorySnapshot> {
      const rd = await resourceDirectory();
      const rootFolderId = rd.rootFolderId;
      const rootName = call('GetFolder', async () => {
        const folder = await client.getFolder(
          new ResourceManager.GetFolderRequest({ folderId: rootFolderId }),
        );
        return folder.body?.folder?.folderName ?? 'Root';
      });
      const [folders, memberRecords, delegationRecords] = await Promise.all([
        rootName.then((name) => allFolders({ id: rootFolderId, name, parentId: null })),
        members(),
        delegations(),
      ]);
      return {
        resourceDirectoryId: rd.resourceDirectoryId,
        managementAccountId: rd.masterAccountId,
        managementAccountName: rd.masterAccountName ?? null,
        rootFolderId,
        folders,
        members: memberRecords,
        delegations: delegationRecords,
      };
    },
  };
}
