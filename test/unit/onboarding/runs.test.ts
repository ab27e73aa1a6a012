// Onboarding runs over in-memory fakes of their ports, with FC async invocation queued in the
// test's process: a scope change answers with its run before any member is touched, the planner
// splits the accounts into chunks worked in lanes (never more at once than lanes, each with its
// share of the AssumeRole rate), progress and the time left while it goes, the lease it holds
// until its last chunk, and what happens when FC refuses, retries, or the run loses its lease.

import { beforeEach, describe, expect, it } from 'vitest';
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
import { ManualClock } from '../../support/manual-clock';

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
  runs = new OnboardingRuns({
    membership,
    store,
    fanOut,
    workerFunction: 'rdgov-onboarding-worker',
    assumeRoleRate: 95,
    lanes: 2,
    chunkSize: 3,
    clock,
    startWaitMs: 0,
  });
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

  it('an unknown run is RunNotFound', async () => {
    await expect(runs.progress('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      RunNotFound,
    );
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
