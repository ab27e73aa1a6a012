// The Membership use cases over in-memory fakes of their ports: adding and removing scopes (as
// onboarding runs, their worker invocations run in the test's process), reconciling what the
// directory says (new members, moves, renames, departures), onboarding steps that fail (the
// member stays onboarding until a later run succeeds) and offboarding (every step's offboard
// runs before the record goes), and the lease that keeps changes apart.

import { beforeEach, describe, expect, it } from 'vitest';
import { LeaseBusy } from '../../../shared/domain/lease';
import { InvalidRequest, NotFound } from '../../../shared/errors';
import { ManagedByScope } from '../../../shared/onboarding/errors';
import { MEMBERSHIP_LEASE, Membership } from '../../../shared/onboarding/membership';
import type { ManagedMember } from '../../../shared/onboarding/model';
import type { OnboardingStep } from '../../../shared/onboarding/ports';
import { member } from '../../support/directory';
import {
  type InMemoryDirectory,
  type InMemoryMembershipStore,
  InMemoryProbe,
  inMemoryMembershipStore,
} from '../../support/in-memory-ports';
import { type InlineScopeChanges, inlineScopeChanges } from '../../support/inline-scope-changes';
import { ManualClock } from '../../support/manual-clock';
import {
  ADMIN,
  MGMT,
  membershipOrganization,
  SANDBOX,
  timer,
  user,
  WEB_A,
  WEB_B,
} from '../../support/membership-organization';

/** A step that records what it was asked to do and fails for the accounts told to. */
class RecordingStep implements OnboardingStep {
  readonly onboarded: string[] = [];
  readonly offboarded: string[] = [];
  readonly failing = new Set<string>();
  constructor(
    readonly name: string,
    private readonly journal: string[] = [],
  ) {}
  async onboard(member: ManagedMember): Promise<void> {
    this.journal.push(`${this.name}.onboard ${member.accountId}`);
    if (this.failing.has(member.accountId)) throw new Error(`${member.accountId} is not ready`);
    this.onboarded.push(member.accountId);
  }
  async offboard(accountId: string): Promise<void> {
    this.journal.push(`${this.name}.offboard ${accountId}`);
    this.offboarded.push(accountId);
  }
}

let clock: ManualClock;
let store: InMemoryMembershipStore;
let directory: InMemoryDirectory;
let probe: InMemoryProbe;
let journal: string[];
let steps: RecordingStep[];
let membership: Membership;
/** Scope changes as the API makes them, their runs worked in this process until done. */
let changes: InlineScopeChanges;

beforeEach(() => {
  clock = new ManualClock();
  store = inMemoryMembershipStore(clock);
  directory = membershipOrganization();
  probe = new InMemoryProbe();
  journal = [];
  steps = [new RecordingStep('roles', journal), new RecordingStep('logs', journal)];
  membership = new Membership({
    store,
    directory,
    probe,
    settings: { callerAccountId: MGMT, memberAccessRole: 'ResourceDirectoryAccountAccessRole' },
    steps,
    clock,
    lease: { waitMs: 0 },
  });
  changes = inlineScopeChanges(membership, store, clock);
});

const addScope: InlineScopeChanges['addScope'] = (input, caller) => changes.addScope(input, caller);
const removeScope: InlineScopeChanges['removeScope'] = (scopeId, caller) =>
  changes.removeScope(scopeId, caller);

async function stored(accountId: string): Promise<ManagedMember | undefined> {
  return store.members.get(accountId);
}

describe('adding a scope', () => {
  it('onboards every member a folder scope covers, skipping a delegated administrator', async () => {
    const { scope, created, summary } = await addScope(
      { kind: 'folder', targetId: 'fd-prod', services: ['security-center'] },
      user,
    );
    expect(created).toBe(true);
    expect(scope).toMatchObject({ id: 'folder:fd-prod', createdBy: 'user:alice', version: 1 });
    expect(summary.added).toEqual([WEB_A, WEB_B]);
    expect(summary.skipped).toEqual([
      { accountId: ADMIN, reason: expect.stringMatching(/delegated administrator/) },
    ]);
    expect(await stored(WEB_A)).toMatchObject({
      status: 'managed',
      scopeIds: ['folder:fd-prod'],
      folderId: 'fd-web',
      folderPath: [
        { id: 'r-root', name: 'Root' },
        { id: 'fd-prod', name: 'Prod' },
        { id: 'fd-web', name: 'Web' },
      ],
    });
    expect(await stored(ADMIN)).toBeUndefined();
    expect(steps[0]?.onboarded).toEqual([WEB_A, WEB_B]);
    expect(store.activity.lines()).toEqual([
      'scope.added folder:fd-prod succeeded',
      `member.onboarded ${WEB_A} succeeded`,
      `member.onboarded ${WEB_B} succeeded`,
    ]);
    expect(store.activity.entries.every((e) => e.requestId === 'req-1')).toBe(true);
  });

  it('adding the same scope again finds the first and changes nothing', async () => {
    await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    const before = await store.members.list();
    const again = await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    expect(again.created).toBe(false);
    expect(again.summary.added).toEqual([]);
    expect(again.summary.unchanged).toBe(2);
    expect(await store.members.list()).toEqual(before);
  });

  it('records an unreachable member with the role and the refusal', async () => {
    probe.refused.set(SANDBOX, 'the role does not trust the management account');
    const { summary } = await addScope(
      { kind: 'account', targetId: SANDBOX, services: ['bdrc'] },
      user,
    );
    expect(summary.failed).toEqual([
      {
        accountId: SANDBOX,
        reason: 'the role does not trust the management account',
        roleArn: probe.roleArn(SANDBOX),
        code: 'NoPermission',
      },
    ]);
    expect(await stored(SANDBOX)).toMatchObject({
      status: 'unreachable',
      failure: { code: 'NoPermission', roleArn: probe.roleArn(SANDBOX) },
    });
    expect(steps[0]?.onboarded).toEqual([]);
    // A failed first onboarding has the same name as a failed retry: one name per event.
    expect(store.activity.lines()).toEqual([
      `scope.added account:${SANDBOX} succeeded`,
      `member.onboarding-failed ${SANDBOX} failed`,
    ]);
  });

  it('without services, a new scope enables none and an existing one keeps its own', async () => {
    const added = await addScope({ kind: 'folder', targetId: 'fd-web' }, user);
    expect(added.created).toBe(true);
    expect(added.scope.services).toEqual([]);
    expect(added.summary.added).toEqual([WEB_A, WEB_B]);
    const enabled = await addScope(
      { kind: 'folder', targetId: 'fd-web', services: ['bdrc', 'security-center'] },
      user,
    );
    expect(enabled.scope.services).toEqual(['bdrc', 'security-center']);
    const again = await addScope({ kind: 'folder', targetId: 'fd-web' }, user);
    expect(again.scope).toEqual(enabled.scope);
    expect(store.activity.lines()).toEqual([
      'scope.added folder:fd-web succeeded',
      `member.onboarded ${WEB_A} succeeded`,
      `member.onboarded ${WEB_B} succeeded`,
      'scope.updated folder:fd-web succeeded',
    ]);
    expect(store.activity.entries[0]?.detail).toBe('services: none');
  });

  it('refuses the management account, an unknown folder and an account outside the directory', async () => {
    await expect(
      addScope({ kind: 'account', targetId: MGMT, services: ['bdrc'] }, user),
    ).rejects.toBeInstanceOf(InvalidRequest);
    await expect(
      addScope({ kind: 'folder', targetId: 'fd-none', services: ['bdrc'] }, user),
    ).rejects.toBeInstanceOf(NotFound);
    await expect(
      addScope({ kind: 'account', targetId: '2999999999999999', services: ['bdrc'] }, user),
    ).rejects.toBeInstanceOf(NotFound);
    expect(await store.scopes.list()).toEqual([]);
    expect(store.activity.entries).toEqual([]);
  });
});

describe('removing a scope', () => {
  it('offboards the members no other scope covers and keeps the others under the remaining scope', async () => {
    await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    await addScope({ kind: 'account', targetId: WEB_A, services: ['bdrc'] }, user);
    expect((await stored(WEB_A))?.scopeIds).toEqual([`account:${WEB_A}`, 'folder:fd-web']);

    const { summary } = await removeScope('folder:fd-web', user);
    expect(summary.removed).toEqual([{ accountId: WEB_B, reason: 'no scope covers it' }]);
    expect(summary.updated).toEqual([WEB_A]);
    expect(summary.note).toMatch(/Data sources/);
    expect(await stored(WEB_B)).toBeUndefined();
    expect((await stored(WEB_A))?.scopeIds).toEqual([`account:${WEB_A}`]);
    expect(await store.scopes.get('folder:fd-web')).toBeUndefined();
  });

  it('offboarding runs every step offboard, in order, before the record goes', async () => {
    await addScope({ kind: 'account', targetId: WEB_A, services: ['bdrc'] }, user);
    journal.length = 0;
    await removeScope(`account:${WEB_A}`, user);
    expect(journal).toEqual([`roles.offboard ${WEB_A}`, `logs.offboard ${WEB_A}`]);
    expect(await stored(WEB_A)).toBeUndefined();
    expect(store.activity.lines().at(-1)).toBe(`member.offboarded ${WEB_A} succeeded`);
  });

  it('a member managed through a folder cannot be removed on its own', async () => {
    await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    await expect(membership.removeMember(WEB_A, user)).rejects.toBeInstanceOf(ManagedByScope);
    expect(await stored(WEB_A)).toMatchObject({ status: 'managed' });
    expect(store.activity.lines().at(-1)).toBe(`member.removal-refused ${WEB_A} refused`);
  });

  it('an unknown scope is NotFound', async () => {
    await expect(removeScope('folder:fd-none', user)).rejects.toBeInstanceOf(NotFound);
  });
});

describe('reconcile', () => {
  beforeEach(async () => {
    await addScope({ kind: 'folder', targetId: 'fd-prod', services: ['bdrc'] }, user);
    await addScope({ kind: 'folder', targetId: 'fd-sandbox', services: ['bdrc'] }, user);
  });

  it('adds a new member, moves one, renames one and removes one that left', async () => {
    const NEW = '2000000000000009';
    directory.members.push(member(NEW, 'fd-sandbox'));
    directory.move(WEB_B, 'fd-sandbox');
    directory.members = directory.members.map((m) =>
      m.accountId === SANDBOX ? { ...m, displayName: 'renamed' } : m,
    );
    directory.remove(WEB_A);

    const summary = await membership.reconcile(timer);
    expect(summary.added).toEqual([NEW]);
    expect(summary.moved).toEqual([
      { accountId: WEB_B, fromFolderId: 'fd-web', toFolderId: 'fd-sandbox' },
    ]);
    expect(summary.updated).toEqual([SANDBOX]);
    expect(summary.removed).toEqual([{ accountId: WEB_A, reason: 'left the Resource Directory' }]);
    expect(await stored(WEB_B)).toMatchObject({
      folderId: 'fd-sandbox',
      scopeIds: ['folder:fd-sandbox'],
    });
    expect((await stored(SANDBOX))?.displayName).toBe('renamed');
    expect(await stored(WEB_A)).toBeUndefined();
    expect(steps[1]?.offboarded).toEqual([WEB_A]);
    expect(store.reconcileRuns.runs.map((r) => r.kind)).toEqual(['reconcile']);
  });

  it('with nothing changed writes nothing but the run summary', async () => {
    const before = await store.members.list();
    const entries = store.activity.entries.length;
    const summary = await membership.reconcile(timer);
    expect(summary).toMatchObject({ added: [], removed: [], moved: [], updated: [], failed: [] });
    expect(summary.unchanged).toBe(3);
    expect(await store.members.list()).toEqual(before);
    expect(store.activity.entries).toHaveLength(entries);
  });

  it('reconciles only the accounts an event names', async () => {
    directory.move(WEB_A, 'r-root');
    directory.move(WEB_B, 'r-root');
    const summary = await membership.reconcileAccounts(timer, [WEB_A]);
    expect(summary.kind).toBe('accounts');
    expect(summary.removed.map((r) => r.accountId)).toEqual([WEB_A]);
    expect(await stored(WEB_B)).toMatchObject({ status: 'managed' });
  });
});

describe('onboarding steps', () => {
  it('a failing step leaves the member onboarding with its reason, and the next run manages it', async () => {
    steps[1]?.failing.add(WEB_A);
    const { summary } = await addScope(
      { kind: 'folder', targetId: 'fd-web', services: ['bdrc'] },
      user,
    );
    expect(summary.added).toEqual([WEB_A, WEB_B]);
    expect(summary.failed).toEqual([
      { accountId: WEB_A, reason: `onboarding step logs failed: ${WEB_A} is not ready` },
    ]);
    expect(await stored(WEB_A)).toMatchObject({
      status: 'onboarding',
      failure: { reason: `onboarding step logs failed: ${WEB_A} is not ready` },
    });
    expect(await stored(WEB_B)).toMatchObject({ status: 'managed' });

    // Still failing the same way: nothing written, nothing logged.
    const entries = store.activity.entries.length;
    const version = (await stored(WEB_A))?.version;
    const still = await membership.reconcile(timer);
    expect(still.failed.map((f) => f.accountId)).toEqual([WEB_A]);
    expect((await stored(WEB_A))?.version).toBe(version);
    expect(store.activity.entries).toHaveLength(entries);

    steps[1]?.failing.clear();
    clock.advance(60_000);
    const retried = await membership.reconcile(timer);
    expect(retried.failed).toEqual([]);
    expect(retried.updated).toEqual([WEB_A]);
    const managed = await stored(WEB_A);
    expect(managed?.status).toBe('managed');
    expect(managed?.failure).toBeUndefined();
  });
});

describe('the membership lease', () => {
  it('a change while another run holds the lease is refused as Busy and writes nothing', async () => {
    store.leases.hold(MEMBERSHIP_LEASE, 'reconcile/other', clock.now() + 60_000);
    await expect(
      addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user),
    ).rejects.toBeInstanceOf(LeaseBusy);
    expect(await store.scopes.list()).toEqual([]);
    expect(store.activity.entries).toEqual([]);
  });

  it('is released after each change, so the next one runs', async () => {
    await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    await expect(membership.reconcile(timer)).resolves.toMatchObject({ unchanged: 2 });
  });
});

describe('reachability reported by role checks', () => {
  const refusal = {
    roleArn: `acs:ram::${WEB_A}:role/ResourceDirectoryAccountAccessRole`,
    reason: 'The specified Role not exists',
    code: 'EntityNotExist.Role',
  };

  beforeEach(async () => {
    await addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    store.activity.entries.length = 0;
  });

  it('a managed member found unreachable becomes unreachable with the role ARN and refusal, once', async () => {
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    expect(await stored(WEB_A)).toMatchObject({
      status: 'unreachable',
      failure: { ...refusal, at: expect.any(String) },
    });
    const version = (await stored(WEB_A))?.version;
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    expect((await stored(WEB_A))?.version).toBe(version);
    expect(store.activity.lines()).toEqual([`member.unreachable ${WEB_A} failed`]);
    // Reached by a check of a member that was never unreachable: nothing to write.
    await membership.recordReachability(WEB_B, { reachable: true }, timer);
    expect((await stored(WEB_B))?.version).toBe(1);
  });

  it('reached again, the member runs its steps and is managed, its failure cleared', async () => {
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    journal.length = 0;
    await membership.recordReachability(WEB_A, { reachable: true }, timer);
    expect(journal).toEqual([`roles.onboard ${WEB_A}`, `logs.onboard ${WEB_A}`]);
    const member = await stored(WEB_A);
    expect(member?.status).toBe('managed');
    expect(member?.failure).toBeUndefined();
    expect(store.activity.lines().at(-1)).toBe(`member.onboarded ${WEB_A} succeeded`);
  });

  it('reached again with a failing step, it stays onboarding with the step reason', async () => {
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    steps[1]?.failing.add(WEB_A);
    await membership.recordReachability(WEB_A, { reachable: true }, timer);
    expect(await stored(WEB_A)).toMatchObject({
      status: 'onboarding',
      failure: { reason: expect.stringContaining('onboarding step logs failed') },
    });
  });

  it('a member being offboarded or no longer managed is left alone', async () => {
    const member = await stored(WEB_A);
    if (!member) throw new Error('not onboarded');
    await store.members.update({ ...member, status: 'offboarding' });
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    expect((await stored(WEB_A))?.status).toBe('offboarding');
    await membership.recordReachability(SANDBOX, { reachable: false, refusal }, timer);
    expect(await stored(SANDBOX)).toBeUndefined();
    expect(store.activity.entries).toEqual([]);
  });

  it('a record that moved on meanwhile is read again before it is written', async () => {
    const member = await stored(WEB_A);
    if (!member) throw new Error('not onboarded');
    const members = store.members;
    let raced = false;
    const original = members.get.bind(members);
    members.get = async (key) => {
      const read = await original(key);
      if (!raced && key === WEB_A && read) {
        raced = true;
        // Another writer (a reconcile) renames it between our read and our write.
        await members.update({ ...read, displayName: 'renamed' });
      }
      return read;
    };
    await membership.recordReachability(WEB_A, { reachable: false, refusal }, timer);
    expect(await stored(WEB_A)).toMatchObject({ status: 'unreachable', displayName: 'renamed' });
  });
});
