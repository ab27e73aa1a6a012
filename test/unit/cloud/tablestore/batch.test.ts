import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RowWrite } from '../../../../shared/cloud/tablestore';
import {
  estimateWriteBytes,
  rowIdentity,
  splitIntoBatches,
} from '../../../../shared/cloud/tablestore/batch';
import { columnsToSdk, primaryKeyToSdk } from '../../../../shared/cloud/tablestore/sdk';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore') as {
  PlainBufferBuilder: { serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer };
};

describe('splitIntoBatches', () => {
  const limits = { maxRows: 200, maxBytes: 4 * 1024 * 1024 };

  it('cuts at the row limit, keeping order', () => {
    const items = Array.from({ length: 450 }, (_, i) => i);
    const batches = splitIntoBatches(items, limits, () => 10);
    expect(batches.map((b) => b.length)).toEqual([200, 200, 50]);
    expect(batches.flat()).toEqual(items);
  });

  it('cuts at the byte limit', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const batches = splitIntoBatches(items, { maxRows: 200, maxBytes: 1000 }, () => 300);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
  });

  it('gives an oversized item a batch of its own', () => {
    const batches = splitIntoBatches([1, 5000, 2], { maxRows: 200, maxBytes: 1000 }, (n) => n);
    expect(batches).toEqual([[1], [5000], [2]]);
  });

  it('cuts before a row that is already in the batch', () => {
    const batches = splitIntoBatches(
      ['a', 'b', 'a', 'c'],
      limits,
      () => 1,
      (s) => s,
    );
    expect(batches).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
  });

  it('never exceeds either limit (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 600 }), (sizes) => {
        const batches = splitIntoBatches(sizes, { maxRows: 200, maxBytes: 1000 }, (n) => n);
        expect(batches.flat()).toEqual(sizes);
        for (const b of batches) {
          expect(b.length).toBeLessThanOrEqual(200);
          if (b.length > 1) expect(b.reduce((s, n) => s + n, 0)).toBeLessThanOrEqual(1000);
        }
      }),
    );
  });
});

describe('estimateWriteBytes', () => {
  it('is never below the PlainBuffer size the SDK encodes (property)', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    );
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((n) => n !== 'timestamp');
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 100 }),
        fc.dictionary(name, value, { maxKeys: 20 }),
        (id, columns) => {
          const write: RowWrite = {
            type: 'put',
            table: 'some_table',
            primaryKey: [['id', id]],
            columns,
          };
          const encoded = TableStore.PlainBufferBuilder.serializeForPutRow(
            primaryKeyToSdk(write.primaryKey),
            columnsToSdk(columns),
          );
          expect(estimateWriteBytes(write)).toBeGreaterThanOrEqual(encoded.length);
        },
      ),
    );
  });
});

describe('rowIdentity', () => {
  it('tells rows apart by table, type and value', () => {
    expect(rowIdentity('t', [['id', '1']])).not.toBe(rowIdentity('t', [['id', 1n]]));
    expect(rowIdentity('t', [['id', '1']])).not.toBe(rowIdentity('u', [['id', '1']]));
    expect(rowIdentity('t', [['id', '1']])).toBe(rowIdentity('t', [['id', '1']]));
  });
});
