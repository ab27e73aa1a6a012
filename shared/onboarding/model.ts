// The management scope's records: scopes (which part of the directory is under management and
// which services it enables) and managed members (each member account under management, its
// status, the scopes that cover it, where it sits in the directory, and why it failed when it
// did). Other capabilities read these records through their own ports; only onboarding writes
// them.

import { z } from 'zod';
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
