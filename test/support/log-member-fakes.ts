// In-memory stand-ins for a member's Log Service and for the central Logstore administration
// (shared/logs/ports.ts), for unit tests of discovery, diagnosis and the central setup: projects
// and Logstores held in maps, missing ones answered with LogResourceMissing as the SLS adapter
// does, and every call recorded so a test can pin what was asked. Shard reading is left to the
// localcloud-backed suites: these fakes refuse it.

import type { CloudCallFailure, CloudFailureKind } from '../../shared/errors';
import type { LogstoreAddress, LogstoreInfo, ProjectInfo } from '../../shared/logs/model';
import {
  LogResourceMissing,
  type LogstoreAdministration,
  type MemberLogs,
} from '../../shared/logs/ports';

export function logFailure(
  api: string,
  kind: CloudFailureKind,
  cloudCode: string,
  accountId = '2000000000000001',
): CloudCallFailure {
  return { service: 'sls', api, accountId, kind, cloudCode, cloudMessage: `${cloudCode} (fake)` };
}

export class InMemoryMemberLogs implements MemberLogs {
  readonly calls: string[] = [];
  private readonly projects = new Map<string, Map<string, LogstoreInfo>>();

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  /** A project, and Logstores in it (10 shards, 30 days unless said). */
  add(project: string, logstores: Array<string | LogstoreInfo> = []): this {
    const stores = this.projects.get(project) ?? new Map<string, LogstoreInfo>();
    for (const l of logstores) {
      const info = typeof l === 'string' ? { name: l, ttlDays: 30, shardCount: 10 } : l;
      stores.set(info.name, info);
    }
    this.projects.set(project, stores);
    return this;
  }

  async listProjects(): Promise<string[]> {
    this.calls.push('listProjects');
    return [...this.projects.keys()];
  }

  async getProject(project: string): Promise<ProjectInfo> {
    this.calls.push(`getProject ${project}`);
    if (!this.projects.has(project)) throw this.missing('project', 'GetProject', project);
    return {
      name: project,
      region: this.region,
      owner: this.accountId,
      description: '',
      status: 'Normal',
    };
  }

  async listLogstores(
    project: string,
    page: { nameContains?: string; offset?: number; size?: number } = {},
  ): Promise<{ names: string[]; total: number }> {
    const all = await this.listAllLogstores(project, page.nameContains);
    const offset = page.offset ?? 0;
    return { names: all.slice(offset, offset + (page.size ?? 500)), total: all.length };
  }

  async listAllLogstores(project: string, nameContains?: string): Promise<string[]> {
    this.calls.push(`listLogstores ${project} ${nameContains ?? ''}`.trim());
    const stores = this.projects.get(project);
    if (!stores) throw this.missing('project', 'ListLogStores', project);
    return [...stores.keys()].filter((n) => !nameContains || n.includes(nameContains)).sort();
  }

  async getLogstore(address: LogstoreAddress): Promise<LogstoreInfo> {
    this.calls.push(`getLogstore ${address.project}/${address.logstore}`);
    const stores = this.projects.get(address.project);
    if (!stores) throw this.missing('project', 'GetLogStore', address.project);
    const info = stores.get(address.logstore);
    if (!info) throw this.missing('logstore', 'GetLogStore', address.logstore);
    return info;
  }

  listShards(): never {
    throw new Error('InMemoryMemberLogs does not read shards');
  }
  cursor(): never {
    throw new Error('InMemoryMemberLogs does not read shards');
  }
  cursorTime(): never {
    throw new Error('InMemoryMemberLogs does not read shards');
  }
  pull(): never {
    throw new Error('InMemoryMemberLogs does not read shards');
  }
  decode(): never {
    throw new Error('InMemoryMemberLogs does not read shards');
  }

  private missing(resource: 'project' | 'logstore', api: string, name: string) {
    const code = resource === 'project' ? 'ProjectNotExist' : 'LogStoreNotExist';
    return new LogResourceMissing(resource, {
      ...logFailure(api, 'rejected', code, this.accountId),
      cloudMessage: `${name} does not exist`,
    });
  }
}

/** The central account's project and Logstore creation, recording what was made and how. */
export class InMemoryLogstoreAdministration implements LogstoreAdministration {
  readonly projects = new Map<string, string>();
  readonly logstores = new Map<string, { ttlDays: number; shardCount: number }>();
  readonly calls: string[] = [];

  async createProject(project: string, description: string): Promise<'created' | 'exists'> {
    this.calls.push(`createProject ${project}`);
    if (this.projects.has(project)) return 'exists';
    this.projects.set(project, description);
    return 'created';
  }

  async createLogstore(
    address: LogstoreAddress,
    settings: { ttlDays: number; shardCount: number },
  ): Promise<'created' | 'exists'> {
    this.calls.push(`createLogstore ${address.project}/${address.logstore}`);
    const key = `${address.project}/${address.logstore}`;
    if (this.logstores.has(key)) return 'exists';
    this.logstores.set(key, { ...settings });
    return 'created';
  }
}
