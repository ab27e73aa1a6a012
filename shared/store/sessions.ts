// The session index over Tablestore (the ports of shared/sessions/ports.ts): events in their
// table, one row each, keyed by session and time; sessions in theirs, written whole, and searched
// through the sessions search index. A search returns whole sessions from the index (every column
// is a field), so it reads no table row; its next token is wrapped in the deployment's signed
// cursor, so an altered or foreign token is refused before it reaches Tablestore.

import {
  type ColumnsSpecOf,
  type Condition,
  type PrimaryKeySpecOf,
  type RowOf,
  type RowWrite,
  type SearchIndexSelector,
  type SearchQuery,
  type SearchSort,
  SearchTokenRejected,
  searchQuery,
  type Row as TableRow,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../cloud/tablestore';
import { type CursorCodec, InvalidCursor } from '../domain/cursor';
import { MAX_PAGE_LIMIT } from '../domain/paging';
import type {
  Session,
  SessionEvent,
  SessionFilter,
  SessionKey,
  SessionSort,
  SummaryGroup,
} from '../sessions/model';
import {
  type EventPage,
  type SessionEventStore,
  type SessionPage,
  type SessionPageRequest,
  type SessionSearch,
  SUMMARY_MAX_GROUPS,
} from '../sessions/ports';
import { isConditionFailure } from './conditional-write';
import { BasePersistence } from './persistence';
import type { StoreTables } from './tables';

type EventsTable = StoreTables['sessionEvents'];
type SessionsTable = StoreTables['sessions'];
type EventRow = RowOf<PrimaryKeySpecOf<EventsTable>, ColumnsSpecOf<EventsTable>>;
type SessionRow = RowOf<PrimaryKeySpecOf<SessionsTable>, ColumnsSpecOf<SessionsTable>>;

const big = (n: number | undefined) => (n === undefined ? undefined : BigInt(n));
const num = (n: bigint | undefined) => (n === undefined ? undefined : Number(n));

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function eventToRow(e: SessionEvent): EventRow {
  return {
    ...e,
    eventTime: BigInt(e.eventTime),
    assetPort: big(e.assetPort),
    sessionStartTime: big(e.sessionStartTime),
    sessionEndTime: big(e.sessionEndTime),
  };
}

function eventFromRow(row: EventRow): SessionEvent {
  return withoutUndefined({
    ...row,
    eventTime: Number(row.eventTime),
    assetPort: num(row.assetPort),
    sessionStartTime: num(row.sessionStartTime),
    sessionEndTime: num(row.sessionEndTime),
  });
}

function sessionToRow(s: Session): SessionRow {
  return {
    ...s,
    assetPort: big(s.assetPort),
    startTime: BigInt(s.startTime),
    endTime: big(s.endTime),
    lastEventTime: BigInt(s.lastEventTime),
    activeUntil: BigInt(s.activeUntil),
    eventCount: BigInt(s.eventCount),
    commandCount: BigInt(s.commandCount),
    fileTransferCount: BigInt(s.fileTransferCount),
    graphicalCount: BigInt(s.graphicalCount),
    sqlCount: BigInt(s.sqlCount),
    blockedCount: BigInt(s.blockedCount),
  };
}

function sessionFromRow(row: SessionRow): Session {
  return withoutUndefined({
    ...row,
    assetPort: num(row.assetPort),
    startTime: Number(row.startTime),
    endTime: num(row.endTime),
    lastEventTime: Number(row.lastEventTime),
    activeUntil: Number(row.activeUntil),
    eventCount: Number(row.eventCount),
    commandCount: Number(row.commandCount),
    fileTransferCount: Number(row.fileTransferCount),
    graphicalCount: Number(row.graphicalCount),
    sqlCount: Number(row.sqlCount),
    blockedCount: Number(row.blockedCount),
  });
}

/** The search-index query of a filter: every filter given, all of them together. */
export function sessionFilterQuery(filter: SessionFilter): SearchQuery {
  const q = searchQuery;
  const parts: SearchQuery[] = [];
  if (filter.ownerAccountIds && filter.ownerAccountIds.length > 0) {
    parts.push(q.terms('ownerAccountId', filter.ownerAccountIds));
  }
  if (filter.user !== undefined) {
    parts.push(q.or(q.term('userName', filter.user), q.term('userId', filter.user)));
  }
  if (filter.asset !== undefined) {
    parts.push(q.or(q.prefix('assetName', filter.asset), q.prefix('assetAddress', filter.asset)));
  }
  if (filter.assetAccount !== undefined) parts.push(q.term('assetAccount', filter.assetAccount));
  if (filter.protocol !== undefined) parts.push(q.term('protocol', filter.protocol));
  if (filter.sourceIp !== undefined) {
    const { low, high } = filter.sourceIp;
    parts.push(
      low === high ? q.term('clientIpKey', low) : q.range('clientIpKey', { gte: low, lte: high }),
    );
  }
  if (filter.to !== undefined) parts.push(q.range('startTime', { lt: BigInt(filter.to) }));
  if (filter.from !== undefined) parts.push(q.range('activeUntil', { gte: BigInt(filter.from) }));
  return parts.length === 0 ? q.all() : q.and(...parts);
}

function sortOf(sort: SessionSort): SearchSort[] {
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  return [
    { field, order: desc ? 'desc' : 'asc', missing: 'last' },
    { primaryKey: desc ? 'desc' : 'asc' },
  ];
}

/** Up to this many rows per Search call (the service's maximum with columns from the index). */
const SEARCH_PAGE_MAX = 1000;

export class TablestoreSessionIndex
  extends BasePersistence<PrimaryKeySpecOf<EventsTable>, ColumnsSpecOf<EventsTable>>
  implements SessionEventStore, SessionSearch
{
  private readonly sessions: SessionsTable;

  constructor(
    client: TablestoreClient,
    private readonly search_: TablestoreSearchClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    /** Which version of the sessions search index to query (selectSearchIndex). */
    private readonly index: SearchIndexSelector,
  ) {
    super(client, tables.sessionEvents);
    this.sessions = tables.sessions;
  }

  async putEvents(events: readonly SessionEvent[]): Promise<void> {
    // Created only if absent: an event row never changes, so one already there is this event.
    const writes: RowWrite[] = events.map((event) => {
      const { primaryKey, columns } = this.table.encode(eventToRow(event));
      return {
        type: 'put',
        table: this.table.name,
        primaryKey,
        columns,
        condition: { row: 'expect-not-exist' },
      };
    });
    const results = await this.client.batchWriteRows(writes);
    const failed = results.find((r) => !r.ok && !isConditionFailure(r.error));
    if (failed && !failed.ok) throw failed.error;
  }

  async eventsOf(key: SessionKey): Promise<SessionEvent[]> {
    const events: SessionEvent[] = [];
    for await (const row of this.scanRows(key)) events.push(eventFromRow(row));
    return events;
  }

  saveSessions(sessions: readonly Session[]): Promise<boolean[]> {
    // Only over a fold of fewer events (or none yet).
    return this.writeSessions(sessions, (session) => ({
      row: 'ignore',
      columns: {
        column: 'eventCount',
        is: '<',
        value: BigInt(session.eventCount),
        ifMissing: 'pass',
      },
    }));
  }

  createSessions(sessions: readonly Session[]): Promise<boolean[]> {
    return this.writeSessions(sessions, () => ({ row: 'expect-not-exist' }));
  }

  private async writeSessions(
    sessions: readonly Session[],
    condition: (session: Session) => Condition,
  ): Promise<boolean[]> {
    const writes: RowWrite[] = sessions.map((session) => {
      const { primaryKey, columns } = this.sessions.encode(sessionToRow(session));
      return {
        type: 'put',
        table: this.sessions.name,
        primaryKey,
        columns,
        condition: condition(session),
      };
    });
    const results = await this.client.batchWriteRows(writes);
    return results.map((result) => {
      if (result.ok) return true;
      if (isConditionFailure(result.error)) return false;
      throw result.error;
    });
  }

  async get(key: SessionKey): Promise<Session | undefined> {
    const row = await this.client.getRow(this.sessions.name, this.sessions.key(key));
    return row ? sessionFromRow(this.sessions.decode(row)) : undefined;
  }

  async search(
    filter: SessionFilter,
    sort: SessionSort,
    page: SessionPageRequest,
  ): Promise<SessionPage> {
    const limit = Math.max(1, Math.min(MAX_PAGE_LIMIT, SEARCH_PAGE_MAX, Math.floor(page.limit)));
    const query = sessionFilterQuery(filter);
    const index = await this.index.indexName();
    const binding = JSON.stringify(['sessions', index, filter, sort]);
    let nextToken: string | undefined;
    if (page.pageToken !== undefined) {
      const [token, ...rest] = await this.cursors.decode(binding, page.pageToken);
      if (typeof token !== 'string' || rest.length > 0) {
        throw new InvalidCursor('its position is malformed');
      }
      nextToken = token;
    }
    try {
      const result = await this.search_.search({
        table: this.sessions.name,
        index,
        query,
        sort: sortOf(sort),
        limit,
        totalCount: true,
        columns: 'allFromIndex',
        ...(nextToken !== undefined ? { nextToken } : {}),
      });
      const sessions = result.rows.map((row) => this.decodeSession(row));
      const out: SessionPage = { sessions, totalCount: result.totalCount ?? sessions.length };
      if (result.nextToken !== undefined && sessions.length > 0) {
        out.nextPageToken = await this.cursors.encode(binding, [result.nextToken]);
      }
      return out;
    } catch (error) {
      if (error instanceof SearchTokenRejected) {
        throw new InvalidCursor('the search index no longer accepts it (it was rebuilt)');
      }
      throw error;
    }
  }

  private decodeSession(row: TableRow): Session {
    return sessionFromRow(this.sessions.decode(row));
  }

  async events(key: SessionKey, page: SessionPageRequest): Promise<EventPage> {
    const { start, end } = this.table.prefixRange(key);
    const binding = JSON.stringify(['session-events', key.ownerAccountId, key.sessionId]);
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'forward' },
      { limit: page.limit, cursor: page.pageToken },
      binding,
      this.cursors,
    );
    const events = rows.map(eventFromRow);
    return nextCursor === undefined ? { events } : { events, nextPageToken: nextCursor };
  }

  async summary(
    groupBy: SummaryGroup,
    filter: Pick<SessionFilter, 'from' | 'to' | 'ownerAccountIds'>,
  ): Promise<{ groups: Array<{ key: string; sessions: number }>; totalCount: number }> {
    const field = groupBy === 'user' ? 'userName' : groupBy;
    const result = await this.search_.search({
      table: this.sessions.name,
      index: await this.index.indexName(),
      query: sessionFilterQuery(filter),
      limit: 0,
      totalCount: true,
      groupBys: [
        {
          kind: 'field',
          name: 'groups',
          field,
          size: SUMMARY_MAX_GROUPS,
          sort: [
            { by: 'count', order: 'desc' },
            { by: 'key', order: 'asc' },
          ],
        },
      ],
    });
    const grouped = result.groupBys.groups;
    const groups =
      grouped?.kind === 'field'
        ? grouped.buckets.map((bucket) => ({ key: bucket.key, sessions: bucket.count }))
        : [];
    return { groups, totalCount: result.totalCount ?? 0 };
  }
}
