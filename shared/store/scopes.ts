// Management scopes (shared/onboarding/model.ts) in their table: onboarding's ScopeRepository,
// and what the role capability reads of them.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { Scope } from '../onboarding/model';
import type { ScopeRepository } from '../onboarding/ports';
import type { ScopeReader } from '../roles/ports';
import { isoFromMillis, millisFromIso, VersionedTableRepository } from './persistence';
import type { StoreTables } from './tables';

type ScopesTable = StoreTables['scopes'];
type Row = ReturnType<ScopesTable['decode']>;
type Key = Parameters<ScopesTable['key']>[0];

export class TablestoreScopeRepository
  extends VersionedTableRepository<
    PrimaryKeySpecOf<ScopesTable>,
    ColumnsSpecOf<ScopesTable>,
    Scope,
    string
  >
  implements ScopeRepository, ScopeReader
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.scopes, clock);
  }

  protected keyOf(id: string): Key {
    return { scopeId: id };
  }
  protected entityKey(scope: Scope): string {
    return scope.id;
  }
  protected describe(id: string): string {
    return `scope ${id}`;
  }
  protected toRow(scope: Scope): Row {
    return {
      scopeId: scope.id,
      kind: scope.kind,
      targetId: scope.targetId,
      services: scope.services,
      createdBy: scope.createdBy,
      createdAt: millisFromIso(scope.createdAt, 'createdAt'),
      updatedAt: millisFromIso(scope.updatedAt, 'updatedAt'),
      version: BigInt(scope.version),
    };
  }
  protected fromRow(row: Row): Scope {
    return {
      id: row.scopeId,
      kind: row.kind,
      targetId: row.targetId,
      services: row.services,
      createdBy: row.createdBy,
      createdAt: isoFromMillis(row.createdAt),
      updatedAt: isoFromMillis(row.updatedAt),
      version: Number(row.version),
    };
  }
}
