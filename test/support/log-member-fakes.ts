// In-memory stand-ins for a member's Log Service and for the central Logstore administration
// (shared/logs/ports.ts), for unit tests of discovery, diagnosis and the central setup: projects
// and Logstores held in maps, missing ones answered with LogResourceMissing as the SLS adapter
// does, and every call recorded so a test can pin what was asked. Shard reading is in
// InMemoryShardLogs (cursors are indexes into a shard's groups; CentralShardLogs also decodes
// what it holds, for consumers of the central Logstore), and forwarding to RecordingLogSink.

import { decodeLogGroup, encodeLogGroup, scanLogGroup } from '../../shared/cloud/sls/codec';
import type { CloudCallFailure, CloudFailureKind } from '../../shared/errors';
import type {
  CursorPosition,
  EncodedLogGroup,
  LogGroup,
  LogstoreAddress,
  LogstoreInfo,
  ProjectInfo,
  PulledLogs,
  PutOutcome,
  Shard,
} from '../../shared/logs/model';
import {
  type LogBatch,
  LogCursorInvalid,
  LogResourceMissing,
  type LogSink,
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

  /** Whether the Logstore exists (a test removes one with `drop`). */
  has(address: LogstoreAddress): boolean {
    return this.projects.get(address.project)?.has(address.logstore) ?? false;
  }

  drop(address: LogstoreAddress): void {
    this.projects.get(address.project)?.delete(address.logstore);
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

  // Shard reading: InMemoryShardLogs below holds shards; this one has none.
  listShards(_address: LogstoreAddress): Promise<Shard[]> {
    return Promise.resolve([]);
  }
  cursor(_address: LogstoreAddress, shardId: number, _position: CursorPosition): Promise<string> {
    return Promise.reject(new Error(`InMemoryMemberLogs holds no shard ${shardId}`));
  }
  cursorTime(_address: LogstoreAddress, shardId: number, _cursor: string): Promise<number> {
    return Promise.reject(new Error(`InMemoryMemberLogs holds no shard ${shardId}`));
  }
  pull(
    _address: LogstoreAddress,
    shardId: number,
    _range: { cursor: string; endCursor?: string; count?: number },
  ): Promise<PulledLogs> {
    return Promise.reject(new Error(`InMemoryMemberLogs holds no shard ${shardId}`));
  }
  decode(_group: EncodedLogGroup): LogGroup {
    throw new Error('the log fakes never decode: they forward groups as pulled');
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

interface HeldShard {
  status: Shard['status'];
  keys: { begin: string; end: string };
  /** Each group with its receive time (unix seconds), in order. */
  groups: Array<{ time: number; group: EncodedLogGroup }>;
  /** Groups before this index fell out of the TTL. */
  retainedFrom: number;
}

/**
 * A member's Logstores with shards to read: cursors are `c<index>` into a shard's groups, a cursor
 * before the retained ones is refused with LogCursorInvalid (as after the TTL removed its data),
 * and `failNext` makes the next call of one API fail.
 */
export class InMemoryShardLogs extends InMemoryMemberLogs {
  private readonly shards = new Map<string, Map<number, HeldShard>>();
  private readonly failures = new Map<string, unknown[]>();

  /** A shard holding `groups`, each received at its `time` (unix seconds). */
  shard(
    address: LogstoreAddress,
    shardId: number,
    groups: Array<{ time: number; group: EncodedLogGroup }>,
    status: Shard['status'] = 'readwrite',
    keys = { begin: '00000000000000000000000000000000', end: 'ffffffffffffffffffffffffffffffff' },
  ): this {
    this.add(address.project, [address.logstore]);
    const key = `${address.project}/${address.logstore}`;
    const shards = this.shards.get(key) ?? new Map<number, HeldShard>();
    shards.set(shardId, { status, keys, groups: [...groups], retainedFrom: 0 });
    this.shards.set(key, shards);
    return this;
  }

  /** Appends groups to a shard (new writes). */
  append(
    address: LogstoreAddress,
    shardId: number,
    groups: Array<{ time: number; group: EncodedLogGroup }>,
  ): void {
    this.held(address, shardId).groups.push(...groups);
  }

  /** The TTL removed the shard's first `count` groups. */
  expire(address: LogstoreAddress, shardId: number, count: number): void {
    this.held(address, shardId).retainedFrom = count;
  }

  failNext(api: 'cursor' | 'cursorTime' | 'pull', error: unknown): void {
    this.failures.set(api, [...(this.failures.get(api) ?? []), error]);
  }

  override listShards(address: LogstoreAddress): Promise<Shard[]> {
    this.calls.push(`listShards ${address.project}/${address.logstore}`);
    if (!this.has(address)) {
      return Promise.reject(
        new LogResourceMissing('logstore', {
          ...logFailure('ListShards', 'rejected', 'LogStoreNotExist', this.accountId),
          cloudMessage: `${address.logstore} does not exist`,
        }),
      );
    }
    const shards = this.shards.get(`${address.project}/${address.logstore}`) ?? new Map();
    return Promise.resolve(
      [...shards.entries()].map(([shardId, s]) => ({
        shardId,
        status: s.status,
        inclusiveBeginKey: s.keys.begin,
        exclusiveEndKey: s.keys.end,
        createTime: 0,
      })),
    );
  }

  override async cursor(
    address: LogstoreAddress,
    shardId: number,
    position: CursorPosition,
  ): Promise<string> {
    this.calls.push(
      `cursor ${shardId} ${typeof position === 'string' ? position : position.unixSeconds}`,
    );
    this.failIfAsked('cursor');
    const shard = this.held(address, shardId);
    if (position === 'begin') return `c${shard.retainedFrom}`;
    if (position === 'end') return `c${shard.groups.length}`;
    const index = shard.groups.findIndex(
      (g, i) => i >= shard.retainedFrom && g.time >= position.unixSeconds,
    );
    return `c${index === -1 ? shard.groups.length : index}`;
  }

  override async cursorTime(
    address: LogstoreAddress,
    shardId: number,
    cursor: string,
  ): Promise<number> {
    this.calls.push(`cursorTime ${shardId} ${cursor}`);
    this.failIfAsked('cursorTime');
    const shard = this.held(address, shardId);
    const index = this.index(shard, cursor);
    const at = shard.groups[index] ?? shard.groups.at(-1);
    return at?.time ?? 0;
  }

  override async pull(
    address: LogstoreAddress,
    shardId: number,
    range: { cursor: string; endCursor?: string; count?: number },
  ): Promise<PulledLogs> {
    this.calls.push(`pull ${shardId} ${range.cursor} ${range.count ?? 1000}`);
    this.failIfAsked('pull');
    const shard = this.held(address, shardId);
    const index = this.index(shard, range.cursor);
    // Stops before the end cursor, as PullLogs does (localcloud/sls/model.ts pull).
    const stop =
      range.endCursor === undefined ? shard.groups.length : this.index(shard, range.endCursor);
    const last = Math.max(index, Math.min(stop, index + (range.count ?? 1000)));
    const groups = shard.groups.slice(index, last).map((g) => g.group);
    return {
      groups,
      nextCursor: `c${index + groups.length}`,
      logCount: groups.reduce((sum, g) => sum + g.logCount, 0),
      rawBytes: groups.reduce((sum, g) => sum + g.bytes.length, 0),
    };
  }

  private index(shard: HeldShard, cursor: string): number {
    const index = /^c(\d+)$/.test(cursor) ? Number(cursor.slice(1)) : -1;
    if (index < shard.retainedFrom || index > shard.groups.length) {
      throw new LogCursorInvalid({
        ...logFailure('PullLogs', 'rejected', 'InvalidCursor', this.accountId),
        cloudMessage: `cursor ${cursor} is invalid`,
      });
    }
    return index;
  }

  private held(address: LogstoreAddress, shardId: number): HeldShard {
    const shard = this.shards.get(`${address.project}/${address.logstore}`)?.get(shardId);
    if (!shard) throw new Error(`no shard ${shardId} of ${address.project}/${address.logstore}`);
    return shard;
  }

  private failIfAsked(api: string): void {
    const queued = this.failures.get(api);
    if (queued && queued.length > 0) throw queued.shift();
  }
}

/**
 * A shard of the central Logstore as its consumers read it (the session index): groups given
 * decoded are held encoded with the SLS codec, and `decode` reads them back, recording each call.
 */
export class CentralShardLogs extends InMemoryShardLogs {
  /** A shard holding `groups`, each received at `time` (unix seconds). */
  holding(address: LogstoreAddress, shardId: number, groups: readonly LogGroup[], time = 0): this {
    return this.shard(
      address,
      shardId,
      groups.map((group) => ({ time, group: scanLogGroup(encodeLogGroup(group)) })),
    );
  }

  override decode(group: EncodedLogGroup): LogGroup {
    this.calls.push(`decode ${group.tags.map((t) => `${t.key}=${t.value}`).join(',')}`);
    return decodeLogGroup(group.bytes);
  }
}

/** The central Logstore's PutLogs, recording each batch; `failNext` fails the next put. */
export class RecordingLogSink implements LogSink {
  readonly batches: Array<{ address: LogstoreAddress; batch: LogBatch }> = [];
  private readonly failures: unknown[] = [];
  /** Called before each put is recorded (a test moves the clock or takes the lease here). */
  beforePut: () => void | Promise<void> = () => {};

  failNext(error: unknown): void {
    this.failures.push(error);
  }

  async put(address: LogstoreAddress, batch: LogBatch): Promise<PutOutcome> {
    await this.beforePut();
    if (this.failures.length > 0) throw this.failures.shift();
    this.batches.push({ address, batch });
    return { attempts: 1, maybeDuplicated: false };
  }
}
