// PlainBuffer through real requests: rows the SDK encodes are decoded by the emulator, stored,
// encoded back by the emulator and decoded by the SDK, unchanged.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';
import { createTable, ignore, type Plain, pkOf, versionsOf } from './helpers';
import { long, type SdkClient, TableStore } from './sdk';

let h: Harness;
let client: SdkClient;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await createTable(client, {
    name: 'wire',
    primaryKey: [
      { name: 's', type: 'STRING' },
      { name: 'i', type: 'INTEGER' },
      { name: 'b', type: 'BINARY' },
    ],
    maxVersions: 3,
  });
});
afterAll(async () => {
  await h.close();
});

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const value = fc.oneof(
  int64.map((v) => ({ sdk: long(v) as unknown, plain: v as Plain })),
  fc
    .string({ unit: 'binary', maxLength: 50 })
    .map((v) => ({ sdk: v as unknown, plain: v as Plain })),
  fc.uint8Array({ maxLength: 50 }).map((v) => ({
    sdk: Buffer.from(v) as unknown,
    plain: `hex:${Buffer.from(v).toString('hex')}` as Plain,
  })),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((v) => ({ sdk: v as unknown, plain: v as Plain })),
  fc.boolean().map((v) => ({ sdk: v as unknown, plain: v as Plain })),
);

describe('PlainBuffer through real requests', () => {
  it('stores what the SDK encodes and returns it as the SDK decodes it', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 0, maxLength: 40 }),
        int64,
        fc.uint8Array({ maxLength: 40 }),
        fc.uniqueArray(
          fc.tuple(
            fc.stringMatching(/^[a-zA-Z0-9_]{1,20}$/).map((name) => `c_${name}`),
            value,
            fc.integer({ min: 1, max: 3_600_000 }),
          ),
          {
            maxLength: 8,
            selector: ([name]) => name,
          },
        ),
        async (s, i, b, columns) => {
          const now = h.clock.now();
          const primaryKey = [{ s: `${n++}:${s}` }, { i: long(i) }, { b: Buffer.from(b) }];
          await client.putRow({
            tableName: 'wire',
            condition: ignore(),
            primaryKey,
            attributeColumns: columns.map(([name, v, age]) => ({
              [name]: v.sdk,
              timestamp: now - age,
            })),
          });
          const { row } = await client.getRow({ tableName: 'wire', primaryKey, maxVersions: 3 });
          expect(pkOf(row)).toEqual({
            s: primaryKey[0]?.s,
            i,
            b: `hex:${Buffer.from(b).toString('hex')}`,
          });
          const expected = Object.fromEntries(
            [...columns]
              .sort(([x], [y]) => (x < y ? -1 : 1))
              .map(([name, v, age]) => [name, [[now - age, v.plain]]]),
          );
          expect(versionsOf(row)).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('returns the same rows through GetRange as through GetRow', async () => {
    const page = await client.getRange({
      tableName: 'wire',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [
        { s: TableStore.INF_MIN },
        { i: TableStore.INF_MIN },
        { b: TableStore.INF_MIN },
      ],
      exclusiveEndPrimaryKey: [
        { s: TableStore.INF_MAX },
        { i: TableStore.INF_MAX },
        { b: TableStore.INF_MAX },
      ],
      maxVersions: 3,
    });
    expect(page.rows.length).toBeGreaterThanOrEqual(100);
    for (const row of page.rows.slice(0, 20)) {
      const pk = row.primaryKey?.map((cell) => ({ [cell.name]: cell.value })) ?? [];
      const single = await client.getRow({ tableName: 'wire', primaryKey: pk, maxVersions: 3 });
      expect(versionsOf(single.row)).toEqual(versionsOf(row));
    }
  });
});
