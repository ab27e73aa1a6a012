// Organizations made in code, for tests: `buildOrganization({ members: 250 })` gives a directory
// with a folder tree three levels deep, members spread over it (both join methods and types),
// one delegated administrator, and service-linked roles present in some members only.

import type { FolderFixture, MemberFixture, OrganizationFixture, RoleFixture } from './fixture';

export interface BuildOrganizationOptions {
  seed?: string;
  members?: number;
  /** How many of the first members are delegated administrators (default 1 when members > 0). */
  delegatedAdministrators?: number;
  delegatedServices?: string[];
  /** Service-linked roles (service names) every n-th member has; default: sas/rd.sas on even
   *  members, cloudsiem.sas on every third, rd.bdrc on every fourth. */
  serviceLinkedRoles?: (index: number) => string[];
  managementName?: string;
  /** Extra roles in the management account (the functions' role is always there). */
  managementRoles?: RoleFixture[];
}

export const FUNCTION_ROLE_NAME = 'rd-governance-fc';

export const DEFAULT_FOLDERS: FolderFixture[] = [
  {
    name: 'Production',
    children: [
      { name: 'Retail', children: [{ name: 'Payments' }, { name: 'Storefront' }] },
      { name: 'Logistics', children: [{ name: 'Warehouse' }] },
    ],
  },
  {
    name: 'NonProduction',
    children: [{ name: 'Staging', children: [{ name: 'Sandbox' }] }],
  },
  { name: 'Security' },
];

const LEAF_PATHS = [
  'Production/Retail/Payments',
  'Production/Retail/Storefront',
  'Production/Logistics/Warehouse',
  'Production/Logistics',
  'NonProduction/Staging/Sandbox',
  'NonProduction/Staging',
  'Security',
  '',
];

function defaultServiceLinkedRoles(index: number): string[] {
  const roles: string[] = [];
  if (index % 2 === 0) roles.push('sas.aliyuncs.com', 'rd.sas.aliyuncs.com');
  if (index % 3 === 0) roles.push('cloudsiem.sas.aliyuncs.com');
  if (index % 4 === 0) roles.push('rd.bdrc.aliyuncs.com');
  return roles;
}

export function functionRoleFixture(): RoleFixture {
  return {
    name: FUNCTION_ROLE_NAME,
    description: 'Role of the rd-governance functions in Function Compute.',
    trustedServices: ['fc.aliyuncs.com'],
  };
}

export function buildOrganization(options: BuildOrganizationOptions = {}): OrganizationFixture {
  const count = options.members ?? 8;
  const delegatedCount = options.delegatedAdministrators ?? (count > 0 ? 1 : 0);
  const serviceLinkedRoles = options.serviceLinkedRoles ?? defaultServiceLinkedRoles;
  const members: MemberFixture[] = [];
  for (let index = 0; index < count; index++) {
    const invited = index % 3 === 1;
    members.push({
      name: `member-${String(index + 1).padStart(4, '0')}`,
      folder: index < delegatedCount ? 'Security' : LEAF_PATHS[index % LEAF_PATHS.length],
      joinMethod: invited ? 'invited' : 'created',
      type: invited ? 'CloudAccount' : 'ResourceAccount',
      serviceLinkedRoles: serviceLinkedRoles(index),
    });
  }
  const delegatedServices = options.delegatedServices ?? [
    'cloudfw.aliyuncs.com',
    'sas.aliyuncs.com',
    'bastionhost.aliyuncs.com',
  ];
  return {
    seed: options.seed ?? `test-${count}`,
    region: 'cn-hangzhou',
    management: {
      name: options.managementName ?? 'management',
      roles: [functionRoleFixture(), ...(options.managementRoles ?? [])],
    },
    folders: DEFAULT_FOLDERS,
    members,
    delegatedAdministrators: members
      .slice(0, delegatedCount)
      .map((member) => ({ account: member.name, services: delegatedServices })),
  };
}
