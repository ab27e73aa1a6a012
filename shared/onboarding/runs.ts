// Onboarding runs: a scope change (or a reconcile asked for through the API) answers as soon as
// it is stored, and its members are onboarded asynchronously, fanned out to the onboarding
// worker through FC async invocation, with its progress readable meanwhile.
//
// - The request takes the `membership` lease for the run (owner `run/<runId>`), stores the run
//   and the scope change, asks the worker to plan the run, and answers: 202 with the run. Busy
//   (another change holds the lease) or any failure before the change is stored answers an
//   error with nothing stored; once the change is stored the answer is 202, whatever happens
//   next (a run that could not be started says so, and the reconcile timer takes it up).
// - The planner (a worker invocation) reads the directory and the records, plans every account
//   (coverage.ts), writes the accounts with something to do as chunks, and starts one chunk per
//   lane. Lanes run at once, each chunk of a lane after the one before (the worker that finishes
//   a chunk invokes the next), so at most `lanes` workers reach members at a time; each lane's
//   AssumeRole calls are limited to its share of the account's rate (STS allows 100 a second per
//   account; the share travels in the chunk's payload).
// - The run holds the lease until its last chunk is done: each worker renews it (as the run's
//   owner, with the run's fencing token) while it works, and the worker that finds every chunk
//   done records the summary and releases it. Meanwhile other membership changes wait for it or
//   answer Busy (directory events are retried by EventBridge; the timer skips), so a run's plan
//   holds while it is applied. A worker that finds the lease taken over stops; one that crashes
//   is retried by FC (a chunk is safe to run twice: each account is planned again against its
//   record at apply time and written conditionally); a run whose lease runs out with accounts
//   pending is `abandoned`, and the next reconcile (the timer's, every ten minutes) takes them
//   up, since it plans every account again.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Caller } from '../domain/caller';
import { type Clock, isoNow, systemClock } from '../domain/clock';
import type { FanOut } from '../domain/fan-out';
import {
  acquireLease,
  holdLease,
  type Lease,
  type LeaseGuard,
  LeaseLost,
  type LeaseStore,
} from '../domain/lease';
import { ConcurrentModification } from '../domain/records';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import { MEMBERSHIP_LEASE, type Membership, type ScopeInput, summarize } from './membership';
import {
  type MemberOutcome,
  type OnboardingRun,
  type ReconcileSummary,
  type ReconcileTarget,
  type RunChunk,
  RunNotFound,
  type RunReason,
  type Scope,
  scopeIdFor,
} from './model';
import type { ReconcileRunLog, RunStore } from './ports';

/** A run's lease lives this long without a renewal (a worker crashed, a handoff is late). */
export const RUN_LEASE_TTL_MS = 90_000;
/** Accounts per chunk: a worker invocation's work. */
export const DEFAULT_RUN_CHUNK_SIZE = 250;
/** Lanes worked at once. */
export const DEFAULT_RUN_LANES = 4;
/** How long a request waits for a running change before it answers Busy. */
export const DEFAULT_START_WAIT_MS = 3_000;

/** What the onboarding worker is invoked with. */
export const onboardingWorkSchema = z.discriminatedUnion('step', [
  z.strictObject({ step: z.literal('plan'), runId: z.uuid() }),
  z.strictObject({
    step: z.literal('chunk'),
    runId: z.uuid(),
    chunk: z.number().int().min(1),
    lane: z.number().int().min(0),
    /** AssumeRole calls a second this lane may make: its share of the account's rate. */
    assumeRoleRate: z.number().int().min(1).max(100),
  }),
]);
export type OnboardingWork = z.infer<typeof onboardingWorkSchema>;

/** A run as its reader sees it: counts, the accounts not yet done, and the time left. */
export interface RunProgress {
  runId: string;
  reason: RunReason;
  scopeId?: string;
  cause: OnboardingRun['cause'];
  /** The stored state, or `abandoned`: its lease ran out with accounts pending. */
  state: OnboardingRun['state'] | 'abandoned';
  startedAt: string;
  plannedAt?: string;
  finishedAt?: string;
  /** Accounts with something to do; null until the run is planned. */
  total: number | null;
  /** Done without a failure. */
  done: number;
  /** Done with a failure (unreachable, a failing step): see the summary. */
  failed: number;
  /** Not done yet; null until the run is planned. */
  pending: number | null;
  pendingAccountIds: string[];
  /** At the pace so far; null until an account is done, 0 when finished. */
  estimatedSecondsLeft: number | null;
  lanes?: number;
  /** Set once finished. */
  summary?: ReconcileSummary;
  /** Why it did not start or was abandoned, and who takes its accounts up. */
  note?: string;
}

export interface OnboardingRunsDeps {
  membership: Membership;
  store: { runs: RunStore; leases: LeaseStore; reconcileRuns: ReconcileRunLog };
  /** FC async invocation of `workerFunction`. */
  fanOut: FanOut;
  workerFunction: string;
  /** The account's AssumeRole rate that the lanes share (STS_ASSUME_ROLE_RATE). */
  assumeRoleRate: number;
  lanes?: number;
  chunkSize?: number;
  /** Accounts of a chunk worked at once. Default 16. */
  concurrency?: number;
  /** How long starting a run waits for a running change before Busy. */
  startWaitMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export type WorkOutcome =
  | { step: 'plan'; runId: string; total: number; chunks: number; lanes: number }
  | { step: 'chunk'; runId: string; chunk: number; accounts: number; failed: number }
  | { step: OnboardingWork['step']; runId: string; skipped: string };

const NOT_STARTED_NOTE =
  'The change is stored but its run did not start; the reconcile timer (every ten minutes) or POST /v1/reconcile takes its members up.';
const ABANDONED_NOTE =
  "The run's lease ran out or was taken over with accounts pending; the next reconcile (the timer's, every ten minutes, or POST /v1/reconcile) takes them up.";

export class OnboardingRuns {
  private readonly clock: Clock;
  private readonly lanes: number;
  private readonly chunkSize: number;

  constructor(private readonly deps: OnboardingRunsDeps) {
    this.clock = deps.clock ?? systemClock;
    this.lanes = Math.max(1, deps.lanes ?? DEFAULT_RUN_LANES);
    this.chunkSize = Math.max(1, deps.chunkSize ?? DEFAULT_RUN_CHUNK_SIZE);
  }

  /** Adds (or updates) a scope and starts onboarding what it covers. */
  async startScopeAddition(
    input: ScopeInput,
    caller: Caller,
  ): Promise<{ scope: Scope; created: boolean; run: RunProgress }> {
    const { membership } = this.deps;
    // Checked before the lease is taken: a refused request writes nothing at all.
    const root = await membership.requirePrerequisites();
    const targetId = await membership.resolveTarget(input, root);
    const scopeId = scopeIdFor(input.kind, targetId);
    const { change, run } = await this.start(
      caller,
      { reason: 'scope-added', scopeId, target: membershipTarget(input, targetId) },
      (guard) => membership.storeScope(guard, input, targetId, caller),
    );
    return { ...change, run };
  }

  /** Removes a scope and starts offboarding the members only it covered. */
  async startScopeRemoval(
    scopeId: string,
    caller: Caller,
  ): Promise<{ scope: Scope; run: RunProgress }> {
    const { membership } = this.deps;
    await membership.requirePrerequisites();
    const { change, run } = await this.start(
      caller,
      { reason: 'scope-removed', scopeId, target: { kind: 'covered-by', scopeId } },
      async (guard) => {
        const scope = await membership.requireScope(scopeId);
        await membership.deleteScope(guard, scope, caller);
        return scope;
      },
      // The scope must exist before a run is recorded for its removal.
      () => membership.requireScope(scopeId).then(() => undefined),
    );
    return { scope: change, run };
  }

  /** Reconciles every scope against the whole directory, as the timer does, asynchronously. */
  async startReconcile(caller: Caller): Promise<{ run: RunProgress }> {
    const { run } = await this.start(
      caller,
      { reason: 'reconcile', target: { kind: 'full' } },
      async () => undefined,
    );
    return { run };
  }

  /** A run's progress; RunNotFound for an unknown id. */
  async progress(runId: string): Promise<RunProgress> {
    const [read, lease] = await Promise.all([
      this.deps.store.runs.read(runId),
      this.deps.store.leases.current(MEMBERSHIP_LEASE),
    ]);
    if (!read) throw new RunNotFound(runId);
    return this.describe(read.run, read.chunks, lease);
  }

  /** One worker invocation: plan a run, or work one chunk. */
  async work(payload: OnboardingWork): Promise<WorkOutcome> {
    return payload.step === 'plan'
      ? this.plan(payload.runId)
      : this.runChunk(payload.runId, payload.chunk);
  }

  // ------------------------------------------------------------------------------------------
  // Starting a run

  /**
   * Takes the lease for a new run, records the run, makes the change, and asks the worker to
   * plan it. Until the change is stored, a failure releases the lease and is thrown (the run,
   * if recorded, says it never started); after it, the answer is the run, started or not.
   */
  private async start<T>(
    caller: Caller,
    what: { reason: RunReason; scopeId?: string; target: ReconcileTarget },
    change: (guard: LeaseGuard) => Promise<T>,
    check?: () => Promise<void>,
  ): Promise<{ change: T; run: RunProgress }> {
    const { runs, leases } = this.deps.store;
    const runId = randomUUID();
    const lease = await acquireLease(leases, MEMBERSHIP_LEASE, {
      owner: `run/${runId}`,
      what: 'A membership change',
      ttlMs: RUN_LEASE_TTL_MS,
      waitMs: this.deps.startWaitMs ?? DEFAULT_START_WAIT_MS,
      clock: this.clock,
    });
    const released = async (error: unknown): Promise<never> => {
      await leases.release(lease).catch(() => undefined);
      throw error;
    };
    await check?.().catch(released);
    let run = await runs
      .create({
        runId,
        reason: what.reason,
        target: what.target,
        cause: caller.cause,
        lease: { owner: lease.owner, token: lease.token.toString() },
        state: 'planning',
        startedAt: this.isoNow(),
        ...(what.scopeId ? { scopeId: what.scopeId } : {}),
        ...(caller.requestId ? { requestId: caller.requestId } : {}),
      })
      .catch(released);
    let changed: T;
    // The lease as last renewed while the change was stored: the answer reads its expiry.
    let held: Lease;
    try {
      ({ result: changed, lease: held } = await holdLease(
        leases,
        lease,
        { ttlMs: RUN_LEASE_TTL_MS },
        change,
      ));
    } catch (error) {
      // Nothing of the change was stored: the run says it never started.
      await this.notStarted(run, error).catch(() => undefined);
      return released(error);
    }
    try {
      await this.deps.fanOut.invokeAsync(this.deps.workerFunction, {
        step: 'plan',
        runId,
      } satisfies OnboardingWork);
    } catch (error) {
      this.deps.logger?.error('onboarding run not started', {
        runId,
        reason: describeError(error),
      });
      run = await this.notStarted(run, error).catch(() => run);
      await leases.release(held).catch(() => undefined);
    }
    return { change: changed, run: this.describe(run, [], held) };
  }

  private notStarted(run: OnboardingRun, error: unknown): Promise<OnboardingRun> {
    return this.deps.store.runs.update({
      ...run,
      state: 'not-started',
      error: describeError(error),
    });
  }

  // ------------------------------------------------------------------------------------------
  // The worker: planning

  private async plan(runId: string): Promise<WorkOutcome> {
    const { runs } = this.deps.store;
    const run = await runs.get(runId);
    if (!run) return { step: 'plan', runId, skipped: 'no such run' };
    if (run.state === 'running') {
      // A retried planner whose first attempt planned: start the lanes no chunk of which ran.
      await this.restartIdleLanes(run);
      return { step: 'plan', runId, skipped: 'already planned' };
    }
    if (run.state !== 'planning') return { step: 'plan', runId, skipped: `run is ${run.state}` };
    const lease = await this.renewed(run);
    if (!lease) return { step: 'plan', runId, skipped: 'its lease was taken over' };
    try {
      const { result } = await holdLease(
        this.deps.store.leases,
        lease,
        { ttlMs: RUN_LEASE_TTL_MS },
        async (guard) => {
          const { accounts, skipped } = await this.deps.membership.planTarget(run.target);
          const work = accounts.filter((a) => a.needsWork);
          const chunks = Math.ceil(work.length / this.chunkSize);
          const lanes = Math.max(1, Math.min(this.lanes, chunks));
          const laneRate = Math.max(1, Math.floor(this.deps.assumeRoleRate / lanes));
          const now = this.isoNow();
          guard.stillHeld();
          await runs.putChunks(
            Array.from({ length: chunks }, (_, i) => ({
              runId,
              chunk: i + 1,
              lane: i % lanes,
              accounts: work
                .slice(i * this.chunkSize, (i + 1) * this.chunkSize)
                .map(({ accountId, desired, current }) =>
                  current ? { accountId, desired, current } : { accountId, desired },
                ),
              state: 'pending' as const,
            })),
          );
          guard.stillHeld();
          const planned = await runs.update({
            ...run,
            state: 'running',
            plannedAt: now,
            total: work.length,
            chunks,
            lanes,
            laneRate,
            unchanged: accounts.filter((a) => a.action === 'unchanged').length,
            skipped,
          });
          return planned;
        },
      );
      this.deps.logger?.info('onboarding run planned', {
        runId,
        total: result.total,
        chunks: result.chunks,
        lanes: result.lanes,
      });
      if ((result.chunks ?? 0) === 0) await this.finishIfDone(runId);
      else await this.restartIdleLanes(result);
      return {
        step: 'plan',
        runId,
        total: result.total ?? 0,
        chunks: result.chunks ?? 0,
        lanes: result.lanes ?? 0,
      };
    } catch (error) {
      if (error instanceof LeaseLost) return { step: 'plan', runId, skipped: 'its lease was lost' };
      // Kept on the run for its readers, and the lease let go, so that the next reconcile need
      // not wait for it to run out; thrown so that FC retries the planning (a retry renews the
      // lease if nobody took it meanwhile, and gives up if someone did).
      await runs.update({ ...run, error: describeError(error) }).catch(() => undefined);
      await this.deps.store.leases.release(lease).catch(() => undefined);
      throw error;
    }
  }

  /** Invokes the first chunk of every lane none of whose chunks is done. */
  private async restartIdleLanes(run: OnboardingRun): Promise<void> {
    const read = await this.deps.store.runs.read(run.runId);
    if (!read) return;
    const lanes = read.run.lanes ?? 0;
    for (let lane = 0; lane < lanes; lane++) {
      const ofLane = read.chunks.filter((c) => c.lane === lane);
      if (ofLane.some((c) => c.state === 'done')) continue;
      const first = ofLane[0];
      if (first) await this.invokeChunk(read.run, first.chunk, lane);
    }
  }

  private async invokeChunk(run: OnboardingRun, chunk: number, lane: number): Promise<void> {
    await this.deps.fanOut.invokeAsync(this.deps.workerFunction, {
      step: 'chunk',
      runId: run.runId,
      chunk,
      lane,
      assumeRoleRate: run.laneRate ?? this.deps.assumeRoleRate,
    } satisfies OnboardingWork);
  }

  // ------------------------------------------------------------------------------------------
  // The worker: one chunk

  private async runChunk(runId: string, index: number): Promise<WorkOutcome> {
    const { runs, leases } = this.deps.store;
    const [run, chunk] = await Promise.all([runs.get(runId), runs.getChunk(runId, index)]);
    if (!run || !chunk) return { step: 'chunk', runId, skipped: 'no such run or chunk' };
    if (run.state !== 'running') return { step: 'chunk', runId, skipped: `run is ${run.state}` };
    let done = chunk;
    if (chunk.state !== 'done') {
      const lease = await this.renewed(run);
      if (!lease) return { step: 'chunk', runId, skipped: 'its lease was taken over' };
      const caller: Caller = {
        cause: run.cause,
        ...(run.requestId ? { requestId: run.requestId } : {}),
      };
      try {
        ({ result: done } = await holdLease(
          leases,
          lease,
          { ttlMs: RUN_LEASE_TTL_MS },
          async (guard) => {
            const startedAt = this.isoNow();
            const outcomes = await mapWithConcurrency(
              chunk.accounts,
              this.deps.concurrency ?? 16,
              (account) =>
                this.deps.membership.applyDesired(guard, caller, account, account.current ?? null),
            );
            guard.stillHeld();
            return this.markDone(chunk, outcomes, startedAt);
          },
        ));
      } catch (error) {
        if (!(error instanceof LeaseLost)) throw error;
        this.deps.logger?.warn(
          'onboarding run lost its lease; its pending accounts are left to the next reconcile',
          {
            runId,
            chunk: index,
          },
        );
        return { step: 'chunk', runId, skipped: 'its lease was lost' };
      }
    }
    await this.continueLane(run, done);
    await this.finishIfDone(runId);
    const outcomes = done.outcomes ?? [];
    return {
      step: 'chunk',
      runId,
      chunk: index,
      accounts: outcomes.length,
      failed: outcomes.filter(failedOutcome).length,
    };
  }

  /** Records the chunk's outcomes; a duplicate invocation that finished it first wins. */
  private async markDone(
    chunk: RunChunk,
    outcomes: MemberOutcome[],
    startedAt: string,
  ): Promise<RunChunk> {
    try {
      return await this.deps.store.runs.updateChunk({
        ...chunk,
        state: 'done',
        outcomes,
        startedAt,
        finishedAt: this.isoNow(),
      });
    } catch (error) {
      if (!(error instanceof ConcurrentModification)) throw error;
      const stored = await this.deps.store.runs.getChunk(chunk.runId, chunk.chunk);
      if (!stored) throw error;
      return stored;
    }
  }

  /** Invokes the lane's next chunk, once. */
  private async continueLane(run: OnboardingRun, chunk: RunChunk): Promise<void> {
    const next = chunk.chunk + (run.lanes ?? 1);
    if (chunk.nextInvoked || next > (run.chunks ?? 0)) return;
    await this.invokeChunk(run, next, chunk.lane);
    await this.deps.store.runs
      .updateChunk({ ...chunk, nextInvoked: true })
      .catch((error: unknown) => {
        if (!(error instanceof ConcurrentModification)) throw error;
      });
  }

  /** When every chunk is done: the summary, the full reconcile's record, the lease released. */
  private async finishIfDone(runId: string): Promise<void> {
    const { runs, leases, reconcileRuns } = this.deps.store;
    const read = await runs.read(runId);
    if (read?.run.state !== 'running') return;
    if (read.chunks.some((c) => c.state !== 'done')) return;
    const { run, chunks } = read;
    const finishedAt = this.isoNow();
    const summary = summarize({
      runId,
      kind: run.target.kind === 'full' ? 'full' : 'accounts',
      cause: run.cause,
      startedAt: run.startedAt,
      finishedAt,
      outcomes: chunks.flatMap((c) => c.outcomes ?? []),
      unchanged: run.unchanged ?? 0,
      skipped: run.skipped ?? [],
    });
    try {
      await runs.update({ ...run, state: 'finished', finishedAt, summary });
    } catch (error) {
      if (error instanceof ConcurrentModification) return; // another worker finished it
      throw error;
    }
    if (run.reason === 'reconcile') {
      await reconcileRuns.record('reconcile', {
        runId,
        startedAt: run.startedAt,
        finishedAt,
        summary,
      });
    }
    await leases.release(leaseOf(run)).catch(() => undefined);
    this.deps.logger?.info('onboarding run finished', {
      runId,
      added: summary.added.length,
      removed: summary.removed.length,
      moved: summary.moved.length,
      updated: summary.updated.length,
      unchanged: summary.unchanged,
      failed: summary.failed.length,
    });
  }

  /** The run's lease, renewed now (it may have run out while nobody held it); undefined when
   *  another holder took it. */
  private async renewed(run: OnboardingRun): Promise<Lease | undefined> {
    try {
      return await this.deps.store.leases.renew(leaseOf(run), { ttlMs: RUN_LEASE_TTL_MS });
    } catch (error) {
      if (error instanceof LeaseLost) return undefined;
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Progress

  private describe(
    run: OnboardingRun,
    chunks: readonly RunChunk[],
    lease: Lease | undefined,
  ): RunProgress {
    const now = this.clock.now();
    const outcomes = chunks.flatMap((c) => c.outcomes ?? []);
    const failed = outcomes.filter(failedOutcome).length;
    const total = run.total ?? null;
    const pending = total === null ? null : Math.max(0, total - outcomes.length);
    const held =
      lease !== undefined &&
      lease.owner === run.lease.owner &&
      lease.token.toString() === run.lease.token &&
      lease.expiresAt > now;
    const live = run.state === 'planning' || run.state === 'running';
    const state: RunProgress['state'] = live && !held ? 'abandoned' : run.state;
    let estimatedSecondsLeft: number | null = null;
    if (run.state === 'finished') estimatedSecondsLeft = 0;
    else if (state === 'running' && pending !== null && outcomes.length > 0 && run.plannedAt) {
      const elapsedMs = now - Date.parse(run.plannedAt);
      estimatedSecondsLeft = Math.ceil((pending * elapsedMs) / outcomes.length / 1000);
    }
    const note =
      run.state === 'not-started'
        ? `${NOT_STARTED_NOTE}${run.error ? ` (${run.error})` : ''}`
        : state === 'abandoned'
          ? `${ABANDONED_NOTE}${run.error ? ` (last error: ${run.error})` : ''}`
          : undefined;
    return {
      runId: run.runId,
      reason: run.reason,
      ...(run.scopeId ? { scopeId: run.scopeId } : {}),
      cause: run.cause,
      state,
      startedAt: run.startedAt,
      ...(run.plannedAt ? { plannedAt: run.plannedAt } : {}),
      ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
      total,
      done: outcomes.length - failed,
      failed,
      pending,
      pendingAccountIds: chunks
        .filter((c) => c.state !== 'done')
        .flatMap((c) => c.accounts.map((a) => a.accountId)),
      estimatedSecondsLeft,
      ...(run.lanes ? { lanes: run.lanes } : {}),
      ...(run.summary ? { summary: run.summary } : {}),
      ...(note ? { note } : {}),
    };
  }

  private isoNow(): string {
    return isoNow(this.clock);
  }
}

/** The accounts a scope change reconciles: its account, or every account (folder, directory). */
function membershipTarget(input: ScopeInput, targetId: string): ReconcileTarget {
  return input.kind === 'account' ? { kind: 'accounts', accountIds: [targetId] } : { kind: 'full' };
}

function leaseOf(run: OnboardingRun): Lease {
  return {
    name: MEMBERSHIP_LEASE,
    owner: run.lease.owner,
    token: BigInt(run.lease.token),
    expiresAt: 0,
  };
}

function failedOutcome(outcome: MemberOutcome): boolean {
  return outcome.kind === 'failed' || (outcome.kind === 'added' && outcome.failure !== undefined);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
