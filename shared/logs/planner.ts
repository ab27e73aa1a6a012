// The planning run (a timer, every minute): enabled policies x regions x matching Logstores x
// shards, fanned out to the worker function through FC async invocation.
//
// One run at a time (lease `log-planner`; a tick that finds one running skips). Per member, one
// Log Service session per region (the member's credentials are cached: at most one AssumeRole
// per member per run). For each data source: its Logstores found (first found, then new ones
// added where auto-add is on, each recorded in the activity log), its shards listed, and those
// ready to read (parents finished, see shards.ts), not finished, not held by a worker, not
// backing off, planned. What it saw becomes the data source's snapshot (its status). The work is
// packed into chunks, a member's shards together, and each chunk is one async invocation of the
// worker. One member's failure (refused access, a Logstore gone) is recorded on its data
// sources and never stops the others.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../domain/clock';
import { LeaseBusy, runUnderLease } from '../domain/lease';
import { ConcurrentModification } from '../domain/records';
import { CloudApiError, MemberAccessDenied } from '../errors';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import { findLogstores } from './discovery';
import { ensureDataSource, IntegrableMembers } from './integration';
import {
  DATA_SOURCE_TYPE,
  type DataSource,
  dataSourceName,
  type LogError,
  type LogstoreAddress,
  type ShardCheckpoint,
} from './model';
import {
  type LogIntegrationStore,
  LogResourceMissing,
  type MemberLogAccess,
  type WorkerFanOut,
} from './ports';
import { shardReadiness } from './shards';
import { summarizeCheckpoints } from './status';
import { findTemplate } from './templates';

/** The lease name of a shard: the planner skips held ones, the worker holds one per shard. */
export function shardLeaseName(item: {
  dataSource: string;
  project: string;
  logstore: string;
  shardId: number;
}): string {
  return `${SHARD_LEASE_PREFIX}${item.dataSource}/${item.project}/${item.logstore}/${item.shardId}`;
}

export const SHARD_LEASE_PREFIX = 'log-shard:';

export const workItemSchema = z.strictObject({
  dataSource: z.string().min(1),
  templateId: z.string().min(1),
  accountId: z.string().regex(/^\d{1,32}$/),
  region: z.string().min(1),
  project: z.string().min(1),
  logstore: z.string().min(1),
  shardId: z.number().int().min(0),
  /** The shard was readonly when planned: read to its end, it is finished. */
  readonly: z.boolean(),
  generation: z.number().int().min(1),
  consumeFrom: z.iso.datetime({ offset: true }),
});
export type WorkItem = z.infer<typeof workItemSchema>;

export const workerChunkSchema = z.strictObject({
  runId: z.string().min(1),
  chunk: z.number().int().min(0),
  chunks: z.number().int().min(1),
  items: z.array(workItemSchema).min(1).max(200),
});
export type WorkerChunk = z.infer<typeof workerChunkSchema>;

export interface PlannerSettings {
  regions: readonly string[];
  functionsAccountId: string;
  workerFunction: string;
  /** Shards per worker invocation. */
  shardsPerWorker: number;
  /** Members planned at once. */
  memberConcurrency: number;
}

export interface PlannerDeps {
  store: LogIntegrationStore;
  memberLogs: MemberLogAccess;
  fanOut: WorkerFanOut;
  clock: Clock;
  logger: Logger;
  settings: PlannerSettings;
}

export interface PlanSummary {
  runId: string;
  /** Another planning run held the lease: this one did nothing. */
  skipped?: string;
  dataSources: number;
  shards: number;
  planned: number;
  waitingForParents: number;
  finished: number;
  held: number;
  backingOff: number;
  logstoresAdded: string[];
  failures: Array<{ dataSource: string; code: string; reason: string }>;
  chunks: number;
  invoked: number;
  invocationFailures: string[];
}

const PLANNER_LEASE = 'log-planner';

export async function planLogPulls(deps: PlannerDeps): Promise<PlanSummary> {
  const runId = randomUUID();
  try {
    return await runUnderLease(
      deps.store.leases,
      PLANNER_LEASE,
      {
        ownerPrefix: 'log-planner',
        what: 'Log planning',
        ttlMs: 120_000,
        waitMs: 0,
        clock: deps.clock,
      },
      () => plan(deps, runId),
    );
  } catch (error) {
    if (!(error instanceof LeaseBusy)) throw error;
    return { ...emptySummary(runId), skipped: error.message };
  }
}

function emptySummary(runId: string): PlanSummary {
  return {
    runId,
    dataSources: 0,
    shards: 0,
    planned: 0,
    waitingForParents: 0,
    finished: 0,
    held: 0,
    backingOff: 0,
    logstoresAdded: [],
    failures: [],
    chunks: 0,
    invoked: 0,
    invocationFailures: [],
  };
}

function errorOf(error: unknown, now: number): LogError {
  const at = new Date(now).toISOString();
  if (error instanceof MemberAccessDenied)
    return { code: error.cloudCode, message: error.message, at };
  if (error instanceof CloudApiError)
    return { code: error.failure.cloudCode, message: error.message, at };
  return {
    code: 'PlanningFailed',
    message: error instanceof Error ? error.message : String(error),
    at,
  };
}

async function plan(deps: PlannerDeps, runId: string): Promise<PlanSummary> {
  const { store, clock, settings } = deps;
  const summary = emptySummary(runId);
  const integrable = await IntegrableMembers.read(store, settings.functionsAccountId);
  const policies = (await store.policies.list()).filter(
    (p) => p.enabled && integrable.check(p.accountId).ok,
  );
  const existing = new Map((await store.dataSources.list()).map((d) => [d.name, d]));
  // Data sources follow their policies; a region added to LOG_REGIONS gets its own.
  const sources: DataSource[] = [];
  for (const policy of policies) {
    const template = findTemplate(policy.templateId);
    if (!template) continue;
    const member = integrable.check(policy.accountId);
    for (const region of settings.regions) {
      const name = dataSourceName(template, region, policy.accountId);
      const current = existing.get(name);
      const inStep =
        current?.enabled === true &&
        current.generation === policy.generation &&
        current.consumeFrom === policy.consumeFrom;
      sources.push(
        inStep
          ? current
          : await ensureDataSource(store, {
              name,
              type: DATA_SOURCE_TYPE,
              templateId: template.id,
              accountId: policy.accountId,
              ...(member.ok && member.member.displayName
                ? { accountName: member.member.displayName }
                : {}),
              region,
              enabled: true,
              autoAddNewLogstores: policy.autoAddNewLogstores,
              generation: policy.generation,
              consumeFrom: policy.consumeFrom,
              logstores: [],
            }),
      );
    }
  }
  summary.dataSources = sources.length;
  const held = new Set(await store.leases.heldNames(SHARD_LEASE_PREFIX));
  const byMember = new Map<string, DataSource[]>();
  for (const source of sources) {
    const list = byMember.get(source.accountId) ?? [];
    list.push(source);
    byMember.set(source.accountId, list);
  }
  const work: WorkItem[] = [];
  await mapWithConcurrency(
    [...byMember.entries()],
    settings.memberConcurrency,
    async ([accountId, list]) => {
      const regions = [...new Set(list.map((s) => s.region))];
      for (const region of regions) {
        const access = await deps.memberLogs(accountId, region);
        for (const source of list.filter((s) => s.region === region)) {
          const now = clock.now();
          if (!access.ok) {
            const error: LogError = {
              code: access.code,
              message: `AssumeRole into ${access.roleArn} failed: ${access.reason}`,
              at: new Date(now).toISOString(),
            };
            await recordSnapshot(deps, source, 0, error);
            summary.failures.push({
              dataSource: source.name,
              code: error.code,
              reason: error.message,
            });
            continue;
          }
          try {
            const planned = await planDataSource(deps, source, access.logs, held, summary);
            work.push(...planned);
          } catch (error) {
            const failure = errorOf(error, clock.now());
            deps.logger.warn('log planning of a data source failed', {
              dataSource: source.name,
              code: failure.code,
              reason: failure.message,
            });
            await recordSnapshot(deps, source, 0, failure);
            summary.failures.push({
              dataSource: source.name,
              code: failure.code,
              reason: failure.message,
            });
          }
        }
      }
    },
  );
  summary.planned = work.length;
  const chunks = packChunks(work, settings.shardsPerWorker);
  summary.chunks = chunks.length;
  await mapWithConcurrency(chunks, 4, async (items, chunk) => {
    const payload: WorkerChunk = { runId, chunk, chunks: chunks.length, items };
    try {
      await deps.fanOut.invokeAsync(settings.workerFunction, payload);
      summary.invoked++;
    } catch (error) {
      summary.invocationFailures.push(
        `chunk ${chunk}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
  deps.logger.info('log planning run', {
    runId,
    dataSources: summary.dataSources,
    shards: summary.shards,
    planned: summary.planned,
    waitingForParents: summary.waitingForParents,
    held: summary.held,
    backingOff: summary.backingOff,
    failures: summary.failures.length,
    chunks: summary.chunks,
    invoked: summary.invoked,
  });
  return summary;
}

/** Finds the source's Logstores, plans its ready shards, and writes its snapshot. */
async function planDataSource(
  deps: PlannerDeps,
  initial: DataSource,
  logs: Parameters<typeof findLogstores>[0],
  held: ReadonlySet<string>,
  summary: PlanSummary,
): Promise<WorkItem[]> {
  const { store, clock } = deps;
  const template = findTemplate(initial.templateId);
  if (!template) return [];
  const source = await updateLogstores(deps, initial, template, logs, summary);
  const checkpoints = await store.checkpoints.listForDataSource(source.name);
  const current = new Map<string, ShardCheckpoint>();
  for (const c of checkpoints) {
    if (c.generation === source.generation)
      current.set(`${c.project}/${c.logstore}/${c.shardId}`, c);
  }
  const items: WorkItem[] = [];
  let shardCount = 0;
  let failure: LogError | undefined;
  for (const address of source.logstores) {
    let shards: Awaited<ReturnType<typeof logs.listShards>>;
    try {
      shards = await logs.listShards(address);
    } catch (error) {
      if (!(error instanceof LogResourceMissing)) throw error;
      failure = errorOf(error, clock.now());
      continue;
    }
    shardCount += shards.length;
    const key = (shardId: number) => `${address.project}/${address.logstore}/${shardId}`;
    const finished = new Set(
      shards.filter((s) => current.get(key(s.shardId))?.finished).map((s) => s.shardId),
    );
    const readiness = shardReadiness(shards, finished);
    summary.finished += readiness.finished.length;
    summary.waitingForParents += readiness.waiting.length;
    for (const shard of readiness.ready) {
      const item: WorkItem = {
        dataSource: source.name,
        templateId: source.templateId,
        accountId: source.accountId,
        region: source.region,
        project: address.project,
        logstore: address.logstore,
        shardId: shard.shardId,
        readonly: shard.status === 'readonly',
        generation: source.generation,
        consumeFrom: source.consumeFrom,
      };
      if (held.has(shardLeaseName(item))) {
        summary.held++;
        continue;
      }
      const backoff = current.get(key(shard.shardId))?.backoffUntil;
      if (backoff !== undefined && Date.parse(backoff) > clock.now()) {
        summary.backingOff++;
        continue;
      }
      items.push(item);
    }
  }
  summary.shards += shardCount;
  await recordSnapshot(deps, source, shardCount, failure, checkpoints);
  return items;
}

/**
 * The data source's Logstores: the first ones found, then (auto-add) each new one matching the
 * template, recorded in the activity log. A write that lost to a concurrent change is left to
 * the next run.
 */
async function updateLogstores(
  deps: PlannerDeps,
  source: DataSource,
  template: NonNullable<ReturnType<typeof findTemplate>>,
  logs: Parameters<typeof findLogstores>[0],
  summary: PlanSummary,
): Promise<DataSource> {
  if (source.discoveredAt !== undefined && !source.autoAddNewLogstores) return source;
  const { found } = await findLogstores(logs, template, source.accountId, source.region);
  const known = new Set(source.logstores.map(logstoreKey));
  const added = found.filter((f) => !known.has(logstoreKey(f)));
  if (added.length === 0) return source;
  const first = source.discoveredAt === undefined;
  let updated: DataSource;
  try {
    updated = await deps.store.dataSources.update({
      ...source,
      logstores: [...source.logstores, ...added],
      ...(first ? { discoveredAt: new Date(deps.clock.now()).toISOString() } : {}),
    });
  } catch (error) {
    if (error instanceof ConcurrentModification) return source;
    throw error;
  }
  for (const address of added) {
    summary.logstoresAdded.push(`${source.name}: ${logstoreKey(address)}`);
    await deps.store.activity.append({
      action: 'log-integration.logstore-added',
      outcome: 'succeeded',
      accountId: source.accountId,
      cause: { kind: 'timer', trigger: 'log-planner' },
      target: { type: 'data-source', id: source.name },
      detail: `${first ? 'found' : 'new Logstore, added automatically'}: project ${address.project}, Logstore ${address.logstore}`,
    });
  }
  return updated;
}

const logstoreKey = (a: LogstoreAddress) => `${a.project}/${a.logstore}`;

async function recordSnapshot(
  deps: PlannerDeps,
  source: DataSource,
  shards: number,
  error: LogError | undefined,
  checkpoints?: ShardCheckpoint[],
): Promise<void> {
  const list = checkpoints ?? (await deps.store.checkpoints.listForDataSource(source.name));
  await deps.store.snapshots.put(
    summarizeCheckpoints(source, list, {
      at: deps.clock.now(),
      shards,
      ...(error ? { error } : {}),
    }),
  );
}

/**
 * Work items as worker chunks of at most `size` shards, a member's shards together where they
 * fit (its credentials are then assumed by one worker instance).
 */
export function packChunks(items: readonly WorkItem[], size: number): WorkItem[][] {
  const byMember = new Map<string, WorkItem[]>();
  for (const item of items) {
    const list = byMember.get(item.accountId) ?? [];
    list.push(item);
    byMember.set(item.accountId, list);
  }
  const chunks: WorkItem[][] = [];
  let current: WorkItem[] = [];
  for (const accountId of [...byMember.keys()].sort()) {
    const list = byMember.get(accountId) ?? [];
    if (current.length > 0 && current.length + list.length > size) {
      chunks.push(current);
      current = [];
    }
    for (const item of list) {
      if (current.length === size) {
        chunks.push(current);
        current = [];
      }
      current.push(item);
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
