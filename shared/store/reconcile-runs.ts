// What each reconcile run did, kept for 90 days so an operator can see the last runs (and what
// failed in them) without searching logs.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import type { Clock } from '../domain/clock';
import type { ReconcileRunLog, RunRecord } from '../onboarding/ports';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type RunsTable = StoreTables['reconcileRuns'];

export class TablestoreReconcileRunLog
  extends BasePersistence<PrimaryKeySpecOf<RunsTable>, ColumnsSpecOf<RunsTable>>
  implements ReconcileRunLog
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
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

  /** The newest runs first. */
  async latest<S>(kind: string, limit: number): Promise<Array<RunRecord<S>>> {
    const out: Array<RunRecord<S>> = [];
    for await (const row of this.scanRows({ kind }, 'backward')) {
      out.push({
        runId: row.runId,
        startedAt: isoFromMillis(row.startedAt),
        finishedAt: isoFromMillis(row.finishedAt),
        summary: JSON.parse(row.summary) as S,
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}
