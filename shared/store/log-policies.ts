// Log integration policies (shared/logs/model.ts) in their table, one row per (template, member),
// versioned: the log-integration capability's PolicyRepository.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { CursorCodec } from '../domain/cursor';
import type { Page, PageRequest } from '../domain/paging';
import { type IntegrationPolicy, policyKey } from '../logs/model';
import type { PolicyRepository } from '../logs/ports';
import { isoFromMillis, millisFromIso, VersionedTableRepository } from './persistence';
import type { StoreTables } from './tables';

type PoliciesTable = StoreTables['logPolicies'];
type Row = ReturnType<PoliciesTable['decode']>;
type Key = Parameters<PoliciesTable['key']>[0];

export class TablestorePolicyRepository
  extends VersionedTableRepository<
    PrimaryKeySpecOf<PoliciesTable>,
    ColumnsSpecOf<PoliciesTable>,
    IntegrationPolicy,
    string
  >
  implements PolicyRepository
{
  constructor(
    client: TablestoreClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    clock?: Clock,
  ) {
    super(client, tables.logPolicies, clock);
  }

  async pageForTemplate(
    templateId: string,
    request: PageRequest,
  ): Promise<Page<IntegrationPolicy>> {
    const { start, end } = this.table.prefixRange({ templateId }, 'forward');
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'forward' },
      request,
      JSON.stringify(['log-policies', templateId]),
      this.cursors,
    );
    const items = rows.map((row) => this.fromRow(row));
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  /** `<templateId>/<accountId>` (policyKey). */
  protected keyOf(key: string): Key {
    const slash = key.indexOf('/');
    if (slash < 0) throw new TypeError(`${key} is not a policy key <templateId>/<accountId>`);
    return { templateId: key.slice(0, slash), accountId: key.slice(slash + 1) };
  }
  protected entityKey(policy: IntegrationPolicy): string {
    return policyKey(policy.templateId, policy.accountId);
  }
  protected describe(key: string): string {
    return `log integration policy ${key}`;
  }
  protected toRow(p: IntegrationPolicy): Row {
    return {
      templateId: p.templateId,
      accountId: p.accountId,
      enabled: p.enabled,
      autoAddNewLogstores: p.autoAddNewLogstores,
      consumeFrom: millisFromIso(p.consumeFrom, 'consumeFrom'),
      generation: BigInt(p.generation),
      changedBy: p.changedBy,
      createdAt: millisFromIso(p.createdAt, 'createdAt'),
      updatedAt: millisFromIso(p.updatedAt, 'updatedAt'),
      version: BigInt(p.version),
    };
  }
  protected fromRow(row: Row): IntegrationPolicy {
    return {
      templateId: row.templateId,
      accountId: row.accountId,
      enabled: row.enabled,
      autoAddNewLogstores: row.autoAddNewLogstores,
      consumeFrom: isoFromMillis(row.consumeFrom),
      generation: Number(row.generation),
      changedBy: row.changedBy,
      createdAt: isoFromMillis(row.createdAt),
      updatedAt: isoFromMillis(row.updatedAt),
      version: Number(row.version),
    };
  }
}
