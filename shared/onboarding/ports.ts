// What onboarding needs from the world: where it keeps its records (implemented over Tablestore
// in shared/store), how it reaches a member (AssumeRole, in shared/cloud/sts), and the steps
// other capabilities register. The directory it reads through shared/directory/ports.ts.

import type { ActivityLog } from '../domain/activity';
import type { LeaseStore } from '../domain/lease';
import type { Page, PageRequest } from '../domain/paging';
import type { VersionedRepository } from '../domain/records';
import type { AccessRefusal, ManagedMember, MemberFailure, Scope } from './model';

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

/** Where the management scope keeps its records. */
export interface MembershipStore {
  scopes: ScopeRepository;
  members: MemberRepository;
  activity: ActivityLog;
  leases: LeaseStore;
  reconcileRuns: ReconcileRunLog;
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
