// The activity log: every change to scopes and members, with who or what caused it (a user, an
// RD event, the timer), when, and the outcome. Time-ordered per account and globally: each
// entry is written under stream `global` and, when it concerns an account, under
// `account:<id>`, so either timeline, optionally cut to a time range, is one GetRange.

import { randomUUID } from 'node:crypto';
import {
  assertBatchSucceeded,
  type ColumnsSpecOf,
  INF_MAX,
  INF_MIN,
  type PrimaryKeySpecOf,
  type RangeKey,
  type RowWrite,
  type TablestoreClient,
} from '../cloud/tablestore';
import type { Clock } from './clock';
import { BasePersistence, isoFromMillis, millisFromIso, type Page } from './persistence';
import type { ACTIVITY_OUTCOMES, ActivityCause, ActivityTarget, StoreTables } from './tables';

export type ActivityOutcome = (typeof ACTIVITY_OUTCOMES)[number];
export type { ActivityCause, ActivityTarget };

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

type ActivityTable = StoreTables['activity'];
type Row = ReturnType<ActivityTable['decode']>;

const GLOBAL_STREAM = 'global';
const accountStream = (accountId: string) => `account:${accountId}`;

export class ActivityLog extends BasePersistence<
  PrimaryKeySpecOf<ActivityTable>,
  ColumnsSpecOf<ActivityTable>
> {
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.activity, clock);
  }

  async append(input: NewActivity): Promise<ActivityEntry> {
    const at = input.at ?? new Date(this.clock.now()).toISOString();
    const entry: ActivityEntry = { ...input, at, id: randomUUID() };
    const streams = [GLOBAL_STREAM, ...(entry.accountId ? [accountStream(entry.accountId)] : [])];
    const writes: RowWrite[] = streams.map((stream) => {
      const { primaryKey, columns } = this.table.encode(toRow(entry, stream));
      return {
        type: 'put',
        table: this.table.name,
        primaryKey,
        columns,
        condition: { row: 'expect-not-exist' },
      };
    });
    assertBatchSucceeded(writes, await this.client.batchWriteRows(writes));
    return entry;
  }

  async list(query: ActivityQuery): Promise<Page<ActivityEntry>> {
    const stream = query.accountId ? accountStream(query.accountId) : GLOBAL_STREAM;
    const from = query.from === undefined ? undefined : millisFromIso(query.from, 'from');
    const to = query.to === undefined ? undefined : millisFromIso(query.to, 'to');
    // [stream, t, INF_MIN] sorts before every entry at time t: as a forward start it includes
    // them (from is inclusive), as an end it excludes them (to is exclusive); backward likewise.
    const low: RangeKey = [
      ['stream', stream],
      ['at', from ?? INF_MIN],
      ['entryId', INF_MIN],
    ];
    const high: RangeKey = [
      ['stream', stream],
      ['at', to ?? INF_MAX],
      ['entryId', INF_MIN],
    ];
    const newestFirst = query.order !== 'oldest-first';
    const range = newestFirst
      ? { start: high, end: low, direction: 'backward' as const }
      : { start: low, end: high, direction: 'forward' as const };
    const binding = JSON.stringify([
      'activity',
      stream,
      from?.toString(),
      to?.toString(),
      newestFirst,
    ]);
    const { rows, nextCursor } = await this.pageRows(range, query, binding);
    const items = rows.map(fromRow);
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }
}

function toRow(e: ActivityEntry, stream: string): Row {
  return {
    stream,
    at: millisFromIso(e.at, 'at'),
    entryId: e.id,
    accountId: e.accountId,
    cause: e.cause,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    detail: e.detail,
    requestId: e.requestId,
  };
}

function fromRow(row: Row): ActivityEntry {
  const entry: ActivityEntry = {
    id: row.entryId,
    at: isoFromMillis(row.at),
    cause: row.cause,
    action: row.action,
    outcome: row.outcome,
  };
  if (row.accountId !== undefined) entry.accountId = row.accountId;
  if (row.target !== undefined) entry.target = row.target;
  if (row.detail !== undefined) entry.detail = row.detail;
  if (row.requestId !== undefined) entry.requestId = row.requestId;
  return entry;
}
