// How a row's column becomes index values: type mapping (INTEGER to LONG/DATE, STRING arrays as
// JSON, NESTED children), date parsing, and the TEXT analyzers (single_word, split, and the
// max_word/min_word approximation).

import type { FieldSchema } from './search-schema';
import { SEARCH_LIMITS } from './search-schema';
import type { CellValue } from './values';

/** An index value: numbers for LONG/DOUBLE/DATE, 0/1 for BOOLEAN, strings for KEYWORD/TEXT. */
export type IndexValue = number | string;

/** A NESTED child: its sub-fields' values by name (arrays as arrays). */
export type NestedChild = Record<string, unknown>;

// --------------------------------------------------------------------------------- dates

const DATE_TOKEN = /yyyy|MM|dd|HH|mm|ss|SSS|./g;

/** Parses `text` with a Java-style date pattern (yyyy MM dd HH mm ss SSS and literals), as UTC. */
function parseWithPattern(text: string, pattern: string): number | undefined {
  let regex = '';
  const parts: string[] = [];
  for (const token of pattern.match(DATE_TOKEN) ?? []) {
    if (token.length > 1) {
      regex += token === 'yyyy' ? '(\\d{4})' : token === 'SSS' ? '(\\d{3})' : '(\\d{2})';
      parts.push(token);
    } else regex += token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const match = new RegExp(`^${regex}$`).exec(text);
  if (!match) return undefined;
  const value = (token: string, fallback: number): number => {
    const i = parts.indexOf(token);
    return i < 0 ? fallback : Number(match[i + 1]);
  };
  const ms = Date.UTC(
    value('yyyy', 1970),
    value('MM', 1) - 1,
    value('dd', 1),
    value('HH', 0),
    value('mm', 0),
    value('ss', 0),
    value('SSS', 0),
  );
  return Number.isNaN(ms) ? undefined : ms;
}

/** A DATE value in epoch milliseconds, from a LONG (milliseconds) or a string. */
export function parseDate(
  value: unknown,
  formats: readonly string[] | undefined,
): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'string') return undefined;
  for (const format of formats ?? []) {
    const parsed = parseWithPattern(value, format);
    if (parsed !== undefined) return parsed;
  }
  if (formats && formats.length > 0) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

// --------------------------------------------------------------------------------- analyzers

const WORD = /[\p{L}\p{N}_]+/gu;
const CJK = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Script=Hangul}/u;

/** Tokens of a TEXT value, in order (positions are the array indexes). */
export function analyze(field: FieldSchema, text: string): string[] {
  const parameter = field.analyzerParameter ?? {};
  if (field.analyzer === 'split') {
    const delimiter = parameter.delimiter ?? ' ';
    return text.split(delimiter).filter((token) => token.length > 0);
  }
  const caseSensitive =
    field.analyzer === 'single_word' || field.analyzer === undefined
      ? parameter.caseSensitive === true
      : false;
  const tokens: string[] = [];
  for (const word of text.match(WORD) ?? []) {
    // Han, kana and hangul characters are one token each; runs of letters and digits are one
    // token, or letters and digits apart when delimit_word is set.
    let run = '';
    const flush = (): void => {
      if (run.length === 0) return;
      if (parameter.delimitWord) {
        for (const part of run.match(/\p{N}+|[^\p{N}]+/gu) ?? []) tokens.push(part);
      } else tokens.push(run);
      run = '';
    };
    for (const char of word) {
      if (CJK.test(char)) {
        flush();
        tokens.push(char);
      } else run += char;
    }
    flush();
  }
  return caseSensitive ? tokens : tokens.map((token) => token.toLowerCase());
}

// --------------------------------------------------------------------------------- values

function scalar(field: FieldSchema, value: unknown): IndexValue | undefined {
  switch (field.type) {
    case 'LONG': {
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      return undefined;
    }
    case 'DOUBLE':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'bigint') return Number(value);
      return undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? (value ? 1 : 0) : undefined;
    case 'KEYWORD':
      if (typeof value !== 'string') return undefined;
      return Buffer.byteLength(value, 'utf8') <= SEARCH_LIMITS.keywordBytes ? value : undefined;
    case 'TEXT':
      return typeof value === 'string' ? value : undefined;
    case 'DATE':
      return parseDate(value, field.dateFormats);
    default:
      return undefined;
  }
}

function parseJsonArray(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const CELL_TYPE_OF: Record<string, CellValue['t']> = {
  LONG: 'int',
  DOUBLE: 'double',
  BOOLEAN: 'bool',
  KEYWORD: 'str',
  TEXT: 'str',
  DATE: 'int',
};

/** The value a cell gives a field that is not an array (undefined: not indexable as it). */
export function fieldValue(field: FieldSchema, cell: CellValue): IndexValue | undefined {
  if (field.type === 'DATE' && cell.t === 'str') return parseDate(cell.v, field.dateFormats);
  if (CELL_TYPE_OF[field.type] !== cell.t) return undefined;
  return scalar(field, cell.v);
}

/**
 * The values a cell gives a field, or undefined when the cell cannot be indexed as the field
 * (wrong type, malformed JSON array, too many elements): the field is then missing for the row.
 */
export function fieldValues(field: FieldSchema, cell: CellValue): IndexValue[] | undefined {
  if (field.isArray) {
    if (cell.t !== 'str') return undefined;
    const items = parseJsonArray(cell.v);
    if (!items || items.length > SEARCH_LIMITS.arrayElements) return undefined;
    const values: IndexValue[] = [];
    for (const item of items) {
      const value = scalar(field, item);
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values;
  }
  const value = fieldValue(field, cell);
  return value === undefined ? undefined : [value];
}

/** The children of a NESTED cell (a JSON array of objects), each sub-field checked. */
export function nestedChildren(field: FieldSchema, cell: CellValue): NestedChild[] | undefined {
  if (cell.t !== 'str') return undefined;
  const items = parseJsonArray(cell.v);
  if (!items || items.length > SEARCH_LIMITS.nestedChildRows) return undefined;
  const children: NestedChild[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    const child: NestedChild = {};
    for (const sub of field.subFields ?? []) {
      const raw = (item as Record<string, unknown>)[sub.name];
      if (raw === undefined || raw === null) continue;
      if (sub.type === 'NESTED') {
        const inner = nestedChildren(sub, { t: 'str', v: JSON.stringify(raw) });
        if (inner) child[sub.name] = inner;
        continue;
      }
      const list = Array.isArray(raw) ? raw : [raw];
      if (!sub.isArray && Array.isArray(raw)) continue;
      const values: IndexValue[] = [];
      for (const element of list) {
        const value = scalar(sub, element);
        if (value !== undefined) values.push(value);
      }
      if (values.length > 0) child[sub.name] = values;
    }
    children.push(child);
  }
  return children;
}
