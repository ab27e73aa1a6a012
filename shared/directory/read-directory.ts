// Use case: read the Resource Directory as a folder tree, optionally only under one folder.

import { DirectoryChanging, NotFound } from '../errors';
import type { Directory } from './model';
import type { DirectorySource } from './ports';
import { buildDirectory, type DirectoryProblem, directorySubtree } from './tree';

export interface ReadDirectoryOptions {
  /** Only this folder and what is under it. */
  folderId?: string;
  /**
   * How many times to list the directory when a listing does not form one tree (it changed while
   * being listed: a member moved into a folder created after the folders were listed).
   */
  attempts?: number;
}

export async function readDirectory(
  source: Pick<DirectorySource, 'readSnapshot'>,
  options: ReadDirectoryOptions = {},
): Promise<Directory> {
  const attempts = Math.max(1, options.attempts ?? 2);
  let problems: DirectoryProblem[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const snapshot = await source.readSnapshot();
    const built = buildDirectory(snapshot);
    if (!built.ok) {
      problems = built.problems;
      continue;
    }
    if (options.folderId === undefined) return built.directory;
    const subtree = directorySubtree(built.directory, options.folderId);
    if (!subtree) {
      throw new NotFound(
        `Folder ${options.folderId} is not in resource directory ${built.directory.resourceDirectoryId}`,
        { details: { folderId: options.folderId } },
      );
    }
    return subtree;
  }
  throw new DirectoryChanging(
    `The resource directory changed while it was being read (${problems.length} inconsistencies in ${attempts} listings); retry shortly`,
    { problems: problems.slice(0, 20) },
  );
}
