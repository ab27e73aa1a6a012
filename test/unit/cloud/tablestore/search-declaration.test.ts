import { describe, expect, it } from 'vitest';
import {
  column,
  declareSearchIndex,
  defineTable,
  type SearchIndexDescription,
  searchSchemaProblems,
} from '../../../../shared/cloud/tablestore';
import { versionOf } from '../../../../shared/cloud/tablestore/search-declaration';

const sessions = defineTable({
  name: 'sessions',
  primaryKey: [
    ['owner', 'string'],
    ['sessionId', 'string'],
  ],
  columns: {
    user: column.string(),
    start: column.int64(),
    score: column.double().optional(),
    active: column.boolean().optional(),
    tags: column.json<string[]>().optional(),
    payload: column.binary().optional(),
  },
});

const expiring = defineTable({
  name: 'expiring',
  primaryKey: [['id', 'string']],
  columns: { user: column.string() },
  timeToLiveSeconds: 30 * 86_400,
  allowUpdate: false,
});

describe('declareSearchIndex', () => {
  it('names the index by family and version and keeps the fields in declaration order', () => {
    const declared = declareSearchIndex(sessions, {
      family: 'sessions_search',
      version: 3,
      fields: {
        owner: { type: 'keyword', sortAndAgg: true },
        start: { type: 'date', sortAndAgg: true },
        tags: { type: 'keyword', array: true },
      },
      indexSort: [{ field: 'start', order: 'desc' }],
    });
    expect(declared).toMatchObject({
      table: 'sessions',
      name: 'sessions_search_v3',
      family: 'sessions_search',
      version: 3,
    });
    expect(declared.fields.map((field) => [field.name, field.type])).toEqual([
      ['owner', 'keyword'],
      ['start', 'date'],
      ['tags', 'keyword'],
    ]);
    expect(versionOf('sessions_search', 'sessions_search_v12')).toBe(12);
    expect(versionOf('sessions_search', 'sessions_search_v0')).toBeUndefined();
    expect(versionOf('sessions_search', 'sessions_search_v2_old')).toBeUndefined();
    expect(versionOf('sessions_search', 'sessions_v2')).toBeUndefined();
  });

  it('refuses a field its column cannot hold, naming the column and its kind', () => {
    // Deliberately wrong fields, past the type checker (which refuses unknown columns).
    const declare = (fields: Record<string, unknown>) =>
      declareSearchIndex(sessions, { family: 'f', version: 1, fields: fields as never });
    expect(() => declare({ start: { type: 'keyword' } })).toThrow(
      'column start (int64) cannot be indexed as keyword',
    );
    expect(() => declare({ owner: { type: 'date' } })).toThrow(
      'primary key column owner (string) cannot be indexed as date',
    );
    expect(() => declare({ payload: { type: 'keyword' } })).toThrow(
      'column payload (binary) cannot be indexed as keyword',
    );
    expect(() => declare({ user: { type: 'keyword', array: true } })).not.toThrow();
    expect(() => declare({ score: { type: 'long', array: true } })).toThrow(
      'column score (double) cannot be indexed as an array of long',
    );
    expect(() => declare({ nope: { type: 'keyword' } })).toThrow('no column nope');
    expect(() => declare({})).toThrow('no fields');
  });

  it('refuses an index sort on a field without sortAndAgg, and a version that is not a count', () => {
    expect(() =>
      declareSearchIndex(sessions, {
        family: 'f',
        version: 1,
        fields: { start: { type: 'date' } },
        indexSort: [{ field: 'start' }],
      }),
    ).toThrow('index sort field start needs sortAndAgg');
    expect(() =>
      declareSearchIndex(sessions, {
        family: 'f',
        version: 0,
        fields: { user: { type: 'keyword' } },
      }),
    ).toThrow('the version is a whole number from 1');
  });

  it("holds the index's time to live to the table's, as the service does", () => {
    const fields = { user: { type: 'keyword' as const } };
    expect(() => declareSearchIndex(expiring, { family: 'f', version: 1, fields })).toThrow(
      'needs a time to live of at most that',
    );
    expect(() =>
      declareSearchIndex(expiring, {
        family: 'f',
        version: 1,
        fields,
        timeToLiveSeconds: 31 * 86_400,
      }),
    ).toThrow('needs a time to live of at most that');
    expect(
      declareSearchIndex(expiring, { family: 'f', version: 1, fields, timeToLiveSeconds: 86_400 })
        .timeToLiveSeconds,
    ).toBe(86_400);
    expect(() =>
      declareSearchIndex(sessions, {
        family: 'f',
        version: 1,
        fields: { user: { type: 'keyword' } },
        timeToLiveSeconds: 86_400,
      }),
    ).toThrow('needs its table to refuse UpdateRow');
  });
});

describe('searchSchemaProblems', () => {
  const declared = declareSearchIndex(sessions, {
    family: 'f',
    version: 1,
    fields: {
      user: { type: 'text', analyzer: { kind: 'single_word' } },
      start: { type: 'date', sortAndAgg: true },
    },
    indexSort: [{ field: 'start', order: 'desc' }],
  });
  const described: SearchIndexDescription = {
    table: 'sessions',
    name: 'f_v1',
    fields: [
      // The service may fill in the analyzer's defaults: they are the same analyzer.
      {
        name: 'user',
        type: 'text',
        analyzer: { kind: 'single_word', caseSensitive: false, delimitWord: false },
      },
      { name: 'start', type: 'date', sortAndAgg: true },
    ],
    indexSort: [{ field: 'start', order: 'desc' }],
    timeToLiveSeconds: -1,
    syncPhase: 'incremental',
    syncedToMs: undefined,
    rowCount: 0,
    storageBytes: 0,
    status: 'running',
  };

  it('finds nothing when the index is as declared', () => {
    expect(searchSchemaProblems(declared, described)).toEqual([]);
  });

  it('names each difference', () => {
    expect(
      searchSchemaProblems(declared, {
        ...described,
        fields: [
          { name: 'user', type: 'keyword' },
          { name: 'start', type: 'date' },
          { name: 'extra', type: 'other' },
        ],
        indexSort: [],
      }),
    ).toEqual([
      'field user: type is keyword, declared text',
      'field user: analyzer is default, declared single_word(caseSensitive=false,delimitWord=false)',
      'field start: sortAndAgg is false, declared true',
      'field extra is in the index, not declared',
      'index sort is [], declared [{"field":"start","order":"desc","mode":null}]',
    ]);
    expect(
      searchSchemaProblems(declared, { ...described, fields: [described.fields[1] as never] }),
    ).toEqual(['field user is declared but not in the index']);
  });
});
