// What the management scope answers when asked, on in-memory ports: prerequisites, scopes and
// the members they cover, members paged and filtered, one member with its scopes, the latest
// reconciles, the activity log, and the delegated-administrator question.

import { beforeEach, describe, expect, it } from 'vitest';
import { MembershipQueries } from '../../../shared/onboarding/queries';
import { member } from '../../support/directory';
import {
  InMemoryDirectory,
  type InMemoryMembershipStore,
  inMemoryMembershipStore,
} from '../../support/in-memory-ports';
import { ManualClock } from '../../support/manual-clock';

const MGMT = '1000000000000001';
let store: InMemoryMembershipStore;
let queries: MembershipQueries;

beforeEach(async () => {
  const clock = new ManualClock();
  store = inMemoryMembershipStore(clock);
  const directory = new InMemoryDirectory(
    { resourceDirectoryId: 'rd-1', managementAccountId: MGMT, rootFolderId: 'r' },
    { folders: [{ id: 'r', name: 'Root', parentId: null }], members: [member('2000', 'r')] },
  );
  queries = new MembershipQueries({
    store,
    directory,
    settings: { callerAccountId: MGMT, memberAccessRole: 'Access' },
  });
  for (const id of ['s-a', 's-b']) {
    await store.scopes.create({ id, kind: 'folder', targetId: id, services: [], createdBy: 't' });
  }
  await store.members.create({ accountId: '101', status: 'managed', scopeIds: ['s-a'] });
  await store.members.create({ accountId: '102', status: 'unreachable', scopeIds: ['s-a', 's-b'] });
  await store.members.create({ accountId: '103', status: 'managed', scopeIds: ['s-b', 's-gone'] });
});

describe('MembershipQueries', () => {
  it('prerequisites: the report without the directory root', async () => {
    const report = await queries.prerequisites();
    expect(report.ok).toBe(true);
    expect(Object.keys(report).sort()).toEqual(['checks', 'ok']);
    expect(report.checks.map((c) => c.name)).toEqual([
      'resource-directory-enabled',
      'administrator-account',
      'member-access-role',
    ]);
  });

  it('scopes, and one scope with the members it covers', async () => {
    expect((await queries.scopes()).map((s) => s.id)).toEqual(['s-a', 's-b']);
    expect(await queries.scope('s-b')).toEqual({
      scope: expect.objectContaining({ id: 's-b' }),
      members: ['102', '103'],
    });
    expect(await queries.scope('s-x').catch((e) => e)).toMatchObject({
      status: 404,
      message: 'There is no scope s-x',
      details: { scopeId: 's-x' },
    });
  });

  it('members: a page, filtered by status and scope before paging, with the cursor to the next', async () => {
    const all = await queries.members({ limit: 10 });
    expect(all).toStrictEqual({ members: await store.members.list() });
    const first = await queries.members({ limit: 2 });
    expect(first.members.map((m) => m.accountId)).toEqual(['101', '102']);
    expect(first.nextCursor).toBe('2');
    const rest = await queries.members({ limit: 2, cursor: first.nextCursor as string });
    expect(rest).toStrictEqual({ members: [expect.objectContaining({ accountId: '103' })] });
    expect(
      (await queries.members({ limit: 10, status: 'managed' })).members.map((m) => m.accountId),
    ).toEqual(['101', '103']);
    expect(
      (await queries.members({ limit: 10, scopeId: 's-a' })).members.map((m) => m.accountId),
    ).toEqual(['101', '102']);
    expect(
      (await queries.members({ limit: 10, scopeId: 's-b', status: 'managed' })).members.map(
        (m) => m.accountId,
      ),
    ).toEqual(['103']);
    // Filters apply before paging: a page of two managed members reads past 102.
    const managed = await queries.members({ limit: 2, status: 'managed' });
    expect(managed.members.map((m) => m.accountId)).toEqual(['101', '103']);
    // The listing ended while the page was being filled: no cursor.
    expect(managed).not.toHaveProperty('nextCursor');
  });

  it('members and activity of the accounts admitted only, in full pages', async () => {
    const admits = (accountId: string | undefined) => accountId === '101' || accountId === '103';
    const first = await queries.members({ limit: 1 }, admits);
    expect(first.members.map((m) => m.accountId)).toEqual(['101']);
    const second = await queries.members({ limit: 1, cursor: first.nextCursor as string }, admits);
    expect(second.members.map((m) => m.accountId)).toEqual(['103']);
    for (const accountId of ['101', '102', undefined, '103']) {
      await store.activity.append({
        cause: { kind: 'timer' },
        action: accountId ? 'member.onboarded' : 'scope.added',
        ...(accountId ? { accountId } : {}),
        outcome: 'succeeded',
      });
    }
    // Newest first; the entry of no account (a scope's) is not for a scoped token.
    const page = await queries.activity({ limit: 2 }, admits);
    expect(page.items.map((e) => e.accountId)).toEqual(['103', '101']);
  });

  it('a cursor is passed on only when given', async () => {
    const asked: unknown[] = [];
    const page = store.members.page.bind(store.members);
    store.members.page = async (request) => {
      asked.push(request);
      return page(request);
    };
    await queries.members({ limit: 5 });
    await queries.members({ limit: 5, cursor: '1' });
    expect(asked).toStrictEqual([{ limit: 5 }, { limit: 5, cursor: '1' }]);
  });

  it('one member with the scopes that still exist; NotAManagedMember otherwise', async () => {
    expect(await queries.member('103')).toEqual({
      member: expect.objectContaining({ accountId: '103' }),
      scopes: [expect.objectContaining({ id: 's-b' })],
    });
    expect(await queries.member('999').catch((e) => e)).toMatchObject({
      status: 404,
      message: 'Account 999 is not a managed member',
      details: { accountId: '999' },
    });
  });

  it('the reconciles kept are their summaries, newest first, page by page', async () => {
    for (const n of [1, 2, 3]) {
      await store.reconcileRuns.record('reconcile', {
        runId: `r${n}`,
        startedAt: 's',
        finishedAt: 'f',
        summary: { runId: `r${n}` },
      });
    }
    await store.reconcileRuns.record('other', {
      runId: 'x',
      startedAt: 's',
      finishedAt: 'f',
      summary: {},
    });
    const first = await queries.reconcileRuns({ limit: 2 });
    expect(first).toEqual({
      runs: [{ runId: 'r3' }, { runId: 'r2' }],
      nextCursor: expect.any(String),
    });
    expect(await queries.reconcileRuns({ limit: 2, cursor: first.nextCursor })).toStrictEqual({
      runs: [{ runId: 'r1' }],
    });
  });

  it('the activity log, and whether this account could give up its delegation', async () => {
    await store.activity.append({
      cause: { kind: 'timer' },
      action: 'scope.added',
      outcome: 'succeeded',
    });
    expect((await queries.activity({ limit: 5 })).items.map((e) => e.action)).toEqual([
      'scope.added',
    ]);
    expect(await queries.delegatedAdministratorRemovable(MGMT)).toMatchObject({
      accountId: MGMT,
      delegatedAdministrator: false,
      removable: false,
      managedMembers: [
        { accountId: '101', status: 'managed' },
        { accountId: '102', status: 'unreachable' },
        { accountId: '103', status: 'managed' },
      ],
    });
  });
});
