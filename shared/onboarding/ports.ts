// What onboarding needs from the world: where it keeps its records (implemented over Tablestore
// in shared/store), how it reaches a member (AssumeRole, in shared/cloud/sts), and the steps
// other capabilities register. The directory it reads through shared/directory/ports.ts.

import type { ActivityLog } from '../domain/activity';
import type { LeaseStore } from '../domain/lease';
import type { Page, PageRequest } from '../domain/paging';
import type { NewRecord, VersionedRepository } from '../domain/records';
import type {
  AccessRefusal,
  ManagedMember,
  MemberFailure,
  OnboardingRun,
  RunChunk,
  Scope,
} from './model';

export type ScopeRepository = VersionedRepository<Scope, string>;

export interface MemberRepository extends VersionedRepository<ManagedMember, string> {
  /** Members that the given scope covers. */
  listCoveredBy(scopeId: string): Promise<ManagedMember[]>;
  /** One page of members in account order; follow `nextCursor` until it is absent. */
  page(request: PageRequest): Promise<Page<ManagedMember>>;
}

/** What one reconcile run did, kept so an operator can see the last runs. */
export interface RunRecord<S> {
  runId: string;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  summary: S;
}

export interface ReconcileRunLog {
  record<S>(kind: string, run: RunRecord<S>): Promise<void>;
  /** One page of runs of `kind`, newest first. */
  page<S>(kind: string, request: PageRequest): Promise<Page<RunRecord<S>>>;
}

/** Where onboarding runs are kept: a run and its chunks, read together. */
export interface RunStore {
  /** Stores a new run at version 1; RecordAlreadyExists if its id is taken. */
  create(run: NewRecord<OnboardingRun>): Promise<OnboardingRun>;
  /** Stores the run over the version read; ConcurrentModification if it moved on. */
  update(run: OnboardingRun): Promise<OnboardingRun>;
  get(runId: string): Promise<OnboardingRun | undefined>;
  /** The run and all its chunks, in chunk order (one range read). */
  read(runId: string): Promise<{ run: OnboardingRun; chunks: RunChunk[] } | undefined>;
  /** Writes a run's chunks at version 1, over any a retried planning wrote before (no chunk
   *  is worked before its run says `running`). */
  putChunks(chunks: ReadonlyArray<NewRecord<RunChunk>>): Promise<void>;
  getChunk(runId: string, chunk: number): Promise<RunChunk | undefined>;
  /** Stores the chunk over the version read; ConcurrentModification if it moved on. */
  updateChunk(chunk: RunChunk): Promise<RunChunk>;
}

/** Where the management scope keeps its records. */
export interface MembershipStore {
  scopes: ScopeRepository;
  members: MemberRepository;
  activity: ActivityLog;
  leases: LeaseStore;
  reconcileRuns: ReconcileRunLog;
  runs: RunStore;
}

export type ProbeResult = { ok: true } | { ok: false; failure: Omit<MemberFailure, 'at'> };

/** What a check found about reaching a member (a role check reports it; onboarding records it). */
export type Reachability = { reachable: true } | { reachable: false; refusal: AccessRefusal };

/** Proves a member is reachable: AssumeRole into its access role. */
export interface MemberProbe {
  roleArn(accountId: string): string;
  probe(accountId: string): Promise<ProbeResult>;
}

/**
 * Work a later capability registers to run when a member comes under management (a role check,
 * a log integration) and to undo when it leaves. A throwing step leaves the member `onboarding`
 * with the step's reason; the next reconcile runs the steps again, so steps must be idempotent.
 */
export interface OnboardingStep {
  name: string;
  onboard(member: ManagedMember): Promise<void>;
  /** Clears what the step kept for the member. */
  offboard?(accountId: string): Promise<void>;
}
