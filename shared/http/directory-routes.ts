// GET /v1/directory: the Resource Directory as a folder tree, read live through the
// ResourceManager API with the function's own credentials (JSON, or with `Accept: text/plain` a
// table of folder ids and paths). Viewer role.

import { z } from 'zod';
import type { Directory, FolderNode } from '../directory/model';
import type { DirectorySource } from '../directory/ports';
import { readDirectory } from '../directory/read-directory';
import type { Invocation } from '../runtime/context';
import { defineRoute, type RouteDefinition, visibilityOf } from './app';
import { prefersOverJson } from './negotiation';
import { jsonResponse } from './validation';
import type { Visibility } from './visibility';

/** RD folder ids: the root folder r-..., other folders fd-... */
export const FOLDER_ID = /^(r|fd)-[A-Za-z0-9]{1,64}$/;

export const directoryQuerySchema = z.strictObject({
  folderId: z
    .string()
    .regex(FOLDER_ID, 'must be a folder id such as fd-3G8sQ2lMmj or r-Wm0UXc')
    .optional(),
});

export const folderNodeSchema: z.ZodType<FolderNode> = z
  .strictObject({
    id: z.string().min(1),
    name: z.string(),
    path: z.string(),
    get children() {
      return z.array(folderNodeSchema);
    },
    members: z.array(z.string()),
  })
  .meta({ id: 'FolderNode' });

export const directoryAccountSchema = z.strictObject({
  accountId: z.string().min(1),
  displayName: z.string(),
  folderId: z.string().min(1),
  folderPath: z.string(),
  joinMethod: z.string(),
  type: z.string(),
  status: z.string(),
  joinTime: z.string().nullable(),
  modifyTime: z.string().nullable(),
});

export const directoryResponseSchema = z.strictObject({
  resourceDirectoryId: z.string().min(1),
  /** null for a token limited to folders the management account is not in. */
  managementAccountId: z.string().min(1).nullable(),
  managementAccountName: z.string().nullable(),
  root: folderNodeSchema,
  members: z.array(directoryAccountSchema),
  delegatedAdministrators: z.array(
    z.strictObject({
      accountId: z.string().min(1),
      displayName: z.string(),
      services: z.array(z.string()),
    }),
  ),
});

/**
 * The folder tree as a text table (`Accept: text/plain`): one line per folder, depth first in the
 * tree's order, with its id, its path and how many members sit directly in it. For reading the
 * tree and picking a folder id by path without reading the JSON, e.g.
 * `awk '$2 == "Root/Production" {print $1}'`.
 */
export function folderTable(directory: Pick<Directory, 'root'>): string {
  const rows: Array<[string, string, string]> = [['FOLDER ID', 'PATH', 'MEMBERS']];
  const visit = (node: FolderNode) => {
    rows.push([node.id, node.path, String(node.members.length)]);
    for (const child of node.children) visit(child);
  };
  visit(directory.root);
  const idWidth = Math.max(...rows.map(([id]) => id.length));
  const pathWidth = Math.max(...rows.map(([, path]) => path.length));
  return `${rows
    .map(([id, path, members]) => `${id.padEnd(idWidth)}  ${path.padEnd(pathWidth)}  ${members}`)
    .join('\n')}\n`;
}

/** The directory with only the accounts the request may see (folders stay: they are not accounts). */
function visibleDirectory(
  directory: Directory,
  visible: Visibility,
): Omit<Directory, 'managementAccountId'> & { managementAccountId: string | null } {
  if (!visible.scoped) return directory;
  const prune = (node: FolderNode): FolderNode => ({
    ...node,
    members: visible.filter(node.members, (id) => id),
    children: node.children.map(prune),
  });
  const management = visible.sees(directory.managementAccountId);
  return {
    ...directory,
    managementAccountId: management ? directory.managementAccountId : null,
    managementAccountName: management ? directory.managementAccountName : null,
    root: prune(directory.root),
    members: visible.filter(directory.members, (m) => m.accountId),
    delegatedAdministrators: visible.filter(directory.delegatedAdministrators, (d) => d.accountId),
  };
}

export interface DirectoryRouteDependencies {
  /** The directory as seen with this invocation's credentials. */
  directorySource(invocation: Invocation): Pick<DirectorySource, 'readSnapshot'>;
}

export function directoryRoutes(deps: DirectoryRouteDependencies): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/directory',
      summary: 'The Resource Directory as a folder tree, read live',
      access: 'viewer',
      query: directoryQuerySchema,
      responses: {
        200: {
          description: 'The folder tree, members and delegated administrators',
          json: directoryResponseSchema,
          text: { 'text/plain': 'A table of folder ids, paths and member counts' },
        },
      },
      errors: [404],
      async handle(c, query) {
        const visible = await visibilityOf(c);
        const directory = visibleDirectory(
          await readDirectory(deps.directorySource(c.env.invocation), { folderId: query.folderId }),
          visible,
        );
        if (prefersOverJson(c.req.header('accept'), 'text/plain')) {
          return new Response(folderTable(directory), {
            status: 200,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          });
        }
        return jsonResponse('GET /v1/directory', directoryResponseSchema, directory);
      },
    }),
  ];
}
