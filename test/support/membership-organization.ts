// The small organization the Membership use cases are tested on: Root > Prod > Web and
// Root > Sandbox, the management account in Root, a delegated administrator in Prod, three
// members. The directory lists its members out of account order, so a test that relies on the
// directory's order fails here.

import type { Caller } from '../../shared/domain/caller';
import { member } from './directory';
import { InMemoryDirectory } from './in-memory-ports';

export const MGMT = '1000000000000001';
export const ADMIN = '1000000000000002';
export const WEB_A = '2000000000000001';
export const WEB_B = '2000000000000002';
export const SANDBOX = '2000000000000003';

export const user: Caller = { cause: { kind: 'user', identity: 'alice' }, requestId: 'req-1' };
export const timer: Caller = { cause: { kind: 'timer', trigger: 'test' } };

export function membershipOrganization(): InMemoryDirectory {
  return new InMemoryDirectory(
    { resourceDirectoryId: 'rd-test1', managementAccountId: MGMT, rootFolderId: 'r-root' },
    {
      folders: [
        { id: 'r-root', name: 'Root', parentId: null },
        { id: 'fd-prod', name: 'Prod', parentId: 'r-root' },
        { id: 'fd-web', name: 'Web', parentId: 'fd-prod' },
        { id: 'fd-sandbox', name: 'Sandbox', parentId: 'r-root' },
      ],
      members: [
        member(SANDBOX, 'fd-sandbox'),
        member(WEB_B, 'fd-web'),
        member(MGMT, 'r-root', { displayName: 'management' }),
        member(ADMIN, 'fd-prod', { displayName: 'security-admin' }),
        member(WEB_A, 'fd-web'),
      ],
      delegations: [
        { accountId: ADMIN, displayName: 'security-admin', servicePrincipal: 'sas.aliyuncs.com' },
      ],
    },
  );
}
