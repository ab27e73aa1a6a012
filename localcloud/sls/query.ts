// GetLogs search, the part localcloud emulates: `*`, full-text terms, `key: value` (a trailing
// `*` is a prefix match), joined by `and` (or by spaces), `or`, and `not`. Analytic statements
// (`| select ...`) are refused: localcloud has no SQL engine.

import { parameterInvalid } from './errors';

export interface SearchableLog {
  fields: Record<string, string>;
}

type Clause =
  | { kind: 'all' }
  | { kind: 'text'; term: string }
  | { kind: 'field'; key: string; value: string };

interface Term {
  clause: Clause;
  negate: boolean;
}

/** Disjunction of conjunctions. */
export type CompiledQuery = Term[][];

function tokens(query: string): string[] {
  const out: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of query.matchAll(pattern)) {
    out.push(match[1] !== undefined ? `"${match[1]}` : (match[2] as string));
  }
  return out;
}

function unquote(token: string): string {
  return token.startsWith('"') ? token.slice(1) : token;
}

export function compileQuery(query: string | undefined): CompiledQuery {
  const text = (query ?? '').trim();
  if (text === '' || text === '*') return [[{ clause: { kind: 'all' }, negate: false }]];
  if (text.includes('|')) {
    throw parameterInvalid(
      'localcloud emulates search statements only (key: value, full text, and/or/not), not analytic statements after |',
    );
  }
  // "key: value" and "key:value" become one token.
  const raw = tokens(text.replace(/(\S):\s+/g, '$1:'));
  const groups: CompiledQuery = [[]];
  let negate = false;
  for (const token of raw) {
    const lower = token.toLowerCase();
    if (lower === 'and') continue;
    if (lower === 'or') {
      groups.push([]);
      continue;
    }
    if (lower === 'not') {
      negate = true;
      continue;
    }
    const colon = token.startsWith('"') ? -1 : token.indexOf(':');
    const clause: Clause =
      colon > 0
        ? {
            kind: 'field',
            key: token.slice(0, colon),
            value: unquote(token.slice(colon + 1)),
          }
        : token === '*'
          ? { kind: 'all' }
          : { kind: 'text', term: unquote(token) };
    (groups.at(-1) as Term[]).push({ clause, negate });
    negate = false;
  }
  if (groups.some((group) => group.length === 0)) {
    throw parameterInvalid(`query is incomplete: ${text}`);
  }
  return groups;
}

function valueMatches(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
}

function clauseMatches(clause: Clause, log: SearchableLog): boolean {
  if (clause.kind === 'all') return true;
  if (clause.kind === 'field') {
    const value = log.fields[clause.key];
    return value !== undefined && valueMatches(clause.value, value);
  }
  const term = clause.term.toLowerCase();
  const prefix = term.endsWith('*');
  const needle = prefix ? term.slice(0, -1) : term;
  for (const value of Object.values(log.fields)) {
    const lower = value.toLowerCase();
    if (prefix ? lower.includes(needle) : lower.split(/[^\p{L}\p{N}_.@-]+/u).includes(needle)) {
      return true;
    }
    if (!prefix && lower === needle) return true;
  }
  return false;
}

export function queryMatches(query: CompiledQuery, log: SearchableLog): boolean {
  return query.some((group) =>
    group.every((term) => clauseMatches(term.clause, log) !== term.negate),
  );
}
