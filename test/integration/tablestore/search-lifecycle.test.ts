// Search-index lifecycle and sync through the official SDK: create, describe, list, update,
// delete; the schema and TTL refusals; FULL then INCR sync with the visibility delay; deletes and
// TTL expiry leaving the index; indexes rebuilt from the durable rows on start; the control.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../../localcloud';
import { createTablestoreService } from '../../../localcloud/tablestore';
import { expectOtsError, type Harness, startHarness, TestClock } from './harness';
import { TableStore } from './sdk';
import {
  BASE_TIME,
  createSessionsIndex,
  createSessionsTable,
  deleteRow,
  expectedIds,
  INDEX,
  idsOf,
  pageAll,
  sdkQuery,
  search,
  sessionFields,
  sessionRows,
  TABLE,
  writeRows,
} from './search-support';

const F = TableStore.FieldType;
const DAY_S = 86_400;

let harness: Harness | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function count(client: ReturnType<Harness['client']>): Promise<number> {
  const response = await search(client, {
    query: sdkQuery({ kind: 'all' }),
    limit: 0,
    getTotalCount: true,
  });
  return Number(response.totalCounts);
}

describe('CreateSearchIndex, DescribeSearchIndex, ListSearchIndex, UpdateSearchIndex, DeleteSearchIndex', () => {
  it('describes the schema it was created with, its sync phase, row count and status', async () => {
    harness = await startHarness();
    const client = harness.client();
    await createSessionsTable(client);
    await writeRows(client, sessionRows(30, 1));
    // An index sort on an index with a NESTED field is refused, as the service refuses it.
    const nestedSort = await expectOtsError(
      client.createSearchIndex({
        tableName: TABLE,
        indexName: INDEX,
        schema: {
          fieldSchemas: sessionFields(),
          indexSort: { sorters: [{ fieldSort: { fieldName: 'start' } }] },
        },
      }),
    );
    expect(nestedSort.message).toContain('Index sort is not supported');
    const fields = sessionFields().filter((field) => field.fieldName !== 'assets');
    await client.createSearchIndex({
      tableName: TABLE,
      indexName: INDEX,
      schema: {
        fieldSchemas: fields,
        indexSort: {
          sorters: [
            { fieldSort: { fieldName: 'start', order: TableStore.SortOrder.SORT_ORDER_DESC } },
          ],
        },
      },
    });
    const described = await client.describeSearchIndex({ tableName: TABLE, indexName: INDEX });
    expect(
      described.schema.fieldSchemas.map((field) => [field.fieldName, field.fieldType]),
    ).toEqual(fields.map((field) => [field.fieldName, field.fieldType]));
    const tags = described.schema.fieldSchemas.find((field) => field.fieldName === 'tags');
    expect(tags).toMatchObject({ isArray: true, docValues: true, index: true });
    const note = described.schema.fieldSchemas.find((field) => field.fieldName === 'note');
    expect(note).toMatchObject({ analyzer: 'single_word', docValues: false });
    expect(described.schema.indexSort?.sorter).toHaveLength(1);
    expect(described.syncStat.syncPhase).toBe(2);
    expect(Number(described.meteringInfo.rowCount)).toBe(30);
    expect(Number(described.meteringInfo.storageSize)).toBeGreaterThan(0);
    expect(described.timeToLive).toBe(-1);
    expect(described.indexStatus.status).toBe('running');

    // The index sort is the default order of results.
    const rows = sessionRows(30, 1);
    const response = await search(client, { query: sdkQuery({ kind: 'all' }), limit: 30 });
    expect(idsOf(response.rows)).toEqual(
      expectedIds(rows, { kind: 'all' }, [{ field: 'start', desc: true }]),
    );

    await client.createSearchIndex({
      tableName: TABLE,
      indexName: 'by_user',
      schema: { fieldSchemas: [{ fieldName: 'user', fieldType: F.KEYWORD, index: true }] },
    });
    expect((await client.listSearchIndex({ tableName: TABLE })).indices).toEqual([
      { tableName: TABLE, indexName: 'by_user' },
      { tableName: TABLE, indexName: INDEX },
    ]);
    await client.deleteSearchIndex({ tableName: TABLE, indexName: 'by_user' });
    expect((await client.listSearchIndex({})).indices).toEqual([
      { tableName: TABLE, indexName: INDEX },
    ]);
    const gone = await expectOtsError(
      client.describeSearchIndex({ tableName: TABLE, indexName: 'by_user' }),
    );
    expect(gone.code).toBe('OTSObjectNotExist');
    expect(
      (await expectOtsError(client.deleteSearchIndex({ tableName: TABLE, indexName: 'by_user' })))
        .code,
    ).toBe('OTSObjectNotExist');
  });

  it('refuses what the service refuses', async () => {
    harness = await startHarness();
    const client = harness.client();
    await createSessionsTable(client);
    const create =
      (fieldSchemas: unknown[], extra: Record<string, unknown> = {}) =>
      () =>
        client.createSearchIndex({
          tableName: TABLE,
          indexName: 'idx',
          schema: { fieldSchemas },
          ...extra,
        });
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      [
        'a bad index name',
        () =>
          client.createSearchIndex({
            tableName: TABLE,
            indexName: '9bad',
            schema: { fieldSchemas: sessionFields() },
          }),
        "Invalid index name: '9bad'",
      ],
      [
        'an unknown table',
        () =>
          client.createSearchIndex({
            tableName: 'nope',
            indexName: 'idx',
            schema: { fieldSchemas: sessionFields() },
          }),
        'table [nope] does not exist',
      ],
      [
        'sort and aggregation on TEXT',
        create([{ fieldName: 'note', fieldType: F.TEXT, enableSortAndAgg: true }]),
        'does not support enable_sort_and_agg',
      ],
      [
        'sort and aggregation on NESTED',
        create([
          {
            fieldName: 'n',
            fieldType: F.NESTED,
            enableSortAndAgg: true,
            fieldSchemas: [{ fieldName: 'a', fieldType: F.KEYWORD }],
          },
        ]),
        'does not support enable_sort_and_agg',
      ],
      [
        'an analyzer on a KEYWORD field',
        create([
          {
            fieldName: 'user',
            fieldType: F.KEYWORD,
            analyzer: 'split',
            analyzerParameter: { delimiter: ',' },
          },
        ]),
        'analyzer is only allowed for TEXT',
      ],
      [
        'a duplicated field',
        create([
          { fieldName: 'user', fieldType: F.KEYWORD },
          { fieldName: 'user', fieldType: F.LONG },
        ]),
        "Duplicated field name: 'user'",
      ],
      [
        'a primary key indexed as another type',
        create([{ fieldName: 'id', fieldType: F.LONG }]),
        'primary key column of type STRING',
      ],
      [
        'an index sort on a field without sort and aggregation',
        create([{ fieldName: 'user', fieldType: F.KEYWORD }], {
          schema: {
            fieldSchemas: [{ fieldName: 'user', fieldType: F.KEYWORD }],
            indexSort: { sorters: [{ fieldSort: { fieldName: 'user' } }] },
          },
        }),
        'must enable sort_and_agg',
      ],
      [
        'a field type localcloud does not emulate',
        create([{ fieldName: 'pos', fieldType: F.GEO_POINT }]),
        'not emulated by localcloud',
      ],
      [
        'more than 1000 fields',
        create(
          Array.from({ length: 1001 }, (_, i) => ({ fieldName: `f${i}`, fieldType: F.KEYWORD })),
        ),
        'at most 1000 are allowed',
      ],
      [
        'a TTL on a table that allows updates',
        () =>
          client.createSearchIndex({
            tableName: TABLE,
            indexName: 'ttl',
            schema: { fieldSchemas: sessionFields() },
            timeToLive: DAY_S,
          }),
        'must disallow updates',
      ],
    ];
    for (const [name, call, message] of cases) {
      const error = await expectOtsError(call());
      expect(error.code, name).toBe('OTSParameterInvalid');
      expect(error.message, name).toContain(message);
    }
    await createSessionsIndex(client);
    const duplicate = await expectOtsError(createSessionsIndex(client));
    expect(duplicate.code).toBe('OTSObjectAlreadyExist');
  });

  it('TTL: the index TTL is at most the table TTL, needs a table without updates, and may be updated', async () => {
    harness = await startHarness();
    const client = harness.client();
    await createSessionsTable(client, { timeToLive: 2 * DAY_S, allowUpdate: false });
    const noTtl = await expectOtsError(createSessionsIndex(client));
    expect(noTtl.message).toContain('must be less than or equal to the time_to_live of table');
    const longer = await expectOtsError(createSessionsIndex(client, { timeToLive: 3 * DAY_S }));
    expect(longer.message).toContain('must be less than or equal');
    await createSessionsIndex(client, { timeToLive: DAY_S });
    await client.updateSearchIndex({ tableName: TABLE, indexName: INDEX, timeToLive: 2 * DAY_S });
    expect(
      (await client.describeSearchIndex({ tableName: TABLE, indexName: INDEX })).timeToLive,
    ).toBe(2 * DAY_S);
    const tooLong = await expectOtsError(
      client.updateSearchIndex({ tableName: TABLE, indexName: INDEX, timeToLive: 3 * DAY_S }),
    );
    expect(tooLong.message).toContain('must be less than or equal');
    const lowerTable = await expectOtsError(
      client.updateTable({ tableName: TABLE, tableOptions: { timeToLive: DAY_S } }),
    );
    expect(lowerTable.message).toContain("lower the index's first");
    const allowUpdate = await expectOtsError(
      client.updateTable({ tableName: TABLE, tableOptions: { allowUpdate: true } }),
    );
    expect(allowUpdate.message).toContain('must disallow updates');
  });
});

describe('TEXT analyzers', () => {
  it('split cuts on its delimiter only; single_word can be case-sensitive', async () => {
    harness = await startHarness();
    const client = harness.client();
    await createSessionsTable(client);
    await client.createSearchIndex({
      tableName: TABLE,
      indexName: INDEX,
      schema: {
        fieldSchemas: [
          {
            fieldName: 'note',
            fieldType: F.TEXT,
            analyzer: 'split',
            analyzerParameter: { delimiter: ',' },
          },
          {
            fieldName: 'user',
            fieldType: F.TEXT,
            analyzer: 'single_word',
            analyzerParameter: { caseSensitive: true },
          },
        ],
      },
    });
    await client.putRow({
      tableName: TABLE,
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
      primaryKey: [{ id: 'a' }],
      attributeColumns: [{ note: 'disk full,reboot now' }, { user: 'Alice Smith' }],
    });
    const hits = async (query: Parameters<typeof sdkQuery>[0]) =>
      idsOf((await search(client, { query: sdkQuery(query), limit: 10 })).rows);
    expect(await hits({ kind: 'term', field: 'note', value: 'reboot now' })).toEqual(['a']);
    expect(await hits({ kind: 'term', field: 'note', value: 'disk' })).toEqual([]);
    expect(await hits({ kind: 'match', field: 'user', text: 'Alice' })).toEqual(['a']);
    expect(await hits({ kind: 'match', field: 'user', text: 'alice' })).toEqual([]);
  });
});

describe('sync', () => {
  it('rows present at creation are indexed in the FULL phase, later writes in INCR, each visible after the delay', async () => {
    harness = await startHarness();
    harness.clock.freeze();
    harness.service.setSearchVisibilityDelay(2000);
    const client = harness.client();
    await createSessionsTable(client);
    await writeRows(client, sessionRows(20, 2));
    await createSessionsIndex(client);
    let described = await client.describeSearchIndex({ tableName: TABLE, indexName: INDEX });
    expect(described.syncStat.syncPhase).toBe(1);
    expect(await count(client)).toBe(0);

    harness.clock.advance(2000);
    described = await client.describeSearchIndex({ tableName: TABLE, indexName: INDEX });
    expect(described.syncStat.syncPhase).toBe(2);
    expect(await count(client)).toBe(20);
    const synced = BigInt(String(described.syncStat.currentSyncTimestamp));
    expect(synced / 1_000_000n).toBe(BigInt(harness.clock.now()));

    await writeRows(client, sessionRows(5, 3, 'n'));
    await deleteRow(client, 's00000');
    expect(await count(client)).toBe(20);
    harness.clock.advance(1999);
    expect(await count(client)).toBe(20);
    harness.clock.advance(1);
    expect(await count(client)).toBe(24);
  });

  it('CreateSearchIndex answers at once; the FULL phase indexes the rows in the background while writes go on', async () => {
    // The background slices run when the test says (the service runs them on the next turns of
    // its event loop); each Search or DescribeSearchIndex also indexes one slice of 2000 rows.
    const queued: Array<() => void> = [];
    const service = createTablestoreService({
      clock: new TestClock(),
      searchBackground: (task) => {
        queued.push(task);
        return () => queued.splice(queued.indexOf(task), 1);
      },
    });
    harness = await startHarness({ service });
    const client = harness.client();
    await createSessionsTable(client);
    let rows = sessionRows(5000, 12);
    await writeRows(client, rows);
    await createSessionsIndex(client);
    expect(queued).toHaveLength(1);

    const describe = () => client.describeSearchIndex({ tableName: TABLE, indexName: INDEX });
    let described = await describe();
    expect(described.syncStat.syncPhase).toBe(1);
    expect(Number(described.meteringInfo.rowCount)).toBe(2000);
    expect(await count(client)).toBe(4000);

    // Writes during the FULL phase: one row already indexed changes, one not reached yet is
    // deleted, and new rows land before the phase's position (their ids sort first).
    const changed = { ...(rows[10] as (typeof rows)[number]), protocol: 'Telnet' };
    await writeRows(client, [changed]);
    await deleteRow(client, 's04990');
    const added = sessionRows(7, 13, 'n');
    await writeRows(client, added);
    rows = [...added, ...rows.filter((row) => row.id !== 's04990')].map((row) =>
      row.id === changed.id ? changed : row,
    );

    while (queued.length > 0) (queued.shift() as () => void)();
    described = await describe();
    expect(described.syncStat.syncPhase).toBe(2);
    expect(Number(described.meteringInfo.rowCount)).toBe(rows.length);
    for (const query of [
      { kind: 'term', field: 'protocol', value: 'Telnet' },
      { kind: 'term', field: 'protocol', value: 'SSH' },
      { kind: 'range', field: 'start', from: BASE_TIME, to: BASE_TIME + 5 * 86_400_000 },
    ] as const) {
      const found = await pageAll(client, query, [{ field: 'id' }], 100);
      expect(found.ids).toEqual(expectedIds(rows, query, [{ field: 'id' }]));
    }
  });

  it('with no delay (the default) a write or delete is visible to the next search', async () => {
    harness = await startHarness();
    const client = harness.client();
    await createSessionsTable(client);
    await createSessionsIndex(client);
    await writeRows(client, sessionRows(3, 4));
    expect(await count(client)).toBe(3);
    await deleteRow(client, 's00001');
    const response = await search(client, { query: sdkQuery({ kind: 'all' }), limit: 10 });
    expect(idsOf(response.rows)).toEqual(['s00000', 's00002']);
  });

  it('rows whose table TTL or index TTL has passed leave the index', async () => {
    harness = await startHarness();
    harness.clock.freeze();
    const client = harness.client();
    await createSessionsTable(client, { timeToLive: 3 * DAY_S, allowUpdate: false });
    await createSessionsIndex(client, { timeToLive: DAY_S });
    await writeRows(client, sessionRows(4, 5));
    harness.clock.advance(DAY_S * 1000 - 1000);
    expect(await count(client)).toBe(4);
    await writeRows(client, sessionRows(2, 6, 'late'));
    harness.clock.advance(2000);
    // The first four are older than the index TTL; the table still holds them.
    expect(await count(client)).toBe(2);
    const row = await client.getRow({
      tableName: TABLE,
      primaryKey: [{ id: 's00000' }],
      maxVersions: 1,
    });
    expect(row.row.primaryKey).toBeDefined();
    await client.updateSearchIndex({ tableName: TABLE, indexName: INDEX, timeToLive: 3 * DAY_S });
    expect(await count(client)).toBe(6);
    harness.clock.advance(3 * DAY_S * 1000);
    expect(await count(client)).toBe(0);
  });
});

describe('durability', () => {
  it('index definitions survive a restart and the indexes are rebuilt from the rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ots-search-'));
    dirs.push(dir);
    harness = await startHarness({ dataDir: dir });
    let client = harness.client();
    await createSessionsTable(client);
    const rows = sessionRows(120, 8);
    await writeRows(client, rows.slice(0, 60));
    await createSessionsIndex(client);
    await writeRows(client, rows.slice(60));
    await deleteRow(client, 's00003');
    const query = { kind: 'term', field: 'protocol', value: 'SSH' } as const;
    const before = await search(client, { query: sdkQuery(query), limit: 100 });
    await harness.close();

    harness = await startHarness({ dataDir: dir });
    client = harness.client();
    expect(harness.service.startupTimings().searchIndexes).toBe(1);
    const after = await search(client, { query: sdkQuery(query), limit: 100 });
    expect(idsOf(after.rows)).toEqual(idsOf(before.rows));
    expect(idsOf(after.rows)).toEqual(
      expectedIds(
        rows.filter((row) => row.id !== 's00003'),
        query,
      ),
    );
  });
});

describe('the visibility-delay control', () => {
  it('PUT /__localcloud/tablestore/search-visibility sets the delay the search index follows', async () => {
    const cloud = await startLocalCloud({ tablestoreInstances: ['rdgov'] });
    try {
      const set = await fetch(`${cloud.url}/__localcloud/tablestore/search-visibility`, {
        method: 'PUT',
        body: JSON.stringify({ delayMs: 60_000 }),
      });
      expect(await set.json()).toEqual({ delayMs: 60_000 });
      const bad = await fetch(`${cloud.url}/__localcloud/tablestore/search-visibility`, {
        method: 'PUT',
        body: JSON.stringify({ delayMs: -1 }),
      });
      expect(bad.status).toBe(400);
      const admin = cloud.env.accounts.find((account) => account.kind === 'management');
      if (!admin) throw new Error('no management account');
      const client = new TableStore.Client({
        accessKeyId: admin.accessKeyId,
        secretAccessKey: admin.accessKeySecret,
        endpoint: cloud.url,
        instancename: 'rdgov',
        maxRetries: 0,
      });
      await createSessionsTable(client);
      await createSessionsIndex(client);
      await writeRows(client, sessionRows(3, 9));
      expect(await count(client)).toBe(0);
      cloud.control.advanceClock(60);
      expect(await count(client)).toBe(3);
      const read = await fetch(`${cloud.url}/__localcloud/tablestore/search-visibility`);
      expect(await read.json()).toEqual({ delayMs: 60_000 });
    } finally {
      await cloud.stop();
      await cloud.tablestore.close();
    }
  });
});
