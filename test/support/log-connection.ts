// How the log functions' dependencies reach a local cloud, built as shared/wiring/logs.ts builds
// them but with the management account's admin keys: the member access role through the official
// STS SDK, the project's SLS adapter for members and for the central Logstore, and the store over
// localcloud's Tablestore (or a client the caller passes). Imports nothing of localcloud, so a
// worker in a process of its own (a test's SIGKILL, the benchmark's bundled worker) loads only
// what the functions load.

import type { RetryOptions } from '../../shared/cloud/openapi';
import { createLogService, type LogService } from '../../shared/cloud/sls/client';
import { slsEndpointFor } from '../../shared/cloud/sls/endpoint';
import {
  accessRefusal,
  CredentialCache,
  createStsAssumeRole,
  MemberAccess,
  type TemporaryCredentials,
} from '../../shared/cloud/sts';
import { createTablestoreClient, type TablestoreClient } from '../../shared/cloud/tablestore';
import type { Clock } from '../../shared/domain/clock';
import type { MemberLogAccess } from '../../shared/logs/ports';
import { createStore } from '../../shared/store';
import { logIntegrationStore } from '../../shared/wiring/logs';

export const REGION = 'cn-hangzhou';
const ACCESS_ROLE = 'ResourceDirectoryAccountAccessRole';

/** How to reach a local cloud from this process or another one (a worker killed by a test). */
export interface LogConnection {
  url: string;
  sts: string;
  managementId: string;
  adminKeys: { accessKeyId: string; accessKeySecret: string };
  /** The store's Tablestore instance in the local cloud; undefined: an in-memory store. */
  tablestoreInstance: string | undefined;
}

/** The capability's dependencies over a local cloud, as the log functions build them. */
export function connectLogDeps(
  connection: LogConnection,
  clock: Clock,
  options: { retry?: RetryOptions; client?: TablestoreClient } = {},
) {
  const { adminKeys, managementId } = connection;
  const client =
    options.client ??
    createTablestoreClient({
      endpoint: connection.url,
      instanceName: connection.tablestoreInstance ?? 'logs',
      credentials: () => adminKeys,
    });
  const base = createStore({ client, clock });
  const store = Object.assign(base, { client });
  const logs = logIntegrationStore(store);
  const host = new URL(connection.url).host;
  const endpoints = {
    endpoint: `{region}.log.aliyuncs.com@${host}`,
    ownRegionEndpoint: `{region}-intranet.log.aliyuncs.com@${host}`,
    functionsRegion: REGION,
  };
  const retry = options.retry ?? {};
  const access = new MemberAccess({
    roleName: ACCESS_ROLE,
    cache: new CredentialCache<TemporaryCredentials>({ clock }),
    sessionName: 'log-harness',
    assumeRole: createStsAssumeRole({
      endpoint: connection.sts,
      protocol: 'http',
      credentials: adminKeys,
      callerAccountId: managementId,
      clock,
      ...retry,
    }),
  });
  const services = new Map<string, { credentials: TemporaryCredentials; service: LogService }>();
  const memberLogs: MemberLogAccess = async (accountId, region) => {
    try {
      const credentials = await access.credentialsFor(accountId);
      const key = `${accountId}/${region}`;
      const cached = services.get(key);
      if (cached?.credentials === credentials) return { ok: true, logs: cached.service };
      const service = createLogService({
        endpoint: slsEndpointFor(endpoints, region),
        protocol: 'http',
        region,
        credentials,
        accountId,
        ...retry,
      });
      services.set(key, { credentials, service });
      return { ok: true, logs: service };
    } catch (error) {
      const refusal = accessRefusal(access, accountId, error);
      if (!refusal) throw error;
      return { ok: false, ...refusal };
    }
  };
  const central = {
    service: createLogService({
      endpoint: slsEndpointFor(endpoints, REGION),
      protocol: 'http',
      region: REGION,
      credentials: adminKeys,
      accountId: managementId,
      ...retry,
    }),
    address: { project: `rdgov-logs-${managementId}`, logstore: 'integrated' },
  };
  return { store, logs, memberLogs, central };
}
