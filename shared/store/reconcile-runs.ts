// What each reconcile run did, kept for 90 days so an operator can see the last runs (and what
// failed in them) without searching logs.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { CursorCodec } from '../domain/cursor';
import type { Page, PageRequest } from '../domain/paging';
import type { ReconcileRunLog, RunRecord } from '../onboarding/ports';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type RunsTable = StoreTables['reconcileRuns'];

export class TablestoreReconcileRunLog
  extends BasePersistence<PrimaryKeySpecOf<RunsTable>, ColumnsSpecOf<RunsTable>>
  implements ReconcileRunLog
{
  constructor(
    client: TablestoreClient,
    tables: StoreTables,
    private readonly cursors: CursorCodec,
    clock?: Clock,
  ) {
    super(client, tables.reconcileRuns, clock);
  }

  async record<S>(kind: string, run: RunRecord<S>): Promise<void> {
    await this.insertRow(
      {
        kind,
        startedAt: millisFromIso(run.startedAt, 'startedAt'),
        runId: run.runId,
        finishedAt: millisFromIso(run.finishedAt, 'finishedAt'),
        summary: JSON.stringify(run.summary),
      },
      `${kind} run ${run.runId}`,
    );
  }

  /** One page of runs of `kind`, newest first; follow `nextCursor` until it is absent. */
  async page<S>(kind: string, request: PageRequest): Promise<Page<RunRecord<S>>> {
    const { start, end } = this.table.prefixRange({ kind }, 'backward');
    const { rows, nextCursor } = await this.pageRows(
      { start, end, direction: 'backward' },
      request,
      JSON.stringify(['reconcile-runs', kind]),
      this.cursors,
    );
    const items = rows.map(
      (row): RunRecord<S> => ({
        runId: row.runId,
        startedAt: isoFromMillis(row.startedAt),
        finishedAt: isoFromMillis(row.finishedAt),
        summary: JSON.parse(row.summary) as S,
      }),
    );
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }
}
