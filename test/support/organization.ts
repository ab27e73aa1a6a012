// Test organizations in localcloud's fixture format (localcloud/org/fixture.ts).
import { FUNCTION_ROLE_NAME, type OrganizationFixture } from '../../localcloud/index';

/** The functions' role in the management account, as s.yaml names it by default. */
export const FUNCTION_ROLE = FUNCTION_ROLE_NAME;

const FOLDER_PATHS = ['Production', 'Production/Retail', 'Production/Retail/Web', 'Sandbox'];

export function memberId(index: number): string {
  return String(2000000000000000 + index);
}

/** Where member `index` lives, as a path of folder names below Root ('' = Root). */
export function folderOf(index: number): string {
  return index % 5 === 4 ? '' : (FOLDER_PATHS[index % 5] ?? '');
}

/**
 * `members` members spread over Root and a 3-deep folder tree; `wideFolders` extra empty folders
 * under Root (to page ListFoldersForParent); one delegated administrator; the management account
 * holds the functions' role, trusted by fc.aliyuncs.com.
 */
export function testOrganization(options: {
  members: number;
  wideFolders?: number;
}): OrganizationFixture {
  const wide = Array.from({ length: options.wideFolders ?? 0 }, (_, i) => ({
    name: `Team${String(i).padStart(2, '0')}`,
  }));
  return {
    seed: 'rd-governance-app-integration',
    management: {
      name: 'management',
      roles: [{ name: FUNCTION_ROLE, trustedServices: ['fc.aliyuncs.com'] }],
    },
    folders: [
      { name: 'Production', children: [{ name: 'Retail', children: [{ name: 'Web' }] }] },
      { name: 'Sandbox' },
      ...wide,
    ],
    members: Array.from({ length: options.members }, (_, i) => ({
      name: `member-${String(i).padStart(3, '0')}`,
      id: memberId(i),
      joinMethod: i % 3 === 0 ? ('invited' as const) : ('created' as const),
      ...(folderOf(i) ? { folder: folderOf(i) } : {}),
    })),
    delegatedAdministrators: [
      { account: 'member-000', services: ['cloudfw.aliyuncs.com', 'sas.aliyuncs.com'] },
    ],
    servicePrincipals: ['fc.aliyuncs.com'],
  };
}
