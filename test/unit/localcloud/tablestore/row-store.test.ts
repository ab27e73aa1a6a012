import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowStore } from '../../../../localcloud/tablestore/model/row-store';
import {
  type CellValue,
  decodeRowKey,
  encodeRowKey,
  type PkType,
  type PkValue,
  type Row,
} from '../../../../localcloud/tablestore/model/values';

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\u00ff\u0000', 'ü', '😀'),
);
const bytes = fc.uint8Array({ maxLength: 24 }).map((array) => Buffer.from(array));

const pkValue = (type: PkType): fc.Arbitrary<PkValue> =>
  type === 'INTEGER'
    ? int64.map((v) => ({ t: 'int', v }))
    : type === 'STRING'
      ? text.map((v) => ({ t: 'str', v }))
      : bytes.map((v) => ({ t: 'bin', v }));

const cellValue: fc.Arbitrary<CellValue> = fc.oneof(
  int64.map((v) => ({ t: 'int' as const, v })),
  fc.integer({ min: -1000, max: 1000 }).map((v) => ({ t: 'int' as const, v: BigInt(v) })),
  fc.double({ noNaN: true }).map((v) => ({ t: 'double' as const, v })),
  fc.boolean().map((v) => ({ t: 'bool' as const, v })),
  text.map((v) => ({ t: 'str' as const, v })),
  bytes.map((v) => ({ t: 'bin' as const, v })),
);

const keyTypes = fc.array(fc.constantFrom<PkType>('INTEGER', 'STRING', 'BINARY'), {
  minLength: 1,
  maxLength: 4,
});

/** Columns as the model keeps them: sorted by name, cells newest first with distinct versions. */
const columns = fc
  .uniqueArray(
    fc.record({
      name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
      cells: fc
        .uniqueArray(
          fc.record({
            ts: fc.integer({ min: 0, max: 2 ** 50 }),
            value: cellValue,
          }),
          { minLength: 1, maxLength: 3, selector: (cell) => cell.ts },
        )
        .map((cells) => cells.sort((a, b) => b.ts - a.ts)),
    }),
    { maxLength: 12, selector: (column) => column.name },
  )
  .map((list) => list.sort((a, b) => (a.name < b.name ? -1 : 1)));

describe('decodeRowKey', () => {
  it('is the inverse of encodeRowKey for every key type', () => {
    fc.assert(
      fc.property(
        keyTypes.chain((types) => fc.tuple(fc.constant(types), fc.tuple(...types.map(pkValue)))),
        ([types, pk]) => {
          expect(decodeRowKey(encodeRowKey(pk), types)).toEqual(pk);
        },
      ),
    );
  });
});

describe('RowStore', () => {
  it('gives back every row exactly as it was stored, by key and in key order', () => {
    fc.assert(
      fc.property(
        keyTypes.chain((types) =>
          fc.tuple(
            fc.constant(types),
            fc.array(fc.record({ pk: fc.tuple(...types.map(pkValue)), columns }), {
              maxLength: 30,
            }),
          ),
        ),
        ([types, rows]) => {
          const store = new RowStore(types);
          const model = new Map<string, Row>();
          for (const row of rows) {
            const key = encodeRowKey(row.pk);
            store.set(key, row);
            model.set(key, row);
          }
          expect(store.size).toBe(model.size);
          for (const [key, row] of model) expect(store.get(key)).toEqual(row);
          const ordered = [...model.keys()].sort();
          expect([...store.entries()].map(([key]) => key)).toEqual(ordered);
          expect([...store.entries()].map(([, row]) => row)).toEqual(
            ordered.map((key) => model.get(key)),
          );
        },
      ),
    );
  });

  it('deletes, reports what it deleted, and scans ranges both ways', () => {
    const store = new RowStore(['INTEGER']);
    const row = (i: number): Row => ({
      pk: [{ t: 'int', v: BigInt(i) }],
      columns: [{ name: 'n', cells: [{ ts: 1000 + i, value: { t: 'int', v: BigInt(i * i) } }] }],
    });
    for (let i = -5; i < 5; i++) store.set(encodeRowKey(row(i).pk), row(i));
    expect(store.delete(encodeRowKey(row(0).pk))).toBe(true);
    expect(store.delete(encodeRowKey(row(0).pk))).toBe(false);
    const key = (i: number) => encodeRowKey(row(i).pk);
    expect([...store.ascending(key(-2), key(3))].map(([, r]) => r)).toEqual(
      [-2, -1, 1, 2].map(row),
    );
    expect([...store.descending(key(3), key(-2))].map(([, r]) => r)).toEqual(
      [3, 2, 1, -1].map(row),
    );
    expect(store.primaryKey(key(-4))).toEqual(row(-4).pk);
  });

  it('keeps a ten-column row in a few hundred bytes', () => {
    // The encoded row is one byte string: its length is what it costs beyond a 16-byte header.
    const store = new RowStore(['STRING', 'STRING']);
    const pk: PkValue[] = [
      { t: 'str', v: '1234567890123456' },
      { t: 'str', v: 's-0000000001' },
    ];
    const ts = 1_700_000_000_000;
    const str = (name: string, v: string) => ({
      name,
      cells: [{ ts, value: { t: 'str' as const, v } }],
    });
    const int = (name: string, v: bigint) => ({
      name,
      cells: [{ ts, value: { t: 'int' as const, v } }],
    });
    const row: Row = {
      pk,
      columns: [
        str('asset', 'asset-1234'),
        str('assetAccount', 'root-3'),
        str('assetAddress', '10.1.2.3'),
        int('end', BigInt(ts + 3_600_000)),
        int('eventCount', 42n),
        str('protocol', 'SSH'),
        str('sourceIp', '192.168.10.20'),
        int('start', BigInt(ts)),
        str('user', 'u-1234'),
        str('userName', 'user 1234'),
      ],
    };
    const key = encodeRowKey(pk);
    store.set(key, row);
    expect(store.get(key)).toEqual(row);
    const encoded = (store as unknown as { map: { get(k: string): string } }).map.get(key);
    expect(encoded.length).toBeLessThan(130);
  });
});
