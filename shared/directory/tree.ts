// Pure rules: flat directory records -> folder tree, member folder paths and delegated
// administrators grouped by account. A snapshot that does not form one tree (a folder whose
// parent was not listed, a cycle, a member in an unlisted folder) is reported, not repaired:
// the directory changed while it was being listed, and the caller should read it again.

import type {
  DelegatedAdministrator,
  DelegationRecord,
  Directory,
  DirectoryAccount,
  DirectorySnapshot,
  FolderNode,
  FolderRecord,
} from './model';

export type DirectoryProblem =
  | { kind: 'missing-root'; folderId: string }
  | { kind: 'duplicate-folder'; folderId: string }
  | { kind: 'missing-parent'; folderId: string; parentId: string }
  | { kind: 'cycle'; folderIds: string[] }
  | { kind: 'member-in-unknown-folder'; accountId: string; folderId: string };

export type BuildResult =
  | { ok: true; directory: Directory }
  | { ok: false; problems: DirectoryProblem[] };

const byName = (a: { name: string; id: string }, b: { name: string; id: string }) =>
  a.name.localeCompare(b.name) || a.id.localeCompare(b.id);

export function groupDelegations(records: readonly DelegationRecord[]): DelegatedAdministrator[] {
  const byAccount = new Map<string, DelegatedAdministrator>();
  for (const record of records) {
    const admin = byAccount.get(record.accountId) ?? {
      accountId: record.accountId,
      displayName: record.displayName,
      services: [],
    };
    if (!admin.services.includes(record.servicePrincipal))
      admin.services.push(record.servicePrincipal);
    byAccount.set(record.accountId, admin);
  }
  return [...byAccount.values()]
    .map((admin) => ({ ...admin, services: [...admin.services].sort() }))
    .sort((a, b) => a.accountId.localeCompare(b.accountId));
}

export function buildDirectory(snapshot: DirectorySnapshot): BuildResult {
  const problems: DirectoryProblem[] = [];
  const folders = new Map<string, FolderRecord>();
  for (const folder of snapshot.folders) {
    if (folders.has(folder.id)) problems.push({ kind: 'duplicate-folder', folderId: folder.id });
    folders.set(folder.id, folder);
  }
  const root = folders.get(snapshot.rootFolderId);
  if (!root)
    return { ok: false, problems: [{ kind: 'missing-root', folderId: snapshot.rootFolderId }] };

  const children = new Map<string, FolderRecord[]>();
  for (const folder of folders.values()) {
    if (folder.id === root.id) continue;
    const parentId = folder.parentId ?? '';
    if (!folders.has(parentId)) {
      problems.push({ kind: 'missing-parent', folderId: folder.id, parentId });
      continue;
    }
    const siblings = children.get(parentId) ?? [];
    siblings.push(folder);
    children.set(parentId, siblings);
  }

  const membersByFolder = new Map<string, string[]>();
  const sortedMembers = [...snapshot.members].sort(
    (a, b) => a.displayName.localeCompare(b.displayName) || a.accountId.localeCompare(b.accountId),
  );
  for (const member of sortedMembers) {
    if (!folders.has(member.folderId)) {
      problems.push({
        kind: 'member-in-unknown-folder',
        accountId: member.accountId,
        folderId: member.folderId,
      });
      continue;
    }
    const ids = membersByFolder.get(member.folderId) ?? [];
    ids.push(member.accountId);
    membersByFolder.set(member.folderId, ids);
  }

  const paths = new Map<string, string>();
  const reached = new Set<string>();
  const build = (folder: FolderRecord, parentPath: string | null): FolderNode => {
    reached.add(folder.id);
    const path = parentPath === null ? folder.name : `${parentPath}/${folder.name}`;
    paths.set(folder.id, path);
    return {
      id: folder.id,
      name: folder.name,
      path,
      children: [...(children.get(folder.id) ?? [])]
        .sort(byName)
        .map((child) => build(child, path)),
      members: membersByFolder.get(folder.id) ?? [],
    };
  };
  const tree = build(root, null);

  // A folder the walk from the root never reached hangs under a folder with a missing parent
  // (reported above) or sits on a parent cycle.
  const orphans = new Set(
    problems.flatMap((p) => (p.kind === 'missing-parent' ? [p.folderId] : [])),
  );
  const onCycle = new Set<string>();
  for (const id of folders.keys()) {
    if (reached.has(id) || orphans.has(id)) continue;
    const chain = new Set<string>();
    let current: string | null | undefined = id;
    while (current && !chain.has(current) && !orphans.has(current) && !reached.has(current)) {
      chain.add(current);
      current = folders.get(current)?.parentId;
    }
    if (current && chain.has(current)) onCycle.add(id);
  }
  if (onCycle.size > 0) problems.push({ kind: 'cycle', folderIds: [...onCycle].sort() });
  if (problems.length > 0) return { ok: false, problems };

  const members: DirectoryAccount[] = sortedMembers.map((m) => ({
    accountId: m.accountId,
    displayName: m.displayName,
    folderId: m.folderId,
    folderPath: paths.get(m.folderId) ?? '',
    joinMethod: m.joinMethod,
    type: m.type,
    status: m.status,
    joinTime: m.joinTime,
    modifyTime: m.modifyTime,
  }));

  return {
    ok: true,
    directory: {
      resourceDirectoryId: snapshot.resourceDirectoryId,
      managementAccountId: snapshot.managementAccountId,
      managementAccountName: snapshot.managementAccountName,
      root: tree,
      members,
      delegatedAdministrators: groupDelegations(snapshot.delegations),
    },
  };
}

function findFolder(node: FolderNode, folderId: string): FolderNode | undefined {
  if (node.id === folderId) return node;
  for (const child of node.children) {
    const found = findFolder(child, folderId);
    if (found) return found;
  }
  return undefined;
}

function folderIds(node: FolderNode, into = new Set<string>()): Set<string> {
  into.add(node.id);
  for (const child of node.children) folderIds(child, into);
  return into;
}

/**
 * The part of the directory under `folderId` (that folder as root, the members in it and its
 * subfolders); undefined when no such folder exists. Delegated administrators are directory-wide.
 */
export function directorySubtree(directory: Directory, folderId: string): Directory | undefined {
  const root = findFolder(directory.root, folderId);
  if (!root) return undefined;
  const inside = folderIds(root);
  return {
    ...directory,
    root,
    members: directory.members.filter((m) => inside.has(m.folderId)),
  };
}
