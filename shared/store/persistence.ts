// The persistence logic every repository shares, so that each repository is a small mapping
// between its domain record and its table row (the idea of Powertools' BasePersistenceLayer:
// the base owns the protocol, subclasses adapt one table).
//
// Concurrency rule: every write is conditional. Creating expects the row absent; updating
// and deleting expect the version that was read (`version = n`, and the update writes n + 1);
// observations that may arrive out of order are written only if newer. Nothing here reads a
// row, changes it and writes it back without a condition.

import {
  type Column,
  type ColumnsSpec,
  type Condition,
  isEmptyRange,
  isInRange,
  type KeyOf,
  type PrimaryKey,
  type PrimaryKeySpec,
  type PrimaryKeyValue,
  type RangeKey,
  type RowOf,
  type TablestoreClient,
  type TypedTable,
} from '../cloud/tablestore';
import { type Clock, isoNow, systemClock } from '../domain/clock';
import { type CursorCodec, InvalidCursor } from '../domain/cursor';
import { MAX_PAGE_LIMIT, type PageRequest } from '../domain/paging';
import {
  ConcurrentModification,
  type NewRecord,
  RecordAlreadyExists,
  type Versioned,
  type VersionedRepository,
} from '../domain/records';
import { conditionalWrite } from './conditional-write';

export abstract class BasePersistence<P extends PrimaryKeySpec, C extends ColumnsSpec> {
  protected readonly clock: Clock;

  constructor(
    protected readonly client: TablestoreClient,
    protected readonly table: TypedTable<P, C>,
    clock: Clock = systemClock,
  ) {
    this.clock = clock;
  }

  protected async readRow(key: KeyOf<P>): Promise<RowOf<P, C> | undefined> {
    const row = await this.client.getRow(this.table.name, this.table.key(key));
    return row ? this.table.decode(row) : undefined;
  }

  /** Writes a row that must not exist yet. */
  protected async insertRow(row: RowOf<P, C>, what: string): Promise<void> {
    const { primaryKey, columns } = this.table.encode(row);
    const written = await conditionalWrite(
      this.client.putRow(this.table.name, primaryKey, columns, {
        condition: { row: 'expect-not-exist' },
      }),
    );
    if (!written) throw new RecordAlreadyExists(what);
  }

  /**
   * Replaces a whole row (columns left undefined are removed) if its `versionColumn` still holds
   * `expected`.
   */
  protected async replaceRowIfVersion(
    row: RowOf<P, C>,
    versionColumn: string,
    expected: bigint,
    what: string,
  ): Promise<void> {
    const { primaryKey, columns } = this.table.encode(row);
    const written = await conditionalWrite(
      this.client.putRow(this.table.name, primaryKey, columns, {
        condition: atVersion(versionColumn, expected),
      }),
    );
    if (!written) throw new ConcurrentModification(what, expected);
  }

  protected async deleteRowIfVersion(
    key: KeyOf<P>,
    versionColumn: string,
    expected: bigint,
    what: string,
  ): Promise<void> {
    const deleted = await conditionalWrite(
      this.client.deleteRow(this.table.name, this.table.key(key), {
        condition: atVersion(versionColumn, expected),
      }),
    );
    if (!deleted) throw new ConcurrentModification(what, expected);
  }

  /**
   * The row encoded, with the condition that keeps it only over an older `orderColumn`: for
   * observations that may be written out of order (the stored one wins when at least as new).
   */
  protected newerRowWrite(row: RowOf<P, C>, orderColumn: string) {
    const { primaryKey, columns } = this.table.encode(row);
    const value = columns[orderColumn];
    if (value === undefined) throw new TypeError(`${this.table.name}: ${orderColumn} is required`);
    const condition: Condition = {
      row: 'ignore',
      columns: { column: orderColumn, is: '<', value, ifMissing: 'pass' },
    };
    return { primaryKey, columns, condition };
  }

  /** Every row whose key starts with `prefix` (the whole table when empty), in key order. */
  protected async *scanRows(
    prefix: Partial<KeyOf<P>> = {},
    direction: 'forward' | 'backward' = 'forward',
  ): AsyncGenerator<RowOf<P, C>> {
    const { start, end } = this.table.prefixRange(prefix, direction);
    for await (const row of this.client.iterateRange({
      table: this.table.name,
      start,
      end,
      direction,
    })) {
      yield this.table.decode(row);
    }
  }

  /**
   * One page of a range. Its cursor is the next start key, signed for `binding` (the query it
   * belongs to, with this table's name) by the deployment's cursor codec; a cursor coming back is
   * verified, then checked against the table's key and the range (InvalidCursor otherwise), so
   * no cursor can make a query read outside its own range.
   */
  protected async pageRows(
    range: { start: RangeKey; end: RangeKey; direction: 'forward' | 'backward' },
    page: PageRequest,
    binding: string,
    cursors: CursorCodec,
  ): Promise<{ rows: Array<RowOf<P, C>>; nextCursor?: string }> {
    const limit = Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(page.limit)));
    const query = `${this.table.name}\n${binding}`;
    let start: RangeKey | undefined = page.cursor
      ? await this.cursorStart(cursors, query, page.cursor, range)
      : range.start;
    // An empty range (from = to) has nothing to read; Tablestore refuses it as a request.
    if (isEmptyRange(range)) return { rows: [] };
    const rows: Array<RowOf<P, C>> = [];
    while (start !== undefined && rows.length < limit) {
      const result = await this.client.getRange({
        table: this.table.name,
        start,
        end: range.end,
        direction: range.direction,
        limit: limit - rows.length,
      });
      for (const row of result.rows) rows.push(this.table.decode(row));
      start = result.next;
    }
    if (start === undefined) return { rows };
    const position = (start as PrimaryKey).map(([, value]) => value);
    return { rows, nextCursor: await cursors.encode(query, position) };
  }

  /** The start key a cursor carries, once it is known to be this table's key inside `range`. */
  private async cursorStart(
    cursors: CursorCodec,
    query: string,
    cursor: string,
    range: { start: RangeKey; end: RangeKey; direction: 'forward' | 'backward' },
  ): Promise<PrimaryKey> {
    const values = await cursors.decode(query, cursor);
    const columns = this.table.definition.primaryKey;
    if (values.length !== columns.length) {
      throw new InvalidCursor(`its position does not fit table ${this.table.name}`);
    }
    const key = columns.map(({ name, type }, i): readonly [string, PrimaryKeyValue] => {
      const value = values[i];
      if (type === 'string' && typeof value === 'string') return [name, value];
      if (type === 'int64' && typeof value === 'bigint') return [name, value];
      if (type === 'binary' && value instanceof Uint8Array) return [name, Buffer.from(value)];
      throw new InvalidCursor(`its position does not fit table ${this.table.name}`);
    });
    if (!isInRange(key, range)) throw new InvalidCursor('its position lies outside this query');
    return key;
  }
}

type VersionedColumns = ColumnsSpec & { version: Column<bigint> };

/**
 * A repository of versioned records over one table, as the capabilities' ports describe it
 * (shared/domain/records.ts). Subclasses supply the mapping between record and row.
 */
export abstract class VersionedTableRepository<
    P extends PrimaryKeySpec,
    C extends VersionedColumns,
    Entity extends Versioned,
    Key,
  >
  extends BasePersistence<P, C>
  implements VersionedRepository<Entity, Key>
{
  /** The table key of a record key. */
  protected abstract keyOf(key: Key): KeyOf<P>;
  /** The record key of an entity. */
  protected abstract entityKey(entity: Entity): Key;
  /** Names the record in errors: e.g. "member 123456789012". */
  protected abstract describe(key: Key): string;
  protected abstract toRow(entity: Entity): RowOf<P, C>;
  protected abstract fromRow(row: RowOf<P, C>): Entity;

  async get(key: Key): Promise<Entity | undefined> {
    const row = await this.readRow(this.keyOf(key));
    return row ? this.fromRow(row) : undefined;
  }

  /** Stores a new record at version 1; RecordAlreadyExists if its key is taken. */
  async create(entity: NewRecord<Entity>): Promise<Entity> {
    const now = isoNow(this.clock);
    const created = { ...entity, version: 1, createdAt: now, updatedAt: now } as Entity;
    await this.insertRow(this.toRow(created), this.describe(this.entityKey(created)));
    return created;
  }

  /**
   * Stores `entity` over the version it was read at (`entity.version`) and returns it at the
   * next version. ConcurrentModification if the stored record moved on or was removed.
   */
  async update(entity: Entity): Promise<Entity> {
    const updatedAt = isoNow(this.clock);
    const next = { ...entity, version: entity.version + 1, updatedAt };
    await this.replaceRowIfVersion(
      this.toRow(next),
      'version',
      BigInt(entity.version),
      this.describe(this.entityKey(entity)),
    );
    return next;
  }

  /** Removes the record if it is still at `version`. */
  async delete(key: Key, version: number): Promise<void> {
    await this.deleteRowIfVersion(this.keyOf(key), 'version', BigInt(version), this.describe(key));
  }

  async *all(): AsyncGenerator<Entity> {
    for await (const row of this.scanRows()) yield this.fromRow(row);
  }

  async list(): Promise<Entity[]> {
    const out: Entity[] = [];
    for await (const entity of this.all()) out.push(entity);
    return out;
  }
}

/** The row exists and its `versionColumn` still holds `expected`. */
function atVersion(versionColumn: string, expected: bigint): Condition {
  return { row: 'expect-exist', columns: { column: versionColumn, is: '=', value: expected } };
}

/** ISO 8601 from an int64 milliseconds column. */
export function isoFromMillis(ms: bigint): string {
  return new Date(Number(ms)).toISOString();
}

/** int64 milliseconds from an ISO 8601 time; RangeError naming the field if it is not one. */
export function millisFromIso(iso: string, field: string): bigint {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms))
    throw new RangeError(`${field}: ${JSON.stringify(iso)} is not an ISO 8601 time`);
  return BigInt(ms);
}
