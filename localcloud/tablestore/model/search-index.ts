// A search index over one table, in memory: every indexed row is a document with a dense id;
// KEYWORD and TEXT fields keep inverted indexes (term -> ascending doc ids), LONG/DOUBLE/DATE/
// BOOLEAN fields keep doc values plus an ordered (value, doc) structure for ranges. A changed row
// becomes a new document and the old one is marked dead (as Lucene does), so postings only grow
// in doc-id order; the index is rebuilt when dead documents outnumber live ones.
//
// Sync follows the service: rows present when the index is created are indexed in the FULL
// phase, later writes in the INCR phase; every change becomes visible `visibilityDelayMs` after
// it was written (0 by default), so code that expects read-after-write on a search index fails
// locally as it would in the cloud.

import type { RowObserver, Table } from './rows';
import {
  analyze,
  fieldValue,
  fieldValues,
  type NestedChild,
  nestedChildren,
} from './search-analysis';
import type { FieldSchema, SearchIndexMeta } from './search-schema';
import type { CellValue, PkValue, Row } from './values';

/** Settings every search index of a service shares (changed through localcloud's controls). */
export interface SearchSettings {
  /** How long after a write it becomes visible to Search (ms). */
  visibilityDelayMs: number;
}

/**
 * Runs a task of a FULL phase later (the service: on the next turn of the event loop); returns
 * how to cancel it. Tests pass their own to decide when the background work runs.
 */
export type BackgroundScheduler = (task: () => void) => () => void;

/** The default: the next turn of the event loop, never keeping the process alive by itself. */
export const nextTurn: BackgroundScheduler = (task) => {
  const timer = setImmediate(task);
  timer.unref();
  return () => clearImmediate(timer);
};

/**
 * Ascending doc ids of one term. Short lists are plain arrays: most terms of a high-cardinality
 * field (source IPs, session ids) hold one or two docs, and a typed array apiece costs more to
 * allocate and collect than the ids; past 64 ids they move to a typed array (4 bytes an id).
 */
export class Postings {
  ids: number[] | Int32Array = [];
  length = 0;

  push(doc: number): void {
    if (this.length > 0 && this.ids[this.length - 1] === doc) return;
    if (Array.isArray(this.ids)) {
      if (this.length < 64) {
        this.ids.push(doc);
        this.length++;
        return;
      }
      const typed = new Int32Array(256);
      typed.set(this.ids);
      this.ids = typed;
    } else if (this.length === this.ids.length) {
      const next = new Int32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.length++] = doc;
  }
}

function growFloat(array: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  if (size <= array.length) return array;
  const next = new Float64Array(Math.max(size, array.length * 2));
  next.set(array);
  return next;
}

function growInt(array: Int32Array<ArrayBuffer>, size: number, fill = 0): Int32Array<ArrayBuffer> {
  if (size <= array.length) return array;
  const next = new Int32Array(Math.max(size, array.length * 2));
  if (fill !== 0) next.fill(fill);
  next.set(array);
  return next;
}

function growBytes(array: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  if (size <= array.length) return array;
  const next = new Uint8Array(Math.max(size, array.length * 2));
  next.set(array);
  return next;
}

/** Numbers (LONG, DOUBLE, DATE, BOOLEAN as 0/1): doc values and an ordered (value, doc) list. */
export class NumericField {
  readonly kind = 'numeric';
  /** First value of each doc (the only one unless the field is an array). */
  values = new Float64Array(1024);
  has = new Uint8Array(1024);
  /** Every value of array fields, by doc. */
  readonly multi = new Map<number, number[]>();
  /** Sorted by (value, doc): the ordered structure for ranges. */
  sortedValues = new Float64Array(0);
  sortedDocs = new Int32Array(0);
  /** Pairs added since the sorted list was last merged. */
  private deltaValues: number[] = [];
  private deltaDocs: number[] = [];

  constructor(readonly schema: FieldSchema) {}

  add(doc: number, values: readonly number[]): void {
    this.addOne(doc, values[0] as number);
    if (!this.schema.isArray) return;
    this.multi.set(doc, [...values]);
    for (let i = 1; i < values.length; i++) {
      this.deltaValues.push(values[i] as number);
      this.deltaDocs.push(doc);
    }
  }

  addOne(doc: number, value: number): void {
    if (doc >= this.values.length) {
      this.values = growFloat(this.values, doc + 1);
      this.has = growBytes(this.has, doc + 1);
    }
    this.values[doc] = value;
    this.has[doc] = 1;
    this.deltaValues.push(value);
    this.deltaDocs.push(doc);
    if (this.deltaDocs.length > 4096 && this.deltaDocs.length > this.sortedDocs.length / 8)
      this.merge();
  }

  remove(doc: number): void {
    this.multi.delete(doc);
  }

  /** All values of a doc (empty when missing). */
  valuesOf(doc: number): readonly number[] {
    if (!this.has[doc]) return [];
    return this.multi.get(doc) ?? [this.values[doc] as number];
  }

  /** Folds the pending pairs into the sorted list. */
  merge(): void {
    const extra = this.deltaDocs.length;
    if (extra === 0) return;
    const total = this.sortedDocs.length + extra;
    const order = new Int32Array(extra);
    for (let i = 0; i < extra; i++) order[i] = i;
    const dv = this.deltaValues;
    const dd = this.deltaDocs;
    order.sort(
      (a, b) => (dv[a] as number) - (dv[b] as number) || (dd[a] as number) - (dd[b] as number),
    );
    const values = new Float64Array(total);
    const docs = new Int32Array(total);
    let i = 0;
    let j = 0;
    let k = 0;
    const sv = this.sortedValues;
    const sd = this.sortedDocs;
    while (i < sv.length || j < extra) {
      const takeOld =
        j >= extra ||
        (i < sv.length &&
          ((sv[i] as number) < (dv[order[j] as number] as number) ||
            ((sv[i] as number) === (dv[order[j] as number] as number) &&
              (sd[i] as number) < (dd[order[j] as number] as number))));
      if (takeOld) {
        values[k] = sv[i] as number;
        docs[k++] = sd[i++] as number;
      } else {
        const at = order[j++] as number;
        values[k] = dv[at] as number;
        docs[k++] = dd[at] as number;
      }
    }
    this.sortedValues = values;
    this.sortedDocs = docs;
    this.deltaValues = [];
    this.deltaDocs = [];
  }

  /** Sets `bits` for docs with a value in the range (bounds undefined = open). */
  range(
    bits: Uint8Array,
    from: number | undefined,
    to: number | undefined,
    includeLower: boolean,
    includeUpper: boolean,
  ): void {
    this.merge();
    const sv = this.sortedValues;
    const sd = this.sortedDocs;
    let lo = 0;
    let hi = sv.length;
    if (from !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const v = sv[mid] as number;
        if (v < from || (!includeLower && v === from)) lo = mid + 1;
        else hi = mid;
      }
    }
    const start = lo;
    lo = start;
    hi = sv.length;
    if (to !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const v = sv[mid] as number;
        if (v < to || (includeUpper && v === to)) lo = mid + 1;
        else hi = mid;
      }
    } else lo = sv.length;
    for (let i = start; i < lo; i++) bits[sd[i] as number] = 1;
  }

  /** Bytes of the structures (for the index's storage size and memory figures). */
  bytes(): number {
    return this.values.byteLength + this.has.byteLength + this.sortedValues.byteLength * 1.5;
  }
}

/** KEYWORD: a term dictionary, the term(s) of each doc, and postings per term. */
export class KeywordField {
  readonly kind = 'keyword';
  readonly termIds = new Map<string, number>();
  readonly terms: string[] = [];
  readonly postings: Postings[] = [];
  /** Term id of each doc's first value; -1 = missing. */
  termOf = new Int32Array(1024).fill(-1);
  readonly multi = new Map<number, number[]>();

  constructor(readonly schema: FieldSchema) {}

  termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      // A copy: the value may be a slice of a stored row, which the dictionary must not keep.
      term = Buffer.from(term, 'utf8').toString('utf8');
      id = this.terms.length;
      this.termIds.set(term, id);
      this.terms.push(term);
      this.postings.push(new Postings());
    }
    return id;
  }

  add(doc: number, values: readonly string[]): void {
    if (!this.schema.isArray) {
      this.addOne(doc, values[0] as string);
      return;
    }
    if (doc >= this.termOf.length) this.termOf = growInt(this.termOf, doc + 1, -1);
    const ids = values.map((value) => this.termId(value));
    this.termOf[doc] = ids[0] as number;
    this.multi.set(doc, ids);
    for (const id of ids) (this.postings[id] as Postings).push(doc);
  }

  addOne(doc: number, value: string): void {
    if (doc >= this.termOf.length) this.termOf = growInt(this.termOf, doc + 1, -1);
    const id = this.termId(value);
    this.termOf[doc] = id;
    (this.postings[id] as Postings).push(doc);
  }

  remove(doc: number): void {
    this.multi.delete(doc);
  }

  valuesOf(doc: number): readonly string[] {
    const first = this.termOf[doc] ?? -1;
    if (first < 0) return [];
    const ids = this.multi.get(doc);
    return ids ? ids.map((id) => this.terms[id] as string) : [this.terms[first] as string];
  }

  bytes(): number {
    let bytes = this.termOf.byteLength;
    for (let i = 0; i < this.terms.length; i++)
      bytes += (this.terms[i] as string).length + 4 * (this.postings[i] as Postings).length;
    return bytes;
  }
}

/** TEXT: tokens of each doc (for phrases and scores) and postings per token. */
export class TextField {
  readonly kind = 'text';
  readonly postings = new Map<string, Postings>();
  readonly tokensOf = new Map<number, string[][]>();
  /** Sum of token counts of live docs, for BM25's average length. */
  totalTokens = 0;

  constructor(readonly schema: FieldSchema) {}

  add(doc: number, values: readonly string[]): void {
    const analyzed = values.map((value) => analyze(this.schema, value));
    this.tokensOf.set(doc, analyzed);
    for (const tokens of analyzed) {
      this.totalTokens += tokens.length;
      for (const token of tokens) {
        let postings = this.postings.get(token);
        if (!postings) {
          postings = new Postings();
          this.postings.set(token, postings);
        }
        postings.push(doc);
      }
    }
  }

  remove(doc: number): void {
    for (const tokens of this.tokensOf.get(doc) ?? []) this.totalTokens -= tokens.length;
    this.tokensOf.delete(doc);
  }

  has(doc: number): boolean {
    return this.tokensOf.has(doc);
  }

  bytes(): number {
    let bytes = 0;
    for (const [token, postings] of this.postings) bytes += token.length + 4 * postings.length;
    return bytes;
  }
}

/** NESTED: the parsed children of each doc (queried by evaluating each child). */
export class NestedField {
  readonly kind = 'nested';
  readonly children = new Map<number, NestedChild[]>();

  constructor(readonly schema: FieldSchema) {}

  add(doc: number, children: NestedChild[]): void {
    this.children.set(doc, children);
  }

  remove(doc: number): void {
    this.children.delete(doc);
  }

  bytes(): number {
    return this.children.size * 64;
  }
}

export type FieldIndex = NumericField | KeywordField | TextField | NestedField;

function createField(schema: FieldSchema): FieldIndex {
  switch (schema.type) {
    case 'KEYWORD':
      return new KeywordField(schema);
    case 'TEXT':
      return new TextField(schema);
    case 'NESTED':
      return new NestedField(schema);
    default:
      return new NumericField(schema);
  }
}

interface PendingChange {
  key: string;
  row: Row | null;
  visibleAt: number;
}

export type SyncPhase = 'FULL' | 'INCR';

/** Rows a FULL phase indexes per turn of the event loop (about 10 ms at 8 fields). */
const FULL_SYNC_SLICE_ROWS = 2000;

export class SearchIndex implements RowObserver {
  /** Doc id -> is the current version of its row. */
  live = new Uint8Array(1024);
  /** Doc id -> row key (which holds the primary key: Table.rows.primaryKey decodes it). */
  docKeys: string[] = [];
  /** Doc id -> newest cell version of the row (ms), for time to live. */
  writtenAt = new Float64Array(1024);
  docCount = 0;
  liveCount = 0;
  readonly docOf = new Map<string, number>();
  fields = new Map<string, FieldIndex>();
  private readonly pending: PendingChange[] = [];
  private fullPhaseUntil = 0;
  /** While the FULL phase runs: the last row key indexed ('' before the first). */
  private fullSyncAfter: string | undefined;
  private cancelFullSync: (() => void) | undefined;
  private built = false;
  /** Time of the newest change applied (ms). */
  syncedTo = 0;
  /** The visible-docs bitmap of the last search while nothing changed and no TTL applies. */
  private visibleCache: Uint8Array | undefined;

  constructor(
    public meta: SearchIndexMeta,
    readonly table: Table,
    private readonly settings: SearchSettings,
    private readonly clock: () => number,
    private readonly schedule: BackgroundScheduler = nextTurn,
  ) {
    this.resetFields();
  }

  /** Indexed primary-key columns: position in the key, field. */
  private keyFields: Array<[number, FieldIndex]> = [];

  private resetFields(): void {
    this.fields = new Map(this.meta.fields.map((field) => [field.name, createField(field)]));
    const pk = this.table.meta.primaryKey;
    this.keyFields = [];
    pk.forEach((column, position) => {
      const field = this.fields.get(column.name);
      if (field) this.keyFields.push([position, field]);
    });
  }

  private addValue(field: FieldIndex, doc: number, cell: CellValue): void {
    if (field instanceof NestedField) {
      const children = nestedChildren(field.schema, cell);
      if (children) field.add(doc, children);
      return;
    }
    if (!field.schema.isArray) {
      const value = fieldValue(field.schema, cell);
      if (value === undefined) return;
      if (field instanceof NumericField) field.addOne(doc, value as number);
      else if (field instanceof KeywordField) field.addOne(doc, value as string);
      else field.add(doc, [value as string]);
      return;
    }
    const values = fieldValues(field.schema, cell);
    if (!values || values.length === 0) return;
    if (field instanceof NumericField) field.add(doc, values as number[]);
    else field.add(doc, values as string[]);
  }

  /**
   * Starts a new index's FULL phase: the rows the table holds are indexed in the background, a
   * slice of FULL_SYNC_SLICE_ROWS rows at a time, so CreateSearchIndex answers at once as the
   * service does. Nothing is visible before the visibility delay has passed since creation; after
   * that a search sees the rows indexed so far, and the phase turns INCR when all are.
   */
  startFullSync(): void {
    this.built = true;
    this.table.rowObservers.add(this);
    this.fullPhaseUntil = this.clock() + Math.max(0, this.settings.visibilityDelayMs);
    this.fullSyncAfter = '';
    this.scheduleFullSync();
  }

  /** Indexes every row the table holds now, at once (rebuilding on start: no FULL phase). */
  rebuild(): void {
    this.built = true;
    this.table.rowObservers.add(this);
    for (const [key, row] of this.table.rows.entries()) this.apply(key, row);
    for (const field of this.fields.values()) if (field instanceof NumericField) field.merge();
    this.syncedTo = this.clock();
  }

  private scheduleFullSync(): void {
    this.cancelFullSync = this.schedule(() => {
      this.cancelFullSync = undefined;
      this.fullSyncSlice();
      if (this.fullSyncAfter !== undefined) this.scheduleFullSync();
    });
  }

  /** Indexes the next slice of the FULL phase's rows, in key order. */
  private fullSyncSlice(): void {
    const after = this.fullSyncAfter;
    if (after === undefined) return;
    // The smallest key after `after` is `after` + NUL; every key sorts before U+0100.
    const lower = after === '' ? '' : `${after}\u0000`;
    let indexed = 0;
    let last = after;
    for (const [key, row] of this.table.rows.ascending(lower, '\u0100')) {
      this.apply(key, row);
      last = key;
      if (++indexed >= FULL_SYNC_SLICE_ROWS) break;
    }
    if (indexed === FULL_SYNC_SLICE_ROWS) {
      this.fullSyncAfter = last;
      return;
    }
    this.fullSyncAfter = undefined;
    for (const field of this.fields.values()) if (field instanceof NumericField) field.merge();
    if (this.pending.length === 0) this.syncedTo = Math.max(this.syncedTo, this.clock());
  }

  /** Stops following the table and any FULL phase still running (deleted, or shut down). */
  detach(): void {
    this.table.rowObservers.delete(this);
    this.cancelFullSync?.();
    this.cancelFullSync = undefined;
    this.fullSyncAfter = undefined;
  }

  rowChanged(key: string, row: Row | null): void {
    const now = this.clock();
    const delay = this.settings.visibilityDelayMs;
    if (delay <= 0 && this.pending.length === 0) {
      this.apply(key, row);
      this.syncedTo = now;
      return;
    }
    this.pending.push({ key, row, visibleAt: now + Math.max(0, delay) });
  }

  /**
   * Applies the changes whose time has come; returns the sync phase now. While the FULL phase
   * runs, a caller first indexes one more slice of it (a table of one slice or less is then
   * complete at the first search, whatever the background has done).
   */
  catchUp(): SyncPhase {
    this.fullSyncSlice();
    const now = this.clock();
    let applied = 0;
    while (
      applied < this.pending.length &&
      (this.pending[applied] as PendingChange).visibleAt <= now
    ) {
      const change = this.pending[applied] as PendingChange;
      this.apply(change.key, change.row);
      this.syncedTo = change.visibleAt;
      applied++;
    }
    if (applied > 0) this.pending.splice(0, applied);
    if (this.pending.length === 0) this.syncedTo = Math.max(this.syncedTo, now);
    if (
      this.fullSyncAfter === undefined &&
      this.docCount > 65536 &&
      this.docCount - this.liveCount > this.liveCount
    )
      this.compact();
    return this.fullSyncAfter !== undefined || now < this.fullPhaseUntil ? 'FULL' : 'INCR';
  }

  private apply(key: string, row: Row | null): void {
    this.visibleCache = undefined;
    const old = this.docOf.get(key);
    if (old !== undefined) {
      this.live[old] = 0;
      this.liveCount--;
      this.docOf.delete(key);
      for (const field of this.fields.values()) field.remove(old);
    }
    if (row) this.addDoc(key, row);
  }

  private addDoc(key: string, row: Row): void {
    const doc = this.docCount++;
    this.live = growBytes(this.live, doc + 1);
    this.writtenAt = growFloat(this.writtenAt, doc + 1);
    this.live[doc] = 1;
    this.liveCount++;
    this.docKeys[doc] = key;
    this.docOf.set(key, doc);
    let newest = 0;
    for (const column of row.columns) {
      const latest = column.cells[0];
      if (!latest) continue;
      if (latest.ts > newest) newest = latest.ts;
      const field = this.fields.get(column.name);
      if (field) this.addValue(field, doc, latest.value);
    }
    this.writtenAt[doc] = newest;
    for (const [position, field] of this.keyFields)
      this.addValue(field, doc, row.pk[position] as PkValue);
  }

  /** Renumbers the live documents, dropping dead ones. */
  private compact(): void {
    this.visibleCache = undefined;
    const rows: Array<[string, Row]> = [];
    for (let doc = 0; doc < this.docCount; doc++) {
      if (!this.live[doc]) continue;
      const key = this.docKeys[doc] as string;
      const row = this.table.rows.get(key);
      if (row) rows.push([key, row]);
    }
    this.live = new Uint8Array(1024);
    this.writtenAt = new Float64Array(1024);
    this.docKeys = [];
    this.docCount = 0;
    this.liveCount = 0;
    this.docOf.clear();
    this.resetFields();
    for (const [key, row] of rows) this.addDoc(key, row);
    for (const field of this.fields.values()) if (field instanceof NumericField) field.merge();
  }

  /**
   * Docs a search may return now: live, and neither the index's nor the table's time to live
   * has passed since the row was written.
   */
  visibleDocs(): Uint8Array {
    const now = this.clock();
    // Rows indexed in the FULL phase show once the delay has passed since creation, and every
    // later change shows its own delay after it was written, so nothing shows before then.
    if (now < this.fullPhaseUntil) return new Uint8Array(this.docCount);
    let oldest = Number.NEGATIVE_INFINITY;
    if (this.meta.timeToLive > 0) oldest = now - this.meta.timeToLive * 1000;
    const tableTtl = this.table.meta.options.timeToLive;
    if (tableTtl > 0) oldest = Math.max(oldest, now - tableTtl * 1000);
    const live = this.live;
    if (oldest === Number.NEGATIVE_INFINITY) {
      // Shared between searches until the next change: callers only read it.
      if (this.visibleCache?.length !== this.docCount)
        this.visibleCache = live.slice(0, this.docCount);
      return this.visibleCache;
    }
    const bits = new Uint8Array(this.docCount);
    const written = this.writtenAt;
    for (let doc = 0; doc < this.docCount; doc++)
      if (live[doc] && (written[doc] as number) >= oldest) bits[doc] = 1;
    return bits;
  }

  /** Estimated bytes of the index's structures. */
  storageBytes(): number {
    let bytes = this.live.byteLength + this.writtenAt.byteLength;
    for (const field of this.fields.values()) bytes += field.bytes();
    return bytes;
  }

  /** Rows a search can see now. */
  rowCount(): number {
    const bits = this.visibleDocs();
    let count = 0;
    for (let i = 0; i < bits.length; i++) count += bits[i] as number;
    return count;
  }

  get isBuilt(): boolean {
    return this.built;
  }
}
