// What the session-audit capability needs from storage, declared without any SDK: writing events
// and the sessions folded from them (the session-index function), and searching them (the API).
// shared/store implements both over Tablestore, a table and a search index.

import type {
  Session,
  SessionEvent,
  SessionFilter,
  SessionKey,
  SessionSort,
  SummaryBucket,
  SummaryGroup,
} from './model';

/** Where the index keeps events and sessions. Every write is idempotent. */
export interface SessionEventStore {
  /** Writes events (the same event written again changes nothing). */
  putEvents(events: readonly SessionEvent[]): Promise<void>;
  /** Every stored event of a session, in time order. */
  eventsOf(key: SessionKey): Promise<SessionEvent[]>;
  /**
   * Writes each session, folded from `eventCount` events, unless the stored one was folded from
   * at least as many (events are only ever added, so more events is a later view of the same
   * set). One flag per session, in order: true when written.
   */
  saveSessions(sessions: readonly Session[]): Promise<boolean[]>;
  /**
   * Writes each session only where no session is stored under its key yet. One flag per
   * session, in order: true when written.
   */
  createSessions(sessions: readonly Session[]): Promise<boolean[]>;
}

export interface SessionPageRequest {
  limit: number;
  /** From a previous page's nextPageToken (same filter and sort). */
  pageToken?: string | undefined;
}

export interface SessionPage {
  sessions: Session[];
  /** Sessions matching the filter, over all pages. */
  totalCount: number;
  nextPageToken?: string;
}

export interface EventPage {
  events: SessionEvent[];
  nextPageToken?: string;
}

/** Searching the index. A token that was altered or belongs to another query is InvalidCursor. */
export interface SessionSearch {
  search(filter: SessionFilter, sort: SessionSort, page: SessionPageRequest): Promise<SessionPage>;
  get(key: SessionKey): Promise<Session | undefined>;
  events(key: SessionKey, page: SessionPageRequest): Promise<EventPage>;
  /** Sessions per group (at most `SUMMARY_MAX_GROUPS` groups, the largest first). */
  summary(
    groupBy: SummaryGroup,
    filter: Pick<SessionFilter, 'from' | 'to' | 'ownerAccountIds'>,
  ): Promise<{ groups: SummaryBucket[]; totalCount: number }>;
}

/** Groups a summary answers at most (Tablestore's GroupByField size limit). */
export const SUMMARY_MAX_GROUPS = 2000;
