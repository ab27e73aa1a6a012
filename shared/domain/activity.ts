// The activity log: every change to scopes, members, their roles and their log integration, with
// who or what caused it, when, and the outcome. Each capability appends to it; the API reads it.

import type { ActivityCause } from './caller';
import type { Page } from './paging';

export const ACTIVITY_OUTCOMES = ['succeeded', 'failed', 'refused'] as const;
export type ActivityOutcome = (typeof ACTIVITY_OUTCOMES)[number];

/**
 * Every action the activity log records, with the one outcome each is recorded with and what it
 * means: one name per event, whichever run or request caused it (README "Activity log" lists
 * them; a test keeps the two the same).
 */
export const ACTIVITY_ACTIONS = {
  'scope.added': { outcome: 'succeeded', meaning: 'a scope was created, with its services' },
  'scope.updated': { outcome: 'succeeded', meaning: "a scope's services changed" },
  'scope.removed': { outcome: 'succeeded', meaning: 'a scope was deleted' },
  'member.onboarded': {
    outcome: 'succeeded',
    meaning: 'a member became managed (first onboarding, or a retry that succeeded)',
  },
  'member.onboarding-failed': {
    outcome: 'failed',
    meaning:
      'onboarding a member failed: unreachable (role ARN and refusal) or an onboarding step failed; the next reconcile retries it',
  },
  'member.unreachable': {
    outcome: 'failed',
    meaning:
      'a role check, sweep or reconcile found a managed member unreachable (role ARN and refusal); reaching it again logs member.onboarded',
  },
  'member.moved': { outcome: 'succeeded', meaning: 'a managed member moved to another folder' },
  'member.updated': {
    outcome: 'succeeded',
    meaning: "a managed member's record changed otherwise (covering scopes, name)",
  },
  'member.offboarded': {
    outcome: 'succeeded',
    meaning: 'a member left management; what was kept for it is cleared, data sources are kept',
  },
  'member.removal-refused': {
    outcome: 'refused',
    meaning: 'DELETE /v1/members/{id} was refused: a folder or directory scope covers the member',
  },
  'role.repaired': {
    outcome: 'succeeded',
    meaning: 'a missing service-linked role was created in a member',
  },
  'role.repair-failed': {
    outcome: 'failed',
    meaning: 'creating a missing service-linked role failed, with the cloud reason',
  },
  'log-integration.added': {
    outcome: 'succeeded',
    meaning:
      'a member was integrated with a log template (manual or batch), its policy enabled or disabled, its data sources created',
  },
  'log-integration.enabled': {
    outcome: 'succeeded',
    meaning:
      "a member's integration with a log template was enabled (again): its shards are read from the logs received since consumeFrom",
  },
  'log-integration.disabled': {
    outcome: 'succeeded',
    meaning:
      "a member's integration with a log template was disabled (PATCH, or a batch in full mode that did not select it)",
  },
  'log-integration.removed': {
    outcome: 'succeeded',
    meaning:
      'a member was removed from a log template (its policy was disabled); data sources are kept',
  },
  'log-integration.removal-refused': {
    outcome: 'refused',
    meaning: 'removing a member from a log template was refused: its policy is enabled',
  },
  'log-integration.logstore-added': {
    outcome: 'succeeded',
    meaning:
      'planning found a new Logstore matching the template in an integrated member (auto-add) and added it to the data source',
  },
  'log-integration.gap-recorded': {
    outcome: 'failed',
    meaning:
      "a shard's checkpoint had fallen out of the Logstore's TTL: reading went on from the oldest retained log; the gap (from, to, estimated count) is in the detail",
  },
  'data-source.deleted': {
    outcome: 'succeeded',
    meaning:
      'a data source was deleted explicitly; logs already forwarded stay in the central Logstore',
  },
  'data-source.deletion-refused': {
    outcome: 'refused',
    meaning: "deleting a data source was refused: its member's integration is enabled",
  },
} as const satisfies Record<string, { outcome: ActivityOutcome; meaning: string }>;

export type ActivityAction = keyof typeof ACTIVITY_ACTIONS;

export interface ActivityTarget {
  type: string;
  id: string;
}

export interface ActivityEntry {
  id: string;
  /** ISO 8601. */
  at: string;
  /** The member account concerned, if any. */
  accountId?: string;
  cause: ActivityCause;
  /** What happened: one of ACTIVITY_ACTIONS (entries written by older versions may hold others). */
  action: string;
  target?: ActivityTarget;
  outcome: ActivityOutcome;
  /** Why it failed or was refused, or other detail for a reader. */
  detail?: string;
  requestId?: string;
}

export type NewActivity = Omit<ActivityEntry, 'id' | 'at' | 'action'> & {
  action: ActivityAction;
  at?: string;
};

export interface ActivityQuery {
  /** Only entries concerning this account; all entries when absent. */
  accountId?: string;
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
  /** Default newest-first. */
  order?: 'newest-first' | 'oldest-first';
  limit: number;
  cursor?: string;
}

export interface ActivityLog {
  /** Appends an entry (its id, and its time unless given, are assigned here). */
  append(entry: NewActivity): Promise<ActivityEntry>;
  /** One page of entries, time-ordered, for one account or all. */
  list(query: ActivityQuery): Promise<Page<ActivityEntry>>;
}
