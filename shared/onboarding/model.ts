// The management scope's records: scopes (which part of the directory is under management and
// which services it enables), managed members (each member account under management, its
// status, the scopes that cover it, where it sits in the directory, and why it failed when it
// did), what a reconcile decides and did per member, and onboarding runs (a scope change or
// reconcile carried on asynchronously, in chunks of members, with its progress). Other
// capabilities read these records through their own ports; only onboarding writes them.

import { z } from 'zod';
import type { ActivityCause } from '../domain/caller';
import type { Versioned } from '../domain/records';
import { NotFound } from '../errors';

/** The services a scope can enable for the members it covers (the role catalog keys off them). */
export const MANAGED_SERVICES = [
  /** Security Center multi-account (rd.sas / cloudsiem.sas roles). */
  'security-center',
  /** Cloud Backup / BDRC cross-account management. */
  'bdrc',
  /** Bastionhost multi-account and session-audit indexing. */
  'bastionhost',
  /** SLS log audit. */
  'sls-audit',
  /** Cross-account log integration into the central Logstore. */
  'log-integration',
] as const;

export type ManagedService = (typeof MANAGED_SERVICES)[number];

export const managedServiceSchema = z.enum(MANAGED_SERVICES, {
  error: () => `must be one of ${MANAGED_SERVICES.join(', ')}`,
});

export const SCOPE_KINDS = ['account', 'folder', 'directory'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface Scope extends Versioned {
  id: string;
  kind: ScopeKind;
  /** The account id, folder id, or Resource Directory id the scope names. */
  targetId: string;
  /** Services enabled for the members it covers. */
  services: string[];
  /** Who added it: a user identity, or the event/timer that did. */
  createdBy: string;
}

/** One scope per (kind, target): adding the same scope twice finds the first. */
export function scopeIdFor(kind: ScopeKind, targetId: string): string {
  return `${kind}:${targetId}`;
}

export const MEMBER_STATUSES = ['onboarding', 'managed', 'unreachable', 'offboarding'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export const JOIN_METHODS = ['invited', 'created'] as const;
export type JoinMethod = (typeof JOIN_METHODS)[number];

export interface FolderRef {
  id: string;
  name: string;
}

export interface MemberFailure {
  /** What went wrong, for an operator: e.g. the STS refusal. */
  reason: string;
  /** The role that could not be assumed, when access was the problem. */
  roleArn?: string;
  /** The cloud's error code, e.g. NoPermission. */
  code?: string;
  /** When it was observed (ISO 8601). */
  at: string;
}

/** Why a member could not be reached: the access role that could not be assumed and why. */
export interface AccessRefusal {
  roleArn: string;
  /** The cloud's refusal, e.g. STS's message. */
  reason: string;
  /** The cloud's error code, e.g. EntityNotExist.Role. */
  code?: string;
}

/** A member account under management. */
export interface ManagedMember extends Versioned {
  accountId: string;
  displayName?: string;
  status: MemberStatus;
  /** The scopes covering it; a member is managed while at least one does. */
  scopeIds: string[];
  /** The folder it sits in, and the path from the root to that folder. */
  folderId?: string;
  folderPath?: FolderRef[];
  /** How it joined the directory. */
  joinMethod?: JoinMethod;
  /** ISO 8601: the last reconcile that looked at it. */
  lastReconcileAt?: string;
  /** Why it is unreachable or why its last change failed. Cleared on success. */
  failure?: MemberFailure;
}

export class NotAManagedMember extends NotFound {
  constructor(accountId: string) {
    super(`Account ${accountId} is not a managed member`, { details: { accountId } });
  }
}

/** What the record of a covered account should hold (status aside). */
export interface DesiredMember {
  accountId: string;
  displayName: string;
  scopeIds: string[];
  folderId: string;
  folderPath: FolderRef[];
  joinMethod?: JoinMethod;
}

/** What an account should be: a member with this record, or no member (and why). */
export type Desired = { covered: true; member: DesiredMember } | { covered: false; reason: string };

export interface FailedMember {
  accountId: string;
  reason: string;
  roleArn?: string;
  code?: string;
}

/** What a reconcile did for one account. */
export type MemberOutcome =
  | { accountId: string; kind: 'added'; failure?: FailedMember }
  | {
      accountId: string;
      kind: 'updated';
      moved?: { fromFolderId: string | null; toFolderId: string };
    }
  | { accountId: string; kind: 'removed'; reason: string }
  | { accountId: string; kind: 'unchanged' }
  | { accountId: string; kind: 'failed'; failure: FailedMember };

export interface ReconcileSummary {
  runId: string;
  /** full: every scope against the whole directory; accounts: only the accounts named. */
  kind: 'full' | 'accounts';
  cause: ActivityCause;
  startedAt: string;
  finishedAt: string;
  /** Newly recorded members (whatever their status; see failed). */
  added: string[];
  removed: Array<{ accountId: string; reason: string }>;
  moved: Array<{ accountId: string; fromFolderId: string | null; toFolderId: string }>;
  /** Records changed otherwise (covering scopes, name). */
  updated: string[];
  unchanged: number;
  failed: FailedMember[];
  /** Accounts a scope covers that can never be members (management, delegated admins). */
  skipped: Array<{ accountId: string; reason: string }>;
  /** Present when members were removed. */
  note?: string;
}

/** The accounts a reconcile looks at. */
export type ReconcileTarget =
  | { kind: 'full' }
  | { kind: 'accounts'; accountIds: string[] }
  /** The members a (removed) scope covered, read when the run plans. */
  | { kind: 'covered-by'; scopeId: string };

export const RUN_REASONS = ['scope-added', 'scope-removed', 'reconcile'] as const;
export type RunReason = (typeof RUN_REASONS)[number];

/**
 * Stored states of an onboarding run. planning: the scope change is stored, the members are not
 * planned yet; running: chunks are being worked; finished: every chunk is done (the summary
 * says what happened); not-started: the change was stored but its run could not be started (the
 * reconcile timer takes its members up). A run whose lease ran out with members pending is shown
 * as `abandoned` (computed when it is read, not stored).
 */
export const RUN_STATES = ['planning', 'running', 'finished', 'not-started'] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * An onboarding run: a scope change (or a reconcile asked for through the API) carried on
 * asynchronously. It holds the membership lease from the request that started it until its last
 * chunk is done; its workers renew it under the run's owner id and fencing token.
 */
export interface OnboardingRun extends Versioned {
  runId: string;
  reason: RunReason;
  /** The scope added or removed. */
  scopeId?: string;
  target: ReconcileTarget;
  cause: ActivityCause;
  /** The API request that started it: activity entries of its members carry it. */
  requestId?: string;
  /** The membership lease the run holds: its owner id and fencing token (decimal). */
  lease: { owner: string; token: string };
  state: RunState;
  startedAt: string;
  plannedAt?: string;
  finishedAt?: string;
  /** Accounts with something to do, in `chunks` chunks worked in `lanes` lanes at once. */
  total?: number;
  chunks?: number;
  lanes?: number;
  /** AssumeRole calls a second each lane may make (its share of the account's rate). */
  laneRate?: number;
  /** Accounts the plan found nothing to do for. */
  unchanged?: number;
  skipped?: Array<{ accountId: string; reason: string }>;
  /** Why the run did not start, or what its planning last failed with. */
  error?: string;
  summary?: ReconcileSummary;
}

/** One account of a chunk and what it should become, as the run planned it. */
export interface PlannedAccount {
  accountId: string;
  desired: Desired;
  /** Its record as the plan read it (absent: none). The run holds the lease, so only a
   *  conditional write finding it moved on (a role check's) makes the worker read it again. */
  current?: ManagedMember;
}

/** A chunk of a run's accounts, worked by one worker invocation. */
export interface RunChunk extends Versioned {
  runId: string;
  /** 1-based. */
  chunk: number;
  /** Chunks of a lane run one after another; lanes run at once. */
  lane: number;
  accounts: PlannedAccount[];
  state: 'pending' | 'done';
  outcomes?: MemberOutcome[];
  startedAt?: string;
  finishedAt?: string;
  /** The lane's next chunk was invoked. */
  nextInvoked?: boolean;
}

export class RunNotFound extends NotFound {
  constructor(runId: string) {
    super(`There is no reconcile run ${runId}`, { details: { runId } });
  }
}
