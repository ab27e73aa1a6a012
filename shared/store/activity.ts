// The activity log (shared/domain/activity.ts) in its table. Time-ordered per account and
// globally: each entry is written under stream `global` and, when it concerns an account, under
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
import type { ActivityEntry, ActivityLog, ActivityQuery, NewActivity } from '../domain/activity';
import { type Clock, isoNow } from '../domain/clock';
import type { CursorCodec } from '../domain/cursor';
import type { Page } from '../domain/paging';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type ActivityTable = StoreTables['activity'];
type Row = ReturnType<ActivityTable['decode']>;

const GLOBAL_STREAM = 'global';
const accountStream = (accountId: string) => `account:${accountId}`;

export class TablestoreActivityLog
  extends BasePersistence<PrimaryKeySpecOf<ActivityTable>, ColumnsSpecOf<ActivityTable>>
  implements ActivityLog
{
  constructor(
    client: TablestoreClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    clock?: Clock,
  ) {
    super(client, tables.activity, clock);
  }

  async append(input: NewActivity): Promise<ActivityEntry> {
    const at = input.at ?? isoNow(this.clock);
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
    const { rows, nextCursor } = await this.pageRows(range, query, binding, this.cursors);
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
