// The Membership use cases, pinned one rule at a time on in-memory ports: what each change
// writes and logs (word for word), when it refuses and what the refusal says, which accounts a
// reconcile reads and how, and what a failed member change leaves behind.

import { beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryRoot } from '../../../shared/directory/ports';
import { LeaseBusy, LeaseLost } from '../../../shared/domain/lease';
import { ConcurrentModification } from '../../../shared/domain/records';
import {
  DATA_SOURCES_KEPT,
  Membership,
  PARTIAL_READ_LIMIT,
} from '../../../shared/onboarding/membership';
import type { ManagedMember } from '../../../shared/onboarding/model';
import type { OnboardingStep } from '../../../shared/onboarding/ports';
import {
  InMemoryDirectory,
  type InMemoryMembershipStore,
  InMemoryProbe,
  inMemoryMembershipStore,
} from '../../support/in-memory-ports';
import { inlineScopeChanges } from '../../support/inline-scope-changes';
import { capturingLogger } from '../../support/invocation';
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

const settings = { callerAccountId: MGMT, memberAccessRole: 'ResourceDirectoryAccountAccessRole' };

/** Counts what the directory is asked, so a test can tell a partial read from a full one. */
class CountingDirectory extends InMemoryDirectory {
  readonly reads = { snapshot: 0, root: 0, account: 0 };
  override async readSnapshot() {
    this.reads.snapshot++;
    return super.readSnapshot();
  }
  override async readRoot(): Promise<DirectoryRoot> {
    this.reads.root++;
    return super.readRoot();
  }
  override async readAccount(accountId: string) {
    this.reads.account++;
    return super.readAccount(accountId);
  }
}

let clock: ManualClock;
let store: InMemoryMembershipStore;
let directory: InMemoryDirectory;
let probe: InMemoryProbe;
let membership: Membership;
const now = () => new Date(clock.now()).toISOString();
/** Scope changes as the API makes them, their runs worked inline until done. */
const changes = (m: Membership = membership) => inlineScopeChanges(m, store, clock);

function make(extra: Partial<ConstructorParameters<typeof Membership>[0]> = {}): Membership {
  return new Membership({
    store,
    directory,
    probe,
    settings,
    clock,
    lease: { waitMs: 0 },
    ...extra,
  });
}

beforeEach(() => {
  clock = new ManualClock(Date.UTC(2026, 1, 1));
  store = inMemoryMembershipStore(clock);
  const base = membershipOrganization();
  directory = new CountingDirectory(base.root, {
    folders: base.folders,
    members: base.members,
    delegations: base.delegations,
  });
  probe = new InMemoryProbe();
  membership = make();
});

const entries = () =>
  store.activity.entries.map((e) => ({
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    detail: e.detail,
    accountId: e.accountId,
  }));

describe('scopes', () => {
  it('a new scope is created with its services once each, sorted, and logged with them', async () => {
    const { scope } = await changes().addScope(
      {
        kind: 'account',
        targetId: WEB_A,
        services: ['security-center', 'bdrc', 'security-center'],
      },
      user,
    );
    expect(scope).toEqual({
      id: `account:${WEB_A}`,
      kind: 'account',
      targetId: WEB_A,
      services: ['bdrc', 'security-center'],
      createdBy: 'user:alice',
      version: 1,
      createdAt: now(),
      updatedAt: now(),
    });
    expect(entries()[0]).toEqual({
      action: 'scope.added',
      target: { type: 'scope', id: `account:${WEB_A}` },
      outcome: 'succeeded',
      detail: 'services: bdrc, security-center',
      accountId: undefined,
    });
  });

  it('adding a scope again with other services updates it and logs that; the same services change nothing', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: ['bdrc'] }, user);
    const updated = await changes().addScope(
      { kind: 'folder', targetId: 'fd-web', services: ['sls-audit', 'bdrc'] },
      user,
    );
    expect(updated.created).toBe(false);
    expect(updated.scope).toMatchObject({ version: 2, services: ['bdrc', 'sls-audit'] });
    expect(entries().at(-1)).toMatchObject({
      action: 'scope.updated',
      target: { type: 'scope', id: 'folder:fd-web' },
      detail: 'services: bdrc, sls-audit',
    });
    const count = store.activity.entries.length;
    const same = await changes().addScope(
      { kind: 'folder', targetId: 'fd-web', services: ['bdrc', 'sls-audit'] },
      user,
    );
    expect(same.scope.version).toBe(2);
    expect(store.activity.entries).toHaveLength(count);
  });

  it('an account scope reconciles only its account; a folder scope the whole directory', async () => {
    const account = await changes().addScope(
      { kind: 'account', targetId: WEB_A, services: [] },
      user,
    );
    expect(account.summary).toMatchObject({ kind: 'accounts', added: [WEB_A], unchanged: 0 });
    const folder = await changes().addScope(
      { kind: 'folder', targetId: 'fd-web', services: [] },
      user,
    );
    expect(folder.summary).toMatchObject({ kind: 'full', added: [WEB_B], updated: [WEB_A] });
    // Neither is kept as a reconcile run: only the reconciles themselves are.
    expect(store.reconcileRuns.runs).toEqual([]);
  });

  it("a directory scope names this deployment's directory, or nothing", async () => {
    const { scope } = await changes().addScope({ kind: 'directory', services: [] }, user);
    expect(scope.id).toBe('directory:rd-test1');
    const same = await changes().addScope(
      { kind: 'directory', targetId: 'rd-test1', services: [] },
      user,
    );
    expect(same.created).toBe(false);
    const other = await changes()
      .addScope({ kind: 'directory', targetId: 'rd-other', services: [] }, user)
      .catch((e) => e);
    expect(other).toMatchObject({
      status: 404,
      message: "Resource directory rd-other is not this deployment's directory (rd-test1)",
      details: { targetId: 'rd-other' },
    });
  });

  it('refusals of a target say what is wrong with it', async () => {
    expect(
      await changes()
        .addScope({ kind: 'folder', targetId: 'fd-none', services: [] }, user)
        .catch((e) => e),
    ).toMatchObject({
      status: 404,
      message: 'Folder fd-none does not exist in resource directory rd-test1',
      details: { folderId: 'fd-none' },
    });
    expect(
      await changes()
        .addScope({ kind: 'folder', services: [] }, user)
        .catch((e) => e),
    ).toMatchObject({
      details: { folderId: '' },
    });
    expect(
      await changes()
        .addScope({ kind: 'account', targetId: ADMIN, services: [] }, user)
        .catch((e) => e),
    ).toMatchObject({
      status: 400,
      message: `Account ${ADMIN} cannot be onboarded as a member: account ${ADMIN} is a delegated administrator (sas.aliyuncs.com). Assets flow from members to the administrator, never back.`,
      details: {
        issues: [
          {
            location: 'body',
            field: 'targetId',
            message: `account ${ADMIN} is a delegated administrator (sas.aliyuncs.com)`,
          },
        ],
      },
    });
    expect(
      await changes()
        .addScope({ kind: 'account', targetId: '2999', services: [] }, user)
        .catch((e) => e),
    ).toMatchObject({
      status: 404,
      message: 'Account 2999 is not a member of resource directory rd-test1',
      details: { accountId: '2999' },
    });
    expect(
      await changes()
        .addScope({ kind: 'account', services: [] }, user)
        .catch((e) => e),
    ).toMatchObject({
      details: { accountId: '' },
    });
  });

  it('no scope change while a prerequisite fails, and nothing is written', async () => {
    const wrongRole = make({ settings: { ...settings, memberAccessRole: 'not a role!' } });
    const error = await changes(wrongRole)
      .addScope({ kind: 'account', targetId: WEB_A, services: [] }, user)
      .catch((e) => e);
    expect(error).toMatchObject({ status: 409, code: 'PrerequisitesNotMet' });
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    await expect(changes(wrongRole).removeScope(`account:${WEB_A}`, user)).rejects.toMatchObject({
      code: 'PrerequisitesNotMet',
    });
    await expect(wrongRole.removeMember(WEB_A, user)).rejects.toMatchObject({
      code: 'PrerequisitesNotMet',
    });
    const notAdmin = make({ settings: { ...settings, callerAccountId: WEB_B } });
    await expect(
      changes(notAdmin).addScope({ kind: 'directory', services: [] }, user),
    ).rejects.toMatchObject({
      code: 'PrerequisitesNotMet',
    });
    expect(await store.scopes.list()).toHaveLength(1);
  });

  it('removing a scope logs it and reconciles only the members it covered', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    await changes().addScope({ kind: 'account', targetId: SANDBOX, services: [] }, user);
    const { scope, summary } = await changes().removeScope(`account:${WEB_A}`, user);
    expect(scope.id).toBe(`account:${WEB_A}`);
    expect(summary).toMatchObject({
      kind: 'accounts',
      removed: [{ accountId: WEB_A, reason: 'no scope covers it' }],
      unchanged: 0,
      note: DATA_SOURCES_KEPT,
    });
    expect(entries().slice(-2)).toEqual([
      {
        action: 'scope.removed',
        target: { type: 'scope', id: `account:${WEB_A}` },
        outcome: 'succeeded',
        detail: undefined,
        accountId: undefined,
      },
      {
        action: 'member.offboarded',
        target: { type: 'member', id: WEB_A },
        outcome: 'succeeded',
        detail: `no scope covers it. ${DATA_SOURCES_KEPT}`,
        accountId: WEB_A,
      },
    ]);
    expect(store.reconcileRuns.runs).toEqual([]);
    expect(
      await changes()
        .removeScope('folder:none', user)
        .catch((e) => e),
    ).toMatchObject({
      status: 404,
      message: 'There is no scope folder:none',
      details: { scopeId: 'folder:none' },
    });
  });
});

describe('removing one member', () => {
  it('goes with its account scope when nothing wider covers it', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    const { scope, summary } = await membership.removeMember(WEB_A, user);
    expect(scope.id).toBe(`account:${WEB_A}`);
    expect(summary.removed).toEqual([{ accountId: WEB_A, reason: 'no scope covers it' }]);
    expect(await store.members.get(WEB_A)).toBeUndefined();
  });

  it('a scope the member lists that no longer exists does not hold it', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    const record = (await store.members.get(WEB_A)) as ManagedMember;
    await store.members.update({ ...record, scopeIds: ['folder:gone', `account:${WEB_A}`] });
    await expect(membership.removeMember(WEB_A, user)).resolves.toMatchObject({
      scope: { id: `account:${WEB_A}` },
    });
  });

  it('is refused while a wider scope covers it, naming only the wider scopes', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    await changes().addScope({ kind: 'folder', targetId: 'fd-prod', services: [] }, user);
    await changes().addScope({ kind: 'directory', services: [] }, user);
    const error = await membership.removeMember(WEB_A, user).catch((e) => e);
    expect(error).toMatchObject({
      code: 'ManagedByScope',
      details: {
        accountId: WEB_A,
        scopes: [
          { id: 'directory:rd-test1', kind: 'directory', targetId: 'rd-test1' },
          { id: 'folder:fd-prod', kind: 'folder', targetId: 'fd-prod' },
        ],
      },
    });
    expect(entries().at(-1)).toEqual({
      action: 'member.removal-refused',
      target: { type: 'member', id: WEB_A },
      outcome: 'refused',
      detail: 'managed through directory:rd-test1, folder:fd-prod',
      accountId: WEB_A,
    });
  });

  it('an account that is not a managed member is a 404', async () => {
    expect(await membership.removeMember(WEB_A, user).catch((e) => e)).toMatchObject({
      status: 404,
      message: `Account ${WEB_A} is not a managed member`,
    });
  });
});

describe('what a change logs about members', () => {
  it('onboarding: the scopes, or the failure with role and code', async () => {
    probe.refused.set(WEB_B, 'not trusted');
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    // Members are onboarded at once, so their entries come in the order they finish.
    const byAccount = (a: { accountId?: string }, b: { accountId?: string }) =>
      (a.accountId ?? '').localeCompare(b.accountId ?? '');
    expect(entries().slice(1).sort(byAccount)).toEqual([
      {
        action: 'member.onboarded',
        target: { type: 'member', id: WEB_A },
        outcome: 'succeeded',
        detail: 'scopes: folder:fd-web',
        accountId: WEB_A,
      },
      {
        action: 'member.onboarding-failed',
        target: { type: 'member', id: WEB_B },
        outcome: 'failed',
        detail: `unreachable (role ${probe.roleArn(WEB_B)}): NoPermission: not trusted`,
        accountId: WEB_B,
      },
    ]);
    expect(store.activity.entries.map((e) => e.requestId)).toEqual(['req-1', 'req-1', 'req-1']);
    expect(store.activity.entries.map((e) => e.cause)).toEqual([
      user.cause,
      user.cause,
      user.cause,
    ]);
    expect(await store.members.get(WEB_B)).toMatchObject({
      status: 'unreachable',
      lastReconcileAt: now(),
      failure: {
        reason: 'not trusted',
        roleArn: probe.roleArn(WEB_B),
        code: 'NoPermission',
        at: now(),
      },
    });
  });

  it('a timer caller logs no request id', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    directory.move(WEB_A, 'fd-sandbox');
    await changes().addScope({ kind: 'folder', targetId: 'fd-sandbox', services: [] }, user);
    directory.move(WEB_A, 'fd-web');
    await membership.reconcile(timer);
    const last = store.activity.entries.at(-1);
    expect(last?.cause).toEqual(timer.cause);
    expect(last).not.toHaveProperty('requestId');
  });

  it('a move and an update in place: each logged as such, with the scopes', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'r-root', services: [] }, user);
    directory.move(WEB_A, 'fd-sandbox');
    directory.members = directory.members.map((m) =>
      m.accountId === WEB_B ? { ...m, displayName: 'renamed' } : m,
    );
    clock.advance(1_000);
    const summary = await membership.reconcile(timer);
    expect(summary.moved).toEqual([
      { accountId: WEB_A, fromFolderId: 'fd-web', toFolderId: 'fd-sandbox' },
    ]);
    expect(summary.updated).toEqual([WEB_B]);
    expect(entries().slice(-2)).toEqual([
      {
        action: 'member.moved',
        target: { type: 'member', id: WEB_A },
        outcome: 'succeeded',
        detail: 'moved from fd-web to fd-sandbox; scopes: folder:r-root',
        accountId: WEB_A,
      },
      {
        action: 'member.updated',
        target: { type: 'member', id: WEB_B },
        outcome: 'succeeded',
        detail: 'scopes: folder:r-root',
        accountId: WEB_B,
      },
    ]);
    expect(await store.members.get(WEB_A)).toMatchObject({
      folderId: 'fd-sandbox',
      lastReconcileAt: now(),
    });
  });

  it('a move from a folder the record never knew says so', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'r-root', services: [] }, user);
    const record = (await store.members.get(WEB_A)) as ManagedMember;
    const { folderId: _f, ...unplaced } = record;
    await store.members.update(unplaced as ManagedMember);
    const summary = await membership.reconcile(timer);
    expect(summary.moved).toEqual([{ accountId: WEB_A, fromFolderId: null, toFolderId: 'fd-web' }]);
    expect(entries().at(-1)?.detail).toBe(
      'moved from an unknown folder to fd-web; scopes: folder:r-root',
    );
  });

  it('a join method the directory no longer states is removed from the record', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    expect((await store.members.get(WEB_A))?.joinMethod).toBe('created');
    directory.members = directory.members.map((m) =>
      m.accountId === WEB_A ? { ...m, joinMethod: 'Unknown' } : m,
    );
    expect((await membership.reconcile(timer)).updated).toEqual([WEB_A]);
    expect(await store.members.get(WEB_A)).not.toHaveProperty('joinMethod');
  });
});

describe('retrying members that are not managed yet', () => {
  beforeEach(async () => {
    probe.refused.set(WEB_A, 'not trusted');
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
  });

  it('a member now reachable is managed, its failure cleared, and the log says what it was', async () => {
    probe.refused.clear();
    clock.advance(1_000);
    const summary = await membership.reconcile(timer);
    expect(summary.updated).toEqual([WEB_A]);
    const record = await store.members.get(WEB_A);
    expect(record).toMatchObject({ status: 'managed', lastReconcileAt: now() });
    expect(record).not.toHaveProperty('failure');
    expect(entries().at(-1)).toEqual({
      action: 'member.onboarded',
      target: { type: 'member', id: WEB_A },
      outcome: 'succeeded',
      detail: 'was unreachable',
      accountId: WEB_A,
    });
  });

  it('a member failing another way has the new failure written and logged', async () => {
    probe.refused.set(WEB_A, 'role deleted');
    clock.advance(1_000);
    const summary = await membership.reconcile(timer);
    expect(summary.failed).toEqual([
      {
        accountId: WEB_A,
        reason: 'role deleted',
        roleArn: probe.roleArn(WEB_A),
        code: 'NoPermission',
      },
    ]);
    expect(await store.members.get(WEB_A)).toMatchObject({
      status: 'unreachable',
      version: 2,
      failure: { reason: 'role deleted', at: now() },
    });
    expect(entries().at(-1)).toEqual({
      action: 'member.onboarding-failed',
      target: { type: 'member', id: WEB_A },
      outcome: 'failed',
      detail: `unreachable (role ${probe.roleArn(WEB_A)}): NoPermission: role deleted`,
      accountId: WEB_A,
    });
  });

  it('a member failing the same way but moved is written, not skipped', async () => {
    directory.move(WEB_A, 'fd-prod');
    await changes().addScope({ kind: 'folder', targetId: 'fd-prod', services: [] }, user);
    expect(await store.members.get(WEB_A)).toMatchObject({
      folderId: 'fd-prod',
      status: 'unreachable',
    });
  });

  it('a failing onboarding step after the member became reachable is a new failure', async () => {
    const step: OnboardingStep = {
      name: 'roles',
      onboard: async () => {
        throw 'no roles';
      },
    };
    probe.refused.clear();
    await make({ steps: [step] }).reconcile(timer);
    expect(await store.members.get(WEB_A)).toMatchObject({
      status: 'onboarding',
      failure: { reason: 'onboarding step roles failed: no roles' },
    });
    expect(entries().at(-1)?.detail).toBe('onboarding: onboarding step roles failed: no roles');
  });
});

describe('onboarding steps', () => {
  it('see the member as onboarding, with its desired record', async () => {
    const seen: ManagedMember[] = [];
    const step: OnboardingStep = { name: 'roles', onboard: async (m) => void seen.push(m) };
    await changes(make({ steps: [step] })).addScope(
      { kind: 'account', targetId: WEB_A, services: [] },
      user,
    );
    expect(seen).toEqual([
      expect.objectContaining({
        accountId: WEB_A,
        status: 'onboarding',
        scopeIds: [`account:${WEB_A}`],
        folderId: 'fd-web',
      }),
    ]);
  });

  it('a member already marked offboarding is offboarded without being marked again', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    const record = (await store.members.get(WEB_A)) as ManagedMember;
    await store.members.update({ ...record, status: 'offboarding' });
    directory.remove(WEB_A);
    const summary = await membership.reconcile(timer);
    expect(summary.removed).toEqual([{ accountId: WEB_A, reason: 'left the Resource Directory' }]);
    expect(await store.members.get(WEB_A)).toBeUndefined();
  });
});

describe('reconcile runs', () => {
  it('reads the whole directory, sorted by account, and keeps the run', async () => {
    await changes().addScope({ kind: 'directory', services: [] }, user);
    await store.members.create({
      accountId: '2000000000000000',
      status: 'managed',
      scopeIds: ['x'],
    });
    const { logger, lines } = capturingLogger();
    clock.advance(5_000);
    const summary = await make({ logger }).reconcile(timer);
    expect(summary).toMatchObject({
      kind: 'full',
      cause: timer.cause,
      startedAt: now(),
      finishedAt: now(),
      removed: [{ accountId: '2000000000000000', reason: 'left the Resource Directory' }],
      unchanged: 3,
      skipped: [
        {
          accountId: MGMT,
          reason: `account ${MGMT} is the management account of the Resource Directory`,
        },
        {
          accountId: ADMIN,
          reason: `account ${ADMIN} is a delegated administrator (sas.aliyuncs.com)`,
        },
      ],
    });
    expect(store.reconcileRuns.runs).toEqual([
      {
        kind: 'reconcile',
        run: { runId: summary.runId, startedAt: now(), finishedAt: now(), summary },
      },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'reconcile finished',
        kind: 'full',
        added: 0,
        removed: 1,
        moved: 0,
        updated: 0,
        unchanged: 3,
        failed: 0,
      }),
    ]);
  });

  it('onboards in account order whatever order the directory lists', async () => {
    const { summary } = await changes().addScope(
      { kind: 'folder', targetId: 'r-root', services: [] },
      user,
    );
    expect(summary.added).toEqual([WEB_A, WEB_B, SANDBOX]);
    expect(summary).not.toHaveProperty('note');
  });

  it('an event naming no account reconciles everything and keeps the run; one naming accounts does not', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    const all = await membership.reconcileAccounts(timer, []);
    expect(all.kind).toBe('full');
    expect(store.reconcileRuns.runs).toHaveLength(1);
    const some = await membership.reconcileAccounts(timer, [WEB_A, WEB_A]);
    expect(some).toMatchObject({ kind: 'accounts', unchanged: 1 });
    expect(store.reconcileRuns.runs).toHaveLength(1);
  });

  it(`reads up to ${PARTIAL_READ_LIMIT} named accounts one by one, and lists the directory for more`, async () => {
    const counting = directory as CountingDirectory;
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(3000000000000000 + i));
    await membership.reconcileAccounts(timer, ids(25));
    expect(counting.reads).toEqual({ snapshot: 0, root: 1, account: 25 });
    counting.reads.account = 0;
    counting.reads.root = 0;
    const more = await membership.reconcileAccounts(timer, ids(26));
    expect(counting.reads).toEqual({ snapshot: 1, root: 0, account: 0 });
    expect(more.kind).toBe('accounts');
    expect(PARTIAL_READ_LIMIT).toBe(25);
  });

  it('a named account that left the directory is offboarded by a partial read too', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    directory.remove(WEB_A);
    const summary = await membership.reconcileAccounts(timer, [WEB_A]);
    expect(summary.removed).toEqual([{ accountId: WEB_A, reason: 'left the Resource Directory' }]);
  });
});

describe('a member change that fails', () => {
  it('a record changed meanwhile is reported for the next reconcile; others go on', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    directory.members = directory.members.map((m) => ({ ...m, displayName: `${m.displayName}!` }));
    const update = store.members.update.bind(store.members);
    store.members.update = async (m) => {
      if (m.accountId === WEB_A) throw new ConcurrentModification(`member ${WEB_A}`, m.version);
      return update(m);
    };
    const { logger, lines } = capturingLogger();
    const summary = await make({ logger }).reconcile(timer);
    expect(summary.failed).toEqual([
      {
        accountId: WEB_A,
        reason:
          'its record changed while it was being onboarded; the next reconcile takes it up again',
      },
    ]);
    expect(summary.updated).toEqual([WEB_B]);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        message: 'member change failed',
        accountId: WEB_A,
        reason:
          'its record changed while it was being onboarded; the next reconcile takes it up again',
      }),
    ]);
    directory.remove(WEB_A);
    const offboard = await make().reconcile(timer);
    expect(offboard.failed[0]?.reason).toBe(
      'its record changed while it was being offboarded; the next reconcile takes it up again',
    );
  });

  it('any other failure is reported with its message', async () => {
    store.members.create = async () => {
      throw new Error('store unavailable');
    };
    const { summary } = await changes().addScope(
      { kind: 'account', targetId: WEB_A, services: [] },
      user,
    );
    expect(summary.failed).toEqual([{ accountId: WEB_A, reason: 'store unavailable' }]);
    store.members.create = async () => {
      throw 'plain';
    };
    const again = await membership.reconcile(timer);
    expect(again.failed).toEqual([{ accountId: WEB_A, reason: 'plain' }]);
  });

  it('a lost lease stops the whole run', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    directory.members = directory.members.map((m) => ({ ...m, displayName: `${m.displayName}!` }));
    store.members.update = async () => {
      throw new LeaseLost({ name: 'membership', owner: 'x', token: 1n }, 'renew');
    };
    await expect(membership.reconcile(timer)).rejects.toBeInstanceOf(LeaseLost);
  });
});

describe('the lease', () => {
  it("is the 'membership' lease, held by a `membership/` owner for 60 s unless configured", async () => {
    const taken: Array<{ name: string; owner: string; ttlMs: number }> = [];
    const acquire = store.leases.acquire.bind(store.leases);
    store.leases.acquire = async (name, owner, options) => {
      taken.push({ name, owner, ttlMs: options.ttlMs });
      return acquire(name, owner, options);
    };
    await membership.reconcile(timer);
    await make({ lease: { ttlMs: 5_000, waitMs: 0 } }).reconcile(timer);
    expect(taken).toEqual([
      {
        name: 'membership',
        owner: expect.stringMatching(/^membership\/[0-9a-f-]{36}$/),
        ttlMs: 60_000,
      },
      { name: 'membership', owner: expect.stringMatching(/^membership\//), ttlMs: 5_000 },
    ]);
    await make({}).reconcile(timer, { waitMs: 0 });
    expect(taken.at(-1)?.ttlMs).toBe(60_000);
  });

  it('says which work is already running', async () => {
    store.leases.hold('membership', 'reconcile/other', clock.now() + 60_000);
    const reconcile = await membership.reconcile(timer).catch((e) => e);
    expect(reconcile).toBeInstanceOf(LeaseBusy);
    expect(reconcile.message).toMatch(
      /^A reconcile is already running \(lease membership held by reconcile\/other\)/,
    );
    for (const change of [
      () => membership.reconcileAccounts(timer, [WEB_A]),
      () => changes().addScope({ kind: 'directory', services: [] }, user),
      () => changes().removeScope('directory:rd-test1', user),
      () => membership.removeMember(WEB_A, user),
    ]) {
      expect((await change().catch((e) => e)).message).toMatch(
        /^A membership change is already running/,
      );
    }
  });
});

describe('more corners', () => {
  it('a member two scopes cover lists both wherever the log names its scopes', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-prod', services: [] }, user);
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    directory.move(WEB_A, 'fd-prod');
    await membership.reconcile(timer);
    expect(entries().at(-1)?.detail).toBe(
      `moved from fd-web to fd-prod; scopes: account:${WEB_A}, folder:fd-prod`,
    );
    directory.members = directory.members.map((m) =>
      m.accountId === WEB_A ? { ...m, displayName: 'renamed' } : m,
    );
    await membership.reconcile(timer);
    expect(entries().at(-1)?.detail).toBe(`scopes: account:${WEB_A}, folder:fd-prod`);
    // Renamed, its join method stays.
    expect((await store.members.get(WEB_A))?.joinMethod).toBe('created');
    await changes().removeScope(`account:${WEB_A}`, user);
    await changes().removeScope('folder:fd-prod', user);
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    await changes().addScope({ kind: 'directory', services: [] }, user);
    const record = (await store.members.get(WEB_A)) as ManagedMember;
    await store.members.delete(WEB_A, record.version);
    await membership.reconcile(timer);
    expect(
      store.activity.entries.find((e) => e.action === 'member.onboarded' && e.detail?.includes(','))
        ?.detail,
    ).toBe(`scopes: account:${WEB_A}, directory:rd-test1`);
  });

  it('a member left marked offboarding while still covered is managed again', async () => {
    await changes().addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    const record = (await store.members.get(WEB_A)) as ManagedMember;
    await store.members.update({ ...record, status: 'offboarding' });
    await membership.reconcile(timer);
    expect(await store.members.get(WEB_A)).toMatchObject({ status: 'managed' });
  });

  it('offboarding marks the record offboarding for the steps, once, and a step may have no offboard', async () => {
    const seen: Array<string | undefined> = [];
    const reading: OnboardingStep = {
      name: 'reads',
      onboard: async () => undefined,
      offboard: async (accountId) => {
        seen.push((await store.members.get(accountId))?.status);
      },
    };
    const onboardOnly: OnboardingStep = { name: 'onboard-only', onboard: async () => undefined };
    const withSteps = make({ steps: [onboardOnly, reading] });
    await changes(withSteps).addScope({ kind: 'account', targetId: WEB_A, services: [] }, user);
    await changes(withSteps).removeScope(`account:${WEB_A}`, user);
    expect(seen).toEqual(['offboarding']);
    expect(await store.members.get(WEB_A)).toBeUndefined();

    // Already marked: not written again before it goes.
    await changes(withSteps).addScope({ kind: 'account', targetId: WEB_B, services: [] }, user);
    const record = (await store.members.get(WEB_B)) as ManagedMember;
    await store.members.update({ ...record, status: 'offboarding' });
    let updates = 0;
    const update = store.members.update.bind(store.members);
    store.members.update = async (m) => {
      updates++;
      return update(m);
    };
    directory.remove(WEB_B);
    await withSteps.reconcile(timer);
    expect(updates).toBe(0);
    expect(await store.members.get(WEB_B)).toBeUndefined();
  });

  it('steps see a new member as a record not yet stored (version 0)', async () => {
    const seen: ManagedMember[] = [];
    const step: OnboardingStep = { name: 'roles', onboard: async (m) => void seen.push(m) };
    await changes(make({ steps: [step] })).addScope(
      { kind: 'account', targetId: WEB_A, services: [] },
      user,
    );
    expect(seen[0]).toMatchObject({
      version: 0,
      createdAt: '1970-01-01T00:00:00.000Z',
      updatedAt: '1970-01-01T00:00:00.000Z',
    });
  });

  it('a reconcile of more than 25 named accounts touches only those accounts', async () => {
    await changes().addScope({ kind: 'folder', targetId: 'fd-web', services: [] }, user);
    directory.remove(WEB_A);
    const ids = Array.from({ length: 26 }, (_, i) => String(3000000000000000 + i));
    const summary = await membership.reconcileAccounts(timer, ids);
    expect(summary.removed).toEqual([]);
    expect(await store.members.get(WEB_A)).toBeDefined();
  });

  it('without lease settings a change holds the lease 60 s and may wait for it', async () => {
    const taken: number[] = [];
    const acquire = store.leases.acquire.bind(store.leases);
    store.leases.acquire = async (name, owner, options) => {
      taken.push(options.ttlMs);
      return acquire(name, owner, options);
    };
    await make({ lease: undefined }).reconcile(timer);
    expect(taken).toEqual([60_000]);
  });
});
