// The worker: reads the shards of one planned chunk from their checkpoints and forwards them to
// the central Logstore, within the function's time budget.
//
// Per shard:
//  1. Take the shard's lease (held by another worker: skip it). Check the plan still holds (the
//     data source enabled, same generation).
//  2. Claim the checkpoint with the lease's fencing token; a first checkpoint is the cursor of the
//     logs received at or after the policy's consumeFrom (real time: the shard's end when the
//     integration was enabled; children of a split or merge, created after, start at their
//     beginning). A checkpoint of an older generation starts again there.
//  3. Pull a batch from the checkpoint; forward it (groups sharing topic, source and tags merged,
//     provenance tags and the batch id added); commit the next cursor, fenced: only after every
//     PutLogs of the batch succeeded, and only while the row still carries this holder's token.
//     A crash anywhere repeats at most this one batch, with the same batch id; it never skips one.
//  4. Stop when caught up (a readonly shard read to its end is finished: its children may go),
//     at the shard's slice of the time budget, or when the lease is lost. Behind: note the lag.
//  A cursor the service refuses (the data fell out of the Logstore's TTL) goes on from the oldest
//  retained log and records the gap on the checkpoint and in the activity log. Failures back off
//  per shard (throttling included), recorded on its checkpoint; the other shards go on.

import { type Clock, isoNow } from '../domain/clock';
import { LeaseBusy, type LeaseGuard, LeaseLost, runUnderLease } from '../domain/lease';
import { CloudApiError, MemberAccessDenied } from '../errors';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import {
  batchIdFor,
  centralHashKey,
  mergeForPut,
  provenanceTags,
  type ShardSource,
} from './forwarding';
import {
  type LogError,
  type LogGap,
  type LogstoreAddress,
  MAX_GAPS_KEPT,
  type PulledLogs,
  type ShardCheckpoint,
} from './model';
import { shardLeaseName, type WorkerChunk, type WorkItem } from './planner';
import {
  LogCursorInvalid,
  type LogIntegrationStore,
  type LogSink,
  type MemberLogAccess,
  type MemberLogs,
  type ShardRef,
} from './ports';
import { countMinute } from './status';

/** Where a test may stop the worker as a crash would: nothing after it runs. */
export type CrashPoint = 'lease-taken' | 'pulled' | 'forwarded-part' | 'forwarded' | 'committed';

export interface PullerSettings {
  /** Shards read at once by one worker instance. */
  concurrency: number;
  /** A shard lease lasts this long; renewed at a third of it while the shard is read. */
  leaseTtlMs: number;
  /** Raw bytes one PullLogs should bring (the group count adapts to it); bounds memory. */
  targetPullBytes: number;
  /** Time kept in reserve before the deadline (the last commit and the lease release). */
  reserveMs: number;
}

export const DEFAULT_PULLER_SETTINGS: PullerSettings = {
  concurrency: 8,
  leaseTtlMs: 60_000,
  targetPullBytes: 4 * 1024 * 1024,
  reserveMs: 5_000,
};

export interface PullerDeps {
  store: LogIntegrationStore;
  memberLogs: MemberLogAccess;
  central: { sink: LogSink; address: LogstoreAddress };
  clock: Clock;
  logger: Logger;
  settings: PullerSettings;
  /** Test seam: called at each crash point; what it throws ends the worker there. */
  crashPoint?: (point: CrashPoint, item: WorkItem) => void;
}

export type ShardOutcome =
  | 'caught-up'
  | 'finished'
  | 'behind'
  | 'busy'
  | 'stale'
  | 'superseded'
  | 'failed'
  | 'no-time';

export interface ShardResult {
  dataSource: string;
  project: string;
  logstore: string;
  shardId: number;
  outcome: ShardOutcome;
  logs: number;
  bytes: number;
  batches: number;
  gaps: number;
  error?: string;
}

export interface ChunkOutcome {
  runId: string;
  chunk: number;
  shards: ShardResult[];
  logs: number;
  bytes: number;
}

/** A lost lease or a checkpoint another holder claimed: stop the shard, record nothing. */
class ShardSuperseded extends Error {}

const INITIAL_PULL_COUNT = 16;
const MAX_PULL_COUNT = 1000;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** Throttled this many times in a row, a shard shows as failing. */
const THROTTLES_BEFORE_FAILING = 3;

export async function pullChunk(
  deps: PullerDeps,
  chunk: WorkerChunk,
  deadline: number,
): Promise<ChunkOutcome> {
  const start = deps.clock.now();
  const budget = Math.max(0, deadline - deps.settings.reserveMs - start);
  const rounds = Math.ceil(chunk.items.length / Math.max(1, deps.settings.concurrency));
  // Each shard gets its share of the budget, so every shard of the chunk is served this run.
  const sliceMs = Math.max(5_000, Math.floor(budget / Math.max(1, rounds)));
  const shards = await mapWithConcurrency(chunk.items, deps.settings.concurrency, (item) => {
    const now = deps.clock.now();
    const end = Math.min(deadline - deps.settings.reserveMs, now + sliceMs);
    return pullShard(deps, item, end);
  });
  const outcome: ChunkOutcome = {
    runId: chunk.runId,
    chunk: chunk.chunk,
    shards,
    logs: 0,
    bytes: 0,
  };
  for (const shard of shards) {
    outcome.logs += shard.logs;
    outcome.bytes += shard.bytes;
  }
  return outcome;
}

function result(
  item: WorkItem,
  outcome: ShardOutcome,
  extra: Partial<ShardResult> = {},
): ShardResult {
  return {
    dataSource: item.dataSource,
    project: item.project,
    logstore: item.logstore,
    shardId: item.shardId,
    outcome,
    logs: 0,
    bytes: 0,
    batches: 0,
    gaps: 0,
    ...extra,
  };
}

/** Reads one shard until caught up, finished, out of time or out of its lease. */
export async function pullShard(
  deps: PullerDeps,
  item: WorkItem,
  end: number,
): Promise<ShardResult> {
  if (deps.clock.now() >= end) return result(item, 'no-time');
  try {
    return await runUnderLease(
      deps.store.leases,
      shardLeaseName(item),
      {
        ownerPrefix: 'log-worker',
        what: `Reading shard ${item.shardId} of ${item.project}/${item.logstore}`,
        ttlMs: deps.settings.leaseTtlMs,
        waitMs: 0,
        clock: deps.clock,
      },
      (guard) => new ShardReader(deps, item, guard, end).run(),
    );
  } catch (error) {
    if (error instanceof LeaseBusy) return result(item, 'busy');
    throw error;
  }
}

class ShardReader {
  private readonly ref: ShardRef;
  private readonly source: ShardSource;
  private readonly address: LogstoreAddress;
  private readonly counts = { logs: 0, bytes: 0, batches: 0, gaps: 0 };
  private checkpoint: ShardCheckpoint | undefined;
  /** The row carries this holder's token: claiming again with it would answer `superseded`. */
  private claimed = false;

  constructor(
    private readonly deps: PullerDeps,
    private readonly item: WorkItem,
    private readonly guard: LeaseGuard,
    private readonly end: number,
  ) {
    this.ref = {
      dataSource: item.dataSource,
      project: item.project,
      logstore: item.logstore,
      shardId: item.shardId,
    };
    this.source = {
      dataSource: item.dataSource,
      accountId: item.accountId,
      templateId: item.templateId,
      region: item.region,
      project: item.project,
      logstore: item.logstore,
      shardId: item.shardId,
    };
    this.address = { project: item.project, logstore: item.logstore };
  }

  private get token(): bigint {
    return this.guard.lease.token;
  }

  private done(outcome: ShardOutcome, error?: string): ShardResult {
    return result(this.item, outcome, { ...this.counts, ...(error ? { error } : {}) });
  }

  async run(): Promise<ShardResult> {
    this.deps.crashPoint?.('lease-taken', this.item);
    const source = await this.deps.store.dataSources.get(this.item.dataSource);
    if (!source?.enabled || source.generation !== this.item.generation) {
      return this.done('stale');
    }
    try {
      const access = await this.deps.memberLogs(this.item.accountId, this.item.region);
      if (!access.ok) {
        throw new MemberAccessDenied(
          this.item.accountId,
          access.roleArn,
          access.code,
          access.reason,
        );
      }
      const logs = access.logs;
      this.checkpoint = await this.claim(logs);
      if (this.checkpoint.finished) return this.done('finished');
      return await this.read(logs);
    } catch (error) {
      // A renewal found the lease taken over: this shard stops, committing nothing; the others go on.
      if (error instanceof ShardSuperseded || error instanceof LeaseLost) {
        return this.done('superseded');
      }
      if (!(error instanceof CloudApiError || error instanceof MemberAccessDenied)) throw error;
      await this.recordFailure(error);
      return this.done('failed', error.message);
    }
  }

  /** The checkpoint, claimed with this holder's token (and made, or started again, if needed). */
  private async claim(logs: MemberLogs): Promise<ShardCheckpoint> {
    const { checkpoints } = this.deps.store;
    let claimed = await checkpoints.claim(this.ref, this.token);
    if (claimed === 'absent') {
      const first = await this.fresh(logs, undefined);
      if (await checkpoints.create(first)) return first;
      claimed = await checkpoints.claim(this.ref, this.token);
    }
    if (claimed !== 'claimed') throw new ShardSuperseded();
    this.claimed = true;
    const stored = await checkpoints.get(this.ref);
    if (!stored) throw new ShardSuperseded();
    if (stored.generation === this.item.generation && stored.cursor !== undefined) return stored;
    // A new generation (enabled again), or a row that only recorded failures: start at consumeFrom.
    const restarted = await this.fresh(logs, stored);
    await this.commit(restarted);
    return restarted;
  }

  /** A checkpoint at the logs received at or after consumeFrom. */
  private async fresh(
    logs: MemberLogs,
    previous: ShardCheckpoint | undefined,
  ): Promise<ShardCheckpoint> {
    const from = Math.floor(Date.parse(this.item.consumeFrom) / 1000);
    const cursor = await logs.cursor(this.address, this.item.shardId, { unixSeconds: from });
    return {
      ...this.ref,
      generation: this.item.generation,
      cursor,
      pullCount: INITIAL_PULL_COUNT,
      finished: false,
      fenceToken: this.token,
      positionTime: from,
      logsForwarded: 0,
      bytesForwarded: 0,
      window: [],
      failures: 0,
      // Gaps of an earlier generation stay visible.
      gaps: previous?.gaps ?? [],
    };
  }

  private async commit(next: ShardCheckpoint): Promise<void> {
    this.guard.stillHeld();
    if (this.deps.clock.now() >= this.guard.lease.expiresAt) throw new ShardSuperseded();
    if (!(await this.deps.store.checkpoints.commit({ ...next, fenceToken: this.token }))) {
      throw new ShardSuperseded();
    }
    this.checkpoint = next;
  }

  private async read(logs: MemberLogs): Promise<ShardResult> {
    for (;;) {
      const checkpoint = this.checkpoint as ShardCheckpoint;
      const cursor = checkpoint.cursor as string;
      const count = checkpoint.pullCount;
      if (this.deps.clock.now() >= this.end) {
        await this.noteLag(logs);
        return this.done('behind');
      }
      this.guard.stillHeld();
      let pulled: PulledLogs;
      try {
        pulled = await logs.pull(this.address, this.item.shardId, { cursor, count });
      } catch (error) {
        if (!(error instanceof LogCursorInvalid)) throw error;
        await this.recordGap(logs, checkpoint);
        continue;
      }
      this.deps.crashPoint?.('pulled', this.item);
      const now = this.deps.clock.now();
      const at = new Date(now).toISOString();
      if (pulled.groups.length === 0) {
        const finished = this.item.readonly;
        await this.commit({
          ...checkpoint,
          finished,
          positionTime: Math.max(checkpoint.positionTime, Math.floor(now / 1000)),
          lastPullAt: at,
          lagSeconds: 0,
          failures: 0,
          ...clearError(),
        });
        return this.done(finished ? 'finished' : 'caught-up');
      }
      await this.forward(pulled, cursor);
      this.deps.crashPoint?.('forwarded', this.item);
      const caughtUp = pulled.groups.length < count;
      const perGroup = pulled.rawBytes / pulled.groups.length;
      await this.commit({
        ...checkpoint,
        cursor: pulled.nextCursor,
        pullCount: Math.max(
          1,
          Math.min(
            MAX_PULL_COUNT,
            Math.floor(this.deps.settings.targetPullBytes / Math.max(1, perGroup)),
          ),
        ),
        positionTime: caughtUp
          ? Math.max(checkpoint.positionTime, Math.floor(now / 1000))
          : checkpoint.positionTime,
        logsForwarded: checkpoint.logsForwarded + pulled.logCount,
        bytesForwarded: checkpoint.bytesForwarded + pulled.rawBytes,
        firstCommitAt: checkpoint.firstCommitAt ?? at,
        committedAt: at,
        lastPullAt: at,
        lastDataAt: at,
        ...(caughtUp ? { lagSeconds: 0 } : {}),
        window: countMinute(checkpoint.window, now, pulled.logCount, pulled.rawBytes),
        failures: 0,
        ...clearError(),
      });
      this.deps.crashPoint?.('committed', this.item);
      this.counts.logs += pulled.logCount;
      this.counts.bytes += pulled.rawBytes;
      this.counts.batches++;
      // A readonly shard goes on to an empty pull, which marks it finished.
      if (caughtUp && !this.item.readonly) return this.done('caught-up');
    }
  }

  /** Every PutLogs of the batch, all carrying the batch's id. */
  private async forward(pulled: PulledLogs, cursor: string): Promise<void> {
    const batchId = batchIdFor(this.source, cursor);
    const tags = provenanceTags(this.source);
    const hashKey = centralHashKey(this.source);
    const { sink, address } = this.deps.central;
    for (const groups of mergeForPut(pulled.groups)) {
      this.guard.stillHeld();
      await sink.put(address, { group: groups, tags, batchId, hashKey });
      this.deps.crashPoint?.('forwarded-part', this.item);
    }
  }

  /** The checkpoint's data fell out of the TTL: go on from the oldest retained log, say so. */
  private async recordGap(logs: MemberLogs, checkpoint: ShardCheckpoint): Promise<void> {
    const begin = await logs.cursor(this.address, this.item.shardId, 'begin');
    const to = Math.max(
      checkpoint.positionTime,
      await logs.cursorTime(this.address, this.item.shardId, begin),
    );
    const from = checkpoint.positionTime;
    const gap: LogGap = {
      project: this.item.project,
      logstore: this.item.logstore,
      shardId: this.item.shardId,
      from,
      to,
      estimatedCount: estimateLost(checkpoint, to - from),
      recordedAt: isoNow(this.deps.clock),
    };
    await this.commit({
      ...checkpoint,
      cursor: begin,
      positionTime: to,
      gaps: [...checkpoint.gaps, gap].slice(-MAX_GAPS_KEPT),
    });
    this.counts.gaps++;
    await this.deps.store.activity.append({
      action: 'log-integration.gap-recorded',
      outcome: 'failed',
      accountId: this.item.accountId,
      cause: { kind: 'timer', trigger: 'log-worker' },
      target: { type: 'data-source', id: this.item.dataSource },
      detail: `shard ${this.item.shardId} of ${this.item.project}/${this.item.logstore}: logs received from ${new Date(from * 1000).toISOString()} to ${new Date(to * 1000).toISOString()} fell out of the Logstore's TTL before they were read (estimated ${gap.estimatedCount ?? 'unknown'}); reading goes on from the oldest retained log`,
    });
    this.deps.logger.warn('log gap recorded', { dataSource: this.item.dataSource, ...gap });
  }

  /** Behind the shard's end at the end of the slice: how far, in seconds of receive time. */
  private async noteLag(logs: MemberLogs): Promise<void> {
    const checkpoint = this.checkpoint as ShardCheckpoint;
    try {
      const endCursor = await logs.cursor(this.address, this.item.shardId, 'end');
      const [endTime, positionTime] = await Promise.all([
        logs.cursorTime(this.address, this.item.shardId, endCursor),
        logs.cursorTime(this.address, this.item.shardId, checkpoint.cursor as string),
      ]);
      await this.commit({
        ...checkpoint,
        positionTime: Math.max(checkpoint.positionTime, positionTime),
        lagSeconds: Math.max(0, endTime - positionTime),
      });
    } catch (error) {
      // The lag is information: a failure to measure it leaves the checkpoint as committed.
      if (error instanceof ShardSuperseded) throw error;
      if (!(error instanceof CloudApiError)) throw error;
    }
  }

  /** Backs the shard off and records why, fenced like any commit. */
  private async recordFailure(error: CloudApiError | MemberAccessDenied): Promise<void> {
    const { checkpoints } = this.deps.store;
    const now = this.deps.clock.now();
    const current = this.checkpoint ?? (await this.claimForFailure());
    if (!current) return;
    const failures = current.failures + 1;
    const throttled = error instanceof CloudApiError && error.failure.kind === 'throttled';
    const lastError: LogError = {
      code: error instanceof MemberAccessDenied ? error.cloudCode : error.failure.cloudCode,
      message: error.message,
      at: new Date(now).toISOString(),
    };
    const next: ShardCheckpoint = {
      ...current,
      failures,
      backoffUntil: new Date(
        now + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1)),
      ).toISOString(),
      ...(throttled && failures < THROTTLES_BEFORE_FAILING ? {} : { lastError }),
    };
    try {
      if (this.checkpoint) await this.commit(next);
      else if (!(await checkpoints.create(next))) await this.commit(next);
    } catch (failure) {
      if (!(failure instanceof ShardSuperseded || failure instanceof LeaseLost)) throw failure;
    }
    this.deps.logger.warn('log shard pull failed', {
      dataSource: this.item.dataSource,
      shard: `${this.item.project}/${this.item.logstore}/${this.item.shardId}`,
      failures,
      code: lastError.code,
      reason: lastError.message,
    });
  }

  /** The row to record a failure on, before any cursor was taken (claimed, or a blank one). */
  private async claimForFailure(): Promise<ShardCheckpoint | undefined> {
    const { checkpoints } = this.deps.store;
    const claimed = this.claimed ? 'claimed' : await checkpoints.claim(this.ref, this.token);
    if (claimed === 'superseded') return undefined;
    const stored = claimed === 'claimed' ? await checkpoints.get(this.ref) : undefined;
    if (stored) return stored;
    return {
      ...this.ref,
      generation: this.item.generation,
      pullCount: INITIAL_PULL_COUNT,
      finished: false,
      fenceToken: this.token,
      positionTime: Math.floor(Date.parse(this.item.consumeFrom) / 1000),
      logsForwarded: 0,
      bytesForwarded: 0,
      window: [],
      failures: 0,
      gaps: [],
    };
  }
}

function clearError(): { lastError: undefined; backoffUntil: undefined } {
  return { lastError: undefined, backoffUntil: undefined };
}

/** Logs lost in `seconds`, at the rate the shard was forwarded at (null without a minute of it). */
function estimateLost(checkpoint: ShardCheckpoint, seconds: number): number | null {
  if (checkpoint.firstCommitAt === undefined || checkpoint.committedAt === undefined) return null;
  const span = (Date.parse(checkpoint.committedAt) - Date.parse(checkpoint.firstCommitAt)) / 1000;
  if (span < 60 || checkpoint.logsForwarded === 0) return null;
  return Math.round((checkpoint.logsForwarded / span) * Math.max(0, seconds));
}

export function deadlineFor(start: number, timeoutSeconds: number | undefined): number {
  const timeoutMs = (timeoutSeconds ?? 300) * 1000;
  // A tenth of the timeout (at least 10 s) is left for the last commits and lease releases.
  return start + timeoutMs - Math.max(10_000, Math.floor(timeoutMs / 10));
}
