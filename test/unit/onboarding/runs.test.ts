// Onboarding runs over in-memory fakes of their ports, with FC async invocation queued in the
// test's process: a scope change answers with its run before any member is touched, the planner
// splits the accounts into chunks worked in lanes (never more at once than lanes, each with its
// share of the AssumeRole rate), progress and the time left while it goes, the lease it holds
// until its last chunk, and what happens when FC refuses, retries, or the run loses its lease.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import { LeaseBusy } from '../../../shared/domain/lease';
import { MEMBERSHIP_LEASE, Membership } from '../../../shared/onboarding/membership';
import { RunNotFound } from '../../../shared/onboarding/model';
import {
  OnboardingRuns,
  type OnboardingWork,
  onboardingWorkSchema,
  RUN_LEASE_TTL_MS,
} from '../../../shared/onboarding/runs';
import { member } from '../../support/directory';
import {
  InMemoryDirectory,
  type InMemoryMembershipStore,
  InMemoryProbe,
  inMemoryMembershipStore,
} from '../../support/in-memory-ports';
import { InlineFanOut } from '../../support/inline-fan-out';
import { capturingLogger } from '../../support/invocation';
import { ManualClock } from '../../support/manual-clock';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const MGMT = '1000000000000001';
const MEMBERS = Array.from({ length: 11 }, (_, i) => String(2000000000000001 + i));
const user: Caller = { cause: { kind: 'user', identity: 'alice' }, requestId: 'req-7' };
const timer: Caller = { cause: { kind: 'timer', trigger: 'test' } };

let clock: ManualClock;
let store: InMemoryMembershipStore;
let directory: InMemoryDirectory;
let probe: InMemoryProbe;
let membership: Membership;
let fanOut: InlineFanOut;
let runs: OnboardingRuns;
/** Accounts each probe saw, in order (the onboarding's calls into members). */
let probed: string[];

beforeEach(() => {
  clock = new ManualClock();
  store = inMemoryMembershipStore(clock);
  directory = new InMemoryDirectory(
    { resourceDirectoryId: 'rd-test1', managementAccountId: MGMT, rootFolderId: 'r-root' },
    {
      folders: [
        { id: 'r-root', name: 'Root', parentId: null },
        { id: 'fd-web', name: 'Web', parentId: 'r-root' },
      ],
      members: [member(MGMT, 'r-root'), ...MEMBERS.map((id) => member(id, 'fd-web'))],
    },
  );
  probe = new InMemoryProbe();
  probed = probe.probed;
  membership = new Membership({
    store,
    directory,
    probe,
    settings: { callerAccountId: MGMT, memberAccessRole: 'ResourceDirectoryAccountAccessRole' },
    clock,
    lease: { waitMs: 0 },
  });
  fanOut = new InlineFanOut();
  runs = runsWith({});
});

const work = (payload: unknown) => runs.work(onboardingWorkSchema.parse(payload));
const folderScope = { kind: 'folder' as const, targetId: 'fd-web', services: ['bdrc'] };
const chunkPayloads = () =>
  fanOut.queue.map((q) => q.payload as OnboardingWork).filter((p) => p.step === 'chunk');

describe('a scope change', () => {
  it('answers with its run, stored and planning, before any member is touched', async () => {
    const { scope, created, run } = await runs.startScopeAddition(folderScope, user);
    expect(created).toBe(true);
    expect(scope.id).toBe('folder:fd-web');
    expect(run).toMatchObject({
      reason: 'scope-added',
      scopeId: 'folder:fd-web',
      state: 'planning',
      total: null,
      pending: null,
      done: 0,
      estimatedSecondsLeft: null,
    });
    expect(await store.scopes.list()).toHaveLength(1);
    expect(await store.members.list()).toEqual([]);
    expect(probed).toEqual([]);
    expect(fanOut.queue.map((q) => [q.functionName, q.payload])).toEqual([
      ['rdgov-onboarding-worker', { step: 'plan', runId: run.runId }],
    ]);
    // The run holds the membership lease: an event's reconcile waits for it (here: Busy).
    expect((await store.leases.current(MEMBERSHIP_LEASE))?.owner).toBe(`run/${run.runId}`);
    await expect(membership.reconcileAccounts(timer, [MEMBERS[0] ?? ''])).rejects.toBeInstanceOf(
      LeaseBusy,
    );
  });

  it('plans chunks in lanes sharing the AssumeRole rate, never more lanes at once, and reports progress and the time left', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work); // the planner
    expect(chunkPayloads()).toEqual([
      { step: 'chunk', runId: run.runId, chunk: 1, lane: 0, assumeRoleRate: 47 },
      { step: 'chunk', runId: run.runId, chunk: 2, lane: 1, assumeRoleRate: 47 },
    ]);
    const planned = await runs.progress(run.runId);
    expect(planned).toMatchObject({ state: 'running', total: 11, pending: 11, done: 0, lanes: 2 });
    expect([...planned.pendingAccountIds].sort()).toEqual(MEMBERS);

    clock.advance(6_000);
    await fanOut.runNext(work); // chunk 1: three members
    const after = await runs.progress(run.runId);
    expect(after).toMatchObject({ done: 3, failed: 0, pending: 8 });
    // Three done in 6 s: eight left take 16 s.
    expect(after.estimatedSecondsLeft).toBe(16);
    expect(after.pendingAccountIds).toHaveLength(8);

    let most = 0;
    while (await fanOut.runNext(work)) most = Math.max(most, chunkPayloads().length);
    expect(most).toBeLessThanOrEqual(2);
    expect(
      fanOut.invoked.filter((q) => (q.payload as OnboardingWork).step === 'chunk'),
    ).toHaveLength(4);

    const finished = await runs.progress(run.runId);
    expect(finished).toMatchObject({
      state: 'finished',
      total: 11,
      done: 11,
      pending: 0,
      pendingAccountIds: [],
      estimatedSecondsLeft: 0,
    });
    expect([...(finished.summary?.added ?? [])].sort()).toEqual(MEMBERS);
    expect((await store.members.list()).every((m) => m.status === 'managed')).toBe(true);
    // Its members' activity carries the request that started it; the lease is free again.
    expect(
      store.activity.entries.filter((e) => e.action === 'member.onboarded').map((e) => e.requestId),
    ).toEqual(Array(11).fill('req-7'));
    const lease = await store.leases.current(MEMBERSHIP_LEASE);
    expect(lease?.expiresAt).toBeLessThanOrEqual(clock.now());
    await expect(membership.reconcile(timer)).resolves.toMatchObject({ unchanged: 11 });
  });

  it('a run with nothing to do finishes at planning and frees the lease', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const { run, created } = await runs.startScopeAddition(folderScope, user);
    expect(created).toBe(false);
    await fanOut.drain(work);
    expect(await runs.progress(run.runId)).toMatchObject({
      state: 'finished',
      total: 0,
      summary: { unchanged: 11, added: [] },
    });
    expect(chunkPayloads()).toEqual([]);
  });

  it('a change while another holds the lease is Busy and stores nothing, not even a run', async () => {
    store.leases.hold(MEMBERSHIP_LEASE, 'reconcile/other', clock.now() + 60_000);
    await expect(runs.startScopeAddition(folderScope, user)).rejects.toBeInstanceOf(LeaseBusy);
    expect(await store.scopes.list()).toEqual([]);
    expect(await store.runs.list()).toEqual([]);
    expect(store.activity.entries).toEqual([]);
    expect(fanOut.invoked).toEqual([]);
  });

  it('stored but not started (FC refused the worker): the answer says so, the lease is freed, the timer onboards', async () => {
    fanOut.refuse = new Error('FC InvokeFunction refused: ResourceExhausted');
    const { scope, run } = await runs.startScopeAddition(folderScope, user);
    expect(scope.id).toBe('folder:fd-web');
    expect(run.state).toBe('not-started');
    expect(run.note).toContain('reconcile timer');
    expect(run.note).toContain('ResourceExhausted');
    expect(await store.scopes.list()).toHaveLength(1);
    const summary = await membership.reconcile(timer);
    expect([...summary.added].sort()).toEqual(MEMBERS);
  });

  it('removing a scope answers with its run, which offboards the members only it covered', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const { scope, run } = await runs.startScopeRemoval('folder:fd-web', user);
    expect(scope.id).toBe('folder:fd-web');
    expect(await store.scopes.list()).toEqual([]);
    expect(await store.members.list()).toHaveLength(11);
    await fanOut.drain(work);
    const finished = await runs.progress(run.runId);
    expect(finished.summary?.removed).toHaveLength(11);
    expect(await store.members.list()).toEqual([]);
    await expect(runs.startScopeRemoval('folder:fd-web', user)).rejects.toMatchObject({
      status: 404,
    });
    // The refused removal left the lease free.
    await expect(membership.reconcile(timer)).resolves.toBeDefined();
  });

  it('an unknown run is RunNotFound, a 404 naming the run', async () => {
    const runId = '00000000-0000-4000-8000-000000000000';
    const refused = await runs.progress(runId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RunNotFound);
    expect(refused).toMatchObject({
      status: 404,
      message: `There is no reconcile run ${runId}`,
      details: { runId },
    });
  });
});

describe('workers that fail, repeat or lose the lease', () => {
  it('a chunk delivered twice (an FC retry) changes nothing the second time and continues its lane once', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    const first = fanOut.queue[0]?.payload;
    await fanOut.runNext(work);
    const members = await store.members.list();
    const entries = store.activity.entries.length;
    const queued = fanOut.queue.length;
    await work(first);
    expect(await store.members.list()).toEqual(members);
    expect(store.activity.entries).toHaveLength(entries);
    expect(fanOut.queue).toHaveLength(queued);
    await fanOut.drain(work);
    expect((await runs.progress(run.runId)).state).toBe('finished');
  });

  it('a run whose lease runs out is abandoned; the timer reconcile takes its pending members up and its late chunks stop', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work); // planned
    await fanOut.runNext(work); // chunk 1 done
    clock.advance(RUN_LEASE_TTL_MS + 1); // the worker of chunk 2 crashed: nobody renews
    const abandoned = await runs.progress(run.runId);
    expect(abandoned.state).toBe('abandoned');
    expect(abandoned.note).toContain('next reconcile');
    expect(abandoned.pending).toBe(8);

    const summary = await membership.reconcile(timer);
    expect(summary.added).toHaveLength(8);
    const late = await fanOut.drain(work);
    expect(late).toBeGreaterThan(0);
    expect(await store.members.list()).toHaveLength(11);
    expect((await store.members.list()).every((m) => m.status === 'managed')).toBe(true);
    expect((await runs.progress(run.runId)).state).toBe('abandoned');
  });

  it('a member record changed by another writer mid-run is read again and planned again', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const target = MEMBERS[0] ?? '';
    const record = await store.members.get(target);
    if (!record) throw new Error('not onboarded');
    // Unreachable meanwhile (a role check said so), then the directory renames it.
    await store.members.update({ ...record, status: 'unreachable' });
    directory.members = directory.members.map((m) =>
      m.accountId === target ? { ...m, displayName: 'renamed' } : m,
    );
    const { run } = await runs.startReconcile(user);
    await fanOut.runNext(work); // planned: retry the unreachable member
    const current = await store.members.get(target);
    if (!current) throw new Error('gone');
    await store.members.update({ ...current, status: 'managed' }); // reached meanwhile
    await fanOut.drain(work);
    const finished = await runs.progress(run.runId);
    expect(finished.summary?.failed).toEqual([]);
    expect(await store.members.get(target)).toMatchObject({
      status: 'managed',
      displayName: 'renamed',
    });
    // A reconcile started through the API is listed with the timer's.
    expect(store.reconcileRuns.runs.map((r) => r.run.runId)).toContain(run.runId);
  });
});

/** The folder scope stored without a run: a reconcile run then has its members to onboard. */
function storeFolderScope() {
  return store.scopes.create({
    id: 'folder:fd-web',
    kind: 'folder',
    targetId: 'fd-web',
    services: ['bdrc'],
    createdBy: 'test',
  });
}

/** Another OnboardingRuns over the same store, fan-out and membership, with these options. */
function runsWith(options: Partial<ConstructorParameters<typeof OnboardingRuns>[0]>) {
  return new OnboardingRuns({
    membership,
    store,
    fanOut,
    workerFunction: 'rdgov-onboarding-worker',
    assumeRoleRate: 95,
    lanes: 2,
    chunkSize: 3,
    clock,
    startWaitMs: 0,
    ...options,
  });
}

describe('what a worker invocation answers', () => {
  it('the planner answers the plan: accounts with something to do, chunks and lanes; the run records them', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    const planned = await work(fanOut.queue.shift()?.payload);
    expect(planned).toEqual({ step: 'plan', runId: run.runId, total: 11, chunks: 4, lanes: 2 });
    expect(await store.runs.get(run.runId)).toMatchObject({
      state: 'running',
      total: 11,
      chunks: 4,
      lanes: 2,
      laneRate: 47,
      unchanged: 0,
      skipped: [],
    });
    const progress = await runs.progress(run.runId);
    // Nothing done yet: no pace, no estimate.
    expect(progress.estimatedSecondsLeft).toBeNull();
    expect(progress.plannedAt).toBe(new Date(clock.now()).toISOString());
    expect(progress.finishedAt).toBeUndefined();
    expect(progress.note).toBeUndefined();
  });

  it('a planner with nothing to do answers an empty plan in one lane', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const { run } = await runs.startReconcile(user);
    expect(await work(fanOut.queue.shift()?.payload)).toEqual({
      step: 'plan',
      runId: run.runId,
      total: 0,
      chunks: 0,
      lanes: 1,
    });
    expect(fanOut.queue).toEqual([]);
  });

  it('a chunk answers how many accounts it worked and how many failed', async () => {
    probe.refused.set(MEMBERS[1] ?? '', 'AssumeRole refused');
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    const chunk = await work(fanOut.queue.shift()?.payload);
    expect(chunk).toEqual({ step: 'chunk', runId: run.runId, chunk: 1, accounts: 3, failed: 1 });
    const stored = await store.runs.getChunk(run.runId, 1);
    expect(stored).toMatchObject({ state: 'done', lane: 0 });
    expect(stored?.outcomes).toHaveLength(3);
  });

  it('a planner for an unknown run, or for a run already finished, does nothing', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await work({ step: 'plan', runId: unknown })).toEqual({
      step: 'plan',
      runId: unknown,
      skipped: 'no such run',
    });
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const entries = store.activity.entries.length;
    expect(await work({ step: 'plan', runId: run.runId })).toEqual({
      step: 'plan',
      runId: run.runId,
      skipped: 'run is finished',
    });
    expect(fanOut.queue).toEqual([]);
    expect(store.activity.entries).toHaveLength(entries);
  });

  it('a planner delivered again after planning restarts only the lanes none of whose chunks is done', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work); // planned: chunk 1 (lane 0) and chunk 2 (lane 1) queued
    fanOut.queue.splice(1); // chunk 2's invocation was lost
    await fanOut.runNext(work); // chunk 1 done, chunk 3 (lane 0) queued
    expect(chunkPayloads().map((p) => p.step === 'chunk' && p.chunk)).toEqual([3]);
    expect(await work({ step: 'plan', runId: run.runId })).toEqual({
      step: 'plan',
      runId: run.runId,
      skipped: 'already planned',
    });
    expect(chunkPayloads()).toEqual([
      { step: 'chunk', runId: run.runId, chunk: 3, lane: 0, assumeRoleRate: 47 },
      { step: 'chunk', runId: run.runId, chunk: 2, lane: 1, assumeRoleRate: 47 },
    ]);
    await fanOut.drain(work);
    expect((await runs.progress(run.runId)).state).toBe('finished');
  });

  it('a chunk of an unknown run, an unknown chunk, or a chunk of a finished run does nothing', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const chunkOf = (runId: string, chunk: number) => ({
      step: 'chunk',
      runId,
      chunk,
      lane: 0,
      assumeRoleRate: 10,
    });
    expect(await work(chunkOf(unknown, 1))).toEqual({
      step: 'chunk',
      runId: unknown,
      skipped: 'no such run or chunk',
    });
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    expect(await work(chunkOf(run.runId, 99))).toEqual({
      step: 'chunk',
      runId: run.runId,
      skipped: 'no such run or chunk',
    });
    await fanOut.drain(work);
    const members = await store.members.list();
    expect(await work(chunkOf(run.runId, 1))).toEqual({
      step: 'chunk',
      runId: run.runId,
      skipped: 'run is finished',
    });
    expect(await store.members.list()).toEqual(members);
  });

  it('a chunk of a run not yet planned does nothing', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    // A chunk row of the run's id exists only once planned; a stale payload finds the run planning.
    await store.runs.putChunks([
      { runId: run.runId, chunk: 1, lane: 0, accounts: [], state: 'pending' },
    ]);
    expect(
      await work({ step: 'chunk', runId: run.runId, chunk: 1, lane: 0, assumeRoleRate: 10 }),
    ).toEqual({ step: 'chunk', runId: run.runId, skipped: 'run is planning' });
  });
});

describe('a run and its lease', () => {
  it('a planner whose run lost the lease to another change stops before planning', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    clock.advance(RUN_LEASE_TTL_MS + 1);
    store.leases.hold(MEMBERSHIP_LEASE, 'membership/other', clock.now() + 60_000);
    expect(await work(fanOut.queue.shift()?.payload)).toEqual({
      step: 'plan',
      runId: run.runId,
      skipped: 'its lease was taken over',
    });
    expect(await store.runs.getChunk(run.runId, 1)).toBeUndefined();
    expect((await runs.progress(run.runId)).state).toBe('abandoned');
  });

  it('a chunk whose run lost the lease to another change stops before touching a member', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    clock.advance(RUN_LEASE_TTL_MS + 1);
    store.leases.hold(MEMBERSHIP_LEASE, 'membership/other', clock.now() + 60_000);
    probed.length = 0;
    expect(await work(fanOut.queue.shift()?.payload)).toEqual({
      step: 'chunk',
      runId: run.runId,
      skipped: 'its lease was taken over',
    });
    expect(probed).toEqual([]);
    expect(await store.members.list()).toEqual([]);
  });

  /** Works chunk 1 of a new run with `worker`; another change takes the lease over while the
   *  worker reaches its first member, and the worker's next renewal (a third of the TTL later)
   *  finds it gone. */
  async function chunkLosingItsLease(worker: OnboardingRuns) {
    const { run } = await worker.startScopeAddition(folderScope, user);
    await fanOut.runNext((p) => worker.work(onboardingWorkSchema.parse(p)));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const original = probe.probe.bind(probe);
    vi.spyOn(probe, 'probe').mockImplementationOnce(async (accountId) => {
      clock.advance(RUN_LEASE_TTL_MS + 1);
      store.leases.hold(MEMBERSHIP_LEASE, 'membership/other', clock.now() + 60_000);
      await vi.advanceTimersByTimeAsync(RUN_LEASE_TTL_MS / 3);
      return original(accountId);
    });
    const answer = await worker.work(onboardingWorkSchema.parse(fanOut.queue.shift()?.payload));
    return { run, answer };
  }

  it('a chunk whose lease is taken over while it works stops at its next member, says so, and leaves the rest pending', async () => {
    const { logger, lines } = capturingLogger();
    const { run, answer } = await chunkLosingItsLease(runsWith({ logger, concurrency: 1 }));
    expect(answer).toEqual({ step: 'chunk', runId: run.runId, skipped: 'its lease was lost' });
    expect((await store.members.list()).map((m) => m.accountId)).toEqual([MEMBERS[0]]);
    expect((await store.runs.getChunk(run.runId, 1))?.state).toBe('pending');
    expect(fanOut.queue.map((q) => (q.payload as { chunk?: number }).chunk)).toEqual([2]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message:
          'onboarding run lost its lease; its pending accounts are left to the next reconcile',
        runId: run.runId,
        chunk: 1,
      }),
    );
  });

  it('a worker without a logger stops the same way when its lease is taken over', async () => {
    const { run, answer } = await chunkLosingItsLease(runsWith({ concurrency: 1 }));
    expect(answer).toEqual({ step: 'chunk', runId: run.runId, skipped: 'its lease was lost' });
    expect((await store.runs.getChunk(run.runId, 1))?.state).toBe('pending');
  });

  it('a planner whose lease is taken over while it reads the directory writes no chunk', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const original = directory.readSnapshot.bind(directory);
    vi.spyOn(directory, 'readSnapshot').mockImplementationOnce(async () => {
      clock.advance(RUN_LEASE_TTL_MS + 1);
      store.leases.hold(MEMBERSHIP_LEASE, 'membership/other', clock.now() + 60_000);
      await vi.advanceTimersByTimeAsync(RUN_LEASE_TTL_MS / 3);
      return original();
    });
    expect(await work(fanOut.queue.shift()?.payload)).toEqual({
      step: 'plan',
      runId: run.runId,
      skipped: 'its lease was lost',
    });
    expect(await store.runs.getChunk(run.runId, 1)).toBeUndefined();
    expect(await store.runs.get(run.runId)).toMatchObject({ state: 'planning' });
    expect(fanOut.queue).toEqual([]);
  });

  it('a worker renews the lease while it works: a chunk slower than the TTL keeps the run alive', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const original = probe.probe.bind(probe);
    vi.spyOn(probe, 'probe').mockImplementationOnce(async (accountId) => {
      for (let i = 0; i < 4; i++) {
        clock.advance(RUN_LEASE_TTL_MS / 3);
        await vi.advanceTimersByTimeAsync(RUN_LEASE_TTL_MS / 3);
      }
      return original(accountId);
    });
    await work(fanOut.queue.shift()?.payload);
    const lease = await store.leases.current(MEMBERSHIP_LEASE);
    expect(lease?.owner).toBe(`run/${run.runId}`);
    expect(lease?.expiresAt).toBe(clock.now() + RUN_LEASE_TTL_MS);
    expect((await runs.progress(run.runId)).state).toBe('running');
  });

  it('a request renews the lease while its change is stored: a store slower than the TTL keeps it', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const create = store.scopes.create.bind(store.scopes);
    vi.spyOn(store.scopes, 'create').mockImplementationOnce(async (scope) => {
      for (let i = 0; i < 4; i++) {
        clock.advance(RUN_LEASE_TTL_MS / 3);
        await vi.advanceTimersByTimeAsync(RUN_LEASE_TTL_MS / 3);
      }
      return create(scope);
    });
    const { run } = await runs.startScopeAddition(folderScope, user);
    expect(run.state).toBe('planning');
    const lease = await store.leases.current(MEMBERSHIP_LEASE);
    expect(lease?.owner).toBe(`run/${run.runId}`);
    expect(lease?.expiresAt).toBe(clock.now() + RUN_LEASE_TTL_MS);
  });

  it('a planner that fails keeps the error on the run, frees the lease and throws for FC to retry', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    vi.spyOn(directory, 'readSnapshot').mockRejectedValueOnce(new Error('ListAccounts throttled'));
    const payload = fanOut.queue.shift()?.payload;
    await expect(work(payload)).rejects.toThrow('ListAccounts throttled');
    expect(await store.runs.get(run.runId)).toMatchObject({
      state: 'planning',
      error: 'ListAccounts throttled',
    });
    const progress = await runs.progress(run.runId);
    expect(progress.state).toBe('abandoned');
    expect(progress.note).toContain('(last error: ListAccounts throttled)');
    // The lease is free: FC's retry of the planner finds it gone (another change may hold it).
    expect((await store.leases.current(MEMBERSHIP_LEASE))?.expiresAt).toBe(clock.now());
    await expect(membership.reconcile(timer)).resolves.toMatchObject({ added: MEMBERS });
  });

  it('a worker whose lease renewal fails otherwise than lost throws, for FC to retry', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    vi.spyOn(store.leases, 'renew').mockRejectedValueOnce(new Error('OTSServerBusy'));
    await expect(work(fanOut.queue[0]?.payload)).rejects.toThrow('OTSServerBusy');
    await work(fanOut.queue.shift()?.payload);
    expect((await runs.progress(run.runId)).state).toBe('running');
  });
});

describe('starting a run', () => {
  it('an account scope plans only its account; a removal is recorded as such', async () => {
    const account = MEMBERS[4] ?? '';
    const { run } = await runs.startScopeAddition(
      { kind: 'account', targetId: account, services: [] },
      user,
    );
    expect(run).toMatchObject({ reason: 'scope-added', scopeId: `account:${account}` });
    expect((await store.runs.get(run.runId))?.target).toEqual({
      kind: 'accounts',
      accountIds: [account],
    });
    await fanOut.drain(work);
    expect((await runs.progress(run.runId)).summary).toMatchObject({
      kind: 'accounts',
      added: [account],
    });
    const removal = await runs.startScopeRemoval(`account:${account}`, user);
    expect(removal.run).toMatchObject({ reason: 'scope-removed', scopeId: `account:${account}` });
    expect((await store.runs.get(removal.run.runId))?.target).toEqual({
      kind: 'covered-by',
      scopeId: `account:${account}`,
    });
  });

  it('waits for a running change up to its start wait, then takes the lease', async () => {
    const waiting = runsWith({ startWaitMs: 5_000 });
    store.leases.hold(MEMBERSHIP_LEASE, 'membership/other', clock.now() + 4_000);
    const sleep = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void) => {
      clock.advance(1_000);
      fn();
      return 0 as unknown as NodeJS.Timeout;
    }) as typeof setTimeout);
    const { run } = await waiting.startScopeAddition(folderScope, user);
    sleep.mockRestore();
    expect(run.state).toBe('planning');
    expect((await store.leases.current(MEMBERSHIP_LEASE))?.owner).toBe(`run/${run.runId}`);
  });

  it('a change that fails to store answers its error, stores nothing and frees the lease; the run says it never started', async () => {
    vi.spyOn(store.scopes, 'create').mockRejectedValueOnce(new Error('OTSServerBusy'));
    await expect(runs.startScopeAddition(folderScope, user)).rejects.toThrow('OTSServerBusy');
    expect(await store.scopes.list()).toEqual([]);
    const [run] = await store.runs.list();
    expect(run).toMatchObject({ state: 'not-started', error: 'OTSServerBusy' });
    expect(fanOut.invoked).toEqual([]);
    await expect(membership.reconcile(timer)).resolves.toBeDefined();
  });

  it('a run that cannot be recorded answers its error and frees the lease', async () => {
    vi.spyOn(store.runs, 'create').mockRejectedValueOnce(new Error('OTSServerBusy'));
    await expect(runs.startScopeAddition(folderScope, user)).rejects.toThrow('OTSServerBusy');
    expect(await store.scopes.list()).toEqual([]);
    await expect(membership.reconcile(timer)).resolves.toBeDefined();
  });

  it('FC refusing the worker is logged; the answer stands even when the run cannot be marked', async () => {
    const { logger, lines } = capturingLogger();
    const logged = runsWith({ logger });
    fanOut.refuse = new Error('FC InvokeFunction refused: ResourceExhausted');
    vi.spyOn(store.runs, 'update').mockRejectedValueOnce(new Error('OTSServerBusy'));
    const { scope, run } = await logged.startScopeAddition(folderScope, user);
    expect(scope.id).toBe('folder:fd-web');
    expect(run.reason).toBe('scope-added');
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'onboarding run not started',
        runId: run.runId,
        reason: 'FC InvokeFunction refused: ResourceExhausted',
      }),
    );
    // The lease is free for the timer that takes the members up.
    await expect(membership.reconcile(timer)).resolves.toMatchObject({ added: MEMBERS });
  });
});

describe('progress', () => {
  it('counts accounts that failed apart from those done: new unreachable members and failed retries', async () => {
    const [first = '', second = ''] = MEMBERS;
    probe.refused.set(first, 'AssumeRole refused');
    const added = await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    expect(await runs.progress(added.run.runId)).toMatchObject({ done: 10, failed: 1 });
    // The next run retries it and it fails otherwise; a second managed member fails too.
    probe.refused.set(first, 'the role no longer trusts the caller');
    probe.refused.set(second, 'AssumeRole refused');
    const record = await store.members.get(second);
    if (!record) throw new Error('not onboarded');
    await store.members.update({ ...record, status: 'unreachable' });
    const { run } = await runs.startReconcile(user);
    await fanOut.drain(work);
    expect(await runs.progress(run.runId)).toMatchObject({ total: 2, done: 0, failed: 2 });
  });

  it('a planning run whose lease ran out is abandoned', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    clock.advance(RUN_LEASE_TTL_MS - 1);
    expect((await runs.progress(run.runId)).state).toBe('planning');
    clock.advance(1);
    const abandoned = await runs.progress(run.runId);
    expect(abandoned.state).toBe('abandoned');
    expect(abandoned.note).toBe(
      "The run's lease ran out or was taken over with accounts pending; the next reconcile (the timer's, every ten minutes, or POST /v1/reconcile) takes them up.",
    );
    expect(abandoned.estimatedSecondsLeft).toBeNull();
  });

  it('an abandoned run estimates no time left; a finished one has its times and no note', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    clock.advance(3_000);
    await fanOut.runNext(work);
    expect((await runs.progress(run.runId)).estimatedSecondsLeft).toBe(8);
    clock.advance(RUN_LEASE_TTL_MS);
    expect(await runs.progress(run.runId)).toMatchObject({
      state: 'abandoned',
      estimatedSecondsLeft: null,
      done: 3,
    });
    await fanOut.drain(work); // late chunks stop: the lease ran out with nobody else holding it
  });

  it('a finished run shows when it was planned and finished, and no note', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    const startedAt = new Date(clock.now()).toISOString();
    clock.advance(1_000);
    await fanOut.runNext(work);
    const plannedAt = new Date(clock.now()).toISOString();
    clock.advance(1_000);
    await fanOut.drain(work);
    const finished = await runs.progress(run.runId);
    expect(finished).toMatchObject({
      state: 'finished',
      startedAt,
      plannedAt,
      finishedAt: new Date(clock.now()).toISOString(),
      lanes: 2,
    });
    expect(finished.note).toBeUndefined();
  });

  it('a reconcile run is recorded once with the timer runs, and logged when planned and finished', async () => {
    const { logger, lines } = capturingLogger();
    const logged = runsWith({ logger });
    await storeFolderScope();
    const { run } = await logged.startReconcile(user);
    await fanOut.drain((p) => logged.work(onboardingWorkSchema.parse(p)));
    const page = await store.reconcileRuns.page('reconcile', { limit: 10 });
    expect(page.items.map((r) => r.runId)).toEqual([run.runId]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'onboarding run planned',
        runId: run.runId,
        total: 11,
        chunks: 4,
        lanes: 2,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'onboarding run finished',
        runId: run.runId,
        added: 11,
        failed: 0,
      }),
    );
  });

  it('a scope run is not recorded with the reconcile runs', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    expect(store.reconcileRuns.runs).toEqual([]);
  });
});

describe('duplicate workers at once', () => {
  it('the same chunk worked twice at once: one result is kept, the lane continues, the run finishes once', async () => {
    await storeFolderScope();
    const { run } = await runs.startReconcile(user);
    await fanOut.runNext(work);
    const payload = fanOut.queue.shift()?.payload;
    const [a, b] = await Promise.all([work(payload), work(payload)]);
    expect(a).toEqual({ step: 'chunk', runId: run.runId, chunk: 1, accounts: 3, failed: 0 });
    expect(b).toEqual(a);
    await fanOut.drain(work);
    const finished = await runs.progress(run.runId);
    expect(finished.summary?.added).toHaveLength(11);
    expect(store.reconcileRuns.runs).toHaveLength(1);
  });

  it('the last chunks of two lanes finishing at once finish the run once', async () => {
    await storeFolderScope();
    const { run } = await runs.startReconcile(user);
    await fanOut.runNext(work);
    await fanOut.runNext(work);
    await fanOut.runNext(work);
    // Chunks 3 and 4 are the last of each lane.
    const last = fanOut.queue.splice(0).map((q) => q.payload);
    await Promise.all(last.map((p) => work(p)));
    await fanOut.drain(work);
    expect((await runs.progress(run.runId)).summary?.added).toHaveLength(11);
    expect(store.reconcileRuns.runs).toHaveLength(1);
  });
});

describe('store failures in a worker', () => {
  it('a chunk whose outcomes cannot be stored throws, for FC to retry, and its retry finishes it', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    const payload = fanOut.queue.shift()?.payload;
    vi.spyOn(store.runs, 'updateChunk').mockRejectedValueOnce(new Error('OTSServerBusy'));
    await expect(work(payload)).rejects.toThrow('OTSServerBusy');
    expect((await store.runs.getChunk(run.runId, 1))?.state).toBe('pending');
    expect(await work(payload)).toMatchObject({ chunk: 1, accounts: 3 });
    await fanOut.drain(work);
    const finished = await runs.progress(run.runId);
    expect(finished.state).toBe('finished');
    expect((await store.members.list()).map((m) => m.status)).toEqual(Array(11).fill('managed'));
    // The retry found chunk 1's members already added by the first delivery: still added.
    expect(finished.summary).toMatchObject({ added: MEMBERS, unchanged: 0 });
  });

  it('a retried chunk counts what its first delivery changed as changed: updated, moved and removed', async () => {
    await runs.startScopeAddition(folderScope, user);
    await fanOut.drain(work);
    const failFirstChunkOnce = async (start: () => Promise<{ run: { runId: string } }>) => {
      const { run } = await start();
      await fanOut.runNext(work);
      const payload = fanOut.queue.shift()?.payload;
      vi.spyOn(store.runs, 'updateChunk').mockRejectedValueOnce(new Error('OTSServerBusy'));
      await expect(work(payload)).rejects.toThrow('OTSServerBusy');
      await work(payload);
      await fanOut.drain(work);
      return (await runs.progress(run.runId)).summary;
    };

    directory.members = directory.members.map((m) => ({ ...m, displayName: `${m.accountId}!` }));
    expect(await failFirstChunkOnce(() => runs.startReconcile(timer))).toMatchObject({
      updated: MEMBERS,
      unchanged: 0,
    });

    directory.folders.push({ id: 'fd-shop', name: 'Shop', parentId: 'fd-web' });
    for (const accountId of MEMBERS) directory.move(accountId, 'fd-shop');
    expect(await failFirstChunkOnce(() => runs.startReconcile(timer))).toMatchObject({
      moved: MEMBERS.map((accountId) => ({
        accountId,
        fromFolderId: 'fd-web',
        toFolderId: 'fd-shop',
      })),
      updated: [],
      unchanged: 0,
    });

    const removed = await failFirstChunkOnce(() => runs.startScopeRemoval('folder:fd-web', user));
    expect(removed?.removed.map((r) => r.accountId)).toEqual(MEMBERS);
    expect(new Set(removed?.removed.map((r) => r.reason)).size).toBe(1);
    expect(removed?.unchanged).toBe(0);
  });

  it('a chunk that cannot mark its lane continued throws, for FC to retry, and the retry invokes the next chunk again', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    await fanOut.runNext(work);
    const payload = fanOut.queue.shift()?.payload;
    const updateChunk = store.runs.updateChunk.bind(store.runs);
    vi.spyOn(store.runs, 'updateChunk').mockImplementation(async (chunk) => {
      if (chunk.nextInvoked) throw new Error('OTSServerBusy');
      return updateChunk(chunk);
    });
    await expect(work(payload)).rejects.toThrow('OTSServerBusy');
    expect((await store.runs.getChunk(run.runId, 1))?.state).toBe('done');
    vi.mocked(store.runs.updateChunk).mockRestore();
    await work(payload);
    // The first attempt's invocation of chunk 3, and its retry's: a chunk is safe to run twice.
    expect(chunkPayloads().filter((p) => p.step === 'chunk' && p.chunk === 3)).toHaveLength(2);
    expect((await store.runs.getChunk(run.runId, 1))?.nextInvoked).toBe(true);
  });

  it('a last chunk whose run cannot be marked finished throws, for FC to retry, and the retry finishes it', async () => {
    await storeFolderScope();
    const { run } = await runs.startReconcile(user);
    await fanOut.runNext(work);
    for (let i = 0; i < 3; i++) await fanOut.runNext(work);
    const last = fanOut.queue.shift()?.payload;
    expect(fanOut.queue).toEqual([]);
    vi.spyOn(store.runs, 'update').mockRejectedValueOnce(new Error('OTSServerBusy'));
    await expect(work(last)).rejects.toThrow('OTSServerBusy');
    expect((await runs.progress(run.runId)).state).toBe('running');
    await work(last);
    expect((await runs.progress(run.runId)).state).toBe('finished');
    expect(store.reconcileRuns.runs).toHaveLength(1);
  });

  it('a duplicate of the last chunk finishing the run while the first delivery is about to: finished and recorded once', async () => {
    await storeFolderScope();
    const { run } = await runs.startReconcile(user);
    await fanOut.runNext(work);
    for (let i = 0; i < 3; i++) await fanOut.runNext(work);
    const last = fanOut.queue.shift()?.payload;
    const read = store.runs.read.bind(store.runs);
    let first = true;
    vi.spyOn(store.runs, 'read').mockImplementation(async (runId) => {
      // The first delivery, about to read whether every chunk is done: the duplicate runs now.
      if (first) {
        first = false;
        await work(last);
      }
      return read(runId);
    });
    await work(last);
    const finished = await runs.progress(run.runId);
    expect(finished.state).toBe('finished');
    expect(store.reconcileRuns.runs.map((r) => r.run.runId)).toEqual([run.runId]);
  });

  it('a planner slower than the lease TTL renews it while it reads the directory', async () => {
    const { run } = await runs.startScopeAddition(folderScope, user);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const original = directory.readSnapshot.bind(directory);
    vi.spyOn(directory, 'readSnapshot').mockImplementationOnce(async () => {
      for (let i = 0; i < 4; i++) {
        clock.advance(RUN_LEASE_TTL_MS / 3);
        await vi.advanceTimersByTimeAsync(RUN_LEASE_TTL_MS / 3);
      }
      return original();
    });
    await work(fanOut.queue.shift()?.payload);
    const lease = await store.leases.current(MEMBERSHIP_LEASE);
    expect(lease?.owner).toBe(`run/${run.runId}`);
    expect(lease?.expiresAt).toBe(clock.now() + RUN_LEASE_TTL_MS);
    expect((await runs.progress(run.runId)).state).toBe('running');
  });
});
