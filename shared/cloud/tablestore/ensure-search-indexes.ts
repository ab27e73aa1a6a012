// Creating the declared search indexes idempotently at deployment setup, and choosing which
// version of an index to query while a new one syncs.
//
// The service cannot change a search index's fields or index sort in place, so a changed
// schema is a new version (search-declaration.ts): setup creates `<family>_v<n+1>` beside
// `<family>_v<n>`, whose rows it then indexes in the background (the FULL phase). Older versions
// are kept until the declared one has synced and are deleted by the first setup run after that;
// until then `selectSearchIndex` keeps queries on the newest older version, so no query reads a
// half-built index. An existing index of the declared version whose schema differs from the
// declaration stops setup with an error naming the differences (raise the version). A changed
// time to live is applied in place (UpdateSearchIndex). Versions newer than the declared one (a
// rolled-back deployment) are left alone and reported.

import { isTablestoreError } from './errors';
import { type SearchIndexDeclaration, versionOf } from './search-declaration';
import type {
  DescribedSearchField,
  SearchFieldDefinition,
  SearchIndexDescription,
  SearchSort,
  TablestoreSearchClient,
  TextAnalyzer,
} from './search-types';

export interface EnsureSearchIndexesReport {
  /** `table.index` of each index created. */
  created: string[];
  /** Existing indexes whose schema matches their declaration. */
  verified: string[];
  /** Indexes whose time to live was changed to the declared one. */
  ttlUpdated: string[];
  /** Older versions kept because the declared one is still in its FULL phase. */
  retiring: string[];
  /** Older versions deleted because the declared one has synced. */
  deleted: string[];
  /** Versions newer than the declaration, left alone. */
  newer: string[];
}

export class SearchIndexSchemaMismatch extends Error {
  override readonly name = 'SearchIndexSchemaMismatch';
  constructor(readonly problems: Array<{ index: string; problem: string }>) {
    super(
      `Existing search indexes do not match their declarations: ${problems
        .map((p) => `${p.index}: ${p.problem}`)
        .join(
          '; ',
        )}. A search index's schema cannot be changed in place: raise the declaration's version, and setup creates the new version beside the old one.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing a declaration with what the service describes

/** An analyzer with the service's defaults filled in, as comparable text. */
function analyzerText(analyzer: TextAnalyzer | undefined): string {
  if (!analyzer) return 'default';
  switch (analyzer.kind) {
    case 'single_word':
      return `single_word(caseSensitive=${analyzer.caseSensitive === true},delimitWord=${analyzer.delimitWord === true})`;
    case 'split':
      return `split(${JSON.stringify(analyzer.delimiter ?? null)})`;
    default:
      return analyzer.kind;
  }
}

function fieldProblems(
  path: string,
  declared: readonly SearchFieldDefinition[],
  described: readonly DescribedSearchField[],
): string[] {
  const problems: string[] = [];
  const found = new Map(described.map((field) => [field.name, field]));
  for (const field of declared) {
    const name = `${path}${field.name}`;
    const actual = found.get(field.name);
    found.delete(field.name);
    if (!actual) {
      problems.push(`field ${name} is declared but not in the index`);
      continue;
    }
    const compare = (what: string, want: unknown, have: unknown) => {
      if (want !== have) problems.push(`field ${name}: ${what} is ${have}, declared ${want}`);
    };
    compare('type', field.type, actual.type);
    compare('sortAndAgg', field.sortAndAgg === true, actual.sortAndAgg === true);
    compare('array', field.array === true, actual.array === true);
    compare('analyzer', analyzerText(field.analyzer), analyzerText(actual.analyzer));
    compare(
      'dateFormats',
      JSON.stringify(field.dateFormats ?? []),
      JSON.stringify(actual.dateFormats ?? []),
    );
    problems.push(...fieldProblems(`${name}.`, field.fields ?? [], actual.fields ?? []));
  }
  for (const name of found.keys())
    problems.push(`field ${path}${name} is in the index, not declared`);
  return problems;
}

function sortText(sorts: readonly SearchSort[] | undefined): string {
  return JSON.stringify(
    (sorts ?? []).map((sort) =>
      'field' in sort
        ? { field: sort.field, order: sort.order ?? 'asc', mode: sort.mode ?? null }
        : sort,
    ),
  );
}

/** What differs between a declaration and the index as described (TTL aside: it can change). */
export function searchSchemaProblems(
  declared: SearchIndexDeclaration,
  described: SearchIndexDescription,
): string[] {
  const problems = fieldProblems('', declared.fields, described.fields);
  if (sortText(declared.indexSort) !== sortText(described.indexSort)) {
    problems.push(
      `index sort is ${sortText(described.indexSort)}, declared ${sortText(declared.indexSort)}`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Setup

/**
 * Creates missing declared indexes, verifies existing ones, applies TTL changes and retires
 * older versions (see the file header). Safe to run repeatedly and concurrently.
 */
export async function ensureSearchIndexes(
  client: TablestoreSearchClient,
  declarations: readonly SearchIndexDeclaration[],
): Promise<EnsureSearchIndexesReport> {
  const report: EnsureSearchIndexesReport = {
    created: [],
    verified: [],
    ttlUpdated: [],
    retiring: [],
    deleted: [],
    newer: [],
  };
  const problems: Array<{ index: string; problem: string }> = [];
  const indexesOf = new Map<string, string[]>();

  for (const declaration of declarations) {
    const { table, name } = declaration;
    let names = indexesOf.get(table);
    if (!names) {
      names = (await client.listSearchIndexes(table)).map((info) => info.index);
      indexesOf.set(table, names);
    }
    let created = false;
    if (!names.includes(name)) {
      try {
        await client.createSearchIndex(declaration);
        created = true;
        names.push(name);
        report.created.push(`${table}.${name}`);
      } catch (error) {
        // Another setup created it meanwhile: verify it like any existing index.
        if (!isTablestoreError(error, 'OTSObjectAlreadyExist')) throw error;
      }
    }

    const described = await client.describeSearchIndex(table, name);
    if (!created) {
      const found = searchSchemaProblems(declaration, described);
      if (found.length > 0) {
        for (const problem of found) problems.push({ index: `${table}.${name}`, problem });
        continue;
      }
      report.verified.push(`${table}.${name}`);
      const ttl = declaration.timeToLiveSeconds ?? -1;
      if (described.timeToLiveSeconds !== ttl) {
        await client.updateSearchIndexTtl(table, name, ttl);
        report.ttlUpdated.push(`${table}.${name}`);
      }
    }

    for (const other of [...names]) {
      const version = versionOf(declaration.family, other);
      if (version === undefined || version === declaration.version) continue;
      if (version > declaration.version) {
        report.newer.push(`${table}.${other}`);
      } else if (described.syncPhase === 'incremental') {
        try {
          await client.deleteSearchIndex(table, other);
        } catch (error) {
          if (!isTablestoreError(error, 'OTSObjectNotExist')) throw error;
        }
        names.splice(names.indexOf(other), 1);
        report.deleted.push(`${table}.${other}`);
      } else {
        report.retiring.push(`${table}.${other}`);
      }
    }
  }

  if (problems.length > 0) throw new SearchIndexSchemaMismatch(problems);
  return report;
}

// ---------------------------------------------------------------------------------------------
// Which version to query

export interface SearchIndexSelector {
  /** The name of the index to query now. */
  indexName(): Promise<string>;
}

/**
 * Chooses the version of a declared index to query: the declared one once it has synced;
 * while it is missing or in its FULL phase, the newest older version that exists (or the
 * declared one when there is none). Until the declared version serves, the choice is checked
 * again every `recheckMs` (default 60 s); after that it never changes in this process.
 */
export function selectSearchIndex(
  client: TablestoreSearchClient,
  declaration: SearchIndexDeclaration,
  options: { now?: () => number; recheckMs?: number } = {},
): SearchIndexSelector {
  const now = options.now ?? Date.now;
  const recheckMs = options.recheckMs ?? 60_000;
  let chosen: { name: string; final: boolean; at: number } | undefined;
  let pending: Promise<string> | undefined;

  async function choose(): Promise<string> {
    const { table, name, family, version } = declaration;
    const names = (await client.listSearchIndexes(table)).map((info) => info.index);
    let final = false;
    let pick = name;
    const declaredSynced =
      names.includes(name) &&
      (await client.describeSearchIndex(table, name)).syncPhase === 'incremental';
    if (declaredSynced) {
      final = true;
    } else {
      const older = names
        .map((other) => ({ other, v: versionOf(family, other) }))
        .filter(
          (entry): entry is { other: string; v: number } =>
            entry.v !== undefined && entry.v < version,
        )
        .sort((a, b) => b.v - a.v)[0];
      if (older) pick = older.other;
    }
    chosen = { name: pick, final, at: now() };
    return pick;
  }

  return {
    async indexName() {
      if (chosen && (chosen.final || now() - chosen.at < recheckMs)) return chosen.name;
      pending ??= choose().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
