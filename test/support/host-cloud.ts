// A local cloud for host tests: in memory, ephemeral port, with the role the fixture's functions
// run as (trusting fc.aliyuncs.com).

import { fileURLToPath } from 'node:url';
import { type LocalCloud, startLocalCloud } from '../../localcloud/index';

export const HOST_APP_S_YAML = fileURLToPath(
  new URL('../fixtures/host-app/s.yaml', import.meta.url),
);
export const FUNCTION_ROLE = 'host-app-function';

export function startHostTestCloud(): Promise<LocalCloud> {
  return startLocalCloud({
    port: 0,
    organization: {
      seed: 'host-e2e',
      region: 'cn-hangzhou',
      management: {
        name: 'host-e2e-management',
        roles: [{ name: FUNCTION_ROLE, trustedServices: ['fc.aliyuncs.com'] }],
      },
      members: [{ name: 'host-e2e-member' }],
      servicePrincipals: ['fc.aliyuncs.com'],
    },
  });
}
