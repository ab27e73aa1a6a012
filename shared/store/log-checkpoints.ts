// Shard checkpoints (shared/logs/model.ts) in their table, one row per (data source, shard),
// fenced by lease tokens (the fenced writes shared/store/lease.ts once removed, back for their
// first user):
//
// - claim: stamps the new holder's token on the row, only if every token written before is
//   smaller. From then on the previous holder's commits fail, even if its lease ran out
//   unnoticed (a paused process): the row no longer carries its token.
// - commit: replaces the row only while it still carries the committing holder's token.
// - create: a first row (expects none).
//
// So a checkpoint moves only by the current holder of the shard's lease, and only after the
// holder claimed it: the puller's "commit only while holding the lease".

import {
  assertBatchSucceeded,
  type ColumnsSpecOf,
  type PrimaryKeySpecOf,
  type RowWrite,
  type TablestoreClient,
} from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { ShardCheckpoint } from '../logs/model';
import type { CheckpointStore, ShardRef } from '../logs/ports';
import { conditionalWrite } from './conditional-write';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type CheckpointsTable = StoreTables['logCheckpoints'];
type Row = ReturnType<CheckpointsTable['decode']>;

/** `<project>/<logstore>/<shard id, 6 digits>`: a data source's shards in Logstore, id order. */
export function shardKey(shard: Pick<ShardRef, 'project' | 'logstore' | 'shardId'>): string {
  return `${shard.project}/${shard.logstore}/${String(shard.shardId).padStart(6, '0')}`;
}

export class TablestoreCheckpointStore
  extends BasePersistence<PrimaryKeySpecOf<CheckpointsTable>, ColumnsSpecOf<CheckpointsTable>>
  implements CheckpointStore
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.logCheckpoints, clock);
  }

  async get(shard: ShardRef): Promise<ShardCheckpoint | undefined> {
    const row = await this.readRow({ dataSource: shard.dataSource, shardKey: shardKey(shard) });
    return row ? fromRow(row) : undefined;
  }

  async listForDataSource(name: string): Promise<ShardCheckpoint[]> {
    const out: ShardCheckpoint[] = [];
    for await (const row of this.scanRows({ dataSource: name })) out.push(fromRow(row));
    return out;
  }

  async claim(shard: ShardRef, token: bigint): Promise<'claimed' | 'absent' | 'superseded'> {
    const key = this.table.key({ dataSource: shard.dataSource, shardKey: shardKey(shard) });
    const claimed = await conditionalWrite(
      this.client.updateRow(
        this.table.name,
        key,
        { put: this.table.columns({ fenceToken: token }) },
        {
          condition: {
            row: 'expect-exist',
            columns: { column: 'fenceToken', is: '<', value: token },
          },
        },
      ),
    );
    if (claimed) return 'claimed';
    return (await this.client.getRow(this.table.name, key)) ? 'superseded' : 'absent';
  }

  async create(checkpoint: ShardCheckpoint): Promise<boolean> {
    const { primaryKey, columns } = this.table.encode(toRow(checkpoint));
    return conditionalWrite(
      this.client.putRow(this.table.name, primaryKey, columns, {
        condition: { row: 'expect-not-exist' },
      }),
    );
  }

  async commit(checkpoint: ShardCheckpoint): Promise<boolean> {
    const { primaryKey, columns } = this.table.encode(toRow(checkpoint));
    return conditionalWrite(
      this.client.putRow(this.table.name, primaryKey, columns, {
        condition: {
          row: 'expect-exist',
          columns: { column: 'fenceToken', is: '=', value: checkpoint.fenceToken },
        },
      }),
    );
  }

  async deleteForDataSource(name: string): Promise<number> {
    const writes: RowWrite[] = [];
    for await (const row of this.scanRows({ dataSource: name })) {
      writes.push({
        type: 'delete',
        table: this.table.name,
        primaryKey: this.table.key({ dataSource: row.dataSource, shardKey: row.shardKey }),
      });
    }
    // No rows: the adapter makes no call and the batch has nothing to fail.
    assertBatchSucceeded(writes, await this.client.batchWriteRows(writes));
    return writes.length;
  }
}

const optionalMillis = (iso: string | undefined, field: string) =>
  iso === undefined ? undefined : millisFromIso(iso, field);

function toRow(c: ShardCheckpoint): Row {
  return {
    dataSource: c.dataSource,
    shardKey: shardKey(c),
    project: c.project,
    logstore: c.logstore,
    shardId: BigInt(c.shardId),
    generation: BigInt(c.generation),
    cursor: c.cursor,
    pullCount: BigInt(c.pullCount),
    finished: c.finished,
    fenceToken: c.fenceToken,
    positionTime: BigInt(c.positionTime),
    logsForwarded: BigInt(c.logsForwarded),
    bytesForwarded: BigInt(c.bytesForwarded),
    firstCommitAt: optionalMillis(c.firstCommitAt, 'firstCommitAt'),
    committedAt: optionalMillis(c.committedAt, 'committedAt'),
    lastPullAt: optionalMillis(c.lastPullAt, 'lastPullAt'),
    lastDataAt: optionalMillis(c.lastDataAt, 'lastDataAt'),
    lagSeconds: c.lagSeconds === undefined ? undefined : BigInt(Math.round(c.lagSeconds)),
    window: c.window,
    lastError: c.lastError,
    failures: BigInt(c.failures),
    backoffUntil: optionalMillis(c.backoffUntil, 'backoffUntil'),
    gaps: c.gaps,
  };
}

function fromRow(row: Row): ShardCheckpoint {
  const checkpoint: ShardCheckpoint = {
    dataSource: row.dataSource,
    project: row.project,
    logstore: row.logstore,
    shardId: Number(row.shardId),
    generation: Number(row.generation),
    pullCount: Number(row.pullCount),
    finished: row.finished,
    fenceToken: row.fenceToken,
    positionTime: Number(row.positionTime),
    logsForwarded: Number(row.logsForwarded),
    bytesForwarded: Number(row.bytesForwarded),
    window: row.window,
    failures: Number(row.failures),
    gaps: row.gaps,
  };
  if (row.cursor !== undefined) checkpoint.cursor = row.cursor;
  if (row.firstCommitAt !== undefined) checkpoint.firstCommitAt = isoFromMillis(row.firstCommitAt);
  if (row.committedAt !== undefined) checkpoint.committedAt = isoFromMillis(row.committedAt);
  if (row.lastPullAt !== undefined) checkpoint.lastPullAt = isoFromMillis(row.lastPullAt);
  if (row.lastDataAt !== undefined) checkpoint.lastDataAt = isoFromMillis(row.lastDataAt);
  if (row.backoffUntil !== undefined) checkpoint.backoffUntil = isoFromMillis(row.backoffUntil);
  if (row.lagSeconds !== undefined) checkpoint.lagSeconds = Number(row.lagSeconds);
  if (row.lastError !== undefined) checkpoint.lastError = row.lastError;
  return checkpoint;
}
