// The activity log: every change to scopes, members and their roles, with who or what caused
// it, when, and the outcome. Each capability appends to it; the API reads it.

import type { ActivityCause } from './caller';
import type { Page } from './paging';

export const ACTIVITY_OUTCOMES = ['succeeded', 'failed', 'refused'] as const;
export type ActivityOutcome = (typeof ACTIVITY_OUTCOMES)[number];

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
  /** What was done, e.g. `scope.added`, `member.onboarded`, `role.repaired`. */
  action: string;
  target?: ActivityTarget;
  outcome: ActivityOutcome;
  /** Why it failed or was refused, or other detail for a reader. */
  detail?: string;
  requestId?: string;
}

export type NewActivity = Omit<ActivityEntry, 'id' | 'at'> & { at?: string };

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
