// Creating the application's tables idempotently, at deployment setup and at local start:
// missing tables are created with their options and secondary indexes, existing ones are
// checked against their definition. A primary key that differs cannot be changed in place, so
// it stops the start with an error naming the table; drifted options are brought back in line,
// and missing indexes are created.

import type { TablestoreClient } from './client';
import { isTablestoreError } from './errors';
import type { TableDefinition, TableDescription } from './types';

export interface EnsureTablesReport {
  created: string[];
  verified: string[];
  /** `table.index` for each index created on an existing table. */
  indexesCreated: string[];
  /** Tables whose TTL or max versions were changed to match their definition. */
  optionsUpdated: string[];
}

export class TableSchemaMismatch extends Error {
  override readonly name = 'TableSchemaMismatch';
  constructor(readonly problems: Array<{ table: string; problem: string }>) {
    super(
      `Existing Tablestore tables do not match their definitions: ${problems
        .map((p) => `table ${p.table}: ${p.problem}`)
        .join(
          '; ',
        )}. A primary key cannot be changed in place: migrate the data to a new table or drop the old one.`,
    );
  }
}

function formatPrimaryKey(pk: ReadonlyArray<{ name: string; type: string }>): string {
  return `[${pk.map((c) => `${c.name} ${c.type}`).join(', ')}]`;
}

/** Differences that cannot be repaired in place; empty when the table is compatible. */
export function schemaProblems(def: TableDefinition, actual: TableDescription): string[] {
  const problems: string[] = [];
  const expected = def.primaryKey.map((c) => ({ name: c.name, type: c.type }));
  const found = actual.primaryKey.map((c) => ({ name: c.name, type: c.type }));
  const same =
    expected.length === found.length &&
    expected.every((c, i) => c.name === found[i]?.name && c.type === found[i]?.type);
  if (!same) {
    problems.push(
      `primary key is ${formatPrimaryKey(found)}, the definition expects ${formatPrimaryKey(expected)}`,
    );
  }
  for (const index of def.indexes ?? []) {
    const existing = actual.indexes.find((i) => i.name === index.name);
    if (existing && existing.primaryKey.join(',') !== index.primaryKey.join(',')) {
      problems.push(
        `index ${index.name} has primary key [${existing.primaryKey.join(', ')}], the definition expects [${index.primaryKey.join(', ')}]`,
      );
    }
  }
  return problems;
}

export async function ensureTables(
  client: TablestoreClient,
  definitions: readonly TableDefinition[],
): Promise<EnsureTablesReport> {
  const report: EnsureTablesReport = {
    created: [],
    verified: [],
    indexesCreated: [],
    optionsUpdated: [],
  };
  const problems: Array<{ table: string; problem: string }> = [];
  const existing = new Set(await client.listTables());

  for (const def of definitions) {
    if (!existing.has(def.name)) {
      try {
        await client.createTable(def);
        report.created.push(def.name);
        continue;
      } catch (err) {
        // Another starter created it meanwhile: verify it like any existing table.
        if (!isTablestoreError(err, 'OTSObjectAlreadyExist')) throw err;
      }
    }

    const actual = await client.describeTable(def.name);
    const found = schemaProblems(def, actual);
    if (found.length > 0) {
      for (const problem of found) problems.push({ table: def.name, problem });
      continue;
    }
    report.verified.push(def.name);

    const ttl = def.timeToLiveSeconds ?? -1;
    const maxVersions = def.maxVersions ?? 1;
    // Only a refusal of updates is brought in line: allowing them again is what the service
    // refuses while a search index with a time to live depends on it.
    const disallowUpdates = def.allowUpdate === false && actual.allowUpdate !== false;
    if (actual.timeToLiveSeconds !== ttl || actual.maxVersions !== maxVersions || disallowUpdates) {
      await client.updateTableOptions(def.name, {
        timeToLiveSeconds: ttl,
        maxVersions,
        ...(disallowUpdates ? { allowUpdate: false } : {}),
      });
      report.optionsUpdated.push(def.name);
    }

    for (const index of def.indexes ?? []) {
      if (actual.indexes.some((i) => i.name === index.name)) continue;
      try {
        await client.createIndex(def.name, index);
        report.indexesCreated.push(`${def.name}.${index.name}`);
      } catch (err) {
        if (!isTablestoreError(err, 'OTSObjectAlreadyExist')) throw err;
        // Either a concurrent start created it on this table, or the name is taken by another
        // table or index of the instance (they share one namespace).
        const again = await client.describeTable(def.name);
        if (!again.indexes.some((i) => i.name === index.name)) {
          problems.push({
            table: def.name,
            problem: `index ${index.name} cannot be created: the name is taken by another table or index of the instance`,
          });
        }
      }
    }
  }

  if (problems.length > 0) throw new TableSchemaMismatch(problems);
  return report;
}
