// The directory capability: flat directory records to one folder tree (or the problems that
// keep it from being one), subtrees, and reading the directory again when it changed meanwhile.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DirectorySnapshot,
  type FolderNode,
  folderPathText,
} from '../../../shared/directory/model';
import { readDirectory } from '../../../shared/directory/read-directory';
import { buildDirectory, directorySubtree } from '../../../shared/directory/tree';
import { DirectoryChanging, NotFound } from '../../../shared/errors';
import { member, sampleSnapshot } from '../../support/directory';

function built(snapshot: DirectorySnapshot) {
  const result = buildDirectory(snapshot);
  if (!result.ok) throw new Error(`unexpected problems: ${JSON.stringify(result.problems)}`);
  return result.directory;
}

describe('building the folder tree', () => {
  it('nests folders under their parents, sorted by name, with their members', () => {
    const directory = built(sampleSnapshot());
    const shape = (node: FolderNode): unknown => ({
      name: node.name,
      members: node.members,
      children: node.children.map(shape),
    });
    expect(shape(directory.root)).toEqual({
      name: 'Root',
      members: ['1000000000000001'],
      children: [
        {
          name: 'Production',
          members: [],
          children: [
            { name: 'Web', members: ['2000000000000002', '2000000000000003'], children: [] },
          ],
        },
        { name: 'Sandbox', members: ['2000000000000004'], children: [] },
      ],
    });
  });

  it('gives each member its folder path', () => {
    const directory = built(sampleSnapshot());
    const web = directory.members.find((m) => m.accountId === '2000000000000002');
    expect(web).toEqual({
      accountId: '2000000000000002',
      displayName: 'web-a',
      folderId: 'fd-web',
      folderPath: 'Root/Production/Web',
      joinMethod: 'invited',
      type: 'CloudAccount',
      status: 'InviteSuccess',
      joinTime: '2024-01-01T00:00:00Z',
      modifyTime: null,
    });
    expect(directory.members.map((m) => m.displayName)).toEqual([
      'management',
      'sandbox',
      'web-a',
      'web-b',
    ]);
  });

  it('groups delegated administrators by account with their services', () => {
    expect(built(sampleSnapshot()).delegatedAdministrators).toEqual([
      {
        accountId: '2000000000000002',
        displayName: 'web-a',
        services: ['bastionhost.aliyuncs.com', 'sas.aliyuncs.com'],
      },
      { accountId: '2000000000000004', displayName: 'sandbox', services: ['cloudfw.aliyuncs.com'] },
    ]);
  });

  it('reports a folder whose parent was not listed and a member in an unlisted folder', () => {
    const snapshot = sampleSnapshot();
    snapshot.folders.push({ id: 'fd-orphan', name: 'Orphan', parentId: 'fd-gone' });
    snapshot.folders.push({ id: 'fd-under-orphan', name: 'Below', parentId: 'fd-orphan' });
    snapshot.members.push(member('2000000000000009', 'fd-new'));
    const result = buildDirectory(snapshot);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      { kind: 'missing-parent', folderId: 'fd-orphan', parentId: 'fd-gone' },
      { kind: 'member-in-unknown-folder', accountId: '2000000000000009', folderId: 'fd-new' },
    ]);
  });

  it('reports folders on a parent cycle and a missing root', () => {
    const snapshot = sampleSnapshot();
    snapshot.folders.push(
      { id: 'fd-a', name: 'A', parentId: 'fd-b' },
      { id: 'fd-b', name: 'B', parentId: 'fd-a' },
    );
    const result = buildDirectory(snapshot);
    expect(!result.ok && result.problems).toEqual([{ kind: 'cycle', folderIds: ['fd-a', 'fd-b'] }]);
    expect(buildDirectory({ ...sampleSnapshot(), rootFolderId: 'r-other' })).toEqual({
      ok: false,
      problems: [{ kind: 'missing-root', folderId: 'r-other' }],
    });
  });

  it('places every member of any random tree exactly once, under its folder path', () => {
    const arbitraryTree = fc.array(fc.nat(), { maxLength: 40 }).chain((parents) =>
      fc.record({
        parents: fc.constant(parents),
        members: fc.array(fc.nat({ max: parents.length }), { maxLength: 60 }),
      }),
    );
    fc.assert(
      fc.property(arbitraryTree, ({ parents, members }) => {
        // folder i+1's parent is some earlier folder: always a tree.
        const ids = ['r-root', ...parents.map((_, i) => `fd-${i + 1}`)];
        const snapshot: DirectorySnapshot = {
          ...sampleSnapshot(),
          rootFolderId: 'r-root',
          folders: ids.map((id, i) => ({
            id,
            name: `F${i}`,
            parentId: i === 0 ? null : (ids[(parents[i - 1] ?? 0) % i] ?? null),
          })),
          members: members.map((folder, i) =>
            member(String(3000000000000000 + i), ids[folder] ?? 'r-root'),
          ),
          delegations: [],
        };
        const directory = built(snapshot);
        const placed: string[] = [];
        const walk = (node: FolderNode, path: string) => {
          expect(node.path).toBe(path);
          placed.push(...node.members);
          for (const child of node.children) walk(child, `${path}/${child.name}`);
        };
        walk(directory.root, 'F0');
        expect(placed.sort()).toEqual(snapshot.members.map((m) => m.accountId).sort());
        for (const m of directory.members) {
          const folderIndex = ids.indexOf(m.folderId);
          expect(m.folderPath.endsWith(`F${folderIndex}`)).toBe(true);
        }
      }),
    );
  });
});

describe('subtree', () => {
  it('keeps the folder, its descendants and their members', () => {
    const sub = directorySubtree(built(sampleSnapshot()), 'fd-prod');
    expect(sub?.root.name).toBe('Production');
    expect(sub?.members.map((m) => m.accountId).sort()).toEqual([
      '2000000000000002',
      '2000000000000003',
    ]);
    expect(directorySubtree(built(sampleSnapshot()), 'fd-none')).toBeUndefined();
  });
});

describe('readDirectory use case', () => {
  it('reads again when a listing raced with a change, then succeeds', async () => {
    const broken = sampleSnapshot();
    broken.members.push(member('2000000000000009', 'fd-new'));
    const healed = sampleSnapshot();
    healed.folders.push({ id: 'fd-new', name: 'New', parentId: 'r-root01' });
    healed.members.push(member('2000000000000009', 'fd-new'));
    const answers = [broken, healed];
    let reads = 0;
    const directory = await readDirectory({ readSnapshot: async () => answers[reads++] ?? healed });
    expect(reads).toBe(2);
    expect(directory.members.find((m) => m.accountId === '2000000000000009')?.folderPath).toBe(
      'Root/New',
    );
  });

  it('gives up with DirectoryChanging (503) when every listing is inconsistent', async () => {
    const broken = sampleSnapshot();
    broken.members.push(member('2000000000000009', 'fd-new'));
    const error = await readDirectory({ readSnapshot: async () => broken }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DirectoryChanging);
    expect((error as DirectoryChanging).status).toBe(503);
  });

  it('404 for a folder that is not in the directory', async () => {
    const error = await readDirectory(
      { readSnapshot: async () => sampleSnapshot() },
      { folderId: 'fd-none' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect((error as NotFound).message).toBe(
      'Folder fd-none is not in resource directory rd-abc123',
    );
  });
});

describe('folder tree, exactly', () => {
  const base = (): DirectorySnapshot => ({
    resourceDirectoryId: 'rd-1',
    managementAccountId: '1',
    managementAccountName: null,
    rootFolderId: 'r',
    folders: [{ id: 'r', name: 'Root', parentId: null }],
    members: [],
    delegations: [],
  });
  const problemsOf = (snapshot: DirectorySnapshot) => {
    const result = buildDirectory(snapshot);
    return result.ok ? [] : result.problems;
  };

  it('sorts sibling folders by name, then by id', () => {
    const snapshot = base();
    snapshot.folders.push(
      { id: 'f-a', name: 'B', parentId: 'r' },
      { id: 'f-z', name: 'A', parentId: 'r' },
      { id: 'f-b', name: 'A', parentId: 'r' },
    );
    expect(built(snapshot).root.children.map((c) => c.id)).toEqual(['f-b', 'f-z', 'f-a']);
  });

  it('groups delegations per account, sorted, each service once and sorted', () => {
    const snapshot = base();
    snapshot.delegations = [
      { accountId: '300', displayName: 'c', servicePrincipal: 'z.aliyuncs.com' },
      { accountId: '200', displayName: 'b', servicePrincipal: 'y.aliyuncs.com' },
      { accountId: '300', displayName: 'c', servicePrincipal: 'a.aliyuncs.com' },
      { accountId: '300', displayName: 'c', servicePrincipal: 'z.aliyuncs.com' },
    ];
    expect(built(snapshot).delegatedAdministrators).toEqual([
      { accountId: '200', displayName: 'b', services: ['y.aliyuncs.com'] },
      { accountId: '300', displayName: 'c', services: ['a.aliyuncs.com', 'z.aliyuncs.com'] },
    ]);
  });

  it('reports a folder listed twice and a non-root folder without a parent', () => {
    const snapshot = base();
    snapshot.folders.push(
      { id: 'f-1', name: 'One', parentId: 'r' },
      { id: 'f-1', name: 'One again', parentId: 'r' },
      { id: 'f-2', name: 'Loose', parentId: null },
    );
    expect(problemsOf(snapshot)).toEqual([
      { kind: 'duplicate-folder', folderId: 'f-1' },
      { kind: 'missing-parent', folderId: 'f-2', parentId: '' },
    ]);
  });

  it('a folder under an orphan is not reported as a cycle; folders on a cycle are, sorted', () => {
    const orphaned = base();
    orphaned.folders.push(
      { id: 'f-orphan', name: 'O', parentId: 'gone' },
      { id: 'f-child', name: 'C', parentId: 'f-orphan' },
    );
    expect(problemsOf(orphaned)).toEqual([
      { kind: 'missing-parent', folderId: 'f-orphan', parentId: 'gone' },
    ]);
    const cyclic = base();
    cyclic.folders.push(
      { id: 'f-c', name: 'C', parentId: 'f-a' },
      { id: 'f-a', name: 'A', parentId: 'f-b' },
      { id: 'f-b', name: 'B', parentId: 'f-c' },
      { id: 'f-ok', name: 'Ok', parentId: 'r' },
    );
    expect(problemsOf(cyclic)).toEqual([{ kind: 'cycle', folderIds: ['f-a', 'f-b', 'f-c'] }]);
  });

  it('a subtree may be any folder, however deep and whichever branch', () => {
    const directory = built(sampleSnapshot());
    expect(directorySubtree(directory, 'fd-sandbox')?.members.map((m) => m.accountId)).toEqual([
      '2000000000000004',
    ]);
    expect(directorySubtree(directory, 'fd-web')?.root.path).toBe('Root/Production/Web');
    expect(directorySubtree(directory, 'r-root01')).toEqual(directory);
  });
});

describe('readDirectory, exactly', () => {
  const broken = () => {
    const snapshot = sampleSnapshot();
    for (let i = 0; i < 25; i++)
      snapshot.members.push(member(String(3000000000000000 + i), `fd-gone-${i}`));
    return snapshot;
  };

  it('lists the directory twice by default, as often as asked, and at least once', async () => {
    for (const [attempts, expected] of [
      [undefined, 2],
      [3, 3],
      [0, 1],
    ] as const) {
      let reads = 0;
      const error = await readDirectory(
        {
          readSnapshot: async () => {
            reads++;
            return broken();
          },
        },
        attempts === undefined ? {} : { attempts },
      ).catch((e: unknown) => e);
      expect(reads).toBe(expected);
      expect(error).toBeInstanceOf(DirectoryChanging);
      expect((error as DirectoryChanging).message).toBe(
        `The resource directory changed while it was being read (25 inconsistencies in ${expected} listings); retry shortly`,
      );
      const details = (error as DirectoryChanging).details as { problems: unknown[] };
      expect(details.problems).toHaveLength(20);
      expect(details.problems[0]).toEqual({
        kind: 'member-in-unknown-folder',
        accountId: '3000000000000000',
        folderId: 'fd-gone-0',
      });
    }
  });

  it('answers the subtree of the folder asked for, and a 404 naming the folder', async () => {
    const sub = await readDirectory(
      { readSnapshot: async () => sampleSnapshot() },
      { folderId: 'fd-prod' },
    );
    expect(sub.root.id).toBe('fd-prod');
    const error = await readDirectory(
      { readSnapshot: async () => sampleSnapshot() },
      { folderId: 'fd-none' },
    ).catch((e: unknown) => e);
    expect((error as NotFound).details).toEqual({ folderId: 'fd-none' });
  });
});

describe('folder paths as the API writes them', () => {
  it('are the folder names from the root down, joined by /', () => {
    expect(folderPathText([{ name: 'Root' }, { name: 'Production' }, { name: 'Web' }])).toBe(
      'Root/Production/Web',
    );
    expect(folderPathText([{ name: 'Root' }])).toBe('Root');
    expect(folderPathText([])).toBe('');
  });
});
