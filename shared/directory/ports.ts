import type { DelegationRecord, DirectorySnapshot, FolderRecord, MemberRecord } from './model';

/** The directory's identity and who administers it, without its folders and members. */
export interface DirectoryRoot {
  resourceDirectoryId: string;
  managementAccountId: string;
  rootFolderId: string;
  delegations: DelegationRecord[];
}

/** One account as the directory places it: the record and its folders from the root down. */
export interface AccountPlacement {
  member: MemberRecord;
  /** The root first, the account's own folder last. */
  folders: FolderRecord[];
}

/** Reads the directory (implemented over the ResourceManager API). */
export interface DirectorySource {
  /** The whole directory as flat records. */
  readSnapshot(): Promise<DirectorySnapshot>;
  /** Fails with CloudApiError (EntityNotExists.ResourceDirectory) when RD is not enabled. */
  readRoot(): Promise<DirectoryRoot>;
  /** undefined when the account is not (or no longer) in the directory. */
  readAccount(accountId: string): Promise<AccountPlacement | undefined>;
  /** undefined when the folder does not exist. */
  readFolder(folderId: string): Promise<FolderRecord | undefined>;
}
