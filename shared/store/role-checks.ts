// Role checks (shared/roles/model.ts) in their table: the role capability's RoleCheckRepository.
// Checks are observations that sweeps and onboarding may write out of order, so a check is
// stored only if it is newer than the one already kept.

import {
  assertBatchSucceeded,
  type ColumnsSpecOf,
  type PrimaryKeySpecOf,
  type RowWrite,
  type TablestoreClient,
} from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { RoleCheck } from '../roles/model';
import type { RoleCheckRepository } from '../roles/ports';
import { isConditionFailure } from './conditional-write';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type RoleChecksTable = StoreTables['roleChecks'];
type Row = ReturnType<RoleChecksTable['decode']>;

export class TablestoreRoleCheckRepository
  extends BasePersistence<PrimaryKeySpecOf<RoleChecksTable>, ColumnsSpecOf<RoleChecksTable>>
  implements RoleCheckRepository
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.roleChecks, clock);
  }

  /**
   * Keeps each check unless one of the same member and role at the same time or later is
   * already stored ('superseded'); one BatchWriteRow per 200 checks.
   */
  async recordAll(checks: readonly RoleCheck[]): Promise<Array<'recorded' | 'superseded'>> {
    const writes: RowWrite[] = checks.map((check) => ({
      type: 'put',
      table: this.table.name,
      ...this.newerRowWrite(toRow(check), 'checkedAt'),
    }));
    const results = await this.client.batchWriteRows(writes);
    // A failed condition is an answer (a newer check is kept); any other failure fails the call,
    // naming the row by its index in this batch.
    assertBatchSucceeded(
      writes,
      results.map((result) =>
        !result.ok && isConditionFailure(result.error) ? { ok: true as const } : result,
      ),
    );
    return results.map((result) => (result.ok ? 'recorded' : 'superseded'));
  }

  async listForMember(accountId: string): Promise<RoleCheck[]> {
    const out: RoleCheck[] = [];
    for await (const row of this.scanRows({ accountId })) out.push(fromRow(row));
    return out;
  }

  async *all(): AsyncGenerator<RoleCheck> {
    for await (const row of this.scanRows()) yield fromRow(row);
  }

  /** Removes every check kept for a member (on offboarding). Returns how many were removed. */
  async clearMember(accountId: string): Promise<number> {
    const writes: RowWrite[] = [];
    for await (const row of this.scanRows({ accountId })) {
      writes.push({
        type: 'delete',
        table: this.table.name,
        primaryKey: this.table.key({ accountId: row.accountId, roleName: row.roleName }),
      });
    }
    assertBatchSucceeded(writes, await this.client.batchWriteRows(writes));
    return writes.length;
  }
}

function toRow(c: RoleCheck): Row {
  return {
    accountId: c.accountId,
    roleName: c.roleName,
    service: c.service,
    state: c.state,
    reason: c.reason,
    checkedAt: millisFromIso(c.checkedAt, 'checkedAt'),
  };
}

function fromRow(row: Row): RoleCheck {
  const check: RoleCheck = {
    accountId: row.accountId,
    roleName: row.roleName,
    state: row.state,
    checkedAt: isoFromMillis(row.checkedAt),
  };
  if (row.service !== undefined) check.service = row.service;
  if (row.reason !== undefined) check.reason = row.reason;
  return check;
}
