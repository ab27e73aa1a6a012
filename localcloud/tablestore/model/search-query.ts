// Queries over a search index: checked against the index schema, evaluated to a bitmap of
// documents with the inverted and ordered structures, then sorted (field, primary key, score;
// the primary key always breaks ties, as the service appends it), paged by offset or by a cursor
// that stays valid while rows are written (the next page starts strictly after the last row's
// sort values), and aggregated.

import { invalid } from './errors';
import { analyze, type IndexValue, type NestedChild, parseDate } from './search-analysis';
import {
  KeywordField,
  NestedField,
  NumericField,
  type SearchIndex,
  TextField,
} from './search-index';
import {
  type FieldSchema,
  fieldTypeName,
  findField,
  type MissingPlacement,
  SEARCH_LIMITS,
  type Sorter,
  type SortOrder,
} from './search-schema';
import { compareStrings } from './values';

/** A value in a query, as the request typed it. */
export type SearchValue =
  | { t: 'int'; v: bigint }
  | { t: 'double'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bool'; v: boolean };

export type Query =
  | { kind: 'match_all' }
  | { kind: 'term'; field: string; value: SearchValue }
  | { kind: 'terms'; field: string; values: SearchValue[] }
  | {
      kind: 'range';
      field: string;
      from?: SearchValue;
      to?: SearchValue;
      includeLower: boolean;
      includeUpper: boolean;
    }
  | { kind: 'prefix'; field: string; prefix: string }
  | { kind: 'wildcard'; field: string; pattern: string }
  | { kind: 'exists'; field: string }
  | {
      kind: 'match';
      field: string;
      text: string;
      operator: 'OR' | 'AND';
      minimumShouldMatch?: number;
    }
  | { kind: 'match_phrase'; field: string; text: string }
  | {
      kind: 'bool';
      must: Query[];
      mustNot: Query[];
      filter: Query[];
      should: Query[];
      minimumShouldMatch?: number;
    }
  | { kind: 'const_score'; filter: Query }
  | { kind: 'nested'; path: string; query: Query };

export type MetricKind = 'avg' | 'max' | 'min' | 'sum' | 'count' | 'distinct_count';

export interface Aggregation {
  name: string;
  kind: MetricKind;
  field: string;
  missing?: SearchValue;
}

export type GroupSorter =
  | { kind: 'key'; order: SortOrder }
  | { kind: 'count'; order: SortOrder }
  | { kind: 'sub_agg'; name: string; order: SortOrder };

export interface GroupByCommon {
  name: string;
  subAggs: Aggregation[];
  subGroupBys: GroupBy[];
}

export type DateUnit =
  | 'YEAR'
  | 'QUARTER_YEAR'
  | 'MONTH'
  | 'WEEK'
  | 'DAY'
  | 'HOUR'
  | 'MINUTE'
  | 'SECOND'
  | 'MILLISECOND';

export type GroupBy = GroupByCommon &
  (
    | { kind: 'field'; field: string; size?: number; sort: GroupSorter[]; minDocCount?: number }
    | { kind: 'range'; field: string; ranges: Array<{ from: number; to: number }> }
    | { kind: 'filter'; filters: Query[] }
    | {
        kind: 'histogram';
        field: string;
        interval: SearchValue;
        fieldRange?: { min: SearchValue; max: SearchValue };
        missing?: SearchValue;
        minDocCount?: number;
        offset?: SearchValue;
        sort: GroupSorter[];
      }
    | {
        kind: 'date_histogram';
        field: string;
        interval: { value: number; unit: DateUnit };
        fieldRange?: { min: SearchValue; max: SearchValue };
        missing?: SearchValue;
        minDocCount?: number;
        timeZone?: string;
        offset?: { value: number; unit: DateUnit };
        sort: GroupSorter[];
      }
  );

/** Where the next page starts: the last returned row's sort values and key. */
export interface SearchCursor {
  sorters: Sorter[];
  after: Array<number | string | null>;
  key: string;
}

export interface SearchPlan {
  query: Query;
  sorters?: Sorter[];
  offset: number;
  limit: number;
  cursor?: SearchCursor;
  getTotalCount: boolean;
  aggs: Aggregation[];
  groupBys: GroupBy[];
}

export type AggregationResult = { name: string; kind: MetricKind; value: number };

export interface GroupItem {
  key: string | number;
  /** Range buckets: their bounds. */
  from?: number;
  to?: number;
  rowCount: number;
  subAggs: AggregationResult[];
  subGroupBys: GroupByResult[];
}

export interface GroupByResult {
  name: string;
  kind: GroupBy['kind'];
  /** histogram keys are typed as the field is (LONG keys are integers). */
  keyType?: 'int' | 'double';
  items: GroupItem[];
}

export interface SearchOutcome {
  docs: number[];
  /** -1 when the request did not ask for the total. */
  totalHits: number;
  next?: SearchCursor;
  sorters: Sorter[];
  aggs: AggregationResult[];
  groupBys: GroupByResult[];
}

// ------------------------------------------------------------------------------ resolving

interface FieldRef {
  path: string;
  schema: FieldSchema;
  /** The NESTED field the path lies in, if any. */
  nestedPath?: string;
}

function typeOfValue(value: SearchValue): string {
  return value.t === 'int'
    ? 'long'
    : value.t === 'str'
      ? 'string'
      : value.t === 'bool'
        ? 'boolean'
        : 'double';
}

/** A query value in the field's domain: numbers for numeric fields, strings for text ones. */
export function toDomain(schema: FieldSchema, value: SearchValue, what: string): IndexValue {
  switch (schema.type) {
    case 'LONG':
    case 'DOUBLE':
      if (value.t === 'int') return Number(value.v);
      if (value.t === 'double') return value.v;
      break;
    case 'DATE': {
      if (value.t === 'int') return Number(value.v);
      if (value.t === 'double') return Math.trunc(value.v);
      if (value.t === 'str') {
        const parsed = parseDate(value.v, schema.dateFormats);
        if (parsed !== undefined) return parsed;
        throw invalid(`${what}: '${value.v}' is not a date of field ${schema.name}.`);
      }
      break;
    }
    case 'BOOLEAN':
      if (value.t === 'bool') return value.v ? 1 : 0;
      break;
    case 'KEYWORD':
    case 'TEXT':
      if (value.t === 'str') return value.v;
      break;
  }
  throw invalid(
    `${what}: a ${typeOfValue(value)} value does not match field ${schema.name} of type ${fieldTypeName(schema.type)}.`,
  );
}

class Resolver {
  queries = 0;
  constructor(private readonly index: SearchIndex) {}

  field(path: string, what: string, nestedScope: string | undefined): FieldRef {
    const found = findField(this.index.meta.fields, path);
    if (!found) throw invalid(`${what} field: ${path} does not exist.`);
    if (found.nestedPath !== nestedScope) {
      if (found.nestedPath === undefined) {
        throw invalid(`${what} field: ${path} is not in the nested path '${nestedScope}'.`);
      }
      throw invalid(
        `${what} field: ${path} is in the nested field '${found.nestedPath}': query it inside a NestedQuery with path '${found.nestedPath}'.`,
      );
    }
    return {
      path,
      schema: found.field,
      ...(found.nestedPath ? { nestedPath: found.nestedPath } : {}),
    };
  }

  indexed(path: string, what: string, scope: string | undefined): FieldRef {
    const ref = this.field(path, what, scope);
    if (ref.schema.type === 'NESTED')
      throw invalid(`${what} field: ${path} is a nested field: use a NestedQuery.`);
    if (!ref.schema.index) throw invalid(`${what} field: ${path} is not indexed (index=false).`);
    return ref;
  }

  check(query: Query, scope: string | undefined): void {
    this.queries += 1;
    if (this.queries > SEARCH_LIMITS.queriesPerSearch) {
      throw invalid(
        `Too many queries in one Search: at most ${SEARCH_LIMITS.queriesPerSearch} are allowed.`,
      );
    }
    switch (query.kind) {
      case 'match_all':
        return;
      case 'term': {
        const ref = this.indexed(query.field, '[term query]', scope);
        toDomain(ref.schema, query.value, '[term query]');
        return;
      }
      case 'terms': {
        const ref = this.indexed(query.field, '[terms query]', scope);
        if (query.values.length === 0) throw invalid('[terms query] terms must not be empty.');
        if (query.values.length > SEARCH_LIMITS.termsPerTermsQuery) {
          throw invalid(
            `[terms query] at most ${SEARCH_LIMITS.termsPerTermsQuery} terms are allowed, got ${query.values.length}.`,
          );
        }
        for (const value of query.values) toDomain(ref.schema, value, '[terms query]');
        return;
      }
      case 'range': {
        const ref = this.indexed(query.field, '[range query]', scope);
        if (ref.schema.type === 'TEXT')
          throw invalid(
            `[range query] field: ${query.field} of type text does not support range queries.`,
          );
        if (query.from) toDomain(ref.schema, query.from, '[range query]');
        if (query.to) toDomain(ref.schema, query.to, '[range query]');
        return;
      }
      case 'prefix':
      case 'wildcard': {
        const what = `[${query.kind} query]`;
        const ref = this.indexed(query.field, what, scope);
        if (ref.schema.type !== 'KEYWORD' && ref.schema.type !== 'TEXT') {
          throw invalid(
            `${what} field: ${query.field} of type ${fieldTypeName(ref.schema.type)} is invalid, allow [keyword, text].`,
          );
        }
        if (
          query.kind === 'prefix' &&
          Buffer.byteLength(query.prefix, 'utf8') > SEARCH_LIMITS.prefixBytes
        ) {
          throw invalid(
            `[prefix query] the prefix may be at most ${SEARCH_LIMITS.prefixBytes} bytes.`,
          );
        }
        if (query.kind === 'wildcard' && [...query.pattern].length > SEARCH_LIMITS.wildcardChars) {
          throw invalid(
            `[wildcard query] the pattern may be at most ${SEARCH_LIMITS.wildcardChars} characters.`,
          );
        }
        return;
      }
      case 'exists':
        this.field(query.field, '[exists query]', scope);
        return;
      case 'match':
      case 'match_phrase': {
        const what = query.kind === 'match' ? '[match query]' : '[match phrase query]';
        const ref = this.indexed(query.field, what, scope);
        if (query.kind === 'match_phrase' && ref.schema.type !== 'TEXT')
          throw invalid(
            `${what} field: ${query.field} of type ${fieldTypeName(ref.schema.type)} is invalid, allow [text].`,
          );
        if (ref.schema.type !== 'TEXT') toDomain(ref.schema, { t: 'str', v: query.text }, what);
        return;
      }
      case 'bool': {
        const all = [...query.must, ...query.mustNot, ...query.filter, ...query.should];
        if (
          query.minimumShouldMatch !== undefined &&
          query.minimumShouldMatch > query.should.length
        ) {
          throw invalid(
            `[bool query] minimum_should_match (${query.minimumShouldMatch}) is larger than the number of should queries (${query.should.length}).`,
          );
        }
        for (const sub of all) this.check(sub, scope);
        return;
      }
      case 'const_score':
        this.check(query.filter, scope);
        return;
      case 'nested': {
        const ref = this.field(query.path, '[nested query]', scope);
        if (ref.schema.type !== 'NESTED')
          throw invalid(`[nested query] path: ${query.path} is not a nested field.`);
        this.check(query.query, query.path);
        return;
      }
    }
  }
}

// ------------------------------------------------------------------------------ evaluation

function fieldIndex(index: SearchIndex, path: string) {
  return index.fields.get(path);
}

function setPostings(
  bits: Uint8Array,
  postings: { ids: ArrayLike<number>; length: number } | undefined,
): void {
  if (!postings) return;
  const ids = postings.ids;
  for (let i = 0; i < postings.length; i++) bits[ids[i] as number] = 1;
}

function wildcardRegex(pattern: string): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

function inRange(
  value: IndexValue,
  from: IndexValue | undefined,
  to: IndexValue | undefined,
  includeLower: boolean,
  includeUpper: boolean,
): boolean {
  const cmp = (a: IndexValue, b: IndexValue) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : compareStrings(String(a), String(b));
  if (from !== undefined) {
    const c = cmp(value, from);
    if (c < 0 || (c === 0 && !includeLower)) return false;
  }
  if (to !== undefined) {
    const c = cmp(value, to);
    if (c > 0 || (c === 0 && !includeUpper)) return false;
  }
  return true;
}

function hasPhrase(tokens: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 0) return false;
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    let ok = true;
    for (let j = 0; j < phrase.length; j++) {
      if (tokens[i + j] !== phrase[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Evaluates a query on one NESTED child; `prefix` is the child's path ("a" or "a.b"). */
function matchesChild(
  query: Query,
  child: NestedChild,
  schema: FieldSchema,
  prefix: string,
): boolean {
  const sub = (path: string): { schema: FieldSchema; values: unknown[] } | undefined => {
    const name = path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
    const subSchema = schema.subFields?.find((field) => field.name === name);
    if (!subSchema) return undefined;
    const values = child[name];
    return { schema: subSchema, values: Array.isArray(values) ? values : [] };
  };
  switch (query.kind) {
    case 'match_all':
      return true;
    case 'term': {
      const s = sub(query.field);
      if (!s) return false;
      const term = toDomain(s.schema, query.value, '[term query]');
      if (s.schema.type === 'TEXT')
        return s.values.some((v) => analyze(s.schema, String(v)).includes(String(term)));
      return s.values.some((v) => v === term);
    }
    case 'terms': {
      const s = sub(query.field);
      if (!s) return false;
      const terms = new Set(query.values.map((v) => toDomain(s.schema, v, '[terms query]')));
      return s.values.some((v) => terms.has(v as IndexValue));
    }
    case 'range': {
      const s = sub(query.field);
      if (!s) return false;
      const from = query.from ? toDomain(s.schema, query.from, '[range query]') : undefined;
      const to = query.to ? toDomain(s.schema, query.to, '[range query]') : undefined;
      return s.values.some((v) =>
        inRange(v as IndexValue, from, to, query.includeLower, query.includeUpper),
      );
    }
    case 'prefix':
    case 'wildcard': {
      const s = sub(query.field);
      if (!s) return false;
      const test =
        query.kind === 'prefix'
          ? (text: string) => text.startsWith(query.prefix)
          : (text: string) => wildcardRegex(query.pattern).test(text);
      if (s.schema.type === 'TEXT')
        return s.values.some((v) => analyze(s.schema, String(v)).some(test));
      return s.values.some((v) => test(String(v)));
    }
    case 'exists': {
      const s = sub(query.field);
      return s !== undefined && s.values.length > 0;
    }
    case 'match': {
      const s = sub(query.field);
      if (!s) return false;
      if (s.schema.type !== 'TEXT')
        return s.values.some(
          (v) => v === toDomain(s.schema, { t: 'str', v: query.text }, '[match query]'),
        );
      const wanted = [...new Set(analyze(s.schema, query.text))];
      const tokens = new Set(s.values.flatMap((v) => analyze(s.schema, String(v))));
      const hits = wanted.filter((token) => tokens.has(token)).length;
      if (query.operator === 'AND') return wanted.length > 0 && hits === wanted.length;
      return hits >= Math.max(1, query.minimumShouldMatch ?? 1);
    }
    case 'match_phrase': {
      const s = sub(query.field);
      if (!s) return false;
      const phrase = analyze(s.schema, query.text);
      return s.values.some((v) => hasPhrase(analyze(s.schema, String(v)), phrase));
    }
    case 'bool': {
      if (!query.must.every((q) => matchesChild(q, child, schema, prefix))) return false;
      if (!query.filter.every((q) => matchesChild(q, child, schema, prefix))) return false;
      if (query.mustNot.some((q) => matchesChild(q, child, schema, prefix))) return false;
      const needed = shouldNeeded(query);
      if (needed === 0) return true;
      return query.should.filter((q) => matchesChild(q, child, schema, prefix)).length >= needed;
    }
    case 'const_score':
      return matchesChild(query.filter, child, schema, prefix);
    case 'nested': {
      const name = query.path.startsWith(`${prefix}.`)
        ? query.path.slice(prefix.length + 1)
        : query.path;
      const inner = schema.subFields?.find((field) => field.name === name);
      const children = child[name];
      if (!inner || !Array.isArray(children)) return false;
      return (children as NestedChild[]).some((c) =>
        matchesChild(query.query, c, inner, query.path),
      );
    }
  }
}

function shouldNeeded(query: Extract<Query, { kind: 'bool' }>): number {
  if (query.should.length === 0) return 0;
  if (query.minimumShouldMatch !== undefined) return query.minimumShouldMatch;
  return query.must.length === 0 && query.filter.length === 0 ? 1 : 0;
}

class Evaluator {
  constructor(private readonly index: SearchIndex) {}

  private empty(): Uint8Array {
    return new Uint8Array(this.index.docCount);
  }

  private schemaOf(path: string): FieldSchema {
    return (findField(this.index.meta.fields, path) as { field: FieldSchema }).field;
  }

  /** Docs whose KEYWORD terms or TEXT tokens satisfy `test`. */
  private termsWhere(path: string, test: (term: string) => boolean): Uint8Array {
    const bits = this.empty();
    const field = fieldIndex(this.index, path);
    if (field instanceof KeywordField) {
      for (let id = 0; id < field.terms.length; id++)
        if (test(field.terms[id] as string)) setPostings(bits, field.postings[id]);
    } else if (field instanceof TextField) {
      for (const [token, postings] of field.postings) if (test(token)) setPostings(bits, postings);
    }
    return bits;
  }

  private termBits(path: string, value: IndexValue): Uint8Array {
    const field = fieldIndex(this.index, path);
    const bits = this.empty();
    if (field instanceof NumericField)
      field.range(bits, value as number, value as number, true, true);
    else if (field instanceof KeywordField) {
      const id = field.termIds.get(value as string);
      if (id !== undefined) setPostings(bits, field.postings[id]);
    } else if (field instanceof TextField) setPostings(bits, field.postings.get(value as string));
    return bits;
  }

  evaluate(query: Query): Uint8Array {
    switch (query.kind) {
      case 'match_all': {
        const bits = this.empty();
        bits.fill(1);
        return bits;
      }
      case 'term':
        return this.termBits(
          query.field,
          toDomain(this.schemaOf(query.field), query.value, '[term query]'),
        );
      case 'terms': {
        const schema = this.schemaOf(query.field);
        const bits = this.empty();
        for (const value of query.values) {
          const one = this.termBits(query.field, toDomain(schema, value, '[terms query]'));
          for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] as number) | (one[i] as number);
        }
        return bits;
      }
      case 'range': {
        const schema = this.schemaOf(query.field);
        const from = query.from ? toDomain(schema, query.from, '[range query]') : undefined;
        const to = query.to ? toDomain(schema, query.to, '[range query]') : undefined;
        const field = fieldIndex(this.index, query.field);
        if (field instanceof NumericField) {
          const bits = this.empty();
          field.range(
            bits,
            from as number | undefined,
            to as number | undefined,
            query.includeLower,
            query.includeUpper,
          );
          return bits;
        }
        return this.termsWhere(query.field, (term) =>
          inRange(term, from, to, query.includeLower, query.includeUpper),
        );
      }
      case 'prefix':
        return this.termsWhere(query.field, (term) => term.startsWith(query.prefix));
      case 'wildcard': {
        const regex = wildcardRegex(query.pattern);
        return this.termsWhere(query.field, (term) => regex.test(term));
      }
      case 'exists': {
        const bits = this.empty();
        const field = fieldIndex(this.index, query.field);
        if (field instanceof NumericField) bits.set(field.has.subarray(0, bits.length));
        else if (field instanceof KeywordField) {
          for (let doc = 0; doc < bits.length; doc++)
            if ((field.termOf[doc] as number) >= 0) bits[doc] = 1;
        } else if (field instanceof TextField) {
          for (const doc of field.tokensOf.keys()) bits[doc] = 1;
        } else if (field instanceof NestedField) {
          for (const [doc, children] of field.children) if (children.length > 0) bits[doc] = 1;
        }
        return bits;
      }
      case 'match': {
        const schema = this.schemaOf(query.field);
        if (schema.type !== 'TEXT')
          return this.termBits(
            query.field,
            toDomain(schema, { t: 'str', v: query.text }, '[match query]'),
          );
        const tokens = [...new Set(analyze(schema, query.text))];
        const counts = new Uint16Array(this.index.docCount);
        const field = fieldIndex(this.index, query.field) as TextField;
        for (const token of tokens) {
          const postings = field.postings.get(token);
          if (!postings) continue;
          for (let i = 0; i < postings.length; i++) {
            const doc = postings.ids[i] as number;
            counts[doc] = (counts[doc] as number) + 1;
          }
        }
        const needed =
          query.operator === 'AND' ? tokens.length : Math.max(1, query.minimumShouldMatch ?? 1);
        const bits = this.empty();
        if (tokens.length === 0) return bits;
        for (let doc = 0; doc < bits.length; doc++)
          if ((counts[doc] as number) >= needed) bits[doc] = 1;
        return bits;
      }
      case 'match_phrase': {
        const schema = this.schemaOf(query.field);
        const phrase = analyze(schema, query.text);
        const field = fieldIndex(this.index, query.field) as TextField;
        const bits = this.empty();
        if (phrase.length === 0) return bits;
        const first = field.postings.get(phrase[0] as string);
        if (!first) return bits;
        for (let i = 0; i < first.length; i++) {
          const doc = first.ids[i] as number;
          const values = field.tokensOf.get(doc);
          if (values?.some((tokens) => hasPhrase(tokens, phrase))) bits[doc] = 1;
        }
        return bits;
      }
      case 'bool': {
        let bits: Uint8Array | undefined;
        for (const sub of [...query.must, ...query.filter]) {
          const one = this.evaluate(sub);
          if (!bits) bits = one;
          else
            for (let i = 0; i < bits.length; i++)
              bits[i] = (bits[i] as number) & (one[i] as number);
        }
        const needed = shouldNeeded(query);
        if (needed > 0) {
          const counts = new Uint16Array(this.index.docCount);
          for (const sub of query.should) {
            const one = this.evaluate(sub);
            for (let i = 0; i < one.length; i++)
              counts[i] = (counts[i] as number) + (one[i] as number);
          }
          if (!bits) {
            bits = this.empty();
            bits.fill(1);
          }
          for (let i = 0; i < bits.length; i++) if ((counts[i] as number) < needed) bits[i] = 0;
        }
        if (!bits) {
          bits = this.empty();
          bits.fill(1);
        }
        for (const sub of query.mustNot) {
          const one = this.evaluate(sub);
          for (let i = 0; i < bits.length; i++) if (one[i]) bits[i] = 0;
        }
        return bits;
      }
      case 'const_score':
        return this.evaluate(query.filter);
      case 'nested': {
        const top = query.path.split('.')[0] as string;
        const field = fieldIndex(this.index, top);
        const bits = this.empty();
        if (!(field instanceof NestedField)) return bits;
        const innerPath = query.path.split('.').slice(1);
        for (const [doc, children] of field.children) {
          let candidates: Array<{ child: NestedChild; schema: FieldSchema; prefix: string }> =
            children.map((child) => ({ child, schema: field.schema, prefix: top }));
          for (const name of innerPath) {
            const next: typeof candidates = [];
            for (const c of candidates) {
              const subSchema = c.schema.subFields?.find((f) => f.name === name);
              const inner = c.child[name];
              if (!subSchema || !Array.isArray(inner)) continue;
              for (const child of inner as NestedChild[])
                next.push({ child, schema: subSchema, prefix: `${c.prefix}.${name}` });
            }
            candidates = next;
          }
          if (candidates.some((c) => matchesChild(query.query, c.child, c.schema, c.prefix)))
            bits[doc] = 1;
        }
        return bits;
      }
    }
  }

  /** A relevance score (BM25 over TEXT fields, 1 per other matching clause). */
  score(query: Query, doc: number): number {
    switch (query.kind) {
      case 'match':
      case 'match_phrase':
      case 'term': {
        const field = fieldIndex(this.index, query.field);
        if (!(field instanceof TextField)) return 1;
        const text =
          query.kind === 'term' ? (query.value.t === 'str' ? query.value.v : '') : query.text;
        const tokens = query.kind === 'term' ? [text] : analyze(field.schema, text);
        const docTokens = (field.tokensOf.get(doc) ?? []).flat();
        const n = Math.max(1, this.index.liveCount);
        const avg = Math.max(1, field.totalTokens / n);
        let score = 0;
        for (const token of tokens) {
          const tf = docTokens.filter((t) => t === token).length;
          if (tf === 0) continue;
          const df = field.postings.get(token)?.length ?? 0;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * docTokens.length) / avg));
        }
        return score;
      }
      case 'bool': {
        let score = 0;
        for (const sub of [...query.must, ...query.should]) {
          if (this.evaluateOne(sub, doc)) score += this.score(sub, doc);
        }
        return score;
      }
      case 'const_score':
        return 1;
      default:
        return 1;
    }
  }

  private readonly memo = new Map<Query, Uint8Array>();
  private evaluateOne(query: Query, doc: number): boolean {
    let bits = this.memo.get(query);
    if (!bits) {
      bits = this.evaluate(query);
      this.memo.set(query, bits);
    }
    return bits[doc] === 1;
  }
}

// ------------------------------------------------------------------------------ sorting

type SortValue = number | string | undefined;

interface ResolvedSorter {
  sorter: Sorter;
  keyOf(doc: number): SortValue;
  compareValues(a: SortValue, b: SortValue): number;
}

function baseCompare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return compareStrings(String(a), String(b));
}

function placementCompare(
  a: SortValue,
  b: SortValue,
  order: SortOrder,
  missing: MissingPlacement | undefined,
): number {
  if (a === undefined || b === undefined) {
    if (a === undefined && b === undefined) return 0;
    const first = missing?.kind === 'first';
    return a === undefined ? (first ? -1 : 1) : first ? 1 : -1;
  }
  const c = baseCompare(a, b);
  return order === 'DESC' ? -c : c;
}

function resolveSorters(
  index: SearchIndex,
  sorters: readonly Sorter[],
  scores: Map<number, number> | undefined,
): ResolvedSorter[] {
  return sorters.map((sorter): ResolvedSorter => {
    if (sorter.kind === 'pk') {
      return {
        sorter,
        keyOf: (doc) => index.docKeys[doc],
        compareValues: (a, b) => placementCompare(a, b, sorter.order, undefined),
      };
    }
    if (sorter.kind === 'score') {
      return {
        sorter,
        keyOf: (doc) => scores?.get(doc) ?? 0,
        compareValues: (a, b) => placementCompare(a, b, sorter.order, undefined),
      };
    }
    const field = index.fields.get(sorter.field);
    const schema = (field as { schema: FieldSchema }).schema;
    let missingValue: SortValue;
    if (sorter.missing.kind === 'value') {
      const raw = sorter.missing.value as SearchValue;
      missingValue = toDomain(schema, raw, '[field sort] missing value');
    }
    const mode = sorter.mode ?? (sorter.order === 'DESC' ? 'MAX' : 'MIN');
    const pick = (values: readonly (number | string)[]): SortValue => {
      if (values.length === 0) return missingValue;
      if (values.length === 1) return values[0];
      if (mode === 'AVG' && typeof values[0] === 'number')
        return (values as number[]).reduce((sum, v) => sum + v, 0) / values.length;
      let best = values[0] as number | string;
      for (const value of values) {
        const c = baseCompare(value, best);
        if ((mode === 'MAX' && c > 0) || (mode !== 'MAX' && c < 0)) best = value;
      }
      return best;
    };
    let keyOf: (doc: number) => SortValue;
    if (field instanceof NumericField) {
      const { values, has } = field;
      keyOf = schema.isArray
        ? (doc) => pick(field.valuesOf(doc))
        : (doc) => (has[doc] ? (values[doc] as number) : missingValue);
    } else {
      const keyword = field as KeywordField;
      keyOf = schema.isArray
        ? (doc) => pick(keyword.valuesOf(doc))
        : (doc) => {
            const id = keyword.termOf[doc] as number;
            return id >= 0 ? (keyword.terms[id] as string) : missingValue;
          };
    }
    return {
      sorter,
      keyOf,
      compareValues: (a, b) => placementCompare(a, b, sorter.order, sorter.missing),
    };
  });
}

function checkSorters(index: SearchIndex, sorters: readonly Sorter[]): void {
  for (const sorter of sorters) {
    if (sorter.kind !== 'field') continue;
    const found = findField(index.meta.fields, sorter.field);
    if (!found) throw invalid(`[field sort] field: ${sorter.field} does not exist.`);
    if (found.nestedPath) {
      throw invalid(
        `[field sort] field: ${sorter.field} is in a nested field; localcloud does not emulate nested sorts.`,
      );
    }
    if (!found.field.sortAndAgg) {
      throw invalid(
        `[field sort] field: ${sorter.field} does not enable sort_and_agg; only such fields can be sorted.`,
      );
    }
    if (sorter.missing.kind === 'value')
      toDomain(found.field, sorter.missing.value as SearchValue, '[field sort] missing value');
  }
}

// ------------------------------------------------------------------------------ aggregations

const NUMERIC_AGG: Record<MetricKind, readonly string[]> = {
  avg: ['LONG', 'DOUBLE'],
  sum: ['LONG', 'DOUBLE'],
  min: ['LONG', 'DOUBLE', 'DATE'],
  max: ['LONG', 'DOUBLE', 'DATE'],
  count: ['LONG', 'DOUBLE', 'BOOLEAN', 'KEYWORD', 'DATE'],
  distinct_count: ['LONG', 'DOUBLE', 'BOOLEAN', 'KEYWORD', 'DATE'],
};

const AGG_LABEL: Record<MetricKind, string> = {
  avg: 'avg agg',
  sum: 'sum agg',
  min: 'min agg',
  max: 'max agg',
  count: 'count agg',
  distinct_count: 'distinct count agg',
};

function aggField(
  index: SearchIndex,
  field: string,
  label: string,
  allowed: readonly string[],
): FieldSchema {
  const found = findField(index.meta.fields, field);
  if (!found) throw invalid(`[${label}] field: ${field} does not exist.`);
  if (found.nestedPath || !allowed.includes(found.field.type)) {
    throw invalid(
      `[${label}] field_name:${field} type:${fieldTypeName(found.field.type)} is invalid, allow [${allowed.map((t) => t.toLowerCase()).join(', ')}].`,
    );
  }
  if (!found.field.sortAndAgg) {
    throw invalid(`[${label}] field: ${field} does not enable sort_and_agg.`);
  }
  return found.field;
}

function checkNames(items: ReadonlyArray<{ name: string }>, what: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (!item.name) throw invalid(`The name of ${what} must not be empty.`);
    if (seen.has(item.name)) throw invalid(`Duplicated ${what} name: '${item.name}'.`);
    seen.add(item.name);
  }
}

function checkAggregations(
  index: SearchIndex,
  aggs: readonly Aggregation[],
  groupBys: readonly GroupBy[],
  depth: number,
  resolver: Resolver,
): void {
  if (aggs.length > SEARCH_LIMITS.aggregationsPerLevel) {
    throw invalid(
      `Too many aggregations: at most ${SEARCH_LIMITS.aggregationsPerLevel} per level are allowed.`,
    );
  }
  if (groupBys.length > SEARCH_LIMITS.groupBysPerLevel) {
    throw invalid(
      `Too many group bys: at most ${SEARCH_LIMITS.groupBysPerLevel} per level are allowed.`,
    );
  }
  if (groupBys.length > 0 && depth >= SEARCH_LIMITS.groupByDepth) {
    throw invalid(`Group bys may be nested at most ${SEARCH_LIMITS.groupByDepth} levels deep.`);
  }
  checkNames(aggs, 'aggregation');
  checkNames(groupBys, 'group by');
  for (const agg of aggs) {
    const schema = aggField(index, agg.field, AGG_LABEL[agg.kind], NUMERIC_AGG[agg.kind]);
    if (agg.missing) toDomain(schema, agg.missing, `[${AGG_LABEL[agg.kind]}] missing`);
  }
  for (const groupBy of groupBys) {
    const label = `group by ${groupBy.kind.replace('_', ' ')}`;
    switch (groupBy.kind) {
      case 'field': {
        aggField(index, groupBy.field, label, ['LONG', 'DOUBLE', 'BOOLEAN', 'KEYWORD', 'DATE']);
        if (
          groupBy.size !== undefined &&
          (groupBy.size <= 0 || groupBy.size > SEARCH_LIMITS.groupByFieldSize)
        ) {
          throw invalid(
            `[${label}] size must be in [1, ${SEARCH_LIMITS.groupByFieldSize}], got ${groupBy.size}.`,
          );
        }
        for (const sorter of groupBy.sort) {
          if (sorter.kind === 'sub_agg' && !groupBy.subAggs.some((agg) => agg.name === sorter.name))
            throw invalid(`[${label}] sub aggregation '${sorter.name}' to sort by does not exist.`);
        }
        break;
      }
      case 'range':
        aggField(index, groupBy.field, label, ['LONG', 'DOUBLE', 'DATE']);
        if (groupBy.ranges.length === 0) throw invalid(`[${label}] ranges must not be empty.`);
        if (groupBy.ranges.length > SEARCH_LIMITS.groupByRangeRanges) {
          throw invalid(
            `[${label}] at most ${SEARCH_LIMITS.groupByRangeRanges} ranges are allowed.`,
          );
        }
        break;
      case 'filter':
        if (groupBy.filters.length === 0) throw invalid(`[${label}] filters must not be empty.`);
        if (groupBy.filters.length > SEARCH_LIMITS.groupByFilterFilters) {
          throw invalid(
            `[${label}] at most ${SEARCH_LIMITS.groupByFilterFilters} filters are allowed.`,
          );
        }
        for (const filter of groupBy.filters) resolver.check(filter, undefined);
        break;
      case 'histogram': {
        const schema = aggField(index, groupBy.field, label, ['LONG', 'DOUBLE']);
        const interval = Number(toDomain(schema, groupBy.interval, `[${label}] interval`));
        if (!(interval > 0)) throw invalid(`[${label}] interval must be greater than 0.`);
        if (!groupBy.fieldRange) throw invalid(`[${label}] field_range must be set.`);
        break;
      }
      case 'date_histogram': {
        aggField(index, groupBy.field, label, ['DATE']);
        if (!(groupBy.interval.value > 0))
          throw invalid(`[${label}] interval must be greater than 0.`);
        if (!groupBy.fieldRange) throw invalid(`[${label}] field_range must be set.`);
        if (groupBy.timeZone !== undefined) timeZoneOffset(groupBy.timeZone, label);
        break;
      }
    }
    checkAggregations(index, groupBy.subAggs, groupBy.subGroupBys, depth + 1, resolver);
  }
}

function numericValues(
  index: SearchIndex,
  path: string,
  doc: number,
): readonly (number | string)[] {
  const field = index.fields.get(path);
  if (field instanceof NumericField || field instanceof KeywordField) return field.valuesOf(doc);
  return [];
}

function metric(index: SearchIndex, agg: Aggregation, docs: ArrayLike<number>): AggregationResult {
  const schema = (findField(index.meta.fields, agg.field) as { field: FieldSchema }).field;
  const missing = agg.missing ? toDomain(schema, agg.missing, 'missing') : undefined;
  const field = index.fields.get(agg.field);
  if (agg.kind === 'count') {
    let count = 0;
    for (let i = 0; i < docs.length; i++)
      if (numericValues(index, agg.field, docs[i] as number).length > 0) count++;
    return { name: agg.name, kind: agg.kind, value: count };
  }
  if (agg.kind === 'distinct_count') {
    const seen = new Set<number | string>();
    for (let i = 0; i < docs.length; i++) {
      const values = numericValues(index, agg.field, docs[i] as number);
      if (values.length === 0 && missing !== undefined) seen.add(missing);
      for (const value of values) seen.add(value);
    }
    return { name: agg.name, kind: agg.kind, value: seen.size };
  }
  let sum = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const numeric = field as NumericField;
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i] as number;
    let values: readonly number[] = numeric.valuesOf(doc);
    if (values.length === 0) {
      if (missing === undefined) continue;
      values = [missing as number];
    }
    for (const value of values) {
      sum += value;
      count++;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const value =
    agg.kind === 'sum'
      ? sum
      : agg.kind === 'avg'
        ? count === 0
          ? Number.NaN
          : sum / count
        : agg.kind === 'min'
          ? min
          : max;
  return { name: agg.name, kind: agg.kind, value };
}

function timeZoneOffset(zone: string, label: string): number {
  if (zone === '' || zone === 'UTC' || zone === 'Z') return 0;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (!match) throw invalid(`[${label}] time_zone '${zone}' is invalid: use +hh:mm or -hh:mm.`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -1 : 1) * minutes * 60_000;
}

const FIXED_UNIT_MS: Partial<Record<DateUnit, number>> = {
  WEEK: 7 * 86_400_000,
  DAY: 86_400_000,
  HOUR: 3_600_000,
  MINUTE: 60_000,
  SECOND: 1000,
  MILLISECOND: 1,
};

/** The start (epoch ms) of the date-histogram bucket holding `ms`. */
function dateBucket(
  ms: number,
  interval: { value: number; unit: DateUnit },
  zoneMs: number,
  offsetMs: number,
): number {
  const fixed = FIXED_UNIT_MS[interval.unit];
  if (fixed !== undefined) {
    const size = fixed * interval.value;
    const local = ms + zoneMs - offsetMs;
    return Math.floor(local / size) * size - zoneMs + offsetMs;
  }
  const months = interval.unit === 'YEAR' ? 12 : interval.unit === 'QUARTER_YEAR' ? 3 : 1;
  const step = months * interval.value;
  const local = new Date(ms + zoneMs - offsetMs);
  const index = local.getUTCFullYear() * 12 + local.getUTCMonth();
  const start = Math.floor(index / step) * step;
  return Date.UTC(Math.floor(start / 12), start % 12, 1) - zoneMs + offsetMs;
}

function nextDateBucket(
  start: number,
  interval: { value: number; unit: DateUnit },
  zoneMs: number,
  offsetMs: number,
): number {
  const fixed = FIXED_UNIT_MS[interval.unit];
  if (fixed !== undefined) return start + fixed * interval.value;
  const months =
    (interval.unit === 'YEAR' ? 12 : interval.unit === 'QUARTER_YEAR' ? 3 : 1) * interval.value;
  const local = new Date(start + zoneMs - offsetMs);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + months, 1) - zoneMs + offsetMs;
}

function dateUnitMs(value: { value: number; unit: DateUnit } | undefined): number {
  if (!value) return 0;
  return (FIXED_UNIT_MS[value.unit] ?? 30 * 86_400_000) * value.value;
}

function sortGroups(
  items: GroupItem[],
  sorters: readonly GroupSorter[],
  fallback: readonly GroupSorter[],
): void {
  const used = sorters.length > 0 ? sorters : fallback;
  items.sort((a, b) => {
    for (const sorter of used) {
      let c = 0;
      if (sorter.kind === 'count') c = a.rowCount - b.rowCount;
      else if (sorter.kind === 'key') c = baseCompare(a.key, b.key);
      else {
        const va = a.subAggs.find((agg) => agg.name === sorter.name)?.value ?? 0;
        const vb = b.subAggs.find((agg) => agg.name === sorter.name)?.value ?? 0;
        c = va - vb;
      }
      if (c !== 0) return sorter.order === 'DESC' ? -c : c;
    }
    return 0;
  });
}

class Aggregator {
  constructor(
    private readonly index: SearchIndex,
    private readonly evaluator: Evaluator,
    private readonly visible: Uint8Array,
  ) {}

  private bucket(
    docs: number[],
    groupBy: GroupBy,
    key: string | number,
    extra: Partial<GroupItem> = {},
  ): GroupItem {
    return {
      key,
      ...extra,
      rowCount: docs.length,
      subAggs: groupBy.subAggs.map((agg) => metric(this.index, agg, docs)),
      subGroupBys: groupBy.subGroupBys.map((sub) => this.groupBy(sub, docs)),
    };
  }

  groupBy(groupBy: GroupBy, docs: Int32Array | readonly number[]): GroupByResult {
    switch (groupBy.kind) {
      case 'field': {
        const schema = (findField(this.index.meta.fields, groupBy.field) as { field: FieldSchema })
          .field;
        const field = this.index.fields.get(groupBy.field);
        const labelOf = (value: number | string): string =>
          schema.type === 'BOOLEAN' ? (value === 1 ? 'true' : 'false') : String(value);
        const keyOf = (value: number | string): string | number =>
          typeof value === 'number' && schema.type !== 'BOOLEAN' ? value : labelOf(value);
        // Count first, without lists of docs: a group-by over a million rows stays cheap.
        const counts = new Map<string, { key: string | number; count: number }>();
        const bump = (value: number | string, by: number): void => {
          const label = labelOf(value);
          const entry = counts.get(label);
          if (entry) entry.count += by;
          else counts.set(label, { key: keyOf(value), count: by });
        };
        if (field instanceof KeywordField && !schema.isArray) {
          const perTerm = new Int32Array(field.terms.length);
          const termOf = field.termOf;
          for (let i = 0; i < docs.length; i++) {
            const id = termOf[docs[i] as number] as number;
            if (id >= 0) perTerm[id] = (perTerm[id] as number) + 1;
          }
          for (let id = 0; id < perTerm.length; id++)
            if ((perTerm[id] as number) > 0) bump(field.terms[id] as string, perTerm[id] as number);
        } else if (field instanceof NumericField && !schema.isArray) {
          const perValue = new Map<number, number>();
          for (let i = 0; i < docs.length; i++) {
            const doc = docs[i] as number;
            if (!field.has[doc]) continue;
            const value = field.values[doc] as number;
            perValue.set(value, (perValue.get(value) ?? 0) + 1);
          }
          for (const [value, count] of perValue) bump(value, count);
        } else {
          for (const doc of docs) {
            for (const value of new Set(numericValues(this.index, groupBy.field, doc)))
              bump(value, 1);
          }
        }
        const minDocCount = groupBy.minDocCount ?? 1;
        const candidates = [...counts.entries()].filter(([, entry]) => entry.count >= minDocCount);
        const bySubAgg = groupBy.sort.some((sorter) => sorter.kind === 'sub_agg');
        const needDocs = bySubAgg || groupBy.subAggs.length > 0 || groupBy.subGroupBys.length > 0;
        const size = groupBy.size ?? SEARCH_LIMITS.groupByFieldDefaultSize;
        const fallback: GroupSorter[] = [
          { kind: 'count', order: 'DESC' },
          { kind: 'key', order: 'ASC' },
        ];
        let chosen = candidates;
        if (!bySubAgg) {
          const shells = candidates.map(([label, entry]) => ({
            label,
            key: entry.key,
            rowCount: entry.count,
            subAggs: [],
            subGroupBys: [],
          }));
          sortGroups(shells, groupBy.sort, fallback);
          chosen = shells
            .slice(0, size)
            .map((shell) => [
              shell.label,
              counts.get(shell.label) as { key: string | number; count: number },
            ]);
        }
        const docsOf = new Map<string, number[]>(chosen.map(([label]) => [label, []]));
        if (needDocs) {
          for (const doc of docs) {
            for (const value of new Set(numericValues(this.index, groupBy.field, doc)))
              docsOf.get(labelOf(value))?.push(doc);
          }
        }
        let items = chosen.map(([label, entry]) => {
          const item = needDocs
            ? this.bucket(docsOf.get(label) as number[], groupBy, entry.key)
            : { key: entry.key, rowCount: entry.count, subAggs: [], subGroupBys: [] };
          return { ...item, label };
        });
        sortGroups(items, groupBy.sort, fallback);
        items = items.slice(0, size);
        return {
          name: groupBy.name,
          kind: 'field',
          items: items.map(({ label, ...item }) => ({ ...item, key: label })),
        };
      }
      case 'range': {
        const ranges = [...groupBy.ranges].sort((a, b) => a.from - b.from || a.to - b.to);
        const items = ranges.map((range) => {
          const inside = Array.from(docs).filter((doc) =>
            numericValues(this.index, groupBy.field, doc).some(
              (value) => (value as number) >= range.from && (value as number) < range.to,
            ),
          );
          return this.bucket(inside, groupBy, range.from, { from: range.from, to: range.to });
        });
        return { name: groupBy.name, kind: 'range', items };
      }
      case 'filter': {
        const items = groupBy.filters.map((filter, i) => {
          const bits = this.evaluator.evaluate(filter);
          return this.bucket(
            Array.from(docs).filter((doc) => bits[doc] === 1 && this.visible[doc] === 1),
            groupBy,
            i,
          );
        });
        return { name: groupBy.name, kind: 'filter', items };
      }
      case 'histogram':
      case 'date_histogram': {
        const schema = (findField(this.index.meta.fields, groupBy.field) as { field: FieldSchema })
          .field;
        const label = `group by ${groupBy.kind.replace('_', ' ')}`;
        const range = groupBy.fieldRange as { min: SearchValue; max: SearchValue };
        const min = Number(toDomain(schema, range.min, `[${label}] field_range`));
        const max = Number(toDomain(schema, range.max, `[${label}] field_range`));
        const missing = groupBy.missing
          ? Number(toDomain(schema, groupBy.missing, `[${label}] missing`))
          : undefined;
        let bucketOf: (value: number) => number;
        let next: (start: number) => number;
        if (groupBy.kind === 'histogram') {
          const interval = Number(toDomain(schema, groupBy.interval, `[${label}] interval`));
          const offset = groupBy.offset
            ? Number(toDomain(schema, groupBy.offset, `[${label}] offset`))
            : 0;
          bucketOf = (value) => Math.floor((value - offset) / interval) * interval + offset;
          next = (start) => start + interval;
        } else {
          const zone = timeZoneOffset(groupBy.timeZone ?? '', label);
          const offset = dateUnitMs(groupBy.offset);
          bucketOf = (value) => dateBucket(value, groupBy.interval, zone, offset);
          next = (start) => nextDateBucket(start, groupBy.interval, zone, offset);
        }
        const byBucket = new Map<number, number[]>();
        for (const doc of docs) {
          let values = numericValues(this.index, groupBy.field, doc) as readonly number[];
          if (values.length === 0 && missing !== undefined) values = [missing];
          const seen = new Set<number>();
          for (const value of values) {
            if (value < min || value >= max) continue;
            const start = bucketOf(value);
            if (seen.has(start)) continue;
            seen.add(start);
            let list = byBucket.get(start);
            if (!list) {
              list = [];
              byBucket.set(start, list);
            }
            list.push(doc);
          }
        }
        const minDocCount = groupBy.minDocCount ?? 0;
        const starts = [...byBucket.keys()].sort((a, b) => a - b);
        const items: GroupItem[] = [];
        if (starts.length > 0) {
          // Empty buckets between the first and the last one count too (min_doc_count 0).
          let count = 0;
          for (
            let start = starts[0] as number;
            start <= (starts.at(-1) as number);
            start = next(start)
          ) {
            if (++count > SEARCH_LIMITS.histogramBuckets) {
              throw invalid(
                `[${label}] the histogram would have more than ${SEARCH_LIMITS.histogramBuckets} buckets.`,
              );
            }
            const list = byBucket.get(start) ?? [];
            if (list.length >= minDocCount) items.push(this.bucket(list, groupBy, start));
          }
        }
        sortGroups(items, groupBy.sort, [{ kind: 'key', order: 'ASC' }]);
        return {
          name: groupBy.name,
          kind: groupBy.kind,
          ...(groupBy.kind === 'histogram'
            ? { keyType: schema.type === 'LONG' ? ('int' as const) : ('double' as const) }
            : {}),
          items,
        };
      }
    }
  }
}

// ------------------------------------------------------------------------------ search

/** The default order: the index sort, else the primary key ascending. */
export function defaultSorters(index: SearchIndex): Sorter[] {
  return index.meta.indexSort.length > 0 ? index.meta.indexSort : [{ kind: 'pk', order: 'ASC' }];
}

function usesScore(sorters: readonly Sorter[]): boolean {
  return sorters.some((sorter) => sorter.kind === 'score');
}

/** Checks a plan against the index (fields, types, limits) before anything runs. */
export function checkPlan(index: SearchIndex, plan: SearchPlan): void {
  const resolver = new Resolver(index);
  resolver.check(plan.query, undefined);
  checkSorters(index, plan.sorters ?? plan.cursor?.sorters ?? []);
  checkAggregations(index, plan.aggs, plan.groupBys, 0, resolver);
}

/** Runs a checked plan. */
export function runSearch(index: SearchIndex, plan: SearchPlan): SearchOutcome {
  const evaluator = new Evaluator(index);
  const visible = index.visibleDocs();
  const bits = evaluator.evaluate(plan.query);
  // One pass to count, one to fill: a typed list, not a million-element array, for the GC's sake.
  let count = 0;
  for (let doc = 0; doc < visible.length; doc++) if (visible[doc] && bits[doc]) count++;
  const matched = new Int32Array(count);
  for (let doc = 0, i = 0; doc < visible.length; doc++)
    if (visible[doc] && bits[doc]) matched[i++] = doc;

  const sorters = plan.cursor?.sorters ?? plan.sorters ?? defaultSorters(index);
  let scores: Map<number, number> | undefined;
  if (usesScore(sorters)) {
    scores = new Map();
    for (const doc of matched) scores.set(doc, evaluator.score(plan.query, doc));
  }
  const resolved = resolveSorters(index, sorters, scores);
  const keys = index.docKeys;
  const compareDocs = (a: number, b: number): number => {
    for (const s of resolved) {
      const c = s.compareValues(s.keyOf(a), s.keyOf(b));
      if (c !== 0) return c;
    }
    const ka = keys[a] as string;
    const kb = keys[b] as string;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

  let candidates = matched;
  const cursor = plan.cursor;
  if (cursor) {
    const afterCursor = (doc: number): boolean => {
      for (let i = 0; i < resolved.length; i++) {
        const s = resolved[i] as ResolvedSorter;
        const at = cursor.after[i];
        const c = s.compareValues(s.keyOf(doc), at === null ? undefined : at);
        if (c !== 0) return c > 0;
      }
      return (keys[doc] as string) > cursor.key;
    };
    candidates = matched.filter(afterCursor);
  }

  const k = plan.limit === 0 ? 0 : plan.offset + plan.limit;
  const top = topK(candidates, k, compareDocs);
  const page = top.slice(plan.offset, plan.offset + plan.limit);
  let next: SearchCursor | undefined;
  if (plan.limit > 0 && page.length > 0 && candidates.length > plan.offset + page.length) {
    const last = page.at(-1) as number;
    next = {
      sorters,
      after: resolved.map((s) => s.keyOf(last) ?? null),
      key: keys[last] as string,
    };
  }

  const aggregator = new Aggregator(index, evaluator, visible);
  return {
    docs: page,
    totalHits: plan.getTotalCount ? matched.length : -1,
    ...(next ? { next } : {}),
    sorters,
    aggs: plan.aggs.map((agg) => metric(index, agg, matched)),
    groupBys: plan.groupBys.map((groupBy) => aggregator.groupBy(groupBy, matched)),
  };
}

/** The k smallest docs under `compare`, in order (a bounded max-heap, then a sort). */
function topK(docs: Int32Array, k: number, compare: (a: number, b: number) => number): number[] {
  if (k <= 0) return [];
  if (docs.length <= k) return Array.from(docs).sort(compare);
  const heap: number[] = [];
  const up = (i: number): void => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(heap[i] as number, heap[parent] as number) <= 0) return;
      [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
      i = parent;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < heap.length && compare(heap[left] as number, heap[largest] as number) > 0)
        largest = left;
      if (right < heap.length && compare(heap[right] as number, heap[largest] as number) > 0)
        largest = right;
      if (largest === i) return;
      [heap[i], heap[largest]] = [heap[largest] as number, heap[i] as number];
      i = largest;
    }
  };
  for (const doc of docs) {
    if (heap.length < k) {
      heap.push(doc);
      up(heap.length - 1);
    } else if (compare(doc, heap[0] as number) < 0) {
      heap[0] = doc;
      down(0);
    }
  }
  return heap.sort(compare);
}
