// Management scopes: which part of the directory is under management (one account, a folder
// with everything below it, or the whole directory) and which services it enables.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from './clock';
import { isoFromMillis, millisFromIso, type Versioned, VersionedRepository } from './persistence';
import type { SCOPE_KINDS, StoreTables } from './tables';

export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface Scope extends Versioned {
  id: string;
  kind: ScopeKind;
  /** The account id, folder id, or Resource Directory id the scope names. */
  targetId: string;
  /** Services enabled for the members it covers. */
  services: string[];
  /** Who added it: a user identity, or the event/timer that did. */
  createdBy: string;
}

/** One scope per (kind, target): adding the same scope twice finds the first. */
export function scopeIdFor(kind: ScopeKind, targetId: string): string {
  return `${kind}:${targetId}`;
}

type ScopesTable = StoreTables['scopes'];
type Row = ReturnType<ScopesTable['decode']>;
type Key = Parameters<ScopesTable['key']>[0];

export class ScopeRepository extends VersionedRepository<
  PrimaryKeySpecOf<ScopesTable>,
  ColumnsSpecOf<ScopesTable>,
  Scope,
  string
> {
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
