import { describe, expect, it } from 'vitest';
import { ensureTables, TableSchemaMismatch } from '../../../../shared/cloud/tablestore';
import { schemaProblems } from '../../../../shared/cloud/tablestore/ensure-tables';
import { MemoryTablestore } from '../../../support/memory-tablestore';

describe('schemaProblems', () => {
  const def = {
    name: 't',
    primaryKey: [
      { name: 'a', type: 'string' as const },
      { name: 'b', type: 'int64' as const },
    ],
    indexes: [{ name: 'by_c', primaryKey: ['c', 'a', 'b'] }],
  };
  const actual = {
    name: 't',
    primaryKey: def.primaryKey.map((c) => ({ ...c })),
    definedColumns: [],
    timeToLiveSeconds: -1,
    maxVersions: 1,
    indexes: [{ name: 'by_c', primaryKey: ['c', 'a', 'b'], definedColumns: [] }],
  };
  it('accepts a matching table', () => {
    expect(schemaProblems(def, actual)).toEqual([]);
  });
  it('reports a different key order, type or length, and a different index key', () => {
    expect(
      schemaProblems(def, { ...actual, primaryKey: [...actual.primaryKey].reverse() }),
    ).toHaveLength(1);
    expect(schemaProblems(def, { ...actual, primaryKey: [{ name: 'a', type: 'string' }] })).toEqual(
      ['primary key is [a string], the definition expects [a string, b int64]'],
    );
    expect(
      schemaProblems(def, {
        ...actual,
        indexes: [{ name: 'by_c', primaryKey: ['c', 'b', 'a'], definedColumns: [] }],
      }),
    ).toEqual(['index by_c has primary key [c, b, a], the definition expects [c, a, b]']);
  });
});

describe('ensureTables (on the in-memory double)', () => {
  it('creates what is missing, verifies what exists, names every mismatch', async () => {
    const client = new MemoryTablestore();
    const a = { name: 'a', primaryKey: [{ name: 'id', type: 'string' as const }] };
    const b = {
      name: 'b',
      primaryKey: [{ name: 'id', type: 'string' as const }],
      timeToLiveSeconds: 3600,
    };
    expect(await ensureTables(client, [a])).toMatchObject({ created: ['a'] });
    expect(await ensureTables(client, [a, b])).toMatchObject({ created: ['b'], verified: ['a'] });
    const err = await ensureTables(client, [
      { ...a, primaryKey: [{ name: 'id', type: 'int64' }] },
      { ...b, primaryKey: [{ name: 'key', type: 'string' }] },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableSchemaMismatch);
    expect((err as TableSchemaMismatch).problems.map((p) => p.table)).toEqual(['a', 'b']);
  });
});
