// In-memory implementations of the ports the capabilities declare (shared/domain,
// shared/onboarding/ports.ts, shared/directory/ports.ts), for unit tests of the use cases. They
// keep the ports' contracts the use cases rely on (version checks, lease ownership, keep-if-newer
// role checks) so a use case that breaks the contract fails here as it would against Tablestore.

import { randomUUID } from 'node:crypto';
import type { DelegationRecord, FolderRecord, MemberRecord } from '../../shared/directory/model';
import type {
  AccountPlacement,
  DirectoryRoot,
  DirectorySource,
} from '../../shared/directory/ports';
import {
  ACTIVITY_ACTIONS,
  type ActivityEntry,
  type ActivityLog,
  type ActivityQuery,
  type NewActivity,
} from '../../shared/domain/activity';
import type { Clock } from '../../shared/domain/clock';
import {
  type AcquireLeaseResult,
  type Lease,
  LeaseLost,
  type LeaseStore,
} from '../../shared/domain/lease';
import type { Page, PageRequest } from '../../shared/domain/paging';
import {
  ConcurrentModification,
  type NewRecord,
  RecordAlreadyExists,
  type Versioned,
  type VersionedRepository,
} from '../../shared/domain/records';
import type { ManagedMember, OnboardingRun, RunChunk, Scope } from '../../shared/onboarding/model';
import type {
  MemberProbe,
  MemberRepository,
  MembershipStore,
  ProbeResult,
  ReconcileRunLog,
  RunRecord,
  RunStore,
} from '../../shared/onboarding/ports';

class InMemoryVersioned<E extends Versioned> implements VersionedRepository<E, string> {
  protected readonly rows = new Map<string, E>();
  constructor(
    private readonly keyOf: (entity: E | NewRecord<E>) => string,
    private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<E | undefined> {
    const row = this.rows.get(key);
    return row ? structuredClone(row) : undefined;
  }
  async list(): Promise<E[]> {
    return [...this.rows.keys()].sort().map((key) => structuredClone(this.rows.get(key) as E));
  }
  async create(entity: NewRecord<E>): Promise<E> {
    const key = this.keyOf(entity);
    if (this.rows.has(key)) throw new RecordAlreadyExists(key);
    const now = new Date(this.clock.now()).toISOString();
    const created = { ...entity, version: 1, createdAt: now, updatedAt: now } as E;
    this.rows.set(key, structuredClone(created));
    return created;
  }
  async update(entity: E): Promise<E> {
    const key = this.keyOf(entity);
    if (this.rows.get(key)?.version !== entity.version) {
      throw new ConcurrentModification(key, entity.version);
    }
    const next = {
      ...entity,
      version: entity.version + 1,
      updatedAt: new Date(this.clock.now()).toISOString(),
    };
    this.rows.set(key, structuredClone(next));
    return next;
  }
  async delete(key: string, version: number): Promise<void> {
    if (this.rows.get(key)?.version !== version) throw new ConcurrentModification(key, version);
    this.rows.delete(key);
  }
}

export class InMemoryScopes extends InMemoryVersioned<Scope> {
  constructor(clock: Clock) {
    super((scope) => scope.id, clock);
  }
}

export class InMemoryMembers extends InMemoryVersioned<ManagedMember> implements MemberRepository {
  constructor(clock: Clock) {
    super((member) => member.accountId, clock);
  }
  async listCoveredBy(scopeId: string): Promise<ManagedMember[]> {
    return (await this.list()).filter((m) => m.scopeIds.includes(scopeId));
  }
  async page(request: PageRequest): Promise<Page<ManagedMember>> {
    const all = await this.list();
    const start = request.cursor ? Number(request.cursor) : 0;
    const items = all.slice(start, start + request.limit);
    const next = start + items.length;
    return next < all.length ? { items, nextCursor: String(next) } : { items };
  }
}

export class InMemoryActivityLog implements ActivityLog {
  readonly entries: ActivityEntry[] = [];
  constructor(private readonly clock: Clock) {}
  async append(input: NewActivity): Promise<ActivityEntry> {
    // One name per event: an action is only ever recorded with its own outcome.
    const expected = ACTIVITY_ACTIONS[input.action].outcome;
    if (input.outcome !== expected) {
      throw new Error(`${input.action} is recorded as ${expected}, not ${input.outcome}`);
    }
    const entry: ActivityEntry = {
      ...input,
      id: randomUUID(),
      at: input.at ?? new Date(this.clock.now()).toISOString(),
    };
    this.entries.push(entry);
    return entry;
  }
  /** Newest first unless asked otherwise (entries in the order appended); the cursor is an offset. */
  async list(query: ActivityQuery): Promise<Page<ActivityEntry>> {
    const matching = this.entries.filter(
      (e) => !query.accountId || e.accountId === query.accountId,
    );
    const ordered = query.order === 'oldest-first' ? matching : [...matching].reverse();
    const from = query.cursor === undefined ? 0 : Number(query.cursor);
    const to = from + query.limit;
    const items = ordered.slice(from, to);
    return to < ordered.length ? { items, nextCursor: String(to) } : { items };
  }
  /** `action member-or-scope outcome`, one line per entry, in order. */
  lines(): string[] {
    return this.entries.map((e) => `${e.action} ${e.target?.id ?? ''} ${e.outcome}`);
  }
}

export class InMemoryLeases implements LeaseStore {
  private readonly leases = new Map<string, Lease>();
  constructor(private readonly clock: Clock) {}
  async acquire(
    name: string,
    owner: string,
    options: { ttlMs: number },
  ): Promise<AcquireLeaseResult> {
    const now = this.clock.now();
    const seen = this.leases.get(name);
    if (seen && seen.expiresAt > now) {
      return { acquired: false, holder: seen.owner, expiresAt: seen.expiresAt, token: seen.token };
    }
    const lease: Lease = {
      name,
      owner,
      token: (seen?.token ?? 0n) + 1n,
      expiresAt: now + options.ttlMs,
    };
    this.leases.set(name, lease);
    return { acquired: true, lease };
  }
  async renew(lease: Lease, options: { ttlMs: number }): Promise<Lease> {
    this.requireHeld(lease, 'renew');
    const renewed = { ...lease, expiresAt: this.clock.now() + options.ttlMs };
    this.leases.set(lease.name, renewed);
    return renewed;
  }
  async release(lease: Lease): Promise<void> {
    this.requireHeld(lease, 'release');
    this.leases.set(lease.name, { ...lease, expiresAt: this.clock.now() });
  }
  async current(name: string): Promise<Lease | undefined> {
    const lease = this.leases.get(name);
    return lease ? { ...lease } : undefined;
  }
  /** A lease held by someone else until `expiresAt`. */
  hold(name: string, owner: string, expiresAt: number): void {
    const token = (this.leases.get(name)?.token ?? 0n) + 1n;
    this.leases.set(name, { name, owner, token, expiresAt });
  }
  private requireHeld(lease: Lease, step: 'renew' | 'release'): void {
    const current = this.leases.get(lease.name);
    if (current?.token !== lease.token || current.owner !== lease.owner) {
      throw new LeaseLost(lease, step);
    }
  }
}

export class InMemoryRunLog implements ReconcileRunLog {
  readonly runs: Array<{ kind: string; run: RunRecord<unknown> }> = [];
  async record<S>(kind: string, run: RunRecord<S>): Promise<void> {
    this.runs.push({ kind, run });
  }
  async page<S>(kind: string, request: PageRequest): Promise<Page<RunRecord<S>>> {
    const all = this.runs
      .filter((r) => r.kind === kind)
      .map((r) => r.run as RunRecord<S>)
      .reverse();
    const start = request.cursor ? Number(request.cursor) : 0;
    const items = all.slice(start, start + request.limit);
    const next = start + items.length;
    return next < all.length ? { items, nextCursor: String(next) } : { items };
  }
}

/** Runs and their chunks, versioned as the Tablestore RunStore keeps them. */
export class InMemoryRunStore implements RunStore {
  private readonly runs: InMemoryVersioned<OnboardingRun>;
  private readonly chunks: InMemoryVersioned<RunChunk>;
  constructor(clock: Clock) {
    this.runs = new InMemoryVersioned((run) => run.runId, clock);
    this.chunks = new InMemoryVersioned(
      (chunk) => `${chunk.runId}/${String(chunk.chunk).padStart(6, '0')}`,
      clock,
    );
  }
  create(run: NewRecord<OnboardingRun>): Promise<OnboardingRun> {
    return this.runs.create(run);
  }
  update(run: OnboardingRun): Promise<OnboardingRun> {
    return this.runs.update(run);
  }
  get(runId: string): Promise<OnboardingRun | undefined> {
    return this.runs.get(runId);
  }
  async read(runId: string): Promise<{ run: OnboardingRun; chunks: RunChunk[] } | undefined> {
    const run = await this.runs.get(runId);
    if (!run) return undefined;
    const chunks = (await this.chunks.list()).filter((c) => c.runId === runId);
    return { run, chunks };
  }
  async putChunks(chunks: ReadonlyArray<NewRecord<RunChunk>>): Promise<void> {
    for (const chunk of chunks) {
      const existing = await this.getChunk(chunk.runId, chunk.chunk);
      if (existing) {
        await this.chunks.delete(
          `${chunk.runId}/${String(chunk.chunk).padStart(6, '0')}`,
          existing.version,
        );
      }
      await this.chunks.create(chunk);
    }
  }
  getChunk(runId: string, chunk: number): Promise<RunChunk | undefined> {
    return this.chunks.get(`${runId}/${String(chunk).padStart(6, '0')}`);
  }
  updateChunk(chunk: RunChunk): Promise<RunChunk> {
    return this.chunks.update(chunk);
  }
  /** Every run, by id. */
  list(): Promise<OnboardingRun[]> {
    return this.runs.list();
  }
}

export interface InMemoryMembershipStore extends MembershipStore {
  scopes: InMemoryScopes;
  members: InMemoryMembers;
  activity: InMemoryActivityLog;
  leases: InMemoryLeases;
  reconcileRuns: InMemoryRunLog;
  runs: InMemoryRunStore;
}

export function inMemoryMembershipStore(clock: Clock): InMemoryMembershipStore {
  return {
    scopes: new InMemoryScopes(clock),
    members: new InMemoryMembers(clock),
    activity: new InMemoryActivityLog(clock),
    leases: new InMemoryLeases(clock),
    reconcileRuns: new InMemoryRunLog(),
    runs: new InMemoryRunStore(clock),
  };
}

/** A Resource Directory held in memory; tests move, add and remove members between calls. */
export class InMemoryDirectory implements DirectorySource {
  readonly folders: FolderRecord[];
  members: MemberRecord[];
  delegations: DelegationRecord[];
  constructor(
    readonly root: {
      resourceDirectoryId: string;
      managementAccountId: string;
      rootFolderId: string;
    },
    init: { folders: FolderRecord[]; members: MemberRecord[]; delegations?: DelegationRecord[] },
  ) {
    this.folders = init.folders;
    this.members = init.members;
    this.delegations = init.delegations ?? [];
  }

  async readSnapshot() {
    return {
      ...this.root,
      managementAccountName: 'management',
      folders: structuredClone(this.folders),
      members: structuredClone(this.members),
      delegations: structuredClone(this.delegations),
    };
  }
  async readRoot(): Promise<DirectoryRoot> {
    return { ...this.root, delegations: structuredClone(this.delegations) };
  }
  async readAccount(accountId: string): Promise<AccountPlacement | undefined> {
    const member = this.members.find((m) => m.accountId === accountId);
    if (!member) return undefined;
    const folders: FolderRecord[] = [];
    for (
      let f = this.folders.find((x) => x.id === member.folderId);
      f;
      f = this.folders.find((x) => x.id === f?.parentId)
    ) {
      folders.unshift(f);
    }
    return { member: structuredClone(member), folders };
  }
  async readFolder(folderId: string): Promise<FolderRecord | undefined> {
    return this.folders.find((f) => f.id === folderId);
  }
  move(accountId: string, folderId: string): void {
    this.members = this.members.map((m) => (m.accountId === accountId ? { ...m, folderId } : m));
  }
  remove(accountId: string): void {
    this.members = this.members.filter((m) => m.accountId !== accountId);
  }
}

/** A member is reachable unless refused here (role ARN and STS's answer, as the probe gives). */
export class InMemoryProbe implements MemberProbe {
  readonly refused = new Map<string, string>();
  readonly probed: string[] = [];
  roleArn(accountId: string): string {
    return `acs:ram::${accountId}:role/ResourceDirectoryAccountAccessRole`;
  }
  async probe(accountId: string): Promise<ProbeResult> {
    this.probed.push(accountId);
    const reason = this.refused.get(accountId);
    return reason === undefined
      ? { ok: true }
      : { ok: false, failure: { reason, roleArn: this.roleArn(accountId), code: 'NoPermission' } };
  }
}
