// The Resource Directory as the application sees it: flat records as the directory APIs list
// them (DirectorySnapshot), and the shape callers get (Directory: folders as a tree).

export interface FolderRecord {
  id: string;
  name: string;
  /** null for the root folder. */
  parentId: string | null;
}

export interface MemberRecord {
  accountId: string;
  displayName: string;
  folderId: string;
  /** created (created in the directory) or invited (an existing account that joined). */
  joinMethod: string;
  /** CloudAccount or ResourceAccount. */
  type: string;
  /** e.g. CreateSuccess, InviteSuccess, Removing. */
  status: string;
  joinTime: string | null;
  modifyTime: string | null;
}

/** One (account, service) delegation, as ListDelegatedAdministrators lists them. */
export interface DelegationRecord {
  accountId: string;
  displayName: string;
  servicePrincipal: string;
}

export interface DirectorySnapshot {
  resourceDirectoryId: string;
  managementAccountId: string;
  managementAccountName: string | null;
  rootFolderId: string;
  /** Every folder, the root included. */
  folders: FolderRecord[];
  members: MemberRecord[];
  delegations: DelegationRecord[];
}

/**
 * A folder path as the API writes it everywhere (`folderPath`, a tree node's `path`): the folder
 * names from the root down, joined by '/', e.g. Root/Production/Web. Unambiguous: RD folder names
 * cannot contain '/' (letters, digits, Chinese characters, '_', '.', '-') and are unique among
 * siblings.
 */
export function folderPathText(folders: ReadonlyArray<{ name: string }>): string {
  return folders.map((folder) => folder.name).join('/');
}

export interface FolderNode {
  id: string;
  name: string;
  /** Folder names from the root, joined by '/', e.g. Root/Production/Web. */
  path: string;
  children: FolderNode[];
  /** Account ids of the members directly in this folder. */
  members: string[];
}

/** A member account as GET /v1/directory shows it (not a managed member: see onboarding). */
export interface DirectoryAccount {
  accountId: string;
  displayName: string;
  folderId: string;
  /** See folderPathText. */
  folderPath: string;
  joinMethod: string;
  type: string;
  status: string;
  joinTime: string | null;
  modifyTime: string | null;
}

export interface DelegatedAdministrator {
  accountId: string;
  displayName: string;
  /** Service principals delegated to the account, e.g. cloudfw.aliyuncs.com. */
  services: string[];
}

export interface Directory {
  resourceDirectoryId: string;
  managementAccountId: string;
  managementAccountName: string | null;
  root: FolderNode;
  members: DirectoryAccount[];
  delegatedAdministrators: DelegatedAdministrator[];
}
