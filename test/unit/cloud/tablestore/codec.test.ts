import { describe, expect, it } from 'vitest';
import {
  column,
  defineTable,
  INF_MAX,
  INF_MIN,
  RowDecodeError,
} from '../../../../shared/cloud/tablestore';

const table = defineTable({
  name: 'codec_test',
  primaryKey: [
    ['tenant', 'string'],
    ['seq', 'int64'],
  ],
  columns: {
    name: column.string(),
    count: column.int64(),
    ratio: column.double().optional(),
    active: column.boolean(),
    blob: column.binary().optional(),
    tags: column.json<string[]>((v) => {
      if (!Array.isArray(v)) throw new TypeError('expected an array');
      return v as string[];
    }),
    status: column.oneOf(['on', 'off'] as const),
  },
});

const row = {
  tenant: 't1',
  seq: -9223372036854775808n,
  name: '名前',
  count: 9223372036854775807n,
  ratio: 0.1,
  active: false,
  blob: Buffer.from([0, 255, 7]),
  tags: ['a', 'b'],
  status: 'on' as const,
};

describe('typed table codec', () => {
  it('round-trips every column type without losing int64 precision', () => {
    const encoded = table.encode(row);
    expect(encoded.primaryKey).toEqual([
      ['tenant', 't1'],
      ['seq', -9223372036854775808n],
    ]);
    expect(encoded.columns.tags).toBe('["a","b"]');
    expect(encoded.columns.count).toBe(9223372036854775807n);
    expect(table.decode(encoded)).toEqual(row);
  });

  it('leaves absent optional columns out and decodes them as absent', () => {
    const { ratio: _r, blob: _b, ...rest } = row;
    const encoded = table.encode(rest);
    expect(Object.keys(encoded.columns).sort()).toEqual([
      'active',
      'count',
      'name',
      'status',
      'tags',
    ]);
    const decoded = table.decode(encoded);
    expect('ratio' in decoded).toBe(false);
  });

  it('refuses values of the wrong type, naming table and column', () => {
    expect(() => table.encode({ ...row, count: 5 as unknown as bigint })).toThrow(
      'codec_test.count: expected int64, got number',
    );
    expect(() => table.encode({ ...row, seq: 1 as unknown as bigint })).toThrow(
      'codec_test.seq: primary key expects int64',
    );
    expect(() => table.encode({ ...row, ratio: Number.NaN })).toThrow(/codec_test.ratio/);
    expect(() => table.encode({ ...row, name: undefined as unknown as string })).toThrow(
      'codec_test.name: required column is missing',
    );
  });

  it('reports stored rows that do not match the schema', () => {
    const good = table.encode(row);
    expect(() => table.decode({ ...good, columns: { ...good.columns, count: 'seven' } })).toThrow(
      RowDecodeError,
    );
    expect(() => table.decode({ ...good, columns: { ...good.columns, count: 'seven' } })).toThrow(
      /codec_test row \(tenant=t1, seq=-9223372036854775808\): column count: stored as string, schema says int64/,
    );
    const { name: _n, ...withoutName } = good.columns;
    expect(() => table.decode({ ...good, columns: withoutName })).toThrow(
      /required column name is missing/,
    );
    expect(() => table.decode({ ...good, columns: { ...good.columns, status: 'maybe' } })).toThrow(
      /not one of on, off/,
    );
    expect(() => table.decode({ ...good, columns: { ...good.columns, tags: '{"x":1}' } })).toThrow(
      /expected an array/,
    );
  });

  it('ignores stored columns the schema does not name', () => {
    const good = table.encode(row);
    expect(table.decode({ ...good, columns: { ...good.columns, fencingToken: 3n } })).toEqual(row);
  });

  it('builds prefix ranges for both directions', () => {
    expect(table.prefixRange({ tenant: 't1' })).toEqual({
      start: [
        ['tenant', 't1'],
        ['seq', INF_MIN],
      ],
      end: [
        ['tenant', 't1'],
        ['seq', INF_MAX],
      ],
    });
    expect(table.prefixRange({}, 'backward')).toEqual({
      start: [
        ['tenant', INF_MAX],
        ['seq', INF_MAX],
      ],
      end: [
        ['tenant', INF_MIN],
        ['seq', INF_MIN],
      ],
    });
    expect(() => table.prefixRange({ seq: 1n })).toThrow(/skips a column/);
  });

  it('yields the table definition', () => {
    expect(table.definition).toEqual({
      name: 'codec_test',
      primaryKey: [
        { name: 'tenant', type: 'string' },
        { name: 'seq', type: 'int64' },
      ],
      timeToLiveSeconds: -1,
      maxVersions: 1,
    });
  });

  it('refuses invalid names', () => {
    expect(() => defineTable({ name: '1bad', primaryKey: [['a', 'string']], columns: {} })).toThrow(
      /table name/,
    );
    expect(() =>
      defineTable({
        name: 'ok',
        primaryKey: [['a', 'string']],
        columns: { timestamp: column.int64() },
      }),
    ).toThrow(/column name/);
  });
});
