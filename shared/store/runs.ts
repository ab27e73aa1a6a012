// Onboarding runs and their chunks (shared/onboarding/model.ts) in one table: onboarding's
// RunStore. A run is part 0 of its key, its chunks parts 1..n; each record's fields are its JSON
// body, beside the version every conditional write checks.

import type { ColumnsSpecOf, PrimaryKeySpecOf, TablestoreClient } from '../cloud/tablestore';
import { type Clock, isoNow } from '../domain/clock';
import type { NewRecord, Versioned } from '../domain/records';
import type { OnboardingRun, RunChunk } from '../onboarding/model';
import type { RunStore } from '../onboarding/ports';
import { mapWithConcurrency } from '../runtime/concurrency';
import { BasePersistence, isoFromMillis, millisFromIso } from './persistence';
import type { StoreTables } from './tables';

type RunsTable = StoreTables['runs'];
type Row = ReturnType<RunsTable['decode']>;

/** The run itself; chunks are 1..n. */
const RUN_PART = 0n;

export class TablestoreRunStore
  extends BasePersistence<PrimaryKeySpecOf<RunsTable>, ColumnsSpecOf<RunsTable>>
  implements RunStore
{
  constructor(client: TablestoreClient, tables: StoreTables, clock?: Clock) {
    super(client, tables.runs, clock);
  }

  async create(run: NewRecord<OnboardingRun>): Promise<OnboardingRun> {
    const created = this.stamped(run);
    await this.insertRow(this.toRow(run.runId, RUN_PART, created), describeRun(run.runId));
    return created;
  }

  async update(run: OnboardingRun): Promise<OnboardingRun> {
    const next = this.next(run);
    await this.replaceRowIfVersion(
      this.toRow(run.runId, RUN_PART, next),
      'version',
      BigInt(run.version),
      describeRun(run.runId),
    );
    return next;
  }

  async get(runId: string): Promise<OnboardingRun | undefined> {
    const row = await this.readRow({ runId, part: RUN_PART });
    return row ? fromRow<OnboardingRun>(row) : undefined;
  }

  async read(runId: string): Promise<{ run: OnboardingRun; chunks: RunChunk[] } | undefined> {
    let run: OnboardingRun | undefined;
    const chunks: RunChunk[] = [];
    for await (const row of this.scanRows({ runId })) {
      if (row.part === RUN_PART) run = fromRow<OnboardingRun>(row);
      else chunks.push(fromRow<RunChunk>(row));
    }
    return run ? { run, chunks } : undefined;
  }

  async putChunks(chunks: ReadonlyArray<NewRecord<RunChunk>>): Promise<void> {
    // One PutRow each (a batch of them could pass BatchWriteRow's 4 MB), a few at a time;
    // unconditional: a retried planning replaces what the first attempt wrote.
    await mapWithConcurrency(chunks, 8, async (chunk) => {
      const { primaryKey, columns } = this.table.encode(
        this.toRow(chunk.runId, BigInt(chunk.chunk), this.stamped(chunk)),
      );
      await this.client.putRow(this.table.name, primaryKey, columns);
    });
  }

  async getChunk(runId: string, chunk: number): Promise<RunChunk | undefined> {
    const row = await this.readRow({ runId, part: BigInt(chunk) });
    return row ? fromRow<RunChunk>(row) : undefined;
  }

  async updateChunk(chunk: RunChunk): Promise<RunChunk> {
    const next = this.next(chunk);
    await this.replaceRowIfVersion(
      this.toRow(chunk.runId, BigInt(chunk.chunk), next),
      'version',
      BigInt(chunk.version),
      `chunk ${chunk.chunk} of ${describeRun(chunk.runId)}`,
    );
    return next;
  }

  private stamped<T extends Versioned>(record: NewRecord<T>): T {
    const now = isoNow(this.clock);
    return { ...record, version: 1, createdAt: now, updatedAt: now } as T;
  }

  private next<T extends Versioned>(record: T): T {
    return { ...record, version: record.version + 1, updatedAt: isoNow(this.clock) };
  }

  private toRow(runId: string, part: bigint, record: Versioned): Row {
    const { version, createdAt, updatedAt, ...body } = record;
    return {
      runId,
      part,
      body,
      createdAt: millisFromIso(createdAt, 'createdAt'),
      updatedAt: millisFromIso(updatedAt, 'updatedAt'),
      version: BigInt(version),
    };
  }
}

function fromRow<T extends Versioned>(row: Row): T {
  return {
    ...row.body,
    createdAt: isoFromMillis(row.createdAt),
    updatedAt: isoFromMillis(row.updatedAt),
    version: Number(row.version),
  } as T;
}

function describeRun(runId: string): string {
  return `onboarding run ${runId}`;
}
