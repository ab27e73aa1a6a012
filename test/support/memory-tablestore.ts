// TEST DOUBLE — NOT the real check. An in-memory implementation of the adapter's
// TablestoreClient interface (not of the SDK or the wire protocol), so the store layer's logic
// (idempotency, leases, repositories) can be driven fast and deterministically in unit tests.
// The same scenarios run against localcloud's Tablestore through the real SDK in
// test/integration/store; that is the check that counts.
//
// It models what the store layer relies on: row existence and column conditions (with
// pass-if-missing), put/update/delete, GetRange in both directions with INF bounds, limit, next
// start key and the columns asked for, batches with per-row results, and the 200-row
// BatchWriteRow limit.
//
// It refuses what the SDK or localcloud's Tablestore refuses (checked against localcloud through
// the SDK): a row existence or comparator that is none of the known ones, a column condition
// that is neither a comparison nor and/or/not, an and/or of no sub-conditions, a delete or
// update expecting the row not to exist, an update that changes no cell, a primary key whose
// columns do not match the table's (size, names, types; INF_MIN/INF_MAX only in range bounds), a
// range whose start is not before its end in its direction. A double that let those through
// would let a blanked condition or key pass the unit tests.

import {
  type ColumnCondition,
  type Columns,
  type ColumnValue,
  type Condition,
  INF_MAX,
  INF_MIN,
  type PrimaryKey,
  type RangeBoundValue,
  type RangeKey,
  type RangePage,
  type RangeRequest,
  type Row,
  type RowUpdate,
  type RowWrite,
  type RowWriteResult,
  type TableDefinition,
  type TableDescription,
  type TablestoreClient,
  TablestoreError,
} from '../../shared/cloud/tablestore';

function fail(code: string, message: string, operation: string, table?: string): TablestoreError {
  return new TablestoreError({
    code,
    serverMessage: message,
    httpStatus: code === 'OTSConditionCheckFail' ? 403 : 400,
    requestId: undefined,
    operation,
    table,
    failureClass: 'final',
  });
}

function rank(v: RangeBoundValue): number {
  return v === INF_MIN ? -1 : v === INF_MAX ? 1 : 0;
}

function compareValue(a: RangeBoundValue, b: RangeBoundValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== 0 || rb !== 0) return ra - rb;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const ba = typeof a === 'string' ? Buffer.from(a, 'utf8') : (a as Buffer);
  const bb = typeof b === 'string' ? Buffer.from(b, 'utf8') : (b as Buffer);
  return Buffer.compare(ba, bb);
}

function compareKey(a: RangeKey, b: RangeKey): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValue((a[i] as RangeKey[number])[1], (b[i] as RangeKey[number])[1]);
    if (c !== 0) return c;
  }
  return 0;
}

function keyString(pk: PrimaryKey): string {
  return JSON.stringify(
    pk.map(([n, v]) => [
      n,
      typeof v === 'bigint' ? `i${v}` : Buffer.isBuffer(v) ? `b${v.toString('hex')}` : `s${v}`,
    ]),
  );
}

function compareColumn(a: ColumnValue, b: ColumnValue): number | undefined {
  if (typeof a !== typeof b || Buffer.isBuffer(a) !== Buffer.isBuffer(b)) return undefined;
  if (Buffer.isBuffer(a)) return Buffer.compare(a, b as Buffer);
  if (typeof a === 'boolean') return Number(a) - Number(b as boolean);
  return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
}

const ROW_EXISTENCE: ReadonlySet<string> = new Set(['ignore', 'expect-exist', 'expect-not-exist']);
const COMPARATORS: ReadonlySet<string> = new Set(['=', '!=', '>', '>=', '<', '<=']);

/** Throws as the SDK (plain Error) or the service (OTSParameterInvalid) would. */
function validateColumnCondition(cond: ColumnCondition, op: string, table: string): void {
  if (typeof cond !== 'object' || cond === null) {
    throw new TypeError(`column condition must be an object, got ${String(cond)}`);
  }
  if ('column' in cond) {
    if (!COMPARATORS.has(cond.is)) {
      throw new Error('Expect input comparator should be one of TableStore.ComparatorType');
    }
    if (cond.value === undefined || cond.value === null) {
      throw new TypeError(`column ${cond.column}: unsupported value type ${typeof cond.value}`);
    }
    return;
  }
  if ('not' in cond) {
    validateColumnCondition(cond.not, op, table);
    return;
  }
  const subs = 'and' in cond ? cond.and : 'or' in cond ? cond.or : undefined;
  // The adapter reads `.length` of what is neither and/or/not/column, and throws.
  if (!Array.isArray(subs))
    throw new TypeError("Cannot read properties of undefined (reading 'length')");
  if (subs.length === 0) {
    throw fail(
      'OTSParameterInvalid',
      'Invalid AND/OR operator: the number of sub-filters must be 2.',
      op,
      table,
    );
  }
  for (const sub of subs) validateColumnCondition(sub, op, table);
}

function matches(cond: ColumnCondition, columns: Columns | undefined): boolean {
  if ('and' in cond) return cond.and.every((c) => matches(c, columns));
  if ('or' in cond) return cond.or.some((c) => matches(c, columns));
  if ('not' in cond) return !matches(cond.not, columns);
  const stored = columns?.[cond.column];
  if (stored === undefined) return cond.ifMissing === 'pass';
  const c = compareColumn(stored, cond.value);
  if (c === undefined) return false;
  switch (cond.is) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

/** Checks a primary key against the table's schema in the service's order: size, name, type. */
function validateKey(definition: TableDefinition, key: RangeKey, bound: boolean, op: string): void {
  const schema = definition.primaryKey;
  if (key.length !== schema.length) {
    throw fail(
      'OTSInvalidPK',
      `Validate PK size fail. Input: ${key.length}, Meta: ${schema.length}.`,
      op,
      definition.name,
    );
  }
  key.forEach(([name, value], i) => {
    const column = schema[i] as TableDefinition['primaryKey'][number];
    if (name !== column.name) {
      throw fail(
        'OTSInvalidPK',
        `Validate PK name fail. Input: ${name}, Meta: ${column.name}.`,
        op,
        definition.name,
      );
    }
    if (value === INF_MIN || value === INF_MAX) {
      if (bound) return;
      throw fail(
        'OTSParameterInvalid',
        'INF_MIN/INF_MAX is an invalid type for the primary key.',
        op,
        definition.name,
      );
    }
    const type =
      typeof value === 'string' ? 'string' : typeof value === 'bigint' ? 'int64' : 'binary';
    if (type !== column.type) {
      throw fail(
        'OTSInvalidPK',
        `Validate PK type fail. Input: ${type}, Meta: ${column.type}.`,
        op,
        definition.name,
      );
    }
  });
}

/**
 * The row as a read asking for `wanted` columns returns it (all of them when none are named): a
 * row holding none of them is not returned, unless a primary key column was asked for; a filter
 * is judged on the columns returned (a filter column left out counts as missing).
 */
function project(
  row: Row,
  definition: TableDefinition,
  wanted: readonly string[] | undefined,
): Row | undefined {
  if (wanted === undefined || wanted.length === 0) {
    return { primaryKey: row.primaryKey, columns: { ...row.columns } };
  }
  const columns = Object.fromEntries(
    Object.entries(row.columns).filter(([name]) => wanted.includes(name)),
  );
  const wantsKey = definition.primaryKey.some((column) => wanted.includes(column.name));
  if (Object.keys(columns).length === 0 && !wantsKey) return undefined;
  return { primaryKey: row.primaryKey, columns };
}

interface StoredTable {
  definition: TableDefinition;
  rows: Map<string, Row>;
}

export class MemoryTablestore implements TablestoreClient {
  readonly tables = new Map<string, StoredTable>();
  /** Counts calls per operation, for tests that assert how much work was done. */
  readonly calls = new Map<string, number>();

  private count(op: string) {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
  }

  private table(name: string, op: string): StoredTable {
    const t = this.tables.get(name);
    if (!t) throw fail('OTSObjectNotExist', 'Requested table does not exist.', op, name);
    return t;
  }

  private check(
    op: string,
    table: string,
    type: RowWrite['type'],
    existing: Row | undefined,
    condition?: Condition,
  ) {
    const c = condition ?? { row: 'ignore' };
    if (typeof c !== 'object' || c === null || !ROW_EXISTENCE.has(c.row)) {
      throw new Error(
        'Expect input rowExistenceExpectation should be one of TableStore.RowExistenceExpectation',
      );
    }
    if (c.row === 'expect-not-exist' && type !== 'put') {
      const verb = type === 'delete' ? 'deleting' : 'updating';
      throw fail(
        'OTSParameterInvalid',
        `Invalid condition: EXPECT_NOT_EXIST while ${verb} row.`,
        op,
        table,
      );
    }
    if (c.columns !== undefined) validateColumnCondition(c.columns, op, table);
    if (c.row === 'expect-exist' && !existing)
      throw fail('OTSConditionCheckFail', 'Condition check failed.', op, table);
    if (c.row === 'expect-not-exist' && existing)
      throw fail('OTSConditionCheckFail', 'Condition check failed.', op, table);
    if (c.columns && !matches(c.columns, existing?.columns)) {
      throw fail('OTSConditionCheckFail', 'Condition check failed.', op, table);
    }
  }

  // Yields to the event loop like a network call would, so concurrent callers interleave.
  private async tick() {
    await new Promise((resolve) => setImmediate(resolve));
  }

  async getRow(table: string, primaryKey: PrimaryKey) {
    this.count('GetRow');
    await this.tick();
    const t = this.table(table, 'GetRow');
    validateKey(t.definition, primaryKey, false, 'GetRow');
    const row = t.rows.get(keyString(primaryKey));
    return row ? { primaryKey: row.primaryKey, columns: { ...row.columns } } : undefined;
  }

  private applyWrite(write: RowWrite, op: string): void {
    const t = this.table(write.table, op);
    validateKey(t.definition, write.primaryKey, false, op);
    const k = keyString(write.primaryKey);
    const existing = t.rows.get(k);
    this.check(op, write.table, write.type, existing, write.condition);
    if (write.type === 'update') {
      const u = write.update;
      const cells =
        Object.keys(u.put ?? {}).length +
        (u.delete ?? []).length +
        Object.keys(u.increment ?? {}).length;
      if (cells === 0) {
        throw fail(
          'OTSParameterInvalid',
          'Invalid update row request: missing cells in request.',
          op,
          write.table,
        );
      }
    }
    if (write.type === 'delete') {
      t.rows.delete(k);
      return;
    }
    if (write.type === 'put') {
      t.rows.set(k, { primaryKey: write.primaryKey, columns: { ...write.columns } });
      return;
    }
    const columns: Record<string, ColumnValue> = { ...existing?.columns };
    const u: RowUpdate = write.update;
    for (const [n, v] of Object.entries(u.put ?? {})) columns[n] = v;
    for (const n of u.delete ?? []) delete columns[n];
    for (const [n, by] of Object.entries(u.increment ?? {})) {
      const cur = columns[n];
      columns[n] = (typeof cur === 'bigint' ? cur : 0n) + by;
    }
    t.rows.set(k, { primaryKey: write.primaryKey, columns });
  }

  async putRow(
    table: string,
    primaryKey: PrimaryKey,
    columns: Columns,
    options: { condition?: Condition } = {},
  ) {
    this.count('PutRow');
    await this.tick();
    this.applyWrite({ type: 'put', table, primaryKey, columns, ...options }, 'PutRow');
  }

  async updateRow(
    table: string,
    primaryKey: PrimaryKey,
    update: RowUpdate,
    options: { condition?: Condition } = {},
  ) {
    this.count('UpdateRow');
    await this.tick();
    this.applyWrite({ type: 'update', table, primaryKey, update, ...options }, 'UpdateRow');
  }

  async deleteRow(table: string, primaryKey: PrimaryKey, options: { condition?: Condition } = {}) {
    this.count('DeleteRow');
    await this.tick();
    this.applyWrite({ type: 'delete', table, primaryKey, ...options }, 'DeleteRow');
  }

  async getRange(request: RangeRequest & { limit?: number }): Promise<RangePage> {
    this.count('GetRange');
    await this.tick();
    const t = this.table(request.table, 'GetRange');
    if (request.filter !== undefined)
      validateColumnCondition(request.filter, 'GetRange', t.definition.name);
    const backward = request.direction === 'backward';
    validateKey(t.definition, request.start, true, 'GetRange');
    validateKey(t.definition, request.end, true, 'GetRange');
    const order = compareKey(request.start, request.end);
    if (!backward && order >= 0) {
      throw fail(
        'OTSParameterInvalid',
        'Begin key must less than end key in FORWARD.',
        'GetRange',
        request.table,
      );
    }
    if (backward && order <= 0) {
      throw fail(
        'OTSParameterInvalid',
        'Begin key must more than end key in BACKWARD.',
        'GetRange',
        request.table,
      );
    }
    const all = [...t.rows.values()].sort((a, b) => compareKey(a.primaryKey, b.primaryKey));
    if (backward) all.reverse();
    const inRange = all.filter((r) =>
      backward
        ? compareKey(r.primaryKey, request.start) <= 0 && compareKey(r.primaryKey, request.end) > 0
        : compareKey(r.primaryKey, request.start) >= 0 && compareKey(r.primaryKey, request.end) < 0,
    );
    const limit = Math.min(request.limit ?? 5000, 5000);
    const page = inRange.slice(0, limit);
    const rows = page
      .map((r) => project(r, t.definition, request.columns))
      .filter((r): r is Row => r !== undefined)
      .filter((r) => !request.filter || matches(request.filter, r.columns));
    const nextRow = inRange[limit];
    return { rows, next: nextRow ? nextRow.primaryKey : undefined };
  }

  async *iterateRange(request: RangeRequest & { pageSize?: number; maxRows?: number }) {
    let start: RangeKey | undefined = request.start;
    let remaining = request.maxRows ?? Number.POSITIVE_INFINITY;
    while (start && remaining > 0) {
      const page = await this.getRange({
        ...request,
        start,
        limit: Math.min(request.pageSize ?? 5000, remaining),
      });
      for (const row of page.rows) {
        yield row;
        if (--remaining <= 0) return;
      }
      start = page.next;
    }
  }

  async batchGetRows(table: string, keys: readonly PrimaryKey[]) {
    this.count('BatchGetRow');
    await this.tick();
    const t = this.table(table, 'BatchGetRow');
    for (const k of keys) validateKey(t.definition, k, false, 'BatchGetRow');
    return keys.map((k) => t.rows.get(keyString(k)));
  }

  async batchWriteRows(writes: readonly RowWrite[]): Promise<RowWriteResult[]> {
    const results: RowWriteResult[] = [];
    for (let i = 0; i < writes.length; i += 200) {
      this.count('BatchWriteRow');
      await this.tick();
      for (const w of writes.slice(i, i + 200)) {
        try {
          this.applyWrite(w, 'BatchWriteRow');
          results.push({ ok: true });
        } catch (err) {
          results.push({ ok: false, error: err as TablestoreError });
        }
      }
    }
    return results;
  }

  async listTables() {
    return [...this.tables.keys()];
  }

  async describeTable(table: string): Promise<TableDescription> {
    const t = this.table(table, 'DescribeTable');
    const d = t.definition;
    return {
      name: d.name,
      primaryKey: d.primaryKey.map((c) => ({ name: c.name, type: c.type })),
      definedColumns: [...(d.definedColumns ?? [])],
      timeToLiveSeconds: d.timeToLiveSeconds ?? -1,
      maxVersions: d.maxVersions ?? 1,
      indexes: (d.indexes ?? []).map((i) => ({
        name: i.name,
        primaryKey: [...i.primaryKey],
        definedColumns: [...(i.definedColumns ?? [])],
      })),
    };
  }

  async createTable(definition: TableDefinition) {
    if (this.tables.has(definition.name)) {
      throw fail(
        'OTSObjectAlreadyExist',
        'Requested table already exists.',
        'CreateTable',
        definition.name,
      );
    }
    this.tables.set(definition.name, { definition, rows: new Map() });
  }

  async updateTableOptions(
    table: string,
    options: { timeToLiveSeconds: number; maxVersions: number },
  ) {
    const t = this.table(table, 'UpdateTable');
    t.definition = { ...t.definition, ...options };
  }

  async createIndex(table: string, index: NonNullable<TableDefinition['indexes']>[number]) {
    const t = this.table(table, 'CreateIndex');
    t.definition = { ...t.definition, indexes: [...(t.definition.indexes ?? []), index] };
  }

  async deleteTable(table: string) {
    this.table(table, 'DeleteTable');
    this.tables.delete(table);
  }
}
