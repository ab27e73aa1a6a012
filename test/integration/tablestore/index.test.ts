import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOtsError, type Harness, startHarness } from './harness';
import { attrsOf, createTable, ignore, pkOf } from './helpers';
import { long, type SdkClient, TableStore } from './sdk';

let h: Harness;
let client: SdkClient;
const { INF_MIN, INF_MAX } = TableStore;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await createTable(client, {
    name: 'sessions',
    primaryKey: [
      { name: 'member', type: 'STRING' },
      { name: 'session', type: 'STRING' },
    ],
    definedColumn: [
      { name: 'user', type: TableStore.DefinedColumnType.DCT_STRING },
      { name: 'started', type: TableStore.DefinedColumnType.DCT_INTEGER },
      { name: 'asset', type: TableStore.DefinedColumnType.DCT_STRING },
    ],
    indexMetas: [
      { name: 'sessions_by_user', primaryKey: ['user', 'started'], definedColumn: ['asset'] },
    ],
  });
});
afterAll(async () => {
  await h.close();
});

async function scan(
  table: string,
): Promise<Array<{ pk: Record<string, unknown>; attrs: Record<string, unknown> }>> {
  const meta = await client.describeTable({ tableName: table });
  const result = await client.getRange({
    tableName: table,
    direction: TableStore.Direction.FORWARD,
    inclusiveStartPrimaryKey: meta.tableMeta.primaryKey.map((column) => ({
      [column.name]: INF_MIN,
    })),
    exclusiveEndPrimaryKey: meta.tableMeta.primaryKey.map((column) => ({ [column.name]: INF_MAX })),
  });
  return result.rows.map((row) => ({ pk: pkOf(row), attrs: attrsOf(row) }));
}

/** What the index must hold, derived from the main table. */
function expectedIndex(
  main: Array<{ pk: Record<string, unknown>; attrs: Record<string, unknown> }>,
) {
  return main
    .filter((row) => row.attrs.user !== undefined && row.attrs.started !== undefined)
    .map((row) => ({
      pk: {
        user: row.attrs.user,
        started: row.attrs.started,
        member: row.pk.member,
        session: row.pk.session,
      },
      attrs: row.attrs.asset === undefined ? {} : { asset: row.attrs.asset },
    }))
    .sort((a, b) => {
      const ka = [a.pk.user, a.pk.started, a.pk.member, a.pk.session];
      const kb = [b.pk.user, b.pk.started, b.pk.member, b.pk.session];
      for (let i = 0; i < ka.length; i++) {
        const x = ka[i] as string | bigint;
        const y = kb[i] as string | bigint;
        if (x < y) return -1;
        if (x > y) return 1;
      }
      return 0;
    });
}

describe('secondary indexes', () => {
  it('keeps the index in step with puts, updates and deletes of the main table', async () => {
    const put = (member: string, session: string, columns: Array<Record<string, unknown>>) =>
      client.putRow({
        tableName: 'sessions',
        condition: ignore(),
        primaryKey: [{ member }, { session }],
        attributeColumns: columns,
      });
    await put('m1', 's1', [{ user: 'alice' }, { started: long(100) }, { asset: 'db-1' }]);
    await put('m1', 's2', [{ user: 'bob' }, { started: long(50) }]);
    await put('m2', 's1', [{ user: 'alice' }, { started: long(20) }, { asset: 'vm-9' }]);
    await put('m2', 's2', [{ asset: 'no-user' }]);
    await client.updateRow({
      tableName: 'sessions',
      condition: ignore(),
      primaryKey: [{ member: 'm1' }, { session: 's2' }],
      updateOfAttributeColumns: [{ PUT: [{ user: 'carol' }, { asset: 'web-3' }] }],
    });
    await client.updateRow({
      tableName: 'sessions',
      condition: ignore(),
      primaryKey: [{ member: 'm2' }, { session: 's2' }],
      updateOfAttributeColumns: [{ PUT: [{ user: 'dave' }, { started: long(7) }] }],
    });
    await client.deleteRow({
      tableName: 'sessions',
      condition: ignore(),
      primaryKey: [{ member: 'm2' }, { session: 's1' }],
    });
    await client.batchWriteRow({
      tables: [
        {
          tableName: 'sessions',
          rows: [
            {
              type: 'PUT',
              condition: ignore(),
              primaryKey: [{ member: 'm3' }, { session: 's1' }],
              attributeColumns: [{ user: 'alice' }, { started: long(300) }],
            },
            {
              type: 'UPDATE',
              condition: ignore(),
              primaryKey: [{ member: 'm1' }, { session: 's1' }],
              attributeColumns: [{ DELETE_ALL: ['asset'] }],
            },
          ],
        },
      ],
    });

    const main = await scan('sessions');
    const index = await scan('sessions_by_user');
    expect(index).toEqual(expectedIndex(main));
    expect(index.map((row) => row.pk.user)).toEqual(['alice', 'alice', 'carol', 'dave']);

    const byUser = await client.getRange({
      tableName: 'sessions_by_user',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [
        { user: 'alice' },
        { started: INF_MIN },
        { member: INF_MIN },
        { session: INF_MIN },
      ],
      exclusiveEndPrimaryKey: [
        { user: 'alice' },
        { started: INF_MAX },
        { member: INF_MAX },
        { session: INF_MAX },
      ],
    });
    expect(byUser.rows.map((row) => pkOf(row).started)).toEqual([100n, 300n]);
    const one = await client.getRow({
      tableName: 'sessions_by_user',
      primaryKey: [{ user: 'carol' }, { started: long(50) }, { member: 'm1' }, { session: 's2' }],
    });
    expect(attrsOf(one.row)).toEqual({ asset: 'web-3' });
  });

  it('refuses writes to an index table', async () => {
    const error = await expectOtsError(
      client.putRow({
        tableName: 'sessions_by_user',
        condition: ignore(),
        primaryKey: [{ user: 'x' }, { started: long(1) }, { member: 'm' }, { session: 's' }],
        attributeColumns: [{ asset: 'a' }],
      }),
    );
    expect(error).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: "Can't write index table directly.",
    });
  });

  it('creates an index over existing data and drops it', async () => {
    await client.createIndex({
      mainTableName: 'sessions',
      indexMeta: { name: 'sessions_by_asset', primaryKey: ['asset'], definedColumn: ['user'] },
      includeBaseData: true,
    });
    const described = await client.describeTable({ tableName: 'sessions' });
    expect(described.indexMetas.map((index) => index.name)).toEqual([
      'sessions_by_user',
      'sessions_by_asset',
    ]);
    const byAsset = await scan('sessions_by_asset');
    const main = await scan('sessions');
    expect(byAsset.map((row) => row.pk.asset)).toEqual(
      main
        .map((row) => row.attrs.asset)
        .filter((asset) => asset !== undefined)
        .sort(),
    );
    expect(byAsset[0]?.pk).toMatchObject({
      member: expect.any(String),
      session: expect.any(String),
    });

    await client.dropIndex({ mainTableName: 'sessions', indexName: 'sessions_by_asset' });
    const gone = await expectOtsError(client.describeTable({ tableName: 'sessions_by_asset' }));
    expect(gone.code).toBe('OTSObjectNotExist');
    expect(
      (await client.describeTable({ tableName: 'sessions' })).indexMetas.map((index) => index.name),
    ).toEqual(['sessions_by_user']);
  });

  it('builds a local index keyed by the first primary key column', async () => {
    await client.createIndex({
      mainTableName: 'sessions',
      indexMeta: {
        name: 'sessions_local_user',
        primaryKey: ['member', 'user'],
        definedColumn: [],
        indexType: TableStore.IndexType.IT_LOCAL_INDEX,
        indexUpdateMode: TableStore.IndexUpdateMode.IUM_SYNC_INDEX,
      },
      includeBaseData: true,
    });
    const local = await scan('sessions_local_user');
    expect(local.map((row) => `${row.pk.member}/${row.pk.user}/${row.pk.session}`)).toEqual([
      'm1/alice/s1',
      'm1/carol/s2',
      'm2/dave/s2',
      'm3/alice/s1',
    ]);
  });
});
