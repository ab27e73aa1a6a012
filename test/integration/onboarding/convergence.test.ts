// Issue 4: duplicated and reordered directory events end in the state a full reconcile produces.
// A recorded starting state S0 (scopes + member records after a full reconcile) and a sequence of
// directory changes made through localcloud's controls; the ActionTrail events localcloud recorded
// for them are then delivered to the real handler (handleDirectoryEvents) in many seeded random
// orders, each event up to three times, sometimes several in one payload, each run on a fresh
// store restored to S0. The directory is already in its final state while the events arrive, as
// it is when events come late or out of order. Every run must end where a full reconcile from S0
// ends. RDG_CONVERGENCE_SEED=<n> replays or explores other orders.
// And while a scope change is being onboarded asynchronously (issue 9 item 4): the directory
// changes after the run planned, events arrive between its worker invocations (they find the run
// holding the membership lease and fail Busy, as EventBridge then retries them), and the end
// state is still the full reconcile's.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionTrailCloudEvent } from '../../../localcloud/index';
import { idempotencyRecordKey } from '../../../shared/domain/idempotency';
import { LeaseBusy } from '../../../shared/domain/lease';
import { memberId } from '../../support/organization';
import { seededRandom } from '../../support/seeded-random';
import {
  type ComparableState,
  type ConvergenceCloud,
  comparable,
  comparableState,
  convergenceOrganization,
  type DeliveryPlan,
  deliver,
  deliveryPlan,
  describeEvent,
  describePlan,
  type RecordedState,
  recordState,
  restoreState,
  startConvergenceCloud,
} from './support';

const MEMBERS = 10;
/** Random orders, besides the recorded order and its reverse. */
const RANDOM_RUNS = 100;
const SEED = Number(process.env.RDG_CONVERGENCE_SEED ?? 4_2024_0604);
const OPERATOR = { cause: { kind: 'user' as const, identity: 'convergence-test' } };

// Members of testOrganization by folder (index % 5): 0 Production (member 0 is the delegated
// administrator), 1 Production/Retail, 2 Production/Retail/Web, 3 Sandbox, 4 Root; indexes
// divisible by 3 joined by invitation (cloud accounts). Extra members: MEMBERS in Staging,
// MEMBERS + 1 in Sandbox and MEMBERS + 2 in Staging, both without the member access role.
const SANDBOX_NO_ROLE = memberId(MEMBERS + 1);
const STAGING_NO_ROLE = memberId(MEMBERS + 2);

let env: ConvergenceCloud;
let s0: RecordedState;
let events: ActionTrailCloudEvent[];
let reference: ComparableState;
/** Accounts the changes created, by name. */
const created = new Map<string, string>();

beforeAll(async () => {
  env = await startConvergenceCloud(convergenceOrganization(MEMBERS));
  const { control } = env.cloud;
  const folder = (path: string) => env.folderId(path);

  // S0: two overlapping folder scopes, a third folder, an account scope outside them.
  const setup = await env.freshStore();
  const membership = env.membership(setup.store);
  const setupRuns = env.runs(setup.store);
  for (const input of [
    { kind: 'folder' as const, targetId: folder('Production'), services: ['bdrc'] },
    {
      kind: 'folder' as const,
      targetId: folder('Production/Retail/Web'),
      services: ['security-center'],
    },
    { kind: 'folder' as const, targetId: folder('Staging'), services: ['bdrc'] },
    { kind: 'account' as const, targetId: memberId(8), services: ['bdrc'] },
  ]) {
    await setupRuns.runs.startScopeAddition(input, OPERATOR);
    await setupRuns.settle();
  }
  await membership.reconcile(OPERATOR);
  s0 = await recordState(setup.store);
  setup.dispose();

  // The changes, through the controls (each records its ActionTrail events).
  const since = env.cloud.events().at(-1)?.seq ?? 0;
  const refused = (change: () => unknown) => expect(change).toThrow();
  const create = (name: string, path: string) =>
    created.set(name, control.createMember({ name, folderId: folder(path) }).id);
  create('new-web', 'Production/Retail/Web'); // created inside
  create('new-sandbox', 'Sandbox'); // created outside
  refused(() => control.moveMember(memberId(1), 'fd-doesnotexist0')); // a failed call
  control.moveMember(memberId(1), folder('Sandbox')); // managed, moved out
  control.moveMember(memberId(3), folder('Production')); // unmanaged, moved in
  control.moveMember(memberId(7), folder('Staging')); // between managed folders, loses two scopes
  control.removeMember(memberId(2)); // managed, deleted (DeleteAccount)
  control.removeMember(memberId(6)); // managed, removed (RemoveCloudAccount)...
  control.inviteMember({ name: 'member-006', id: memberId(6), folderId: folder('Staging') }); // ...invited back elsewhere
  control.moveMember(memberId(8), folder('Production')); // account scope, now a folder scope too
  control.moveMember(SANDBOX_NO_ROLE, folder('Production')); // moved in, unreachable
  refused(() => control.removeMember(memberId(0))); // a delegated administrator: refused
  events = env.cloud.events(since).map((entry) => entry.event);

  // The reference: S0, then a full reconcile against the final directory.
  const ref = await env.freshStore();
  await restoreState(ref.store, s0);
  await env.membership(ref.store).reconcile(OPERATOR);
  reference = await comparableState(ref.store);
  ref.dispose();
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

function managedIn(state: ComparableState): string[] {
  return state.members.map((m) => m.accountId);
}

function memberIn(state: ComparableState, accountId: string) {
  return state.members.find((m) => m.accountId === accountId);
}

describe('directory events converge to a full reconcile', () => {
  it('the changes move the reference away from S0, so the comparison below can fail', () => {
    const start = comparable(s0);
    expect(reference).not.toEqual(start);
    expect(reference.scopes).toEqual(start.scopes);
    expect(events.map((e) => e.data.eventName).sort()).toEqual(
      [
        'CreateResourceAccount',
        'CreateResourceAccount',
        'MoveAccount', // failed
        ...Array<string>(5).fill('MoveAccount'),
        'DeleteAccount',
        'RemoveCloudAccount',
        'InviteAccountToResourceDirectory',
        'AcceptHandshake',
        'MoveAccount',
        'RemoveCloudAccount', // failed
      ].sort(),
    );
    expect(events.filter((e) => e.data.errorCode)).toHaveLength(2);

    const production = `folder:${env.folderId('Production')}`;
    const web = `folder:${env.folderId('Production/Retail/Web')}`;
    const staging = `folder:${env.folderId('Staging')}`;
    const before = managedIn(start);
    const after = managedIn(reference);
    for (const gone of [memberId(1), memberId(2)]) {
      expect(before).toContain(gone);
      expect(after).not.toContain(gone);
    }
    for (const joined of [memberId(3), created.get('new-web')]) {
      expect(before).not.toContain(joined);
      expect(after).toContain(joined);
    }
    expect(after).not.toContain(created.get('new-sandbox'));
    expect(after).not.toContain(memberId(0));
    expect(memberIn(reference, created.get('new-web') ?? '')?.scopeIds).toEqual(
      [production, web].sort(),
    );
    expect(memberIn(start, memberId(7))?.scopeIds).toEqual([production, web].sort());
    expect(memberIn(reference, memberId(7))?.scopeIds).toEqual([staging]);
    expect(memberIn(start, memberId(6))).toMatchObject({ scopeIds: [production] });
    expect(memberIn(reference, memberId(6))).toMatchObject({
      scopeIds: [staging],
      folderId: env.folderId('Staging'),
      joinMethod: 'invited',
      status: 'managed',
    });
    expect(memberIn(start, memberId(8))?.scopeIds).toEqual([`account:${memberId(8)}`]);
    expect(memberIn(reference, memberId(8))?.scopeIds).toEqual(
      [`account:${memberId(8)}`, production].sort(),
    );
    expect(before).not.toContain(SANDBOX_NO_ROLE);
    expect(memberIn(reference, SANDBOX_NO_ROLE)).toMatchObject({ status: 'unreachable' });
    expect(memberIn(reference, SANDBOX_NO_ROLE)?.failureCode).toBeDefined();
    // Unreachable from the start and named by no event: the full reconcile retried it alone.
    expect(memberIn(start, STAGING_NO_ROLE)?.status).toBe('unreachable');
    expect(memberIn(reference, STAGING_NO_ROLE)).toEqual(memberIn(start, STAGING_NO_ROLE));
  });

  // About 0.4 s of CPU per run (fresh instance, restore, ~12 reconciles, repeats); the timeout
  // leaves room for machines shared with other test runs.
  it(`${RANDOM_RUNS} random orders (seed ${SEED}), forward and reverse, each event 1-3 times, end in the reference state`, async () => {
    const random = seededRandom(SEED);
    const runs: Array<{ label: string; plan: DeliveryPlan }> = [
      { label: 'forward', plan: deliveryPlan(events.length, random, 'forward') },
      { label: 'reverse', plan: deliveryPlan(events.length, random, 'reverse') },
    ];
    for (let i = 0; i < RANDOM_RUNS; i++) {
      runs.push({ label: `random #${i}`, plan: deliveryPlan(events.length, random) });
    }
    const legend = events.map((e, i) => `${i}=${describeEvent(e)}`).join(' ');
    let duplicated = 0;
    let batched = 0;
    for (const { label, plan } of runs) {
      const copies = plan.flat();
      expect(new Set(copies).size).toBe(events.length);
      if (copies.length > events.length) duplicated++;
      if (plan.some((payload) => payload.length > 1)) batched++;

      const run = await env.freshStore();
      await restoreState(run.store, s0);
      const membership = env.membership(run.store);
      for (const payload of plan) {
        const batch = payload.map((i) => events[i] as ActionTrailCloudEvent);
        await deliver(
          membership,
          run.store,
          batch.length === 1 ? (batch[0] as ActionTrailCloudEvent) : batch,
        );
      }
      const state = await comparableState(run.store);
      run.dispose();
      expect(
        state,
        `seed ${SEED}, ${label}: deliveries ${describePlan(plan)}; events ${legend}`,
      ).toEqual(reference);
    }
    expect(duplicated).toBeGreaterThan(RANDOM_RUNS / 2);
    expect(batched).toBeGreaterThan(RANDOM_RUNS / 2);
  }, 240_000);
});

describe('events that change nothing, and repeats', () => {
  function eventFor(name: string, accountId: string, failed: boolean): ActionTrailCloudEvent {
    const found = events.find(
      (e) =>
        e.data.eventName === name &&
        e.data.requestParameters.AccountId === accountId &&
        Boolean(e.data.errorCode) === failed,
    );
    if (!found) throw new Error(`no ${failed ? 'failed ' : ''}${name} event for ${accountId}`);
    return found;
  }

  it('a failed call and an event name that is not a membership change change nothing', async () => {
    // Both concern member 1, which the successful move took out of management.
    const failedMove = eventFor('MoveAccount', memberId(1), true);
    const move = eventFor('MoveAccount', memberId(1), false);
    const unknown = structuredClone(move);
    unknown.id = randomUUID();
    unknown.data.eventId = randomUUID();
    unknown.data.eventName = 'UpdateAccount';

    const run = await env.freshStore();
    await restoreState(run.store, s0);
    const membership = env.membership(run.store);
    const outcomes = [
      ...(await deliver(membership, run.store, failedMove)),
      ...(await deliver(membership, run.store, [unknown, failedMove])),
    ];
    expect(outcomes.map((o) => ('skipped' in o ? o.eventName : `ran ${o.eventName}`))).toEqual([
      'MoveAccount',
      'UpdateAccount',
      'MoveAccount',
    ]);
    expect(await comparableState(run.store)).toEqual(comparable(s0));
    expect((await run.store.activity.list({ limit: 10 })).items).toEqual([]);
    for (const event of [failedMove, unknown]) {
      const key = idempotencyRecordKey('directory-event', event.data.eventId);
      expect(await run.store.idempotency.get(key)).toBeUndefined();
    }
    expect((await run.store.reconcileRuns.page('reconcile', { limit: 5 })).items).toEqual([]);

    // The same move, delivered for real, does change it: the check above could fail.
    await deliver(membership, run.store, move);
    expect(managedIn(await comparableState(run.store))).not.toContain(memberId(1));
    run.dispose();
  });

  it('the same event delivered three times runs its reconcile once', async () => {
    const move = eventFor('MoveAccount', memberId(1), false);
    const run = await env.freshStore();
    await restoreState(run.store, s0);
    const membership = env.membership(run.store);
    const outcomes = [
      ...(await deliver(membership, run.store, move)),
      ...(await deliver(membership, run.store, [move, move])),
    ];
    const runIds = outcomes.map((o) => ('summary' in o ? o.summary.runId : o.skipped));
    expect(runIds).toHaveLength(3);
    expect(new Set(runIds).size).toBe(1);
    const removed = outcomes.map((o) =>
      'summary' in o ? o.summary.removed.map((r) => r.accountId) : [],
    );
    expect(removed).toEqual([[memberId(1)], [memberId(1)], [memberId(1)]]);

    const record = await run.store.idempotency.get(
      idempotencyRecordKey('directory-event', move.data.eventId),
    );
    expect(record?.status).toBe('completed');
    const activity = (await run.store.activity.list({ limit: 50 })).items;
    expect(activity.map((a) => `${a.action} ${a.accountId}`)).toEqual([
      `member.offboarded ${memberId(1)}`,
    ]);
    expect(activity[0]?.cause).toMatchObject({ kind: 'event', eventId: move.data.eventId });
    run.dispose();
  });
});

describe('events while a scope change is onboarding', () => {
  const SANDBOX_SCOPE = { kind: 'folder' as const, targetId: '', services: ['bdrc'] };
  /** In Root, so unmanaged in S0; moved into Sandbox after each run has planned. */
  const LATE_MOVER = memberId(4);
  const ORDERS = 6;

  it(`events arriving between the run's workers, and a directory change after it planned, end where a full reconcile ends (${ORDERS} seeded interleavings)`, async () => {
    const { control } = env.cloud;
    const rootFolderId = control.organization().rootFolderId;
    const sandbox = { ...SANDBOX_SCOPE, targetId: env.folderId('Sandbox') };
    const placeMover = (folderId: string) => {
      const now = env.cloud.organization.snapshot().accounts.find((a) => a.id === LATE_MOVER);
      if (now?.folderId !== folderId) control.moveMember(LATE_MOVER, folderId);
    };
    const random = seededRandom(SEED + 7);
    let busy = 0;
    try {
      for (let order = 0; order < ORDERS; order++) {
        placeMover(rootFolderId);
        const run = await env.freshStore();
        await restoreState(run.store, s0);
        const { runs, fanOut, work } = env.runs(run.store, { chunkSize: 2, lanes: 2 });
        const eventsMembership = env.membership(run.store, { waitMs: 0 });
        const started = await runs.startScopeAddition(sandbox, OPERATOR);
        await fanOut.runNext(work); // the planner: the mover is not covered yet
        const since = env.cloud.events().at(-1)?.seq ?? 0;
        placeMover(sandbox.targetId);
        const moved = env.cloud.events(since).map((e) => e.event);
        expect(moved.map((e) => e.data.eventName)).toEqual(['MoveAccount']);

        // Deliveries (the earlier changes' events, each 1-3 times, and the move's) interleaved
        // at random with the run's worker invocations.
        const deliveries = deliveryPlan(events.length, random).map((payload) =>
          payload.map((i) => events[i] as ActionTrailCloudEvent),
        );
        deliveries.splice(Math.floor(random() * (deliveries.length + 1)), 0, moved);
        const retried: ActionTrailCloudEvent[][] = [];
        while (deliveries.length > 0 || fanOut.queue.length > 0) {
          if (fanOut.queue.length > 0 && (deliveries.length === 0 || random() < 0.5)) {
            await fanOut.runNext(work);
            continue;
          }
          const batch = deliveries.shift() ?? [];
          try {
            await deliver(
              eventsMembership,
              run.store,
              batch.length === 1 ? (batch[0] as ActionTrailCloudEvent) : batch,
            );
          } catch (error) {
            if (!(error instanceof LeaseBusy)) throw error;
            busy++;
            retried.push(batch);
          }
        }
        expect((await runs.progress(started.run.runId)).state).toBe('finished');
        // EventBridge retries what failed, after the run.
        for (const batch of retried) await deliver(eventsMembership, run.store, batch);
        const state = await comparableState(run.store);
        run.dispose();

        const ref = await env.freshStore();
        await restoreState(ref.store, s0);
        const refRuns = env.runs(ref.store);
        await refRuns.runs.startScopeAddition(sandbox, OPERATOR);
        await refRuns.settle();
        await env.membership(ref.store).reconcile(OPERATOR);
        const expected = await comparableState(ref.store);
        ref.dispose();
        expect(managedIn(expected)).toContain(LATE_MOVER);
        expect(state, `seed ${SEED + 7}, interleaving ${order}`).toEqual(expected);
      }
    } finally {
      placeMover(rootFolderId);
    }
    // Events did arrive while runs held the lease, and were retried.
    expect(busy).toBeGreaterThan(ORDERS);
  }, 240_000);
});
