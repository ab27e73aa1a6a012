// The store's table schemas (shared/store/tables.ts) refuse a row whose JSON columns do not hold
// what the record needs (a corrupt or foreign row is an error naming what is missing, not a
// half-filled record reaching a capability).

import { describe, expect, it } from 'vitest';
import type { Row } from '../../../shared/cloud/tablestore';
import { storeTables } from '../../../shared/store';

const tables = storeTables('t_');

/** A valid row of `table` (from `record`) with some JSON columns replaced by raw values. */
function rowWith(
  table: { encode(record: never): { primaryKey: Row['primaryKey']; columns: Row['columns'] } },
  record: unknown,
  json: Record<string, unknown>,
): Row {
  const { primaryKey, columns } = table.encode(record as never);
  const replaced = Object.fromEntries(
    Object.entries(json).map(([name, value]) => [name, JSON.stringify(value)]),
  );
  return { primaryKey, columns: { ...columns, ...replaced } };
}

const checkpoint = {
  dataSource: 'd',
  shardKey: 'p/l/000001',
  project: 'p',
  logstore: 'l',
  shardId: 1n,
  generation: 1n,
  pullCount: 10n,
  finished: false,
  fenceToken: 1n,
  positionTime: 0n,
  logsForwarded: 0n,
  bytesForwarded: 0n,
  window: [{ minute: 1, logs: 2, bytes: 3 }],
  failures: 0n,
  gaps: [],
};

describe('JSON columns are checked when read', () => {
  it('a checkpoint row: its window, gaps and last error', () => {
    const table = tables.logCheckpoints;
    expect(table.decode(rowWith(table, checkpoint, {})).window).toEqual(checkpoint.window);
    expect(() => table.decode(rowWith(table, checkpoint, { window: {} }))).toThrow(
      /expected an array/,
    );
    expect(() =>
      table.decode(rowWith(table, checkpoint, { window: [{ minute: 1, logs: 2 }] })),
    ).toThrow(/expected a bytes field/);
    expect(() =>
      table.decode(
        rowWith(table, checkpoint, {
          gaps: [{ project: 'p', logstore: 'l', shardId: 1, from: 0 }],
        }),
      ),
    ).toThrow(/expected a to field/);
    expect(() =>
      table.decode(rowWith(table, checkpoint, { lastError: { code: 'c', message: 'm' } })),
    ).toThrow(/expected a at field/);
  });

  it('a data source row: its Logstores; a snapshot row: its errors', () => {
    const source = {
      name: 'n',
      type: 'custom-log-service',
      templateId: 't',
      accountId: 'a',
      region: 'r',
      enabled: true,
      autoAddNewLogstores: false,
      generation: 1n,
      consumeFrom: 0n,
      logstores: [{ project: 'p', logstore: 'l' }],
      createdAt: 0n,
      updatedAt: 0n,
      version: 1n,
    };
    const sources = tables.logDataSources;
    expect(sources.decode(rowWith(sources, source, {})).logstores).toEqual(source.logstores);
    expect(() =>
      sources.decode(rowWith(sources, source, { logstores: [{ project: 'p' }] })),
    ).toThrow(/expected a logstore field/);

    const snapshot = {
      name: 'n',
      at: 0n,
      generation: 1n,
      shards: 1n,
      shardsFinished: 0n,
      logsPerMinute: 0,
      bytesPerMinute: 0,
      logsForwarded: 0n,
      gapCount: 0n,
    };
    const snapshots = tables.logSnapshots;
    expect(() =>
      snapshots.decode(rowWith(snapshots, snapshot, { error: { code: 'c', at: 'x' } })),
    ).toThrow(/expected a message field/);
    expect(() =>
      snapshots.decode(rowWith(snapshots, snapshot, { planningError: { message: 'm', at: 'x' } })),
    ).toThrow(/expected a code field/);
  });

  it('a member row: every folder of its path has an id and a name', () => {
    const member = {
      accountId: '1',
      status: 'managed',
      scopeIds: [],
      createdAt: 0n,
      updatedAt: 0n,
      version: 1n,
    };
    const members = tables.members;
    const path = [
      { id: 'r', name: 'Root' },
      { id: 'fd-1', name: 'Prod' },
    ];
    expect(members.decode(rowWith(members, member, { folderPath: path })).folderPath).toEqual(path);
    expect(() =>
      members.decode(rowWith(members, member, { folderPath: [path[0], { id: 'fd-1' }] })),
    ).toThrow(/expected an array of \{id, name\}/);
  });
});
