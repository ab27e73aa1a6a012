// Managed members (shared/onboarding/model.ts) in their table: onboarding's MemberRepository,
// and what the role capability reads of them.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { CursorCodec } from '../domain/cursor';
import type { Page, PageRequest } from '../domain/paging';
import type { ManagedMember } from '../onboarding/model';
import type { MemberRepository } from '../onboarding/ports';
import type { ManagedMemberReader } from '../roles/ports';
import { isoFromMillis, millisFromIso, VersionedTableRepository } from './persistence';
import type { StoreTables } from './tables';

type MembersTable = StoreTables['members'];
type Row = ReturnType<MembersTable['decode']>;
type Key = Parameters<MembersTable['key']>[0];

export class TablestoreMemberRepository
  extends VersionedTableRepository<
    PrimaryKeySpecOf<MembersTable>,
    ColumnsSpecOf<MembersTable>,
    ManagedMember,
    string
  >
  implements MemberRepository, ManagedMemberReader
{
  constructor(
    client: TablestoreClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    clock?: Clock,
  ) {
    super(client, tables.members, clock);
  }

  /** Members that the given scope covers. */
  async listCoveredBy(scopeId: string): Promise<ManagedMember[]> {
    const out: ManagedMember[] = [];
    for await (const member of this.all()) if (member.scopeIds.includes(scopeId)) out.push(member);
    return out;
  }

  /** One page of members in account order; follow `nextCursor` until it is absent. */
  async page(request: PageRequest): Promise<Page<ManagedMember>> {
    const { start, end } = this.table.prefixRange({}, 'forward');
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'forward' },
      request,
      'members',
      this.cursors,
    );
    const items = rows.map((row) => this.fromRow(row));
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  protected keyOf(accountId: string): Key {
    return { accountId };
  }
  protected entityKey(member: ManagedMember): string {
    return member.accountId;
  }
  protected describe(accountId: string): string {
    return `member ${accountId}`;
  }
  protected toRow(m: ManagedMember): Row {
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
  protected fromRow(row: Row): ManagedMember {
    const member: ManagedMember = {
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
