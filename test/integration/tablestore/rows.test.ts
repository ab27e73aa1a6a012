import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOtsError, type Harness, startHarness } from './harness';
import {
  attrsOf,
  createTable,
  expectExist,
  expectNotExist,
  ignore,
  ignoreIf,
  pkOf,
  versionsOf,
} from './helpers';
import { long, type SdkClient, TableStore } from './sdk';

let h: Harness;
let client: SdkClient;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await createTable(client, {
    name: 'items',
    primaryKey: [
      { name: 'scope', type: 'STRING' },
      { name: 'id', type: 'INTEGER' },
    ],
    maxVersions: 3,
  });
});
afterAll(async () => {
  await h.close();
});

const pk = (scope: string, id: number | bigint) => [{ scope }, { id: long(id) }];
const { ComparatorType: CT, LogicalOperator: LO } = TableStore;

describe('tables', () => {
  it('creates, lists, describes, updates and deletes a table', async () => {
    await createTable(client, {
      name: 'meta_demo',
      primaryKey: [
        { name: 'a', type: 'STRING' },
        { name: 'b', type: 'BINARY' },
        { name: 'c', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
      definedColumn: [{ name: 'owner', type: TableStore.DefinedColumnType.DCT_STRING }],
      timeToLive: 86400 * 30,
      maxVersions: 2,
      maxTimeDeviation: 600,
      allowUpdate: false,
    });
    expect((await client.listTable({})).tableNames).toContain('meta_demo');
    const described = await client.describeTable({ tableName: 'meta_demo' });
    // proto2 enums read as their first value when absent: look at presence for the option.
    const pkSchema = described.tableMeta.primaryKey.map((column) => [
      column.name,
      column.type,
      Object.hasOwn(column, 'option') ? column.option : undefined,
    ]);
    expect(pkSchema).toEqual([
      ['a', TableStore.PrimaryKeyType.STRING, undefined],
      ['b', TableStore.PrimaryKeyType.BINARY, undefined],
      ['c', TableStore.PrimaryKeyType.INTEGER, TableStore.PrimaryKeyOption.AUTO_INCREMENT],
    ]);
    expect(described.tableMeta.definedColumn.map((column) => column.name)).toEqual(['owner']);
    expect(described.tableOptions.timeToLive).toBe(86400 * 30);
    expect(described.tableOptions.maxVersions).toBe(2);
    expect(Number(String(described.tableOptions.deviationCellVersionInSec))).toBe(600);
    expect(described.tableOptions.allowUpdate).toBe(false);
    expect(described.tableStatus).toBe(1); // ACTIVE

    const updated = await client.updateTable({
      tableName: 'meta_demo',
      tableOptions: { maxVersions: 5, timeToLive: -1 },
    });
    expect(updated.tableOptions.maxVersions).toBe(5);
    expect((await client.describeTable({ tableName: 'meta_demo' })).tableOptions.timeToLive).toBe(
      -1,
    );

    const exists = await expectOtsError(
      createTable(client, { name: 'meta_demo', primaryKey: [{ name: 'a', type: 'STRING' }] }),
    );
    expect(exists).toMatchObject({
      status: 409,
      code: 'OTSObjectAlreadyExist',
      message: 'Requested table already exists.',
    });

    await client.deleteTable({ tableName: 'meta_demo' });
    expect((await client.listTable({})).tableNames).not.toContain('meta_demo');
    const gone = await expectOtsError(client.describeTable({ tableName: 'meta_demo' }));
    expect(gone).toMatchObject({
      status: 404,
      code: 'OTSObjectNotExist',
      message: 'Requested table does not exist.',
    });
  });
});

describe('rows', () => {
  it('round-trips every value type, 64-bit integers without precision loss', async () => {
    const max = 2n ** 63n - 1n;
    const min = -(2n ** 63n);
    await client.putRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('types', min),
      attributeColumns: [
        { big: long(max) },
        { small: long(min) },
        { d: 3.25 },
        { t: true },
        { f: false },
        { s: 'héllo, 世界' },
        { bin: Buffer.from([0, 1, 255]) },
      ],
    });
    const { row } = await client.getRow({ tableName: 'items', primaryKey: pk('types', min) });
    expect(pkOf(row)).toEqual({ scope: 'types', id: min });
    expect(attrsOf(row)).toEqual({
      big: max,
      small: min,
      d: 3.25,
      t: true,
      f: false,
      s: 'héllo, 世界',
      bin: 'hex:0001ff',
    });
  });

  it('PutRow replaces the whole row; UpdateRow puts, deletes versions and increments', async () => {
    await client.putRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('u', 1),
      attributeColumns: [{ a: 'x' }, { b: 'y' }],
    });
    await client.putRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('u', 1),
      attributeColumns: [{ c: long(10) }],
    });
    expect(
      attrsOf((await client.getRow({ tableName: 'items', primaryKey: pk('u', 1) })).row),
    ).toEqual({ c: 10n });

    const now = h.clock.now();
    await client.updateRow({
      tableName: 'items',
      condition: expectExist(),
      primaryKey: pk('u', 1),
      updateOfAttributeColumns: [
        {
          PUT: [
            { v: 'old', timestamp: now - 2000 },
            { v: 'new', timestamp: now - 1000 },
            { w: 'keep' },
          ],
        },
      ],
    });
    let versions = versionsOf(
      (await client.getRow({ tableName: 'items', primaryKey: pk('u', 1), maxVersions: 3 })).row,
    );
    expect(versions.v).toEqual([
      [now - 1000, 'new'],
      [now - 2000, 'old'],
    ]);

    const updated = await client.updateRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('u', 1),
      updateOfAttributeColumns: [
        { DELETE: [{ v: now - 1000 }] },
        { DELETE_ALL: ['w'] },
        { INCREMENT: [{ c: long(5) }] },
      ],
      returnContent: { returnType: TableStore.ReturnType.AfterModify, returnColumns: ['c'] },
    });
    expect(attrsOf(updated.row)).toEqual({ c: 15n });
    versions = versionsOf(
      (await client.getRow({ tableName: 'items', primaryKey: pk('u', 1), maxVersions: 3 })).row,
    );
    expect(versions.v).toEqual([[now - 2000, 'old']]);
    expect(versions.w).toBeUndefined();
    expect(versions.c?.[0]?.[1]).toBe(15n);
  });

  it('row existence conditions fail with OTSConditionCheckFail and leave the row alone', async () => {
    await client.putRow({
      tableName: 'items',
      condition: expectNotExist(),
      primaryKey: pk('c', 1),
      attributeColumns: [{ n: long(1) }],
    });
    const again = await expectOtsError(
      client.putRow({
        tableName: 'items',
        condition: expectNotExist(),
        primaryKey: pk('c', 1),
        attributeColumns: [{ n: long(2) }],
      }),
    );
    expect(again).toEqual({
      status: 403,
      code: 'OTSConditionCheckFail',
      message: 'Condition check failed.',
    });
    const missing = await expectOtsError(
      client.updateRow({
        tableName: 'items',
        condition: expectExist(),
        primaryKey: pk('c', 2),
        updateOfAttributeColumns: [{ PUT: [{ n: long(1) }] }],
      }),
    );
    expect(missing.code).toBe('OTSConditionCheckFail');
    const deleteMissing = await expectOtsError(
      client.deleteRow({ tableName: 'items', condition: expectExist(), primaryKey: pk('c', 2) }),
    );
    expect(deleteMissing.code).toBe('OTSConditionCheckFail');
    expect(
      attrsOf((await client.getRow({ tableName: 'items', primaryKey: pk('c', 1) })).row),
    ).toEqual({ n: 1n });
    await client.deleteRow({
      tableName: 'items',
      condition: expectExist(),
      primaryKey: pk('c', 1),
    });
    expect(
      (await client.getRow({ tableName: 'items', primaryKey: pk('c', 1) })).row.primaryKey,
    ).toBeUndefined();
  });

  it('column conditions: single, composite, pass-if-missing and all versions', async () => {
    const now = h.clock.now();
    await client.putRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('cc', 1),
      attributeColumns: [
        { lock: 'token-2', timestamp: now },
        { lock: 'token-1', timestamp: now - 5000 },
        { n: long(7) },
      ],
    });
    const put = (condition: object) =>
      client.updateRow({
        tableName: 'items',
        condition,
        primaryKey: pk('cc', 1),
        updateOfAttributeColumns: [{ PUT: [{ touched: true }] }],
      });

    await put(expectExist(new TableStore.SingleColumnCondition('lock', 'token-2', CT.EQUAL)));
    expect(
      (
        await expectOtsError(
          put(expectExist(new TableStore.SingleColumnCondition('lock', 'token-1', CT.EQUAL))),
        )
      ).code,
    ).toBe('OTSConditionCheckFail');
    // latestVersionOnly=false: any version may satisfy the condition.
    await put(
      ignoreIf(new TableStore.SingleColumnCondition('lock', 'token-1', CT.EQUAL, true, false)),
    );

    // Missing column: passes when passIfMissing, fails otherwise.
    await put(ignoreIf(new TableStore.SingleColumnCondition('absent', 'x', CT.EQUAL, true)));
    expect(
      (
        await expectOtsError(
          put(ignoreIf(new TableStore.SingleColumnCondition('absent', 'x', CT.EQUAL, false))),
        )
      ).code,
    ).toBe('OTSConditionCheckFail');

    const and = new TableStore.CompositeCondition(LO.AND);
    and.addSubCondition(new TableStore.SingleColumnCondition('n', long(5), CT.GREATER_THAN));
    and.addSubCondition(new TableStore.SingleColumnCondition('n', long(10), CT.LESS_EQUAL));
    await put(expectExist(and));
    const or = new TableStore.CompositeCondition(LO.OR);
    or.addSubCondition(new TableStore.SingleColumnCondition('n', long(1), CT.EQUAL));
    or.addSubCondition(new TableStore.SingleColumnCondition('n', long(2), CT.EQUAL));
    expect((await expectOtsError(put(expectExist(or)))).code).toBe('OTSConditionCheckFail');
    const not = new TableStore.CompositeCondition(LO.NOT);
    not.addSubCondition(new TableStore.SingleColumnCondition('n', long(2), CT.EQUAL));
    await put(expectExist(not));
  });

  it('returns the primary key, including a generated auto-increment value', async () => {
    await createTable(client, {
      name: 'events',
      primaryKey: [
        { name: 'member', type: 'STRING' },
        { name: 'seq', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
    });
    const seqs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await client.putRow({
        tableName: 'events',
        condition: ignore(),
        primaryKey: [{ member: 'm1' }, { seq: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ i: long(i) }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      });
      seqs.push(pkOf(result.row).seq as bigint);
    }
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
    const { row } = await client.getRow({
      tableName: 'events',
      primaryKey: [{ member: 'm1' }, { seq: long(seqs[1] as bigint) }],
    });
    expect(attrsOf(row)).toEqual({ i: 1n });
    const conditional = await expectOtsError(
      client.putRow({
        tableName: 'events',
        condition: expectNotExist(),
        primaryKey: [{ member: 'm1' }, { seq: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ i: long(0) }],
      }),
    );
    expect(conditional).toMatchObject({ status: 400, code: 'OTSParameterInvalid' });
    expect(conditional.message).toContain('pk auto increment');
  });

  it('keeps max versions and reads time ranges and specific versions', async () => {
    const now = h.clock.now();
    for (const age of [4, 3, 2, 1]) {
      await client.updateRow({
        tableName: 'items',
        condition: ignore(),
        primaryKey: pk('ver', 1),
        updateOfAttributeColumns: [{ PUT: [{ v: `age${age}`, timestamp: now - age * 1000 }] }],
      });
    }
    const all = versionsOf(
      (await client.getRow({ tableName: 'items', primaryKey: pk('ver', 1), maxVersions: 10 })).row,
    );
    expect(all.v?.map(([, value]) => value)).toEqual(['age1', 'age2', 'age3']);
    const ranged = versionsOf(
      (
        await client.getRow({
          tableName: 'items',
          primaryKey: pk('ver', 1),
          maxVersions: 10,
          timeRange: { startTime: now - 3000, endTime: now - 1000 },
        })
      ).row,
    );
    expect(ranged.v?.map(([, value]) => value)).toEqual(['age2', 'age3']);
    const specific = versionsOf(
      (
        await client.getRow({
          tableName: 'items',
          primaryKey: pk('ver', 1),
          timeRange: { specificTime: now - 2000 },
        })
      ).row,
    );
    expect(specific.v).toEqual([[now - 2000, 'age2']]);
    const skewed = await expectOtsError(
      client.updateRow({
        tableName: 'items',
        condition: ignore(),
        primaryKey: pk('ver', 1),
        updateOfAttributeColumns: [{ PUT: [{ v: 'far', timestamp: now - 2 * 86400 * 1000 }] }],
      }),
    );
    expect(skewed).toMatchObject({ status: 400, code: 'OTSParameterInvalid' });
    expect(skewed.message).toContain('Invalid timestamp');
  });

  it('expires data after its time to live, against the localcloud clock', async () => {
    await createTable(client, {
      name: 'ttl_demo',
      primaryKey: [{ name: 'k', type: 'STRING' }],
      timeToLive: 86400,
    });
    await client.putRow({
      tableName: 'ttl_demo',
      condition: ignore(),
      primaryKey: [{ k: 'a' }],
      attributeColumns: [{ v: 1 }],
    });
    h.clock.advance(86400 * 1000 - 60_000);
    expect(
      attrsOf((await client.getRow({ tableName: 'ttl_demo', primaryKey: [{ k: 'a' }] })).row),
    ).toEqual({ v: 1 });
    h.clock.advance(120_000);
    expect(
      (await client.getRow({ tableName: 'ttl_demo', primaryKey: [{ k: 'a' }] })).row.primaryKey,
    ).toBeUndefined();
    const range = await client.getRange({
      tableName: 'ttl_demo',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ k: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
    });
    expect(range.rows).toEqual([]);
    // An expired row no longer exists for conditions either.
    await client.putRow({
      tableName: 'ttl_demo',
      condition: expectNotExist(),
      primaryKey: [{ k: 'a' }],
      attributeColumns: [{ v: 2 }],
    });
    h.clock.advance(-(86400 * 1000 + 60_000));
  });

  it('selects columns and filters as the service does', async () => {
    await client.putRow({
      tableName: 'items',
      condition: ignore(),
      primaryKey: pk('sel', 1),
      attributeColumns: [{ a: 'x' }, { b: long(2) }, { c: 'z' }, { d: 'w' }],
    });
    const get = (params: Record<string, unknown>) =>
      client.getRow({ tableName: 'items', primaryKey: pk('sel', 1), ...params });
    expect(attrsOf((await get({ columnsToGet: ['a', 'c'] })).row)).toEqual({ a: 'x', c: 'z' });
    expect((await get({ columnsToGet: ['nope'] })).row.primaryKey).toBeUndefined();
    const pkOnly = (await get({ columnsToGet: ['scope'] })).row;
    expect(pkOf(pkOnly)).toEqual({ scope: 'sel', id: 1n });
    expect(pkOnly.attributes).toEqual([]);
    const filter = new TableStore.SingleColumnCondition('b', long(2), CT.EQUAL, false);
    expect(attrsOf((await get({ columnFilter: filter })).row)).toEqual({
      a: 'x',
      b: 2n,
      c: 'z',
      d: 'w',
    });
    // A filter column left out of columns_to_get counts as missing.
    expect(
      (await get({ columnFilter: filter, columnsToGet: ['a'] })).row.primaryKey,
    ).toBeUndefined();
    const page = (await get({ columnFilter: new TableStore.ColumnPaginationFilter(2, 1) })).row;
    expect(attrsOf(page)).toEqual({ b: 2n, c: 'z' });
  });
});
