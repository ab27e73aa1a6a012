import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyValue, CellValue, PkValue } from '../../../../localcloud/tablestore/model/values';
import {
  crc8,
  decodeRow,
  decodeRows,
  decodeVariant,
  encodeRow,
  encodeRows,
  encodeVariant,
  PlainBufferError,
  type PlainBufferRow,
} from '../../../../localcloud/tablestore/wire/plainbuffer';
import { type Int64, type SdkValue, TableStore } from '../../../integration/tablestore/sdk';

const asciiName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const pkValue: fc.Arbitrary<PkValue> = fc.oneof(
  int64.map((v) => ({ t: 'int' as const, v })),
  fc.string({ unit: 'binary', maxLength: 40 }).map((v) => ({ t: 'str' as const, v })),
  fc.uint8Array({ maxLength: 40 }).map((v) => ({ t: 'bin' as const, v: Buffer.from(v) })),
);
const cellValue: fc.Arbitrary<CellValue> = fc.oneof(
  pkValue,
  fc.double().map((v) => ({ t: 'double' as const, v })),
  fc.boolean().map((v) => ({ t: 'bool' as const, v })),
);
const timestamp = fc.bigInt({ min: 0n, max: 2n ** 62n });

const row: fc.Arbitrary<PlainBufferRow> = fc.record({
  pk: fc.array(fc.record({ name: asciiName, value: pkValue as fc.Arbitrary<AnyValue> }), {
    minLength: 1,
    maxLength: 4,
  }),
  cells: fc.array(
    fc.record(
      {
        name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
        value: cellValue as fc.Arbitrary<AnyValue>,
        op: fc.constantFrom(
          'DELETE_ALL_VERSION' as const,
          'DELETE_ONE_VERSION' as const,
          'INCREMENT' as const,
        ),
        ts: timestamp,
      },
      { requiredKeys: ['name'] },
    ),
    { maxLength: 6 },
  ),
  deleteMarker: fc.boolean(),
});

function normalize(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.t === 'bin') return { t: 'bin', v: value.v.toString('hex') };
  if (value.t === 'double')
    return { t: 'double', v: Object.is(value.v, -0) ? '-0' : String(value.v) };
  return value;
}

function normalizeRow(r: PlainBufferRow): unknown {
  return {
    pk: r.pk.map((cell) => ({ name: cell.name, value: normalize(cell.value) })),
    cells: r.cells.map((cell) => ({ ...cell, value: normalize(cell.value) })),
    deleteMarker: r.deleteMarker,
  };
}

describe('CRC-8 used by PlainBuffer', () => {
  it('is CRC-8 with polynomial 0x07 (check value of "123456789" is 0xF4)', () => {
    expect(crc8(0, Buffer.from('123456789'))).toBe(0xf4);
  });
});

describe('PlainBuffer codec', () => {
  it('round-trips random rows, one or many per buffer', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 4 }), (rows) => {
        const single = rows[0] as PlainBufferRow;
        expect(normalizeRow(decodeRow(encodeRow(single)))).toEqual(normalizeRow(single));
        expect(decodeRows(encodeRows(rows)).map(normalizeRow)).toEqual(rows.map(normalizeRow));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips bare variants (filter values)', () => {
    fc.assert(
      fc.property(cellValue, (value) => {
        expect(normalize(decodeVariant(encodeVariant(value), 'c'))).toEqual(normalize(value));
      }),
    );
  });

  it('detects any single corrupted checksum byte', () => {
    fc.assert(
      fc.property(row, fc.integer({ min: 1, max: 255 }), (r, flip) => {
        const bytes = encodeRow(r);
        // The row checksum is the last byte; every cell checksum follows a 0x0A tag.
        const corrupted = Buffer.from(bytes);
        corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ flip;
        expect(() => decodeRow(corrupted)).toThrow(/checksum is mismatch/);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects arbitrary bytes with a PlainBufferError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), row, fc.nat(), (noise, r, at) => {
        const candidates: Buffer[] = [
          Buffer.from(noise),
          Buffer.concat([Buffer.from([0x75, 0, 0, 0]), Buffer.from(noise)]),
        ];
        const encoded = encodeRow(r);
        const truncated = encoded.subarray(0, at % encoded.length);
        candidates.push(truncated);
        for (const candidate of candidates) {
          try {
            decodeRows(candidate);
          } catch (error) {
            expect(error).toBeInstanceOf(PlainBufferError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the zero padding the Node SDK leaves after INF and auto-increment values', () => {
    const encoded = encodeRow({
      pk: [{ name: 'a', value: { t: 'inf_min' } }],
      cells: [],
      deleteMarker: false,
    });
    const padded = Buffer.concat([encoded, Buffer.alloc(3)]);
    expect(decodeRow(padded).pk[0]?.value).toEqual({ t: 'inf_min' });
  });
});

// ------------------------------------------------------------- cross-check with the SDK's own codec

const sdkPk = fc.oneof(
  int64.map((v): [PkValue, SdkValue] => [{ t: 'int', v }, TableStore.Long.fromString(String(v))]),
  fc
    .string({ unit: 'binary', maxLength: 30 })
    .map((v): [PkValue, SdkValue] => [{ t: 'str', v }, v]),
  fc
    .uint8Array({ maxLength: 30 })
    .map((v): [PkValue, SdkValue] => [{ t: 'bin', v: Buffer.from(v) }, Buffer.from(v)]),
);
const sdkCell = fc.oneof(
  sdkPk.map(([ours, theirs]): [CellValue, SdkValue] => [ours, theirs]),
  fc.double({ noNaN: true }).map((v): [CellValue, SdkValue] => [{ t: 'double', v }, v]),
  fc.boolean().map((v): [CellValue, SdkValue] => [{ t: 'bool', v }, v]),
);

function fromSdk(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { t: 'bin', v: value.toString('hex') };
  if (typeof value === 'string') return { t: 'str', v: value };
  if (typeof value === 'boolean') return { t: 'bool', v: value };
  if (typeof value === 'number')
    return { t: 'double', v: Object.is(value, -0) ? '-0' : String(value) };
  return { t: 'int', v: BigInt((value as Int64).toString()) };
}

describe('PlainBuffer interoperability with the tablestore SDK', () => {
  it('decodes rows the SDK encodes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(asciiName, sdkPk), {
          minLength: 1,
          maxLength: 4,
          selector: ([name]) => name,
        }),
        fc.uniqueArray(
          fc.tuple(asciiName, sdkCell, fc.option(fc.integer({ min: 0, max: 2 ** 40 }))),
          {
            maxLength: 6,
            selector: ([name]) => name,
          },
        ),
        (pk, cells) => {
          const bytes = TableStore.PlainBufferBuilder.serializeForPutRow(
            pk.map(([name, [, sdk]]) => ({ [name]: sdk })),
            cells.map(([name, [, sdk], ts]) =>
              ts === null ? { [name]: sdk } : { [name]: sdk, timestamp: ts },
            ),
          );
          const decoded = decodeRow(bytes);
          expect(decoded.pk.map((cell) => [cell.name, normalize(cell.value)])).toEqual(
            pk.map(([name, [ours]]) => [name, normalize(ours)]),
          );
          expect(decoded.cells.map((cell) => [cell.name, normalize(cell.value), cell.ts])).toEqual(
            cells.map(([name, [ours], ts]) => [
              name,
              normalize(ours),
              ts === null ? undefined : BigInt(ts),
            ]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes rows the SDK decodes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            pk: fc.array(fc.tuple(asciiName, sdkPk), { minLength: 1, maxLength: 4 }),
            cells: fc.array(fc.tuple(asciiName, sdkCell, timestamp), { maxLength: 6 }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (rows) => {
          const bytes = encodeRows(
            rows.map((r) => ({
              pk: r.pk.map(([name, [value]]) => ({ name, value })),
              cells: r.cells.map(([name, [value], ts]) => ({ name, value, ts })),
              deleteMarker: false,
            })),
          );
          const stream = new TableStore.PlainBufferInputStream({
            buffer: bytes,
            offset: 0,
            limit: bytes.length,
          });
          const decoded = new TableStore.PlainBufferCodedInputStream(stream).readRows();
          expect(
            decoded.map((r) => ({
              pk: r.primaryKey.map((cell) => [cell.name, fromSdk(cell.value)]),
              cells: r.attributes.map((cell) => [
                cell.columnName,
                fromSdk(cell.columnValue),
                cell.timestamp?.toString(),
              ]),
            })),
          ).toEqual(
            rows.map((r) => ({
              pk: r.pk.map(([name, [value]]) => [name, normalize(value)]),
              cells: r.cells.map(([name, [value], ts]) => [name, normalize(value), ts.toString()]),
            })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
