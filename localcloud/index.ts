// localcloud: a local stand-in for the Alibaba Cloud APIs rd-governance calls, speaking their real
// wire protocols on one loopback server, so official SDKs work against it by endpoint only.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CallLog } from './core/call-log';
import { LocalClock } from './core/clock';
import type { LocalCloudEnv, LocalService, ServiceContext, ServiceName } from './core/contracts';
import { createControl, envAccount, type LocalCloudControl } from './core/control';
import { LocalCredentialStore } from './core/credentials';
import { DEFAULT_TABLESTORE_INSTANCE } from './core/defaults';
import { FaultInjector } from './core/faults';
import { popRequestId } from './core/ids';
import { NonceRegistry } from './core/pop';
import { PerSecondRateLimit } from './core/rate-limit';
import { type ActionTrailEntry, type ActionTrailListener, ActionTrailLog } from './org/actiontrail';
import {
  loadOrganizationFixture,
  type OrganizationFixture,
  parseOrganizationFixture,
} from './org/fixture';
import { organizationKeys } from './org/keys';
import { Organization } from './org/organization';
import { persistOrganization } from './org/persistence';
import { LocalCloudServer } from './server';
import { createServices } from './services';
import { ASSUME_ROLE_LIMIT_PER_SECOND } from './services/sts';
import { createLocalSls, type LocalSls } from './sls';
import type { ShardQuotas } from './sls/model';
import { createTablestoreService, type TablestoreService } from './tablestore';

export type { CallFilter } from './core/call-log';
export type { LocalClock } from './core/clock';
export type * from './core/contracts';
export type { EnvAccount, LocalCloudControl, RoleView } from './core/control';
export type { LocalCredentialStore } from './core/credentials';
export { DEFAULT_TABLESTORE_INSTANCE } from './core/defaults';
export type { FaultKind, FaultRule, NewFaultRule } from './core/faults';
export type {
  ActionTrailCloudEvent,
  ActionTrailEntry,
  ActionTrailListener,
  ActionTrailRecord,
  ActionTrailUserIdentity,
} from './org/actiontrail';
export { ACTIONTRAIL_API_CALL_TYPE, ACTIONTRAIL_SOURCE } from './org/actiontrail';
export { buildOrganization, FUNCTION_ROLE_NAME } from './org/builder';
export type { OrganizationFixture } from './org/fixture';
export { loadOrganizationFixture } from './org/fixture';
export { ACCESS_ROLE_NAME, Organization, OrganizationError } from './org/organization';
export { SERVICE_LINKED_ROLES } from './org/service-linked-roles';
export type {
  AsyncInvocation,
  AsyncInvocations,
  FcService,
  FcServiceOptions,
  FunctionDispatcher,
} from './services/fc';
export {
  createFcService,
  FC_API_VERSION,
  FC_ASYNC_PAYLOAD_LIMIT,
  FC_SYNC_PAYLOAD_LIMIT,
} from './services/fc';
export { ASSUME_ROLE_LIMIT_PER_SECOND } from './services/sts';
export type { LocalSls, ProductLogEntry, ProductName, ShardQuotas } from './sls';

export const DEMO_ORGANIZATION_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'demo-organization.yaml',
);

const ALL_SERVICES: ServiceName[] = ['sts', 'resourcemanager', 'ram', 'tablestore', 'sls', 'fc'];

export interface StartLocalCloudOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  /** A fixture object, a YAML path, or absent = the demo organization. */
  organization?: OrganizationFixture | string;
  /** Absent = in memory. Handed to services that keep data (Tablestore, SLS). */
  dataDir?: string;
  /** Where to write env.json (absent = not written). */
  envFile?: string;
  /** Tablestore instances created in the management account (default: `rdgov`, the instance the
   *  local function host configures). Tests create more through `cloud.tablestore`. */
  tablestoreInstances?: string[];
  /** Services hosted besides the built-in ones (routed after them). */
  extraServices?: LocalService[];
  /** Per-shard SLS quotas (default: the cloud's); a bench scales them to hit them. */
  slsQuotas?: Partial<ShardQuotas>;
  /** With `dataDir`: SLS segment file size (default 64 MiB) and journal size before a snapshot
   *  (default 8 MiB); tests make them small. */
  slsPersistence?: { segmentBytes?: number; compactAfterBytes?: number };
  /** 'live': the products' log generators tick every second (npm start); absent: they write only
   *  when ticked (`cloud.sls.products.tick()`, `POST /__localcloud/sls/tick`), so tests control
   *  time. */
  productLogs?: 'live';
  /** Random source for fault rates (tests pass a fixed one). */
  random?: () => number;
  /** Reports failures inside services (default: console.error). */
  onServiceError?: (error: unknown, service: string, action: string) => void;
  /** Wall time, epoch ms (default Date.now). A test that counts calls per second stops it here
   *  and moves it itself; it must stay within STS's 15 minutes of the SDKs' real timestamps. */
  wallClock?: () => number;
  /** STS AssumeRole calls admitted per second per account: STS's documented 100 by default; null
   *  lifts the limit. `control.setStsAssumeRoleLimit` changes it while running. */
  stsAssumeRoleLimitPerSecond?: number | null;
}

export interface LocalCloud {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The current env (a fresh copy each read: members added through the controls appear). */
  readonly env: LocalCloudEnv;
  control: LocalCloudControl;
  organization: Organization;
  clock: LocalClock;
  credentials: LocalCredentialStore;
  /** The Tablestore emulator: create instances for any account, list them. */
  tablestore: TablestoreService;
  /** The SLS emulator: its data model and the products that write logs. */
  sls: LocalSls;
  /** Hosts another service on the same server (e.g. FC from the function host). */
  addService(service: LocalService): void;
  /** Publishes the API URL and tokens in env.json (the function host calls this). */
  publishApi(api: NonNullable<LocalCloudEnv['api']>): void;
  /** The ActionTrail CloudEvents (as EventBridge delivers them) that the controls' directory
   *  changes caused, with seq greater than `since` (all kept when absent), oldest first. */
  events(since?: number): ActionTrailEntry[];
  /** Calls `listener` with each such event as it happens; returns the unsubscribe. */
  onEvent(listener: ActionTrailListener): () => void;
  stop(): Promise<void>;
}

function loadFixture(source: OrganizationFixture | string | undefined) {
  if (source === undefined) return loadOrganizationFixture(DEMO_ORGANIZATION_PATH);
  if (typeof source === 'string') return loadOrganizationFixture(source);
  return parseOrganizationFixture(source);
}

export function buildEnv(
  organization: Organization,
  url: string,
  api?: LocalCloudEnv['api'],
): LocalCloudEnv {
  const hostPort = url.replace(/^https?:\/\//, '');
  const endpoints = Object.fromEntries(ALL_SERVICES.map((name) => [name, hostPort])) as Record<
    ServiceName,
    string
  >;
  return {
    region: organization.region,
    url,
    endpoints,
    control: `${url}/__localcloud`,
    managementAccountId: organization.managementAccountId,
    accounts: organization.directoryAccounts().map((account) => envAccount(organization, account)),
    servicePrincipals: Object.fromEntries(
      [...organization.servicePrincipals].map(([name, keys]) => [name, { ...keys }]),
    ),
    ...(api ? { api } : {}),
  };
}

function writeEnvFile(path: string, env: LocalCloudEnv): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
}

export async function startLocalCloud(options: StartLocalCloudOptions = {}): Promise<LocalCloud> {
  const clock = new LocalClock(options.wallClock);
  const fixture = loadFixture(options.organization);
  const assumeRoleLimit = new PerSecondRateLimit(
    clock,
    options.stsAssumeRoleLimitPerSecond === undefined
      ? ASSUME_ROLE_LIMIT_PER_SECOND
      : options.stsAssumeRoleLimitPerSecond,
  );
  const organization = new Organization(fixture, () => clock.now());
  // With a data directory, organization changes survive a restart (STS tokens do not).
  const persistence = options.dataDir
    ? persistOrganization(organization, options.dataDir)
    : undefined;
  const credentials = new LocalCredentialStore(
    organizationKeys(organization),
    clock,
    (accountId, roleName) => organization.findRole(accountId, roleName)?.roleId,
  );
  const nonces = new NonceRegistry();
  const faults = new FaultInjector(options.random);
  const calls = new CallLog();
  const context: ServiceContext = { credentials, clock, requestId: popRequestId };

  let url = '';
  let api: LocalCloudEnv['api'];
  const currentEnv = () => buildEnv(organization, url, api);
  const trail = new ActionTrailLog(organization, () => clock.now());
  const tablestore = createTablestoreService({
    clock,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const control = createControl({
    organization,
    clock,
    faults,
    calls,
    env: currentEnv,
    trail,
    assumeRoleLimit,
    search: tablestore,
  });
  for (const instanceName of options.tablestoreInstances ?? [DEFAULT_TABLESTORE_INSTANCE]) {
    tablestore.createInstance(organization.managementAccountId, instanceName);
  }
  const sls = createLocalSls({
    clock,
    region: organization.region,
    seed: fixture.seed,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.slsPersistence ? { persistence: options.slsPersistence } : {}),
    ...(options.slsQuotas ? { quotas: options.slsQuotas } : {}),
    products: fixture.members.flatMap((member) => {
      const account = organization.findAccount(member.name);
      if (!account) return [];
      return (member.logProducts ?? []).map((entry) =>
        typeof entry === 'string'
          ? { accountId: account.id, product: entry }
          : { accountId: account.id, ...entry },
      );
    }),
  });
  if (options.productLogs === 'live') sls.products.start();
  const services = [
    ...createServices({
      sls: sls.service,
      organization,
      credentials,
      clock,
      nonces,
      tablestore,
      assumeRoleLimit,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    }),
    ...(options.extraServices ?? []),
  ];
  const server = new LocalCloudServer({
    services,
    context,
    faults,
    calls,
    control,
    now: () => clock.now(),
    onServiceError:
      options.onServiceError ??
      ((error, service, action) =>
        console.error(`localcloud: ${service} ${action} failed:`, error)),
  });
  const address = await server.listen(options.port ?? 0);
  url = `http://${address.host}:${address.port}`;

  const envFile = options.envFile;
  let pendingWrite = false;
  const scheduleEnvWrite = () => {
    if (!envFile || pendingWrite) return;
    pendingWrite = true;
    setImmediate(() => {
      pendingWrite = false;
      writeEnvFile(envFile, currentEnv());
    });
  };
  if (envFile) writeEnvFile(envFile, currentEnv());
  organization.onChange(scheduleEnvWrite);

  return {
    url,
    get env() {
      return currentEnv();
    },
    control,
    organization,
    clock,
    credentials,
    tablestore,
    sls,
    addService: (service) => server.addService(service),
    events: (since) => trail.list(since),
    onEvent: (listener) => trail.onEvent(listener),
    publishApi(published) {
      api = published;
      if (envFile) writeEnvFile(envFile, currentEnv());
    },
    async stop() {
      await server.close();
      persistence?.flush();
      if (envFile && pendingWrite) writeEnvFile(envFile, currentEnv());
    },
  };
}
