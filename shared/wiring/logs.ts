// Log integration from configuration: the store's log tables behind the capability's ports, a
// member's Log Service reached through its access role (sessions narrowed to the Log Service
// reads each function makes there, cached per member), the central Logstore in the functions' own
// account and region, and FC async fan-out. Also the definitions of the log-planner and
// log-worker functions, and what the API's log routes call.

import { createFcInvoker } from '../cloud/fc/invoke';
import { OPENAPI_RETRY_POLICY } from '../cloud/openapi';
import { createLogService, type LogService } from '../cloud/sls/client';
import { type SlsEndpoints, slsEndpointFor } from '../cloud/sls/endpoint';
import {
  accessRefusal,
  createMemberCredentialCache,
  type MemberAccess,
  memberAccessFor,
  type TemporaryCredentials,
} from '../cloud/sts';
import type { Config } from '../config';
import { systemClock } from '../domain/clock';
import type { LogUseCases } from '../http/log-routes';
import { diagnoseIntegration } from '../logs/diagnosis';
import { handlePlannerTimer, handleWorkerChunk } from '../logs/handlers';
import { LogIntegration } from '../logs/integration';
import type { LogstoreAddress } from '../logs/model';
import type { PlanSummary } from '../logs/planner';
import type { LogIntegrationStore, MemberLogAccess, MemberRoleStatusReader } from '../logs/ports';
import { type ChunkOutcome, DEFAULT_PULLER_SETTINGS, deadlineFor } from '../logs/puller';
import { LogIntegrationQueries } from '../logs/queries';
import { loadRoleCatalog, rolesFor } from '../roles/catalog';
import type { CloudCredentials, Invocation } from '../runtime/context';
import type { FunctionDefinition } from '../runtime/function';
import type { Logger } from '../runtime/logger';
import type { RetryPolicy } from '../runtime/retry';
import { decodeTimerEvent } from '../runtime/trigger-events';
import type { Store } from '../store';
import { memberSessionPolicy } from './member-sessions';
import { storeRuntime } from './store';

type LogSection = 'cloud' | 'sts' | 'sls' | 'tablestore' | 'logs';

/**
 * A member's Log Service calls are retried a little more than the default: a pull that failed on
 * a throttled or failing call is taken again later anyway, but each retry now saves a backoff.
 */
const MEMBER_LOGS_RETRY: RetryPolicy = { ...OPENAPI_RETRY_POLICY, maxAttempts: 4 };
/** PutLogs to the central Logstore: a batch not forwarded is pulled again, never lost. */
const CENTRAL_RETRY: RetryPolicy = { ...OPENAPI_RETRY_POLICY, maxAttempts: 5 };

/** The capability's store over the Tablestore store. */
export function logIntegrationStore(store: Store): LogIntegrationStore {
  return {
    policies: store.logPolicies,
    dataSources: store.logDataSources,
    snapshots: store.logSnapshots,
    checkpoints: store.logCheckpoints,
    leases: store.leases,
    activity: store.activity,
    management: { members: store.members, scopes: store.scopes },
  };
}

function endpoints(config: Config<'sls'>, functionsRegion: string): SlsEndpoints {
  return {
    endpoint: config.sls.endpoint,
    ownRegionEndpoint: config.sls.ownRegionEndpoint,
    functionsRegion,
  };
}

/** Log Service clients per member and region, rebuilt when the member's credentials change. */
class MemberLogClients {
  readonly #clients = new Map<string, { credentials: TemporaryCredentials; service: LogService }>();

  get(
    config: Config<'cloud' | 'sls'>,
    functionsRegion: string,
    accountId: string,
    region: string,
    credentials: TemporaryCredentials,
  ): LogService {
    const key = `${accountId}/${region}`;
    const cached = this.#clients.get(key);
    if (cached?.credentials === credentials) return cached.service;
    const service = createLogService({
      endpoint: slsEndpointFor(endpoints(config, functionsRegion), region),
      protocol: config.cloud.protocol,
      region,
      credentials,
      accountId,
      retry: MEMBER_LOGS_RETRY,
    });
    if (this.#clients.size >= 2_000) this.#clients.clear();
    this.#clients.set(key, { credentials, service });
    return service;
  }
}

function memberLogAccess(
  config: Config<'cloud' | 'sls'>,
  invocation: Invocation,
  access: MemberAccess,
  clients: MemberLogClients,
): MemberLogAccess {
  return async (accountId, region) => {
    try {
      const credentials = await access.credentialsFor(accountId);
      return {
        ok: true,
        logs: clients.get(config, invocation.region, accountId, region, credentials),
      };
    } catch (error) {
      const refusal = accessRefusal(access, accountId, error);
      if (!refusal) throw error;
      return { ok: false, ...refusal, code: refusal.code };
    }
  };
}

/** The central Logstore, in the functions' own account and region, with their role. */
export function centralLogstore(
  config: Config<'cloud' | 'sls' | 'logs'>,
  invocation: Invocation,
  credentials: CloudCredentials,
): { service: LogService; address: LogstoreAddress } {
  return {
    service: createLogService({
      endpoint: slsEndpointFor(endpoints(config, invocation.region), invocation.region),
      protocol: config.cloud.protocol,
      region: invocation.region,
      credentials,
      accountId: invocation.accountId,
      retry: CENTRAL_RETRY,
    }),
    address: { project: config.logs.centralProject, logstore: config.logs.centralLogstore },
  };
}

interface LogInvocation {
  store: LogIntegrationStore;
  memberLogs: MemberLogAccess;
  credentials: CloudCredentials;
  regions: string[];
}

/** What every log function keeps per process and builds per invocation. */
function logRuntime<C extends Config<LogSection>>(
  config: C,
  memberSessions: 'api' | 'log-planner' | 'log-worker',
) {
  const { store, useCredentialsOf } = storeRuntime(config);
  const credentialCache = createMemberCredentialCache();
  const clients = new MemberLogClients();
  const sessionPolicy = memberSessionPolicy(memberSessions);
  return {
    config,
    store,
    forInvocation(invocation: Invocation): LogInvocation {
      const credentials = useCredentialsOf(invocation);
      const access = memberAccessFor(config, invocation, credentialCache, {
        retry: MEMBER_LOGS_RETRY,
        sessionPolicy,
      });
      return {
        store: logIntegrationStore(store),
        memberLogs: memberLogAccess(config, invocation, access, clients),
        credentials,
        regions: config.logs.regions ?? [invocation.region],
      };
    },
  };
}

type LogRuntime<C extends Config<LogSection>> = ReturnType<typeof logRuntime<C>>;

// ------------------------------------------------------------------------------------- API

export const LOG_API_CONFIG_SECTIONS = [
  'cloud',
  'sts',
  'sls',
  'tablestore',
  'logs',
  'roles',
] as const;

/** The log routes' use cases over the cloud adapters (the API function). */
export function logApiRuntime(
  config: Config<(typeof LOG_API_CONFIG_SECTIONS)[number]>,
): (invocation: Invocation, logger: Logger) => LogUseCases {
  const runtime = logRuntime(config, 'api');
  // A malformed ROLE_CATALOG_EXTRA stops the cold start (as in the membership runtime).
  const catalog = loadRoleCatalog(config.roles.catalogExtra);
  const roles: MemberRoleStatusReader = async (accountId, services) => ({
    needed: rolesFor(catalog, services).map((r) => ({
      roleName: r.roleName,
      services: r.services,
    })),
    checks: await runtime.store.roleChecks.listForMember(accountId),
  });
  return (invocation) => {
    const { store, memberLogs, regions } = runtime.forInvocation(invocation);
    const settings = {
      regions,
      functionsAccountId: invocation.accountId,
      noDataAfterMs: config.logs.noDataAfterMs,
    };
    return {
      integration: new LogIntegration({ store, settings, clock: systemClock }),
      queries: new LogIntegrationQueries({ store, settings, clock: systemClock }),
      diagnose: (name) =>
        diagnoseIntegration({ store, memberLogs, roles, clock: systemClock, settings }, name),
    };
  };
}

// ------------------------------------------------------------------------------- functions

export const PLANNER_CONFIG_SECTIONS = [
  'cloud',
  'sts',
  'sls',
  'fc',
  'tablestore',
  'logs',
  'logging',
] as const;
type PlannerSection = (typeof PLANNER_CONFIG_SECTIONS)[number];

/** The planning timer: enabled policies x regions x Logstores x shards, fanned out. */
export const logPlannerFunction: FunctionDefinition<
  PlannerSection,
  LogRuntime<Config<PlannerSection | 'logging'>>,
  PlanSummary
> = {
  name: 'log-planner',
  config: PLANNER_CONFIG_SECTIONS,
  start: (config) => logRuntime(config, 'log-planner'),
  invoke(event, invocation, runtime, logger) {
    decodeTimerEvent(event);
    const { config } = runtime;
    const { store, memberLogs, credentials, regions } = runtime.forInvocation(invocation);
    return handlePlannerTimer({
      store,
      memberLogs,
      fanOut: createFcInvoker({
        endpoint: config.fc.endpoint,
        protocol: config.cloud.protocol,
        credentials,
        accountId: invocation.accountId,
      }),
      clock: systemClock,
      logger,
      settings: {
        regions,
        functionsAccountId: invocation.accountId,
        workerFunction: config.logs.workerFunction,
        shardsPerWorker: config.logs.shardsPerWorker,
        memberConcurrency: 16,
      },
    });
  },
};

export const WORKER_CONFIG_SECTIONS = [
  'cloud',
  'sts',
  'sls',
  'tablestore',
  'logs',
  'logging',
] as const;
type WorkerSection = (typeof WORKER_CONFIG_SECTIONS)[number];

/** The worker: the shards of one planned chunk, read and forwarded within the time budget. */
export const logWorkerFunction: FunctionDefinition<
  WorkerSection,
  LogRuntime<Config<WorkerSection | 'logging'>>,
  ChunkOutcome
> = {
  name: 'log-worker',
  config: WORKER_CONFIG_SECTIONS,
  start: (config) => logRuntime(config, 'log-worker'),
  invoke(event, invocation, runtime, logger) {
    const start = systemClock.now();
    const { config } = runtime;
    const { store, memberLogs, credentials } = runtime.forInvocation(invocation);
    const central = centralLogstore(config, invocation, credentials);
    return handleWorkerChunk(
      {
        store,
        memberLogs,
        central: { sink: central.service, address: central.address },
        clock: systemClock,
        logger,
        settings: { ...DEFAULT_PULLER_SETTINGS, concurrency: config.logs.workerConcurrency },
      },
      event,
      deadlineFor(start, invocation.timeoutSeconds),
    );
  },
};
