// The repositories on the in-memory double, beyond the shared scenarios: what each refusal
// says, paging through members, the newest reconcile runs, role checks whose batch fails for a
// reason other than a newer check, and records read back with exactly the fields they hold.

import { beforeEach, describe, expect, it } from 'vitest';
import { BatchWriteError } from '../../../shared/cloud/tablestore';
import { createCursorCodec, InvalidCursor } from '../../../shared/domain/cursor';
import {
  CURSOR_SIGNING_KEY,
  ensureSigningKey,
  type Store,
  storeTables,
} from '../../../shared/store';
import { type HookedTablestore, throttled } from '../../support/hooked-tablestore';
import type { ManualClock } from '../../support/manual-clock';
import { iso, memoryStore, T0 } from '../../support/memory-store';

const tables = storeTables('t_');
let client: HookedTablestore;
let clock: ManualClock;
let store: Store;

beforeEach(async () => {
  ({ client, clock, store } = await memoryStore());
});

describe('refusals name the record', () => {
  it('members', async () => {
    const m = await store.members.create({ accountId: '111', status: 'managed', scopeIds: [] });
    await expect(
      store.members.create({ accountId: '111', status: 'managed', scopeIds: [] }),
    ).rejects.toMatchObject({
      code: 'AlreadyExists',
      message: 'member 111 already exists',
      details: { record: 'member 111' },
    });
    await store.members.update(m);
    const stale = await store.members.update(m).catch((e) => e);
    expect(stale).toMatchObject({
      code: 'ConcurrentModification',
      details: { record: 'member 111', expectedVersion: 1 },
    });
    expect(stale.message).toMatch(
      /^member 111 was changed or removed by another writer since version 1/,
    );
    await expect(store.members.delete('111', 1)).rejects.toMatchObject({
      details: { record: 'member 111', expectedVersion: 1 },
    });
  });

  it('scopes', async () => {
    const s = await store.scopes.create({
      id: 'folder:fd-1',
      kind: 'folder',
      targetId: 'fd-1',
      services: [],
      createdBy: 'alice',
    });
    await expect(store.scopes.create({ ...s })).rejects.toMatchObject({
      message: 'scope folder:fd-1 already exists',
    });
    await store.scopes.delete('folder:fd-1', 1);
    await expect(store.scopes.update(s)).rejects.toMatchObject({
      details: { record: 'scope folder:fd-1', expectedVersion: 1 },
    });
    await expect(store.scopes.delete('folder:fd-1', 1)).rejects.toMatchObject({
      details: { record: 'scope folder:fd-1' },
    });
  });

  it('times that are not ISO 8601 are refused naming the field', async () => {
    const base = { accountId: '111', status: 'managed' as const, scopeIds: [] };
    await expect(store.members.create({ ...base, lastReconcileAt: 'yesterday' })).rejects.toThrow(
      'lastReconcileAt: "yesterday" is not an ISO 8601 time',
    );
    const m = await store.members.create(base);
    await expect(store.members.update({ ...m, createdAt: 'then' })).rejects.toThrow(
      'createdAt: "then" is not an ISO 8601 time',
    );
    await expect(
      store.scopes.update({
        id: 's',
        kind: 'account',
        targetId: '1',
        services: [],
        createdBy: 'a',
        version: 1,
        createdAt: 'then',
        updatedAt: iso(T0),
      }),
    ).rejects.toThrow('createdAt: "then" is not an ISO 8601 time');
    await expect(
      store.roleChecks.recordAll([
        { accountId: '1', roleName: 'R', state: 'present', checkedAt: 'x' },
      ]),
    ).rejects.toThrow('checkedAt: "x" is not an ISO 8601 time');
    await expect(
      store.reconcileRuns.record('reconcile', {
        runId: 'r',
        startedAt: 'x',
        finishedAt: iso(T0),
        summary: {},
      }),
    ).rejects.toThrow('startedAt: "x" is not an ISO 8601 time');
    await expect(
      store.reconcileRuns.record('reconcile', {
        runId: 'r',
        startedAt: iso(T0),
        finishedAt: 'y',
        summary: {},
      }),
    ).rejects.toThrow('finishedAt: "y" is not an ISO 8601 time');
    await expect(
      store.activity.append({
        at: 'x',
        cause: { kind: 'timer', trigger: 't' },
        action: 'scope.added',
        outcome: 'succeeded',
      }),
    ).rejects.toThrow('at: "x" is not an ISO 8601 time');
    await expect(store.activity.list({ from: 'x', limit: 1 })).rejects.toThrow(
      'from: "x" is not an ISO 8601 time',
    );
    await expect(store.activity.list({ to: 'y', limit: 1 })).rejects.toThrow(
      'to: "y" is not an ISO 8601 time',
    );
  });
});

describe('members', () => {
  it('a member read back holds exactly the fields it was written with', async () => {
    const bare = await store.members.create({
      accountId: '111',
      status: 'onboarding',
      scopeIds: ['s'],
    });
    expect(await store.members.get('111')).toStrictEqual(bare);
    expect(bare).toStrictEqual({
      accountId: '111',
      status: 'onboarding',
      scopeIds: ['s'],
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    clock.advance(5_000);
    const updated = await store.members.update(bare);
    expect(updated).toMatchObject({ version: 2, createdAt: iso(T0), updatedAt: iso(T0 + 5_000) });
    expect(await store.members.get('111')).toStrictEqual(updated);
  });

  it('pages in account order, following the cursor to the end', async () => {
    for (const id of ['105', '101', '103', '104', '102']) {
      await store.members.create({ accountId: id, status: 'managed', scopeIds: [] });
    }
    const first = await store.members.page({ limit: 2 });
    expect(first.items.map((m) => m.accountId)).toEqual(['101', '102']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await store.members.page({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((m) => m.accountId)).toEqual(['103', '104']);
    const last = await store.members.page({ limit: 2, cursor: second.nextCursor });
    expect(last).toStrictEqual({ items: [expect.objectContaining({ accountId: '105' })] });
    expect(await store.members.page({ limit: 5 })).not.toHaveProperty('nextCursor');
    expect((await store.members.page({ limit: 10 })).items).toHaveLength(5);
  });

  it('a page limit is clamped to 1 to 1000 and rounded down', async () => {
    for (let i = 0; i < 3; i++) {
      await store.members.create({ accountId: `10${i}`, status: 'managed', scopeIds: [] });
    }
    expect((await store.members.page({ limit: 0 })).items).toHaveLength(1);
    expect((await store.members.page({ limit: -5 })).items).toHaveLength(1);
    expect((await store.members.page({ limit: 2.9 })).items).toHaveLength(2);
  });

  it('a page fills up across short reads of the table', async () => {
    for (let i = 0; i < 6; i++) {
      await store.members.create({ accountId: `10${i}`, status: 'managed', scopeIds: [] });
    }
    // The table answers at most two rows per read, as Tablestore may.
    const getRange = client.getRange.bind(client);
    const limits: Array<number | undefined> = [];
    client.getRange = (request) => {
      limits.push(request.limit);
      return getRange({ ...request, limit: Math.min(request.limit ?? 2, 2) });
    };
    const page = await store.members.page({ limit: 5 });
    expect(page.items.map((m) => m.accountId)).toEqual(['100', '101', '102', '103', '104']);
    expect(limits).toEqual([5, 3, 1]);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('a cursor of another listing or an altered one is refused', async () => {
    for (const id of ['101', '102', '103']) {
      await store.members.create({ accountId: id, status: 'managed', scopeIds: [] });
    }
    await store.activity.append({
      accountId: '101',
      cause: { kind: 'timer', trigger: 't' },
      action: 'scope.added',
      outcome: 'succeeded',
    });
    await store.activity.append({
      cause: { kind: 'timer', trigger: 't' },
      action: 'scope.removed',
      outcome: 'succeeded',
    });
    const activity = await store.activity.list({ limit: 1 });
    await expect(
      store.members.page({ limit: 1, cursor: activity.nextCursor }),
    ).rejects.toBeInstanceOf(InvalidCursor);
    const cursor = (await store.members.page({ limit: 1 })).nextCursor ?? '';
    for (const altered of [cursor.slice(0, -2), cursor.slice(1), 'e30', 'not a cursor']) {
      await expect(store.members.page({ limit: 1, cursor: altered })).rejects.toBeInstanceOf(
        InvalidCursor,
      );
    }
    expect(new InvalidCursor('it was altered')).toMatchObject({
      status: 400,
      code: 'InvalidCursor',
      message:
        'The paging cursor is not valid for this query: it was altered. Start again without a cursor.',
    });
  });

  it('listCoveredBy lists the members of one scope', async () => {
    await store.members.create({ accountId: '101', status: 'managed', scopeIds: ['a', 'b'] });
    await store.members.create({ accountId: '102', status: 'managed', scopeIds: ['b'] });
    expect((await store.members.listCoveredBy('a')).map((m) => m.accountId)).toEqual(['101']);
    expect((await store.members.listCoveredBy('b')).map((m) => m.accountId)).toEqual([
      '101',
      '102',
    ]);
    expect(await store.members.listCoveredBy('c')).toEqual([]);
  });
});

describe('scopes', () => {
  it('a scope read back holds exactly its fields', async () => {
    const s = await store.scopes.create({
      id: 'account:1',
      kind: 'account',
      targetId: '1',
      services: ['bdrc'],
      createdBy: 'alice',
    });
    expect(await store.scopes.get('account:1')).toStrictEqual(s);
    expect(s).toStrictEqual({
      id: 'account:1',
      kind: 'account',
      targetId: '1',
      services: ['bdrc'],
      createdBy: 'alice',
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
  });
});

describe('reconcile runs', () => {
  const run = (n: number) => ({
    runId: `run-${n}`,
    startedAt: iso(T0 + n * 1_000),
    finishedAt: iso(T0 + n * 1_000 + 500),
    summary: { n },
  });

  it('pages the runs of a kind, newest first', async () => {
    for (const n of [2, 1, 3]) await store.reconcileRuns.record('reconcile', run(n));
    await store.reconcileRuns.record('other', run(9));
    const first = await store.reconcileRuns.page('reconcile', { limit: 2 });
    expect(first.items).toEqual([run(3), run(2)]);
    const rest = await store.reconcileRuns.page('reconcile', {
      limit: 2,
      cursor: first.nextCursor,
    });
    expect(rest).toStrictEqual({ items: [run(1)] });
    expect(await store.reconcileRuns.page('reconcile', { limit: 10 })).toStrictEqual({
      items: [run(3), run(2), run(1)],
    });
    expect(await store.reconcileRuns.page('other', { limit: 10 })).toStrictEqual({
      items: [run(9)],
    });
    expect(await store.reconcileRuns.page('none', { limit: 10 })).toStrictEqual({ items: [] });
    // A cursor is bound to its kind.
    await expect(
      store.reconcileRuns.page('other', { limit: 2, cursor: first.nextCursor }),
    ).rejects.toBeInstanceOf(InvalidCursor);
  });

  it('one run is recorded once', async () => {
    await store.reconcileRuns.record('reconcile', run(1));
    await expect(store.reconcileRuns.record('reconcile', run(1))).rejects.toMatchObject({
      message: 'reconcile run run-1 already exists',
    });
  });
});

describe('role checks', () => {
  const check = (roleName: string, at: number, extra = {}) => ({
    accountId: '111',
    roleName,
    state: 'present' as const,
    checkedAt: iso(at),
    ...extra,
  });

  it('records nothing for no checks, and reads back exactly the fields kept', async () => {
    expect(await store.roleChecks.recordAll([])).toEqual([]);
    await store.roleChecks.recordAll([
      check('A', T0),
      check('B', T0, { service: 'bdrc', state: 'missing', reason: 'EntityNotExist.Role' }),
    ]);
    expect(await store.roleChecks.listForMember('111')).toStrictEqual([
      check('A', T0),
      check('B', T0, { service: 'bdrc', state: 'missing', reason: 'EntityNotExist.Role' }),
    ]);
    const all: unknown[] = [];
    for await (const c of store.roleChecks.all()) all.push(c);
    expect(all).toHaveLength(2);
  });

  it('a check as new as the one kept is superseded; the rest of the batch is recorded', async () => {
    await store.roleChecks.recordAll([check('A', T0 + 10)]);
    expect(
      await store.roleChecks.recordAll([check('A', T0 + 10, { state: 'missing' }), check('B', T0)]),
    ).toEqual(['superseded', 'recorded']);
    expect((await store.roleChecks.listForMember('111')).map((c) => c.state)).toEqual([
      'present',
      'present',
    ]);
  });

  it('a row failing for another reason fails the call, naming it, after the rest landed', async () => {
    await store.roleChecks.recordAll([check('A', T0 + 10)]);
    client.failRow = (write) =>
      write.primaryKey.some(([, v]) => v === 'C')
        ? throttled('BatchWriteRow', write.table)
        : undefined;
    const error = await store.roleChecks
      .recordAll([check('A', T0), check('B', T0), check('C', T0)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(BatchWriteError);
    // The failed row is named by its place in the batch: the third check.
    expect(
      (error as BatchWriteError).failures.map((f) => [f.index, f.table, f.error.code]),
    ).toEqual([[2, 't_role_checks', 'OTSServerBusy']]);
    client.failRow = undefined;
    expect((await store.roleChecks.listForMember('111')).map((c) => c.roleName)).toEqual([
      'A',
      'B',
    ]);
  });

  it('clearMember removes every check of one member only, and says how many', async () => {
    await store.roleChecks.recordAll([check('A', T0), check('B', T0)]);
    await store.roleChecks.recordAll([{ ...check('A', T0), accountId: '222' }]);
    expect(await store.roleChecks.clearMember('333')).toBe(0);
    expect(await store.roleChecks.clearMember('111')).toBe(2);
    expect(await store.roleChecks.listForMember('111')).toEqual([]);
    expect(await store.roleChecks.listForMember('222')).toHaveLength(1);
  });

  it('a failed delete while clearing fails the call', async () => {
    await store.roleChecks.recordAll([check('A', T0)]);
    client.failRow = (write) => throttled('BatchWriteRow', write.table);
    await expect(store.roleChecks.clearMember('111')).rejects.toBeInstanceOf(BatchWriteError);
  });
});

describe('activity', () => {
  const cause = { kind: 'timer' as const, trigger: 'reconcile' };

  it('an entry is kept on the global timeline and, when it concerns an account, on its own', async () => {
    await store.activity.append({
      accountId: '111',
      cause,
      action: 'scope.added',
      outcome: 'succeeded',
    });
    await store.activity.append({ cause, action: 'scope.removed', outcome: 'succeeded' });
    const streams: string[] = [];
    for await (const row of client.iterateRange({
      table: tables.activity.name,
      ...tables.activity.prefixRange({}),
    })) {
      streams.push(tables.activity.decode(row).stream);
    }
    expect(streams).toEqual(['account:111', 'global', 'global']);
  });

  it('an entry read back holds exactly its fields, its time given or now', async () => {
    const bare = await store.activity.append({ cause, action: 'scope.added', outcome: 'refused' });
    expect(bare).toStrictEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      at: iso(T0),
      cause,
      action: 'scope.added',
      outcome: 'refused',
    });
    const full = await store.activity.append({
      at: iso(T0 - 1_000),
      accountId: '111',
      cause: { kind: 'user', identity: 'alice' },
      action: 'scope.removed',
      target: { type: 'member', id: '111' },
      outcome: 'failed',
      detail: 'why',
      requestId: 'req-1',
    });
    expect(full.at).toBe(iso(T0 - 1_000));
    const page = await store.activity.list({ limit: 10 });
    expect(page).toStrictEqual({ items: [bare, full] });
    expect(await store.activity.list({ accountId: '111', limit: 10 })).toStrictEqual({
      items: [full],
    });
  });

  it('pages with cursors bound to the query: order, account and window each count', async () => {
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      await store.activity.append({
        accountId: '111',
        cause,
        action: 'member.updated',
        detail: `a${i}`,
        outcome: 'succeeded',
      });
    }
    const newest = await store.activity.list({ limit: 2 });
    expect(newest.items.map((e) => e.detail)).toEqual(['a3', 'a2']);
    const oldest = await store.activity.list({ limit: 2, order: 'oldest-first' });
    expect(oldest.items.map((e) => e.detail)).toEqual(['a0', 'a1']);
    const next = await store.activity.list({
      limit: 2,
      order: 'oldest-first',
      cursor: oldest.nextCursor,
    });
    expect(next).toStrictEqual({
      items: [expect.objectContaining({ detail: 'a2' }), expect.objectContaining({ detail: 'a3' })],
    });
    for (const other of [
      { limit: 2 },
      { limit: 2, order: 'oldest-first' as const, accountId: '111' },
      { limit: 2, order: 'oldest-first' as const, from: iso(T0) },
      { limit: 2, order: 'oldest-first' as const, to: iso(T0 + 10_000) },
    ]) {
      await expect(
        store.activity.list({ ...other, cursor: oldest.nextCursor }),
      ).rejects.toBeInstanceOf(InvalidCursor);
    }
    const windowed = await store.activity.list({
      limit: 1,
      from: iso(T0 + 2_000),
      to: iso(T0 + 4_000),
      order: 'oldest-first',
    });
    expect(windowed.items.map((e) => e.detail)).toEqual(['a1']);
    const rest = await store.activity.list({
      limit: 5,
      from: iso(T0 + 2_000),
      to: iso(T0 + 4_000),
      order: 'oldest-first',
      cursor: windowed.nextCursor,
    });
    expect(rest).toStrictEqual({ items: [expect.objectContaining({ detail: 'a2' })] });
  });
});

describe('tables', () => {
  it('are named with the rdg_ prefix unless told otherwise, reconcile runs kept 90 days', async () => {
    const names = Object.values(storeTables()).map((t) => t.name);
    expect(names.every((n) => n.startsWith('rdg_'))).toBe(true);
    expect(names).toContain('rdg_members');
    expect((await client.describeTable(tables.reconcileRuns.name)).timeToLiveSeconds).toBe(
      90 * 24 * 3600,
    );
    expect((await client.describeTable(tables.idempotency.name)).timeToLiveSeconds).toBe(
      7 * 24 * 3600,
    );
  });

  it('a stored JSON column that is not what the schema says is refused on read, saying what was expected', async () => {
    const scope = await store.scopes.create({
      id: 's',
      kind: 'account',
      targetId: '1',
      services: [],
      createdBy: 'a',
    });
    const member = await store.members.create({
      accountId: '111',
      status: 'managed',
      scopeIds: [],
      folderPath: [{ id: 'r', name: 'Root' }],
      failure: { reason: 'r', at: iso(T0) },
    });
    const corrupt = async (
      table: (typeof tables)['scopes'] | (typeof tables)['members'],
      key: Record<string, string>,
      column: string,
      text: string,
    ) => {
      await client.updateRow(table.name, table.key(key as never), { put: { [column]: text } });
    };
    const refused = async (read: () => Promise<unknown>, message: string) => {
      await expect(read()).rejects.toThrow(message);
    };
    for (const text of ['"sas"', '[1]', 'null']) {
      await corrupt(tables.scopes, { scopeId: 's' }, 'services', text);
      await refused(() => store.scopes.get('s'), 'expected an array of strings');
    }
    await corrupt(tables.scopes, { scopeId: 's' }, 'services', '["sas"]');
    expect((await store.scopes.get('s'))?.services).toEqual(['sas']);
    expect(scope.version).toBe(1);

    for (const text of [
      '{"id":"r","name":"Root"}',
      '[{"id":"r"}]',
      '[{"name":"Root"}]',
      '[null]',
      '[{"id":1,"name":"x"}]',
    ]) {
      await corrupt(tables.members, { accountId: '111' }, 'folderPath', text);
      await refused(() => store.members.get('111'), 'expected an array of {id, name}');
    }
    await corrupt(
      tables.members,
      { accountId: '111' },
      'folderPath',
      '[{"id":"r","name":"Root"},{"id":"f","name":"F"}]',
    );
    expect((await store.members.get('111'))?.folderPath).toHaveLength(2);

    for (const [text, message] of [
      ['"failed"', 'expected an object'],
      ['null', 'expected an object'],
      ['{"at":"t"}', 'expected a reason field'],
      ['{"reason":"r"}', 'expected a at field'],
    ] as const) {
      await corrupt(tables.members, { accountId: '111' }, 'failure', text);
      await refused(() => store.members.get('111'), message);
    }
    expect(member.version).toBe(1);
  });

  it('an activity entry whose cause or target lost a field is refused on read', async () => {
    const entry = await store.activity.append({
      cause: { kind: 'timer', trigger: 't' },
      action: 'scope.added',
      target: { type: 'scope', id: 's' },
      outcome: 'succeeded',
    });
    const key = tables.activity.key({
      stream: 'global',
      at: BigInt(Date.parse(entry.at)),
      entryId: entry.id,
    });
    await client.updateRow(tables.activity.name, key, { put: { target: '{"type":"scope"}' } });
    await expect(store.activity.list({ limit: 5 })).rejects.toThrow('expected a id field');
    await client.updateRow(tables.activity.name, key, { put: { target: '{"id":"s"}' } });
    await expect(store.activity.list({ limit: 5 })).rejects.toThrow('expected a type field');
    await client.updateRow(tables.activity.name, key, {
      put: { target: '{"type":"scope","id":"s"}', cause: '{}' },
    });
    await expect(store.activity.list({ limit: 5 })).rejects.toThrow('expected a kind field');
  });
});

describe('paging cursors against the table', () => {
  async function codec() {
    const { key } = await ensureSigningKey(client, tables);
    return createCursorCodec(async () => key);
  }

  it('a signed position that does not fit the table or lies outside the query is refused', async () => {
    for (const id of ['101', '102', '103']) {
      await store.members.create({ accountId: id, status: 'managed', scopeIds: [] });
    }
    const cursors = await codec();
    const members = `${tables.members.name}\nmembers`;
    // The codec itself: a position this store issued reads back.
    const issued = (await store.members.page({ limit: 1 })).nextCursor as string;
    expect(await cursors.decode(members, issued)).toEqual(['102']);
    for (const position of [[102n], ['102', '1'], [Buffer.from('102')]]) {
      const error = await store.members
        .page({ limit: 1, cursor: await cursors.encode(members, position) })
        .catch((e) => e);
      expect(error, String(position)).toBeInstanceOf(InvalidCursor);
      expect((error as Error).message).toMatch(/its position does not fit table t_members/);
    }
    // A reconcile-runs cursor of one kind, replayed for another, lies outside that query.
    const runs = `${tables.reconcileRuns.name}\n${JSON.stringify(['reconcile-runs', 'other'])}`;
    const outside = await cursors.encode(runs, ['reconcile', 5n, 'run-1']);
    const error = await store.reconcileRuns
      .page('other', { limit: 1, cursor: outside })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidCursor);
    expect((error as Error).message).toMatch(/its position lies outside this query/);
  });

  it('an empty time window reads nothing and issues no cursor', async () => {
    await store.activity.append({
      cause: { kind: 'timer' },
      action: 'scope.added',
      outcome: 'succeeded',
    });
    const at = iso(T0);
    expect(await store.activity.list({ from: at, to: at, limit: 5 })).toStrictEqual({ items: [] });
    expect(
      await store.activity.list({ from: at, to: at, limit: 5, order: 'oldest-first' }),
    ).toStrictEqual({
      items: [],
    });
  });
});

describe('the cursor signing key', () => {
  it('is made once, under its name, and read back after', async () => {
    const made = await ensureSigningKey(client, tables);
    expect(made.created).toBe(true);
    expect(made.key).toHaveLength(32);
    const row = await client.getRow(
      tables.keys.name,
      tables.keys.key({ keyName: 'cursor-signing' }),
    );
    expect(row && Buffer.from(tables.keys.decode(row).secret, 'base64')).toEqual(
      Buffer.from(made.key),
    );
    expect(CURSOR_SIGNING_KEY).toBe('cursor-signing');
    const puts = client.calls.get('PutRow');
    const again = await ensureSigningKey(client, tables);
    expect(again).toEqual({ key: Buffer.from(made.key), created: false });
    // A key that exists is read, never written again.
    expect(client.calls.get('PutRow')).toBe(puts);
  });

  it('concurrent makers all get the key written first', async () => {
    const keys = await Promise.all([1, 2, 3].map(() => ensureSigningKey(client, tables)));
    expect(keys.filter((k) => k.created)).toHaveLength(1);
    expect(new Set(keys.map((k) => Buffer.from(k.key).toString('hex'))).size).toBe(1);
  });

  it('a key written by another and removed before it could be read is an error, not a new key', async () => {
    client.before = async (op, table) => {
      if (table !== tables.keys.name) return;
      const hook = client.before;
      client.before = undefined;
      const key = tables.keys.key({ keyName: 'cursor-signing' });
      if (op === 'PutRow') {
        const { primaryKey, columns } = tables.keys.encode({
          keyName: 'cursor-signing',
          secret: 'AAAA',
          createdAt: 0n,
        });
        await client.putRow(table, primaryKey, columns);
        client.before = async (next, t) => {
          if (next === 'GetRow' && t === table) {
            client.before = undefined;
            await client.deleteRow(t, key);
          }
        };
        return;
      }
      client.before = hook;
    };
    await expect(ensureSigningKey(client, tables)).rejects.toThrow(
      't_keys: the cursor-signing key was written and then removed',
    );
  });
});
