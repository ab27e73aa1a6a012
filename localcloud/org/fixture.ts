// The organization as data: the YAML fixture format, validated on load. Ids and keys that a
// fixture leaves out derive from its `seed`, so the same file always yields the same directory.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PRODUCTS } from '../sls/products';

const roleFixture = z.object({
  name: z.string().min(1).max(64),
  description: z.string().optional(),
  /** A full trust policy document (object or JSON text)... */
  trustPolicy: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** ...or shorthand: account ids (or `acs:ram::<id>:root` etc.) and service names to trust. */
  trustedPrincipals: z.array(z.string()).optional(),
  trustedServices: z.array(z.string()).optional(),
  maxSessionDuration: z.number().int().min(3600).max(43200).optional(),
});

const productName = z.enum(PRODUCTS);
const productLogFixture = z.object({
  product: productName,
  /** Records the product's generator appends per minute of localcloud's clock (default 60). */
  logsPerMinute: z.number().min(0).max(600_000).optional(),
  region: z.string().optional(),
});

const folderFixture: z.ZodType<FolderFixture> = z.lazy(() =>
  z.object({
    name: z.string().min(1),
    id: z
      .string()
      .regex(/^fd-[A-Za-z0-9]+$/)
      .optional(),
    children: z.array(folderFixture).optional(),
  }),
);

const memberFixture = z.object({
  name: z.string().min(1),
  id: z
    .string()
    .regex(/^\d{16}$/)
    .optional(),
  displayName: z.string().optional(),
  /** Folder path by names below Root (`Production/Retail`), a folder id, or absent = Root. */
  folder: z.string().optional(),
  joinMethod: z.enum(['created', 'invited']).default('created'),
  type: z.enum(['CloudAccount', 'ResourceAccount']).optional(),
  joinTime: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  /** Service-linked roles present in the member: service names or role names. */
  serviceLinkedRoles: z.array(z.string()).optional(),
  roles: z.array(roleFixture).optional(),
  /** Leave out ResourceDirectoryAccountAccessRole (every member has it unless this is true). */
  withoutAccessRole: z.boolean().optional(),
  /** Cloud products that write logs into this member's SLS (their projects and Logstores exist
   *  from the start): a product name, or {product, logsPerMinute, region}. */
  logProducts: z.array(z.union([productName, productLogFixture])).optional(),
});

export const organizationFixtureSchema = z.object({
  seed: z.string().min(1),
  region: z.string().default('cn-hangzhou'),
  directory: z
    .object({
      id: z
        .string()
        .regex(/^rd-[a-z0-9]+$/)
        .optional(),
      rootFolderId: z.string().optional(),
      createTime: z.string().optional(),
    })
    .optional(),
  management: z.object({
    name: z.string().min(1),
    id: z
      .string()
      .regex(/^\d{16}$/)
      .optional(),
    displayName: z.string().optional(),
    serviceLinkedRoles: z.array(z.string()).optional(),
    roles: z.array(roleFixture).optional(),
  }),
  folders: z.array(folderFixture).optional(),
  members: z.array(memberFixture),
  delegatedAdministrators: z
    .array(z.object({ account: z.string(), services: z.array(z.string()).min(1) }))
    .optional(),
  /** Cloud services the local function host may act as in AssumeRole. */
  servicePrincipals: z.array(z.string()).optional(),
});

export interface FolderFixture {
  name: string;
  id?: string | undefined;
  children?: FolderFixture[] | undefined;
}
export type RoleFixture = z.infer<typeof roleFixture>;
export type MemberFixture = z.input<typeof memberFixture>;
export type OrganizationFixture = z.input<typeof organizationFixtureSchema>;
export type ParsedOrganizationFixture = z.output<typeof organizationFixtureSchema>;

export class FixtureError extends Error {
  override name = 'FixtureError';
}

export function parseOrganizationFixture(
  input: unknown,
  source = 'organization',
): ParsedOrganizationFixture {
  const result = organizationFixtureSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('\n');
    throw new FixtureError(`${source} is not a valid organization fixture:\n${issues}`);
  }
  return result.data;
}

export function loadOrganizationFixture(path: string): ParsedOrganizationFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FixtureError(`cannot read organization fixture ${path}: ${(error as Error).message}`);
  }
  return parseOrganizationFixture(parseYaml(text), path);
}
