// Random sequences of row operations, driven through the official SDK against the emulator and
// against a small in-memory model of Tablestore's semantics; every result must agree.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, otsError, startHarness } from './harness';
import { attrsOf, createTable, type Plain, pkOf } from './helpers';
import { long, type SdkClient, TableStore } from './sdk';

// ------------------------------------------------------------------------------ the model

type Key = [string, bigint];
type Attrs = Record<string, Plain>;
type Existence = 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST';
type Comparator =
  | 'EQUAL'
  | 'NOT_EQUAL'
  | 'GREATER_THAN'
  | 'GREATER_EQUAL'
  | 'LESS_THAN'
  | 'LESS_EQUAL';
interface ColumnCondition {
  value: bigint;
  comparator: Comparator;
  passIfMissing: boolean;
}
interface Condition {
  existence: Existence;
  column?: ColumnCondition;
}
type Bound = Array<string | bigint | 'MIN' | 'MAX'>;

type Op =
  | { kind: 'put'; key: Key; attrs: Attrs; condition: Condition }
  | {
      kind: 'update';
      key: Key;
      put: Attrs;
      deleteAll: string[];
      increment?: bigint;
      condition: Condition;
    }
  | { kind: 'delete'; key: Key; condition: Condition }
  | { kind: 'get'; key: Key }
  | { kind: 'batchGet'; keys: Key[] }
  | { kind: 'batchWrite'; rows: Array<Extract<Op, { kind: 'put' | 'update' | 'delete' }>> }
  | { kind: 'range'; forward: boolean; start: Bound; end: Bound; limit?: number };

const keyId = (key: Key) => `${key[0]}|${key[1]}`;

function compareKey(a: Key, b: Key): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Row key versus range bound; columns after an infinity do not matter. */
function compareToBound(key: Key, bound: Bound): number {
  for (let i = 0; i < 2; i++) {
    const b = bound[i];
    if (b === 'MIN') return 1;
    if (b === 'MAX') return -1;
    const k = key[i] as string | bigint;
    if (k !== b) return (k as string | bigint) < (b as string | bigint) ? -1 : 1;
  }
  return 0;
}

function compareBounds(a: Bound, b: Bound): number {
  for (let i = 0; i < 2; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y && (x === 'MIN' || x === 'MAX')) return 0;
    if (x === 'MIN' || y === 'MAX') return -1;
    if (x === 'MAX' || y === 'MIN') return 1;
    if (x !== y) return (x as string | bigint) < (y as string | bigint) ? -1 : 1;
  }
  return 0;
}

class Model {
  rows = new Map<string, { key: Key; attrs: Attrs }>();

  private check(key: Key, condition: Condition): boolean {
    const row = this.rows.get(keyId(key));
    if (condition.existence === 'EXPECT_EXIST' && !row) return false;
    if (condition.existence === 'EXPECT_NOT_EXIST' && row) return false;
    if (condition.column) {
      const value = row?.attrs.a;
      if (value === undefined) return condition.column.passIfMissing;
      const order =
        (value as bigint) < condition.column.value
          ? -1
          : (value as bigint) > condition.column.value
            ? 1
            : 0;
      const ok = {
        EQUAL: order === 0,
        NOT_EQUAL: order !== 0,
        GREATER_THAN: order > 0,
        GREATER_EQUAL: order >= 0,
        LESS_THAN: order < 0,
        LESS_EQUAL: order <= 0,
      }[condition.column.comparator];
      if (!ok) return false;
    }
    return true;
  }

  write(op: Extract<Op, { kind: 'put' | 'update' | 'delete' }>): string {
    if (!this.check(op.key, op.condition)) return 'OTSConditionCheckFail';
    const id = keyId(op.key);
    if (op.kind === 'put') this.rows.set(id, { key: op.key, attrs: { ...op.attrs } });
    else if (op.kind === 'delete') this.rows.delete(id);
    else {
      const attrs = { ...(this.rows.get(id)?.attrs ?? {}) };
      Object.assign(attrs, op.put);
      for (const name of op.deleteAll) delete attrs[name];
      if (op.increment !== undefined)
        attrs.a = BigInt.asIntN(64, ((attrs.a as bigint | undefined) ?? 0n) + op.increment);
      if (Object.keys(attrs).length === 0) this.rows.delete(id);
      else this.rows.set(id, { key: op.key, attrs });
    }
    return 'ok';
  }

  get(key: Key): { pk: Record<string, Plain>; attrs: Attrs } | null {
    const row = this.rows.get(keyId(key));
    return row ? { pk: { g: row.key[0], n: row.key[1] }, attrs: sorted(row.attrs) } : null;
  }

  range(op: Extract<Op, { kind: 'range' }>): unknown {
    const order = compareBounds(op.start, op.end);
    if (op.forward ? order >= 0 : order <= 0)
      return `error:Begin key must ${op.forward ? 'less than end key in FORWARD' : 'more than end key in BACKWARD'}.`;
    const rows = [...this.rows.values()]
      .filter((row) =>
        op.forward
          ? compareToBound(row.key, op.start) >= 0 && compareToBound(row.key, op.end) < 0
          : compareToBound(row.key, op.start) <= 0 && compareToBound(row.key, op.end) > 0,
      )
      .sort((a, b) => (op.forward ? compareKey(a.key, b.key) : compareKey(b.key, a.key)));
    const limit = op.limit ?? 5000;
    const page = rows.slice(0, limit);
    const next = rows[limit];
    return {
      rows: page.map((row) => ({ pk: { g: row.key[0], n: row.key[1] }, attrs: sorted(row.attrs) })),
      next: next ? { g: next.key[0], n: next.key[1] } : null,
    };
  }
}

function sorted(attrs: Attrs): Attrs {
  return Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// ------------------------------------------------------------------------------ generators

const keyArb: fc.Arbitrary<Key> = fc.tuple(
  fc.constantFrom('x', 'y', 'z'),
  fc.bigInt({ min: -2n, max: 2n }),
);
const attrsArb: fc.Arbitrary<Attrs> = fc.record(
  { a: fc.bigInt({ min: -5n, max: 5n }), b: fc.constantFrom('p', 'q', 'héllo'), c: fc.boolean() },
  { requiredKeys: [] },
);
const columnArb: fc.Arbitrary<ColumnCondition> = fc.record({
  value: fc.bigInt({ min: -3n, max: 3n }),
  comparator: fc.constantFrom<Comparator>(
    'EQUAL',
    'NOT_EQUAL',
    'GREATER_THAN',
    'GREATER_EQUAL',
    'LESS_THAN',
    'LESS_EQUAL',
  ),
  passIfMissing: fc.boolean(),
});
const conditionArb = (existences: Existence[]): fc.Arbitrary<Condition> =>
  fc
    .record({
      existence: fc.constantFrom(...existences),
      column: fc.option(columnArb, { nil: undefined }),
    })
    .map((c) => (c.column ? c : { existence: c.existence }));

const putArb = fc.record({
  kind: fc.constant('put' as const),
  key: keyArb,
  attrs: attrsArb,
  condition: conditionArb(['IGNORE', 'EXPECT_EXIST', 'EXPECT_NOT_EXIST']),
});
const updateArb = fc
  .record({
    kind: fc.constant('update' as const),
    key: keyArb,
    put: fc.record({ b: fc.constantFrom('p', 'r'), c: fc.boolean() }, { requiredKeys: [] }),
    deleteAll: fc.subarray(['b', 'c']),
    increment: fc.option(fc.bigInt({ min: -3n, max: 3n }), { nil: undefined }),
    condition: conditionArb(['IGNORE', 'EXPECT_EXIST']),
  })
  .map((op) => ({ ...op, deleteAll: op.deleteAll.filter((name) => !(name in op.put)) }))
  .filter(
    (op) => Object.keys(op.put).length + op.deleteAll.length > 0 || op.increment !== undefined,
  );
const deleteArb = fc.record({
  kind: fc.constant('delete' as const),
  key: keyArb,
  condition: conditionArb(['IGNORE', 'EXPECT_EXIST']),
});
const writeArb = fc.oneof(putArb, updateArb, deleteArb);
const boundArb: fc.Arbitrary<Bound> = fc.tuple(
  fc.oneof(fc.constantFrom<'MIN' | 'MAX'>('MIN', 'MAX'), fc.constantFrom('x', 'y', 'z')),
  fc.oneof(fc.constantFrom<'MIN' | 'MAX'>('MIN', 'MAX'), fc.bigInt({ min: -2n, max: 2n })),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: writeArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('batchGet' as const),
      keys: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 5, selector: keyId }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('batchWrite' as const),
      rows: fc.uniqueArray(writeArb, {
        minLength: 1,
        maxLength: 5,
        selector: (op) => keyId(op.key),
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('range' as const),
        forward: fc.boolean(),
        start: boundArb,
        end: boundArb,
        limit: fc.integer({ min: 1, max: 6 }),
      },
      { requiredKeys: ['kind', 'forward', 'start', 'end'] },
    ),
  },
);

// ------------------------------------------------------------------------------ the SDK side

const CT = TableStore.ComparatorType;
const EXISTENCE = TableStore.RowExistenceExpectation;

function sdkCondition(condition: Condition): object {
  const column = condition.column
    ? new TableStore.SingleColumnCondition(
        'a',
        long(condition.column.value),
        CT[condition.column.comparator],
        condition.column.passIfMissing,
      )
    : null;
  return new TableStore.Condition(EXISTENCE[condition.existence], column);
}

const sdkPk = (key: Key) => [{ g: key[0] }, { n: long(key[1]) }];
const sdkValue = (value: Plain) => (typeof value === 'bigint' ? long(value) : value);
const sdkAttrs = (attrs: Attrs) =>
  Object.entries(attrs).map(([name, value]) => ({ [name]: sdkValue(value) }));
const sdkBound = (bound: Bound) => [
  {
    g: bound[0] === 'MIN' ? TableStore.INF_MIN : bound[0] === 'MAX' ? TableStore.INF_MAX : bound[0],
  },
  {
    n:
      bound[1] === 'MIN'
        ? TableStore.INF_MIN
        : bound[1] === 'MAX'
          ? TableStore.INF_MAX
          : long(bound[1] as bigint),
  },
];

function updateColumns(op: Extract<Op, { kind: 'update' }>): Array<Record<string, unknown>> {
  const columns: Array<Record<string, unknown>> = [];
  if (Object.keys(op.put).length > 0) columns.push({ PUT: sdkAttrs(op.put) });
  if (op.deleteAll.length > 0) columns.push({ DELETE_ALL: op.deleteAll });
  if (op.increment !== undefined) columns.push({ INCREMENT: [{ a: long(op.increment) }] });
  return columns;
}

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return otsError(error).code;
  }
}

const rowView = (row: { primaryKey?: unknown; attributes?: unknown } | null | undefined) =>
  row?.primaryKey ? { pk: pkOf(row as never), attrs: sorted(attrsOf(row as never)) } : null;

async function runOnSdk(client: SdkClient, table: string, op: Op): Promise<unknown> {
  switch (op.kind) {
    case 'put':
      return outcome(
        client.putRow({
          tableName: table,
          condition: sdkCondition(op.condition),
          primaryKey: sdkPk(op.key),
          attributeColumns: sdkAttrs(op.attrs),
        }),
      );
    case 'update':
      return outcome(
        client.updateRow({
          tableName: table,
          condition: sdkCondition(op.condition),
          primaryKey: sdkPk(op.key),
          updateOfAttributeColumns: updateColumns(op),
        }),
      );
    case 'delete':
      return outcome(
        client.deleteRow({
          tableName: table,
          condition: sdkCondition(op.condition),
          primaryKey: sdkPk(op.key),
        }),
      );
    case 'get':
      return rowView((await client.getRow({ tableName: table, primaryKey: sdkPk(op.key) })).row);
    case 'batchGet': {
      const result = await client.batchGetRow({
        tables: [{ tableName: table, primaryKey: op.keys.map(sdkPk), maxVersions: 1 }],
      });
      return (result.tables[0] ?? []).map((row) => (row.isOk ? rowView(row) : row.errorCode));
    }
    case 'batchWrite': {
      const rows = op.rows.map((row) => ({
        type: row.kind.toUpperCase(),
        condition: sdkCondition(row.condition),
        primaryKey: sdkPk(row.key),
        ...(row.kind === 'put' ? { attributeColumns: sdkAttrs(row.attrs) } : {}),
        ...(row.kind === 'update' ? { attributeColumns: updateColumns(row) } : {}),
      }));
      const result = await client.batchWriteRow({ tables: [{ tableName: table, rows }] });
      return result.tables.map((row) => (row.isOk ? 'ok' : row.errorCode));
    }
    case 'range':
      try {
        const result = await client.getRange({
          tableName: table,
          direction: op.forward ? TableStore.Direction.FORWARD : TableStore.Direction.BACKWARD,
          inclusiveStartPrimaryKey: sdkBound(op.start),
          exclusiveEndPrimaryKey: sdkBound(op.end),
          ...(op.limit !== undefined ? { limit: op.limit } : {}),
        });
        return {
          rows: result.rows.map(rowView),
          next: result.nextStartPrimaryKey
            ? pkOf({ primaryKey: result.nextStartPrimaryKey })
            : null,
        };
      } catch (error) {
        return `error:${otsError(error).message}`;
      }
  }
}

function runOnModel(model: Model, op: Op): unknown {
  switch (op.kind) {
    case 'put':
    case 'update':
    case 'delete':
      return model.write(op);
    case 'get':
      return model.get(op.key);
    case 'batchGet':
      return op.keys.map((key) => model.get(key));
    case 'batchWrite':
      return op.rows.map((row) => model.write(row));
    case 'range':
      return model.range(op);
  }
}

// ------------------------------------------------------------------------------ the property

let h: Harness;
let client: SdkClient;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
});
afterAll(async () => {
  await h.close();
});

describe('emulator against a reference model', () => {
  it('agrees on random sequences of writes with conditions, batches, reads and ranges', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const table = `prop_${run++}`;
        await createTable(client, {
          name: table,
          primaryKey: [
            { name: 'g', type: 'STRING' },
            { name: 'n', type: 'INTEGER' },
          ],
        });
        try {
          const model = new Model();
          for (const [step, op] of ops.entries()) {
            const expected = runOnModel(model, op);
            const actual = await runOnSdk(client, table, op);
            expect({ step, op: op.kind, result: actual }).toEqual({
              step,
              op: op.kind,
              result: expected,
            });
          }
        } finally {
          await client.deleteTable({ tableName: table });
        }
      }),
      { numRuns: 80 },
    );
  }, 60_000);
});
