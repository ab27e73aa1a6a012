import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOtsError, type Harness, startHarness } from './harness';
import { attrsOf, createTable, expectExist, expectNotExist, ignore, pkOf } from './helpers';
import { long, type SdkClient, type SdkRow, TableStore } from './sdk';

let h: Harness;
let client: SdkClient;

const { INF_MIN, INF_MAX } = TableStore;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await createTable(client, {
    name: 'grid',
    primaryKey: [
      { name: 'g', type: 'STRING' },
      { name: 'n', type: 'INTEGER' },
    ],
  });
  const rows = [];
  for (const g of ['a', 'b']) {
    for (let n = -5; n < 5; n++) {
      rows.push({
        type: 'PUT',
        condition: ignore(),
        primaryKey: [{ g }, { n: long(n) }],
        attributeColumns: [{ v: long(n * 10) }, { even: n % 2 === 0 }],
      });
    }
  }
  const written = await client.batchWriteRow({ tables: [{ tableName: 'grid', rows }] });
  expect(written.tables.every((row) => row.isOk)).toBe(true);
});
afterAll(async () => {
  await h.close();
});

const key = (row: SdkRow) => {
  const pk = pkOf(row);
  return `${pk.g}${pk.n}`;
};

describe('GetRange', () => {
  it('reads forward and backward between INF_MIN and INF_MAX in primary key order', async () => {
    const forward = await client.getRange({
      tableName: 'grid',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ g: INF_MIN }, { n: INF_MIN }],
      exclusiveEndPrimaryKey: [{ g: INF_MAX }, { n: INF_MAX }],
    });
    const expected = ['a', 'b'].flatMap((g) =>
      Array.from({ length: 10 }, (_, i) => `${g}${i - 5}`),
    );
    expect(forward.rows.map(key)).toEqual(expected);
    expect(forward.nextStartPrimaryKey).toBeNull();
    const backward = await client.getRange({
      tableName: 'grid',
      direction: TableStore.Direction.BACKWARD,
      inclusiveStartPrimaryKey: [{ g: 'a' }, { n: long(2) }],
      exclusiveEndPrimaryKey: [{ g: 'a' }, { n: long(-2) }],
    });
    expect(backward.rows.map(key)).toEqual(['a2', 'a1', 'a0', 'a-1']);
  });

  it('pages with limit and next_start_primary_key', async () => {
    const seen: string[] = [];
    let start: unknown[] = [{ g: 'b' }, { n: INF_MIN }];
    for (let page = 0; page < 10; page++) {
      const result = await client.getRange({
        tableName: 'grid',
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: start,
        exclusiveEndPrimaryKey: [{ g: 'b' }, { n: INF_MAX }],
        limit: 3,
      });
      seen.push(...result.rows.map(key));
      if (!result.nextStartPrimaryKey) break;
      expect(result.rows).toHaveLength(3);
      start = result.nextStartPrimaryKey.map((cell) => ({ [cell.name]: cell.value }));
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `b${i - 5}`));
  });

  it('applies column filters and columns_to_get to each row', async () => {
    const filtered = await client.getRange({
      tableName: 'grid',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ g: 'a' }, { n: INF_MIN }],
      exclusiveEndPrimaryKey: [{ g: 'a' }, { n: INF_MAX }],
      columnFilter: new TableStore.SingleColumnCondition(
        'even',
        true,
        TableStore.ComparatorType.EQUAL,
        false,
      ),
      columnsToGet: ['v', 'even'],
    });
    expect(filtered.rows.map(key)).toEqual(['a-4', 'a-2', 'a0', 'a2', 'a4']);
    expect(filtered.rows.map((row) => attrsOf(row).v)).toEqual([-40n, -20n, 0n, 20n, 40n]);
  });

  it('refuses a start key past the end key for the direction', async () => {
    const error = await expectOtsError(
      client.getRange({
        tableName: 'grid',
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: [{ g: 'b' }, { n: INF_MIN }],
        exclusiveEndPrimaryKey: [{ g: 'a' }, { n: INF_MIN }],
      }),
    );
    expect(error).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: 'Begin key must less than end key in FORWARD.',
    });
  });
});

describe('BatchGetRow and BatchWriteRow', () => {
  it('returns one result per row, in order, with per-row errors', async () => {
    const result = await client.batchGetRow({
      tables: [
        {
          tableName: 'grid',
          primaryKey: [[{ g: 'a' }, { n: long(1) }], [{ g: 'z' }, { n: long(1) }], [{ g: 'a' }]],
          maxVersions: 1,
        },
        { tableName: 'missing_table', primaryKey: [[{ g: 'a' }, { n: long(1) }]], maxVersions: 1 },
      ],
    });
    const [grid, missing] = result.tables;
    expect(grid?.map((row) => row.isOk)).toEqual([true, true, false]);
    expect(attrsOf(grid?.[0] ?? {})).toEqual({ v: 10n, even: false });
    expect(grid?.[1]?.primaryKey).toBeNull();
    expect(grid?.[2]).toMatchObject({
      errorCode: 'OTSInvalidPK',
      errorMessage: 'Validate PK size fail. Input: 1, Meta: 2.',
    });
    expect(missing?.[0]).toMatchObject({ isOk: false, errorCode: 'OTSObjectNotExist' });
  });

  it('applies each row independently and reports each outcome', async () => {
    const result = await client.batchWriteRow({
      tables: [
        {
          tableName: 'grid',
          rows: [
            {
              type: 'PUT',
              condition: expectNotExist(),
              primaryKey: [{ g: 'c' }, { n: long(1) }],
              attributeColumns: [{ v: long(1) }],
            },
            {
              type: 'PUT',
              condition: expectNotExist(),
              primaryKey: [{ g: 'a' }, { n: long(1) }],
              attributeColumns: [{ v: long(0) }],
            },
            {
              type: 'UPDATE',
              condition: expectExist(),
              primaryKey: [{ g: 'a' }, { n: long(2) }],
              attributeColumns: [{ INCREMENT: [{ v: long(1) }] }],
              returnContent: {
                returnType: TableStore.ReturnType.AfterModify,
                returnColumns: ['v'],
              },
            },
            { type: 'DELETE', condition: expectExist(), primaryKey: [{ g: 'a' }, { n: long(3) }] },
            { type: 'DELETE', condition: expectExist(), primaryKey: [{ g: 'a' }, { n: long(99) }] },
          ],
        },
      ],
    });
    expect(result.tables.map((row) => row.isOk)).toEqual([true, false, true, true, false]);
    expect(result.tables[1]).toMatchObject({
      errorCode: 'OTSConditionCheckFail',
      errorMessage: 'Condition check failed.',
    });
    expect(attrsOf(result.tables[2] ?? {})).toEqual({ v: 21n });
    const after = await client.batchGetRow({
      tables: [
        {
          tableName: 'grid',
          primaryKey: [
            [{ g: 'c' }, { n: long(1) }],
            [{ g: 'a' }, { n: long(1) }],
            [{ g: 'a' }, { n: long(3) }],
          ],
          maxVersions: 1,
        },
      ],
    });
    expect(after.tables[0]?.map((row) => attrsOf(row).v ?? null)).toEqual([1n, 10n, null]);
  });

  it('refuses the same row twice in one batch', async () => {
    const error = await expectOtsError(
      client.batchWriteRow({
        tables: [
          {
            tableName: 'grid',
            rows: [
              {
                type: 'PUT',
                condition: ignore(),
                primaryKey: [{ g: 'd' }, { n: long(1) }],
                attributeColumns: [{ v: long(1) }],
              },
              {
                type: 'PUT',
                condition: ignore(),
                primaryKey: [{ g: 'd' }, { n: long(1) }],
                attributeColumns: [{ v: long(2) }],
              },
            ],
          },
        ],
      }),
    );
    expect(error).toEqual({
      status: 400,
      code: 'OTSParameterInvalid',
      message: 'The input parameter is invalid.',
    });
  });
});
