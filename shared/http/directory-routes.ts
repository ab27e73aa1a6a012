// GET /v1/directory: the Resource Directory as a folder tree, read live through the
// ResourceManager API with the function's own credentials. Viewer role.

import { z } from 'zod';
import type { FolderNode } from '../directory/model';
import type { DirectorySource } from '../directory/ports';
import { readDirectory } from '../directory/read-directory';
import type { Invocation } from '../runtime/context';
import type { RouteDefinition } from './app';
import { jsonResponse, parseQuery } from './validation';

/** RD folder ids: the root folder r-..., other folders fd-... */
export const FOLDER_ID = /^(r|fd)-[A-Za-z0-9]{1,64}$/;

export const directoryQuerySchema = z.strictObject({
  folderId: z
    .string()
    .regex(FOLDER_ID, 'must be a folder id such as fd-3G8sQ2lMmj or r-Wm0UXc')
    .optional(),
});

export const folderNodeSchema: z.ZodType<FolderNode> = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  path: z.string(),
  get children() {
    return z.array(folderNodeSchema);
  },
  members: z.array(z.string()),
});

export const directoryAccountSchema = z.strictObject({
  id: z.string().min(1),
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
  managementAccountId: z.string().min(1),
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

export interface DirectoryRouteDependencies {
  /** The directory as seen with this invocation's credentials. */
  directorySource(invocation: Invocation): Pick<DirectorySource, 'readSnapshot'>;
}

export function directoryRoutes(deps: DirectoryRouteDependencies): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/v1/directory',
      access: 'viewer',
      async handle(c) {
        const query = parseQuery(c.req.url, directoryQuerySchema);
        const directory = await readDirectory(deps.directorySource(c.env.invocation), {
          ...(query.folderId !== undefined ? { folderId: query.folderId } : {}),
        });
        return jsonResponse('GET /v1/directory', directoryResponseSchema, directory);
      },
    },
  ];
}
