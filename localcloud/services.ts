// The services the localcloud server hosts, in routing order (the first whose matches() is true
// answers). Add a service with one line here. FC (services/fc) is not here: it runs functions in
// the local function host, so startLocalSystem adds it with `cloud.addService` once the host is up.

import type { LocalClock } from './core/clock';
import type { LocalService } from './core/contracts';
import type { LocalCredentialStore } from './core/credentials';
import type { NonceRegistry } from './core/pop';
import type { PerSecondRateLimit } from './core/rate-limit';
import type { Organization } from './org/organization';
import { createRamService } from './services/ram';
import { createResourceManagerService } from './services/resourcemanager';
import { createStsService } from './services/sts';
import type { SlsService } from './sls';
import type { TablestoreService } from './tablestore';

export interface ServiceDependencies {
  organization: Organization;
  credentials: LocalCredentialStore;
  clock: LocalClock;
  nonces: NonceRegistry;
  /** Absent = in memory. */
  dataDir?: string;
  /** Built by startLocalCloud, which keeps the handle to create instances and close it. */
  tablestore: TablestoreService;
  /** Built by startLocalCloud (it keeps the product generators and controls). */
  sls: SlsService;
  /** STS AssumeRole calls per second per account (startLocalCloud keeps it for the controls). */
  assumeRoleLimit: PerSecondRateLimit;
}

export function createServices(deps: ServiceDependencies): LocalService[] {
  const pop = { nonces: deps.nonces, wallNow: () => deps.clock.wallNow() };
  const { organization, credentials } = deps;
  return [
    createStsService({ ...pop, organization, credentials, assumeRoleLimit: deps.assumeRoleLimit }),
    createResourceManagerService({ ...pop, organization }),
    createRamService({ ...pop, organization }),
    deps.tablestore,
    deps.sls,
  ];
}
