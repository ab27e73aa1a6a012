// The SLS data model, free of wire types and of persistence: projects per region (owned by one
// account), Logstores, shards with 128-bit hash key ranges, and each shard's log groups in arrival
// order. Cursors, splits and merges, TTL expiry and per-shard quotas are decided here; service.ts
// maps HTTP to these methods. Time comes from the injected clock (localcloud's), so tests control
// expiry. Where things are kept is an injected SlsStorage: each shard's groups live in a ShardLog
// (in memory here, in segment files in persistence.ts), and every change to projects, Logstores
// and shards is reported to the storage before it is acknowledged.

import { randomInt } from 'node:crypto';
import {
  invalidCursor,
  logstoreNotExist,
  parameterInvalid,
  projectNotExist,
  SlsError,
  shardNotExist,
} from './errors';

export const HASH_SPACE = 1n << 128n;
/** Log groups per PullLogs call, and the documented limits of a PutLogs log group. */
export const LIMITS = {
  pullCountMax: 1000,
  logsPerGroup: 4096,
  groupRawBytes: 5 * 1024 * 1024,
  bodyBytes: 10 * 1024 * 1024,
  shardCountMax: 100,
  ttlDaysMax: 3650,
  listSizeMax: 500,
} as const;

/** Per-shard quotas (the cloud's defaults: write 5 MB/s and 500 writes/s, read 10 MB/s and
 *  100 reads/s); localcloud lets a configuration or a control scale them so a bench can hit them. */
export interface ShardQuotas {
  writeBytesPerSecond: number;
  writeRequestsPerSecond: number;
  readBytesPerSecond: number;
  readRequestsPerSecond: number;
}

export const DEFAULT_QUOTAS: ShardQuotas = {
  writeBytesPerSecond: 5 * 1024 * 1024,
  writeRequestsPerSecond: 500,
  readBytesPerSecond: 10 * 1024 * 1024,
  readRequestsPerSecond: 100,
};

export interface StoredGroup {
  seq: number;
  /** Server receive time, epoch seconds (cursors by time and TTL use it). */
  receiveTime: number;
  /** The LogGroup protobuf as stored (served by PullLogs as is). */
  bytes: Buffer;
  logCount: number;
}

/**
 * One shard's log groups in arrival order, numbered by seq from 0. Groups below `firstSeq` were
 * removed by TTL. Receive times never decrease along seq (the model appends them so).
 */
export interface ShardLog {
  /** The first retained group's seq (`nextSeq` when none is retained). */
  readonly firstSeq: number;
  /** The seq the next appended group gets. */
  readonly nextSeq: number;
  /** The last appended group's receive time (0 before the first). */
  readonly lastReceiveTime: number;
  append(receiveTime: number, bytes: Buffer, logCount: number): StoredGroup;
  /** Receive time of a retained group (firstSeq <= seq < nextSeq). */
  receiveTime(seq: number): number;
  /** Retained groups [from, to), with their bytes. */
  read(from: number, to: number): StoredGroup[];
  /** The first retained seq received at or after `seconds`, or `nextSeq`. */
  seqAtTime(seconds: number): number;
  /** Removes the groups below `seq`. */
  trim(seq: number): void;
  /** Releases what the log holds; the shard is gone. */
  destroy(): void;
}

/** Keeps each shard's groups in memory (tests, and localcloud without a data directory). */
export class MemoryShardLog implements ShardLog {
  private groups: StoredGroup[] = [];
  private head = 0;
  private next = 0;
  lastReceiveTime = 0;

  get firstSeq(): number {
    return this.next - (this.groups.length - this.head);
  }

  get nextSeq(): number {
    return this.next;
  }

  append(receiveTime: number, bytes: Buffer, logCount: number): StoredGroup {
    const stored: StoredGroup = { seq: this.next++, receiveTime, bytes, logCount };
    this.groups.push(stored);
    this.lastReceiveTime = receiveTime;
    return stored;
  }

  private at(seq: number): StoredGroup {
    return this.groups[this.head + seq - this.firstSeq] as StoredGroup;
  }

  receiveTime(seq: number): number {
    return this.at(seq).receiveTime;
  }

  read(from: number, to: number): StoredGroup[] {
    const first = this.firstSeq;
    return this.groups.slice(this.head + from - first, this.head + to - first);
  }

  seqAtTime(seconds: number): number {
    let low = this.firstSeq;
    let high = this.next;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).receiveTime < seconds) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  trim(seq: number): void {
    const drop = Math.min(seq, this.next) - this.firstSeq;
    if (drop <= 0) return;
    this.head += drop;
    // Compact once the dropped prefix dominates, so TTL frees memory without O(n) per drop.
    if (this.head > 1024 && this.head * 2 > this.groups.length) {
      this.groups = this.groups.slice(this.head);
      this.head = 0;
    }
  }

  destroy(): void {
    this.groups = [];
    this.head = 0;
  }
}

/** A change to projects, Logstores or shards, reported with the objects after it. */
export type SlsChange =
  | { kind: 'project'; project: Project }
  | { kind: 'projectDeleted'; region: string; name: string }
  | { kind: 'logstore'; project: Project; logstore: Logstore }
  | { kind: 'logstoreDeleted'; project: Project; name: string };

/** Where the model keeps its data: in memory (memoryStorage) or under a data directory. */
export interface SlsStorage {
  /** The log of a shard being created. */
  newShardLog(project: Project, logstore: Logstore, shardId: number): ShardLog;
  /** Called after each change and before it is acknowledged; throws if it cannot be kept. */
  changed(changes: SlsChange[]): void;
}

export const memoryStorage: SlsStorage = {
  newShardLog: () => new MemoryShardLog(),
  changed: () => {},
};

interface QuotaWindow {
  second: number;
  bytes: number;
  requests: number;
}

export interface Shard {
  id: number;
  status: 'readwrite' | 'readonly';
  begin: bigint;
  end: bigint;
  /** Epoch seconds. */
  createTime: number;
  cursorBase: bigint;
  log: ShardLog;
  write: QuotaWindow;
  read: QuotaWindow;
}

export interface Logstore {
  name: string;
  ttl: number;
  createTime: number;
  lastModifyTime: number;
  autoSplit: boolean;
  maxSplitShard: number;
  appendMeta: boolean;
  telemetryType: string;
  mode: string;
  shards: Map<number, Shard>;
  nextShardId: number;
  /** Round robin position for PutLogs without a hash key. */
  nextWriteShard: number;
}

export interface Project {
  name: string;
  region: string;
  owner: string;
  description: string;
  createTime: number;
  lastModifyTime: number;
  logstores: Map<string, Logstore>;
}

export interface ShardView {
  shardID: number;
  status: 'readwrite' | 'readonly';
  inclusiveBeginKey: string;
  exclusiveEndKey: string;
  createTime: number;
}

export interface NewLogstore {
  name: string;
  ttl?: number;
  shardCount?: number;
  autoSplit?: boolean;
  maxSplitShard?: number;
  appendMeta?: boolean;
  telemetryType?: string;
  mode?: string;
}

/** Listener for appended data: the log trigger and tests wait on it instead of polling. */
export type AppendListener = (event: {
  region: string;
  project: string;
  logstore: string;
  shardId: number;
}) => void;

const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const LOGSTORE_NAME = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;

export function hashKeyHex(value: bigint): string {
  return value.toString(16).padStart(32, '0');
}

export function parseHashKey(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,32}$/.test(text)) return undefined;
  // Shorter keys are left-aligned, as the service reads an MD5 prefix.
  return BigInt(`0x${text.padEnd(32, '0')}`);
}

export function shardView(shard: Shard): ShardView {
  return {
    shardID: shard.id,
    status: shard.status,
    inclusiveBeginKey: hashKeyHex(shard.begin),
    // The last shard's end is printed as the largest key, as the service prints it.
    exclusiveEndKey: hashKeyHex(shard.end === HASH_SPACE ? HASH_SPACE - 1n : shard.end),
    createTime: shard.createTime,
  };
}

export class SlsModel {
  private readonly regions = new Map<string, Map<string, Project>>();
  private readonly listeners = new Set<AppendListener>();
  quotas: ShardQuotas;

  constructor(
    private readonly now: () => number,
    quotas: Partial<ShardQuotas> = {},
    private readonly storage: SlsStorage = memoryStorage,
  ) {
    this.quotas = { ...DEFAULT_QUOTAS, ...quotas };
  }

  /** Puts back projects kept by a storage (on start, before any request). */
  load(projects: Iterable<Project>): void {
    for (const project of projects) this.regionProjects(project.region).set(project.name, project);
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ----------------------------------------------------------------------------- projects

  createProject(input: {
    region: string;
    name: string;
    owner: string;
    description?: string;
  }): Project {
    if (!PROJECT_NAME.test(input.name)) {
      throw parameterInvalid(
        `project name ${input.name} is invalid: 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit`,
      );
    }
    const byName = this.regionProjects(input.region);
    const existing = byName.get(input.name);
    if (existing) {
      if (existing.owner !== input.owner) {
        throw new SlsError(400, 'ProjectAlreadyExist', `Project ${input.name} already exist`);
      }
      return existing;
    }
    const now = this.seconds();
    const project: Project = {
      name: input.name,
      region: input.region,
      owner: input.owner,
      description: input.description ?? '',
      createTime: now,
      lastModifyTime: now,
      logstores: new Map(),
    };
    byName.set(input.name, project);
    this.storage.changed([{ kind: 'project', project }]);
    return project;
  }

  deleteProject(region: string, name: string): boolean {
    const project = this.regions.get(region)?.get(name);
    if (!project) return false;
    this.regions.get(region)?.delete(name);
    this.storage.changed([{ kind: 'projectDeleted', region, name }]);
    for (const logstore of project.logstores.values()) destroyShards(logstore);
    return true;
  }

  private regionProjects(region: string): Map<string, Project> {
    let byName = this.regions.get(region);
    if (!byName) {
      byName = new Map();
      this.regions.set(region, byName);
    }
    return byName;
  }

  findProject(region: string, name: string): Project | undefined {
    return this.regions.get(region)?.get(name);
  }

  project(region: string, name: string): Project {
    const project = this.findProject(region, name);
    if (!project) throw projectNotExist(name);
    return project;
  }

  projects(region?: string): Project[] {
    const all: Project[] = [];
    for (const [name, byName] of this.regions) {
      if (region !== undefined && name !== region) continue;
      all.push(...byName.values());
    }
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ----------------------------------------------------------------------------- logstores

  logstore(project: Project, name: string): Logstore {
    const logstore = project.logstores.get(name);
    if (!logstore) throw logstoreNotExist(name);
    return logstore;
  }

  createLogstore(project: Project, input: NewLogstore): Logstore {
    if (!LOGSTORE_NAME.test(input.name)) {
      throw parameterInvalid(
        `logstore name ${input.name} is invalid: 3 to 63 lower-case letters, digits, hyphens and underscores, starting and ending with a letter or digit`,
      );
    }
    const ttl = input.ttl ?? 30;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > LIMITS.ttlDaysMax) {
      throw parameterInvalid(`ttl must be an integer from 1 to ${LIMITS.ttlDaysMax}: ${ttl}`);
    }
    const shardCount = input.shardCount ?? 2;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > LIMITS.shardCountMax) {
      throw parameterInvalid(
        `shardCount must be an integer from 1 to ${LIMITS.shardCountMax}: ${shardCount}`,
      );
    }
    if (project.logstores.has(input.name)) {
      throw new SlsError(400, 'LogStoreAlreadyExist', `logstore ${input.name} already exists`);
    }
    const now = this.seconds();
    const logstore: Logstore = {
      name: input.name,
      ttl,
      createTime: now,
      lastModifyTime: now,
      autoSplit: input.autoSplit ?? false,
      maxSplitShard: input.maxSplitShard ?? 64,
      appendMeta: input.appendMeta ?? false,
      telemetryType: input.telemetryType ?? 'None',
      mode: input.mode ?? 'standard',
      shards: new Map(),
      nextShardId: 0,
      nextWriteShard: 0,
    };
    const width = HASH_SPACE / BigInt(shardCount);
    for (let i = 0; i < shardCount; i++) {
      const begin = width * BigInt(i);
      const end = i === shardCount - 1 ? HASH_SPACE : width * BigInt(i + 1);
      this.addShard(project, logstore, begin, end);
    }
    project.logstores.set(input.name, logstore);
    project.lastModifyTime = now;
    this.storage.changed([
      { kind: 'logstore', project, logstore },
      { kind: 'project', project },
    ]);
    return logstore;
  }

  deleteLogstore(project: Project, name: string): void {
    const logstore = this.logstore(project, name);
    project.logstores.delete(name);
    project.lastModifyTime = this.seconds();
    this.storage.changed([
      { kind: 'logstoreDeleted', project, name },
      { kind: 'project', project },
    ]);
    destroyShards(logstore);
  }

  setTtl(project: Project, logstore: Logstore, ttl: number): void {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > LIMITS.ttlDaysMax) {
      throw parameterInvalid(`ttl must be an integer from 1 to ${LIMITS.ttlDaysMax}: ${ttl}`);
    }
    logstore.ttl = ttl;
    logstore.lastModifyTime = this.seconds();
    this.storage.changed([{ kind: 'logstore', project, logstore }]);
  }

  // ----------------------------------------------------------------------------- shards

  private addShard(project: Project, logstore: Logstore, begin: bigint, end: bigint): Shard {
    const nowMs = this.now();
    const id = logstore.nextShardId++;
    const shard: Shard = {
      id,
      status: 'readwrite',
      begin,
      end,
      createTime: Math.floor(nowMs / 1000),
      // Cursors look like the service's: base64 of a 19-digit decimal.
      cursorBase: BigInt(nowMs) * 1_000_000n + BigInt(randomInt(0, 1_000_000)) * 1000n,
      log: this.storage.newShardLog(project, logstore, id),
      write: { second: 0, bytes: 0, requests: 0 },
      read: { second: 0, bytes: 0, requests: 0 },
    };
    logstore.shards.set(shard.id, shard);
    return shard;
  }

  shard(logstore: Logstore, id: number): Shard {
    const shard = Number.isInteger(id) ? logstore.shards.get(id) : undefined;
    if (!shard) throw shardNotExist(id);
    this.expire(logstore, shard);
    return shard;
  }

  shards(logstore: Logstore): Shard[] {
    return [...logstore.shards.values()].sort((a, b) => a.id - b.id);
  }

  /** Splits a readwrite shard at `key` (strictly inside its range): the shard becomes readonly
   *  and keeps its data; two new readwrite shards take the halves. Returns [parent, left, right]. */
  splitShard(project: Project, logstore: Logstore, id: number, key: bigint): Shard[] {
    const shard = this.shard(logstore, id);
    if (shard.status !== 'readwrite') {
      throw parameterInvalid(`shard ${id} is readonly and cannot be split`);
    }
    if (key <= shard.begin || key >= shard.end) {
      throw parameterInvalid(
        `split key ${hashKeyHex(key)} is not inside shard ${id} [${hashKeyHex(shard.begin)}, ${hashKeyHex(shard.end === HASH_SPACE ? HASH_SPACE - 1n : shard.end)})`,
      );
    }
    shard.status = 'readonly';
    const left = this.addShard(project, logstore, shard.begin, key);
    const right = this.addShard(project, logstore, key, shard.end);
    logstore.lastModifyTime = this.seconds();
    this.storage.changed([{ kind: 'logstore', project, logstore }]);
    return [shard, left, right];
  }

  /** Merges readwrite shard `id` with the readwrite shard whose range starts where it ends: both
   *  become readonly and keep their data; one new shard covers both ranges. Returns
   *  [left, right, merged]. */
  mergeShards(project: Project, logstore: Logstore, id: number): Shard[] {
    const left = this.shard(logstore, id);
    if (left.status !== 'readwrite') {
      throw parameterInvalid(`shard ${id} is readonly and cannot be merged`);
    }
    const right = [...logstore.shards.values()].find(
      (candidate) => candidate.status === 'readwrite' && candidate.begin === left.end,
    );
    if (!right) {
      throw parameterInvalid(`shard ${id} has no adjacent readwrite shard to merge with`);
    }
    left.status = 'readonly';
    right.status = 'readonly';
    const merged = this.addShard(project, logstore, left.begin, right.end);
    logstore.lastModifyTime = this.seconds();
    this.storage.changed([{ kind: 'logstore', project, logstore }]);
    return [left, right, merged];
  }

  // ----------------------------------------------------------------------------- data

  /** Drops log groups older than the Logstore's TTL (by receive time). */
  private expire(logstore: Logstore, shard: Shard): void {
    const log = shard.log;
    const cutoff = this.seconds() - logstore.ttl * 86400;
    if (log.firstSeq === log.nextSeq || log.receiveTime(log.firstSeq) > cutoff) return;
    log.trim(log.seqAtTime(cutoff + 1));
  }

  /** The readwrite shard a hash key routes to, or the next one round robin. */
  writeShard(logstore: Logstore, hashKey?: bigint): Shard {
    const writable = this.shards(logstore).filter((shard) => shard.status === 'readwrite');
    if (hashKey !== undefined) {
      const shard = writable.find((s) => s.begin <= hashKey && hashKey < s.end);
      if (shard) return shard;
    }
    const shard = writable[logstore.nextWriteShard++ % writable.length] as Shard;
    return shard;
  }

  private charge(window: QuotaWindow, bytes: number, maxBytes: number, maxRequests: number) {
    const second = this.seconds();
    if (window.second !== second) {
      window.second = second;
      window.bytes = 0;
      window.requests = 0;
    }
    const over =
      window.requests + 1 > maxRequests || (window.bytes > 0 && window.bytes + bytes > maxBytes);
    if (!over) {
      window.requests++;
      window.bytes += bytes;
    }
    return !over;
  }

  append(
    project: Project,
    logstore: Logstore,
    shard: Shard,
    group: { bytes: Buffer; logCount: number },
    options: { quota?: boolean } = {},
  ): StoredGroup {
    if (shard.status !== 'readwrite') {
      throw parameterInvalid(`shard ${shard.id} is readonly`);
    }
    // Products write inside the service (options.quota false): only API writers are throttled.
    if (
      options.quota !== false &&
      !this.charge(
        shard.write,
        group.bytes.length,
        this.quotas.writeBytesPerSecond,
        this.quotas.writeRequestsPerSecond,
      )
    ) {
      throw new SlsError(
        403,
        'ShardWriteQuotaExceed',
        `shard write quota exceed: shard ${shard.id} of ${project.name}/${logstore.name}`,
      );
    }
    this.expire(logstore, shard);
    // Receive times never go backwards in a shard (cursors by time search them in order), even if
    // localcloud's clock was ahead before a restart.
    const receiveTime = Math.max(this.seconds(), shard.log.lastReceiveTime);
    const stored = shard.log.append(receiveTime, group.bytes, group.logCount);
    for (const listener of this.listeners) {
      listener({
        region: project.region,
        project: project.name,
        logstore: logstore.name,
        shardId: shard.id,
      });
    }
    return stored;
  }

  // ----------------------------------------------------------------------------- cursors

  encodeCursor(shard: Shard, seq: number): string {
    return Buffer.from((shard.cursorBase + BigInt(seq)).toString()).toString('base64');
  }

  /** The seq a cursor names; InvalidCursor when malformed, of another shard, or expired. */
  decodeCursor(shard: Shard, cursor: string): number {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) throw invalidCursor();
    const text = Buffer.from(cursor, 'base64').toString('latin1');
    if (!/^\d{1,30}$/.test(text)) throw invalidCursor();
    const offset = BigInt(text) - shard.cursorBase;
    if (offset < 0n || offset > BigInt(shard.log.nextSeq)) throw invalidCursor();
    const seq = Number(offset);
    if (seq < shard.log.firstSeq) {
      throw invalidCursor(
        `cursor out of range: the data at this cursor of shard ${shard.id} has expired (TTL)`,
      );
    }
    return seq;
  }

  /** begin | end | epoch seconds: the first group received at or after that time. */
  cursorFrom(shard: Shard, from: 'begin' | 'end' | number): string {
    if (from === 'begin') return this.encodeCursor(shard, shard.log.firstSeq);
    if (from === 'end') return this.encodeCursor(shard, shard.log.nextSeq);
    return this.encodeCursor(shard, shard.log.seqAtTime(from));
  }

  /** Receive time (epoch seconds) of the group at a cursor; the last group's for the end. */
  cursorTime(shard: Shard, cursor: string): number {
    const seq = this.decodeCursor(shard, cursor);
    const { firstSeq, nextSeq } = shard.log;
    if (seq < nextSeq) return shard.log.receiveTime(seq);
    return nextSeq > firstSeq ? shard.log.receiveTime(nextSeq - 1) : shard.createTime;
  }

  /** Up to `count` log groups from `cursor` (stopping before `endCursor`), and the next cursor. */
  pull(
    project: Project,
    logstore: Logstore,
    shard: Shard,
    cursor: string,
    count: number,
    endCursor?: string,
  ): { groups: StoredGroup[]; nextCursor: string; logCount: number; rawBytes: number } {
    if (!Number.isInteger(count) || count < 1 || count > LIMITS.pullCountMax) {
      throw parameterInvalid(`count must be an integer from 1 to ${LIMITS.pullCountMax}`);
    }
    const seq = this.decodeCursor(shard, cursor);
    const stop = endCursor === undefined ? shard.log.nextSeq : this.decodeCursor(shard, endCursor);
    const last = Math.max(seq, Math.min(stop, seq + count));
    const groups = shard.log.read(seq, last);
    let rawBytes = 0;
    let logCount = 0;
    for (const group of groups) {
      rawBytes += group.bytes.length;
      logCount += group.logCount;
    }
    if (
      !this.charge(
        shard.read,
        rawBytes,
        this.quotas.readBytesPerSecond,
        this.quotas.readRequestsPerSecond,
      )
    ) {
      throw new SlsError(
        403,
        'ShardReadQuotaExceed',
        `shard read quota exceed: shard ${shard.id} of ${project.name}/${logstore.name}`,
      );
    }
    return { groups, nextCursor: this.encodeCursor(shard, last), logCount, rawBytes };
  }

  /** Every retained group of a Logstore, shard by shard in id order (GetLogs, controls). */
  *retained(logstore: Logstore): Generator<{ shard: Shard; group: StoredGroup }> {
    for (const shard of this.shards(logstore)) {
      this.expire(logstore, shard);
      // In batches, so a Logstore kept on disk is not read into memory at once.
      for (let from = shard.log.firstSeq; from < shard.log.nextSeq; from += RETAINED_BATCH) {
        const to = Math.min(from + RETAINED_BATCH, shard.log.nextSeq);
        for (const group of shard.log.read(from, to)) yield { shard, group };
      }
    }
  }
}

const RETAINED_BATCH = 256;

function destroyShards(logstore: Logstore): void {
  for (const shard of logstore.shards.values()) shard.log.destroy();
}
