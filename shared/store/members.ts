// Managed members: each member account under management, its status, the scopes that cover it,
// where it sits in the directory, and why it failed when it did.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from './clock';
import {
  isoFromMillis,
  millisFromIso,
  type Page,
  type PageRequest,
  type Versioned,
  VersionedRepository,
} from './persistence';
import type {
  FolderRef,
  JOIN_METHODS,
  MEMBER_STATUSES,
  MemberFailure,
  StoreTables,
} from './tables';

export type MemberStatus = (typeof MEMBER_STATUSES)[number];
export type JoinMethod = (typeof JOIN_METHODS)[number];
export type { FolderRef, MemberFailure };

export interface Member extends Versioned {
  accountId: string;
  displayName?: string;
  status: MemberStatus;
  /** The scopes covering it; a member is managed while at least one does. */
  scopeIds: string[];
  /** The folder it sits in, and the path from the root to that folder. */
  folderId?: string;
  folderPath?: FolderRef[];
  /** How it joined the directory. */
  joinMethod?: JoinMethod;
  /** ISO 8601: the last reconcile that looked at it. */
  lastReconcileAt?: string;
  /** Why it is unreachable or why its last change failed. Cleared on success. */
  failure?: MemberFailure;
}

type MembersTable = StoreTables['members'];
type Row = ReturnType<MembersTable['decode']>;
type Key = Parameters<MembersTable['key']>[0];

export class MemberRepository extends VersionedRepository<
  PrimaryKeySpecOf<MembersTable>,
  ColumnsSpecOf<MembersTable>,
  Member,
  string
> {
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.members, clock);
  }

  /** Members that the given scope covers. */
  async listCoveredBy(scopeId: string): Promise<Member[]> {
    const out: Member[] = [];
    for await (const member of this.all()) if (member.scopeIds.includes(scopeId)) out.push(member);
    return out;
  }

  /** One page of members in account order; follow `nextCursor` until it is absent. */
  async page(request: PageRequest): Promise<Page<Member>> {
    const { start, end } = this.table.prefixRange({}, 'forward');
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'forward' },
      request,
      'members',
    );
    const items = rows.map((row) => this.fromRow(row));
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  async listByStatus(status: MemberStatus): Promise<Member[]> {
    const out: Member[] = [];
    for await (const member of this.all()) if (member.status === status) out.push(member);
    return out;
  }

  protected keyOf(accountId: string): Key {
    return { accountId };
  }
  protected entityKey(member: Member): string {
    return member.accountId;
  }
  protected describe(accountId: string): string {
    return `member ${accountId}`;
  }
  protected toRow(m: Member): Row {
    return {
      accountId: m.accountId,
      displayName: m.displayName,
      status: m.status,
      scopeIds: m.scopeIds,
      folderId: m.folderId,
      folderPath: m.folderPath,
      joinMethod: m.joinMethod,
      lastReconcileAt:
        m.lastReconcileAt === undefined
          ? undefined
          : millisFromIso(m.lastReconcileAt, 'lastReconcileAt'),
      failure: m.failure,
      createdAt: millisFromIso(m.createdAt, 'createdAt'),
      updatedAt: millisFromIso(m.updatedAt, 'updatedAt'),
      version: BigInt(m.version),
    };
  }
  protected fromRow(row: Row): Member {
    const member: Member = {
      accountId: row.accountId,
      status: row.status,
      scopeIds: row.scopeIds,
      createdAt: isoFromMillis(row.createdAt),
      updatedAt: isoFromMillis(row.updatedAt),
      version: Number(row.version),
    };
    if (row.displayName !== undefined) member.displayName = row.displayName;
    if (row.folderId !== undefined) member.folderId = row.folderId;
    if (row.folderPath !== undefined) member.folderPath = row.folderPath;
    if (row.joinMethod !== undefined) member.joinMethod = row.joinMethod;
    if (row.lastReconcileAt !== undefined)
      member.lastReconcileAt = isoFromMillis(row.lastReconcileAt);
    if (row.failure !== undefined) member.failure = row.failure;
    return member;
  }
}
