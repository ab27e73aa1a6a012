// Store-layer scenarios, written once against the adapter's TablestoreClient interface. The
// integration suite (store.test.ts) runs them through the real SDK against localcloud's
// Tablestore; the unit suite runs them against an in-memory test double for fast feedback.

import { expect } from 'vitest';
import {
  type ColumnCondition,
  type Condition,
  column,
  defineTable,
  ensureTables,
  INF_MAX,
  INF_MIN,
  type RowWrite,
  type TablestoreClient,
} from '../../shared/cloud/tablestore';
import { type CursorValue, createCursorCodec, InvalidCursor } from '../../shared/domain/cursor';
import {
  IdempotencyInProgress,
  IdempotencyLockLost,
  IdempotencyPayloadMismatch,
  idempotencyRecordKey,
  makeIdempotent,
} from '../../shared/domain/idempotency';
import { type Lease, LeaseLost } from '../../shared/domain/lease';
import { ConcurrentModification, RecordAlreadyExists } from '../../shared/domain/records';
import {
  CURSOR_SIGNING_KEY,
  createStore,
  ensureSigningKey,
  ensureStoreTables,
  type Store,
  storeTables,
} from '../../shared/store';
import { conditionalWrite } from '../../shared/store/conditional-write';
import { ManualClock } from './manual-clock';
import { seededRandom } from './seeded-random';

export interface Backend {
  client: TablestoreClient;
  /** Unique per test file run, so suites never share tables. */
  prefix: string;
}

export interface StoreFixture {
  client: TablestoreClient;
  store: Store;
  clock: ManualClock;
}

/** Every table made under the backend's prefix, a manual clock (at `startAt` if given), the store. */
export async function storeFixture(backend: Backend, startAt?: number): Promise<StoreFixture> {
  await ensureStoreTables(backend.client, { prefix: backend.prefix });
  const clock = new ManualClock(startAt);
  return {
    client: backend.client,
    clock,
    store: createStore({ client: backend.client, tablePrefix: backend.prefix, clock }),
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Idempotency

export async function fiftyConcurrentInvocationsRunOnce({
  store,
  clock,
}: StoreFixture): Promise<void> {
  let runs = 0;
  const handler = makeIdempotent(
    async (event: { id: string; detail: string }) => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 15));
      return { processed: event.id, run: runs };
    },
    {
      store: store.idempotency,
      name: 'fifty',
      keyOf: (e) => e.id,
      ttlSeconds: 3600,
      lockSeconds: 60,
      clock,
    },
  );
  const event = { id: 'evt-50', detail: 'CreateResourceAccount' };
  const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => handler(event)));

  expect(runs).toBe(1);
  const results = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  const refusals = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
  expect(results.length).toBeGreaterThanOrEqual(1);
  for (const r of results) expect(r).toEqual({ processed: 'evt-50', run: 1 });
  for (const e of refusals) expect(e).toBeInstanceOf(IdempotencyInProgress);
  expect(results.length + refusals.length).toBe(50);

  // After completion every repeat gets the stored result, without running the work.
  expect(await handler(event)).toEqual({ processed: 'evt-50', run: 1 });
  expect(runs).toBe(1);
}

export async function fiftyConcurrentWhileWorkIsHeld({
  store,
  clock,
}: StoreFixture): Promise<void> {
  let runs = 0;
  const gate = deferred();
  const handler = makeIdempotent(
    async (id: string) => {
      runs += 1;
      await gate.promise;
      return `done:${id}`;
    },
    {
      store: store.idempotency,
      name: 'held',
      keyOf: (id) => id,
      ttlSeconds: 3600,
      lockSeconds: 60,
      clock,
    },
  );
  const calls = Array.from({ length: 50 }, () => handler('k1'));
  const settled = Promise.allSettled(calls);
  // 49 repeats answer "in progress" while the first run holds the work.
  let refused = 0;
  for (const c of calls) c.catch(() => refused++);
  await until(() => refused === 49, '49 in-progress answers');
  gate.resolve();
  const outcomes = await settled;
  expect(runs).toBe(1);
  expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual(['done:k1']);
  for (const o of outcomes) {
    if (o.status === 'rejected') {
      expect(o.reason).toBeInstanceOf(IdempotencyInProgress);
      expect((o.reason as IdempotencyInProgress).retryAfterMs).toBe(60_000);
    }
  }
  expect(await handler('k1')).toBe('done:k1');
}

export async function expiredLockCannotClobberSuccessor({
  store,
  clock,
}: StoreFixture): Promise<void> {
  const gates = [deferred(), deferred()];
  let started = 0;
  const handler = makeIdempotent(
    async (_event: { id: string }) => {
      const run = ++started;
      if (run === 1) await gates[0]?.promise;
      if (run === 3) {
        await gates[1]?.promise;
        throw new Error('run 3 failed late');
      }
      return { by: run };
    },
    {
      store: store.idempotency,
      name: 'late',
      keyOf: (e) => e.id,
      ttlSeconds: 3600,
      lockSeconds: 10,
      clock,
    },
  );

  // Run 1 acquires and stalls past its 10 s lock; run 2 takes the record over and completes.
  const first = handler({ id: 'e1' });
  await until(() => started === 1, 'run 1 to start');
  clock.advance(11_000);
  expect(await handler({ id: 'e1' })).toEqual({ by: 2 });

  // Run 1 finishes late: its completion is refused and the successor's result stays.
  gates[0]?.resolve();
  const late = await first.catch((e: unknown) => e);
  expect(late).toBeInstanceOf(IdempotencyLockLost);
  expect((late as IdempotencyLockLost).result).toEqual({ by: 1 });
  expect(await handler({ id: 'e1' })).toEqual({ by: 2 });
  const key = idempotencyRecordKey('late', 'e1');
  expect(await store.idempotency.get(key)).toMatchObject({
    status: 'completed',
    resultJson: '{"by":2}',
  });

  // The store refuses a stale run's complete and release outright.
  const k2 = idempotencyRecordKey('late', 'direct');
  const a = await store.idempotency.acquire(k2, 'h', {
    lockMs: 10_000,
    ttlMs: 3_600_000,
    now: clock.now(),
  });
  expect(a.kind).toBe('acquired');
  clock.advance(10_001);
  const b = await store.idempotency.acquire(k2, 'h', {
    lockMs: 10_000,
    ttlMs: 3_600_000,
    now: clock.now(),
  });
  expect(b).toMatchObject({ kind: 'acquired', tookOver: true });
  if (a.kind !== 'acquired' || b.kind !== 'acquired') throw new Error('unreachable');
  await expect(
    store.idempotency.complete(a.lock, '"stale"', { ttlMs: 3_600_000 }),
  ).rejects.toBeInstanceOf(IdempotencyLockLost);
  await expect(store.idempotency.release(a.lock)).rejects.toBeInstanceOf(IdempotencyLockLost);
  expect(await store.idempotency.get(k2)).toMatchObject({
    status: 'in_progress',
    lockToken: b.lock.token,
  });
  await store.idempotency.complete(b.lock, '"fresh"', { ttlMs: 3_600_000, now: clock.now() });
  expect(await store.idempotency.get(k2)).toMatchObject({
    status: 'completed',
    resultJson: '"fresh"',
  });

  // A run that fails after losing its lock cannot delete the successor's record either.
  const third = handler({ id: 'e3' }); // run 3 stalls, then throws
  await until(() => started === 3, 'run 3 to start');
  clock.advance(11_000);
  expect(await handler({ id: 'e3' })).toEqual({ by: 4 });
  gates[1]?.resolve();
  await expect(third).rejects.toThrow('run 3 failed late');
  expect(await store.idempotency.get(idempotencyRecordKey('late', 'e3'))).toMatchObject({
    status: 'completed',
    resultJson: '{"by":4}',
  });
}

export async function payloadMismatchIsRefused({ store, clock }: StoreFixture): Promise<void> {
  let runs = 0;
  const handler = makeIdempotent(
    async (e: { id: string; body: string }) => {
      runs += 1;
      if (e.body === 'boom') throw new Error('handler failed');
      return e.body.toUpperCase();
    },
    {
      store: store.idempotency,
      name: 'mismatch',
      keyOf: (e) => e.id,
      ttlSeconds: 60,
      lockSeconds: 10,
      clock,
    },
  );
  expect(await handler({ id: 'x', body: 'a' })).toBe('A');
  await expect(handler({ id: 'x', body: 'b' })).rejects.toBeInstanceOf(IdempotencyPayloadMismatch);
  expect(await handler({ id: 'x', body: 'a' })).toBe('A');
  expect(runs).toBe(1);
  // Once the record expires the key may be reused.
  clock.advance(61_000);
  expect(await handler({ id: 'x', body: 'b' })).toBe('B');
  expect(runs).toBe(2);
  // A failed run releases the record: the retry runs the work again.
  await expect(handler({ id: 'y', body: 'boom' })).rejects.toThrow('handler failed');
  expect(await store.idempotency.get(idempotencyRecordKey('mismatch', 'y'))).toBeUndefined();
  await expect(handler({ id: 'y', body: 'boom' })).rejects.toThrow('handler failed');
  expect(runs).toBe(4);
}

// ---------------------------------------------------------------------------------------------
// Leases

type Action = 'acquire' | 'renew' | 'release' | 'idle';

/**
 * Two contenders act concurrently over many rounds while the clock jumps; after every round at
 * most one believes it holds an unexpired lease, the stored token is that holder's, and tokens
 * handed out only grow.
 */
export async function leaseContendersNeverBothHold(
  { store, clock }: StoreFixture,
  options: { rounds: number; seed: number; name?: string },
): Promise<{ acquisitions: number; lost: number }> {
  const name = options.name ?? `lease-${options.seed}`;
  const random = seededRandom(options.seed);
  const ttlMs = 1_000;
  const owners = ['runner-a', 'runner-b'] as const;
  const held = new Map<string, Lease>();
  let lastToken = 0n;
  let acquisitions = 0;
  let lost = 0;
  const actions: Action[] = ['acquire', 'acquire', 'renew', 'release', 'idle'];

  async function act(owner: string, action: Action): Promise<void> {
    let mine = held.get(owner);
    // A holder that notices its lease ran out lets go of it before trying again; one that does
    // not (it stalled) may still renew or release it and must be refused if it was taken over.
    if (action === 'acquire' && mine && mine.expiresAt <= clock.now()) {
      held.delete(owner);
      mine = undefined;
    }
    if (action === 'acquire' && !mine) {
      const result = await store.leases.acquire(name, owner, { ttlMs });
      if (result.acquired) {
        expect(result.lease.token).toBeGreaterThan(lastToken);
        lastToken = result.lease.token;
        acquisitions += 1;
        held.set(owner, result.lease);
      }
    } else if ((action === 'renew' || action === 'release') && mine) {
      try {
        if (action === 'renew') held.set(owner, await store.leases.renew(mine, { ttlMs }));
        else {
          await store.leases.release(mine);
          held.delete(owner);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(LeaseLost);
        lost += 1;
        held.delete(owner);
      }
    }
  }

  for (let round = 0; round < options.rounds; round++) {
    clock.advance(Math.floor(random() * 700));
    const chosen = owners.map(
      (o) => [o, actions[Math.floor(random() * actions.length)] as Action] as const,
    );
    await Promise.all(chosen.map(([owner, action]) => act(owner, action)));

    const now = clock.now();
    const live = [...held.values()].filter((l) => l.expiresAt > now);
    expect(live.length).toBeLessThanOrEqual(1);
    const [holder] = live;
    if (holder) {
      const stored = await store.leases.current(name);
      expect(stored?.token).toBe(holder.token);
      expect(stored?.owner).toBe(holder.owner);
    }
  }
  return { acquisitions, lost };
}

export async function simultaneousAcquireHasOneWinner({
  store,
  clock,
}: StoreFixture): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.leases.acquire('race', `contender-${i}`, { ttlMs: 500 }),
      ),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    clock.advance(500); // expire it: the next round races for the takeover
  }
  expect((await store.leases.current('race'))?.token).toBe(20n);
}

export async function stalledHolderLosesItsLease({ store, clock }: StoreFixture): Promise<void> {
  const a = await store.leases.acquire('pull/shard-0', 'puller-a', { ttlMs: 5_000 });
  if (!a.acquired) throw new Error('puller-a should get the free lease');

  clock.advance(6_000); // puller-a stalls past its lease
  const b = await store.leases.acquire('pull/shard-0', 'puller-b', { ttlMs: 5_000 });
  if (!b.acquired) throw new Error('puller-b should take the expired lease over');
  expect(b.lease.token).toBe(a.lease.token + 1n);

  // puller-a wakes up: it can neither renew nor release what puller-b now holds.
  await expect(store.leases.renew(a.lease, { ttlMs: 5_000 })).rejects.toBeInstanceOf(LeaseLost);
  await expect(store.leases.release(a.lease)).rejects.toBeInstanceOf(LeaseLost);
  expect(await store.leases.current('pull/shard-0')).toMatchObject({
    owner: 'puller-b',
    token: b.lease.token,
  });

  // Release keeps the token, so the next holder gets token + 1.
  await store.leases.release(b.lease);
  const c = await store.leases.acquire('pull/shard-0', 'puller-c', { ttlMs: 5_000 });
  expect(c).toMatchObject({ acquired: true, lease: { token: b.lease.token + 1n } });
}

// ---------------------------------------------------------------------------------------------
// Adapter: paging and batches

export async function pagingOverMoreThan5000Rows(
  { client }: StoreFixture,
  prefix: string,
): Promise<void> {
  const table = defineTable({
    name: `${prefix}paging`,
    primaryKey: [
      ['part', 'string'],
      ['n', 'int64'],
    ],
    columns: { payload: column.string() },
  });
  await ensureTables(client, [table.definition]);
  const writes: RowWrite[] = [];
  for (let n = 0; n < 5_500; n++) {
    const { primaryKey, columns } = table.encode({ part: 'p1', n: BigInt(n), payload: `row-${n}` });
    writes.push({ type: 'put', table: table.name, primaryKey, columns });
  }
  for (let n = 0; n < 30; n++) {
    const { primaryKey, columns } = table.encode({ part: 'p2', n: BigInt(n), payload: 'other' });
    writes.push({ type: 'put', table: table.name, primaryKey, columns });
  }
  const results = await client.batchWriteRows(writes);
  expect(results.filter((r) => !r.ok)).toEqual([]);

  const forward: bigint[] = [];
  for await (const row of client.iterateRange({
    table: table.name,
    ...table.prefixRange({ part: 'p1' }),
  })) {
    forward.push(table.decode(row).n);
  }
  expect(forward).toHaveLength(5_500);
  expect(forward).toEqual(Array.from({ length: 5_500 }, (_, i) => BigInt(i)));

  const backward: bigint[] = [];
  for await (const row of client.iterateRange({
    table: table.name,
    direction: 'backward',
    pageSize: 700,
    ...table.prefixRange({ part: 'p1' }, 'backward'),
  })) {
    backward.push(table.decode(row).n);
  }
  expect(backward).toEqual([...forward].reverse());

  let all = 0;
  for await (const _ of client.iterateRange({ table: table.name, ...table.prefixRange({}) })) all++;
  expect(all).toBe(5_530);

  const limited: bigint[] = [];
  for await (const row of client.iterateRange({
    table: table.name,
    maxRows: 1_234,
    pageSize: 500,
    ...table.prefixRange({ part: 'p1' }),
  })) {
    limited.push(table.decode(row).n);
  }
  expect(limited).toHaveLength(1_234);
  expect(limited.at(-1)).toBe(1_233n);

  const page = await client.getRange({
    table: table.name,
    limit: 10,
    ...table.prefixRange({ part: 'p2' }),
  });
  expect(page.rows).toHaveLength(10);
  expect(page.next).toEqual([
    ['part', 'p2'],
    ['n', 10n],
  ]);
}

export async function batchWritesSplitOver200Rows(
  { client }: StoreFixture,
  prefix: string,
): Promise<void> {
  const table = defineTable({
    name: `${prefix}batch`,
    primaryKey: [['id', 'string']],
    columns: { v: column.int64(), blob: column.binary().optional() },
  });
  await ensureTables(client, [table.definition]);
  const writes: RowWrite[] = Array.from({ length: 450 }, (_, i) => {
    const { primaryKey, columns } = table.encode({
      id: `r${String(i).padStart(4, '0')}`,
      v: BigInt(i),
    });
    return { type: 'put', table: table.name, primaryKey, columns };
  });
  // The same row again, later in the list: it must land after the first write.
  writes.push({
    type: 'update',
    table: table.name,
    primaryKey: table.key({ id: 'r0001' }),
    update: { put: { v: 1001n } },
  });
  // Rows whose size forces a byte split: 3 x 1.5 MB cannot share one 4 MB request.
  for (let i = 0; i < 3; i++) {
    const { primaryKey, columns } = table.encode({
      id: `big${i}`,
      v: 0n,
      blob: Buffer.alloc(1_500_000, i),
    });
    writes.push({ type: 'put', table: table.name, primaryKey, columns });
  }
  const results = await client.batchWriteRows(writes);
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(results).toHaveLength(454);

  const rows = await client.batchGetRows(
    table.name,
    Array.from({ length: 450 }, (_, i) => table.key({ id: `r${String(i).padStart(4, '0')}` })),
  );
  expect(rows.map((r) => (r ? table.decode(r).v : undefined))).toEqual(
    Array.from({ length: 450 }, (_, i) => (i === 1 ? 1001n : BigInt(i))),
  );
  const big = await client.getRow(table.name, table.key({ id: 'big2' }));
  expect(big && table.decode(big).blob?.length).toBe(1_500_000);

  // Conditional rows fail individually; the rest of the batch lands.
  const mixed = await client.batchWriteRows([
    {
      type: 'put',
      table: table.name,
      primaryKey: table.key({ id: 'r0000' }),
      columns: { v: 5n },
      condition: { row: 'expect-not-exist' },
    },
    {
      type: 'put',
      table: table.name,
      primaryKey: table.key({ id: 'fresh' }),
      columns: { v: 6n },
      condition: { row: 'expect-not-exist' },
    },
  ]);
  expect(mixed.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['OTSConditionCheckFail', 'ok']);
}

/**
 * Malformed requests are refused outright (by the SDK or by the service), never answered as a
 * failed condition: a blanked or misspelt condition in the store must fail loudly, not read as
 * "the row moved on" nor pass as no condition at all. Run on both backends, this keeps the
 * in-memory double refusing what localcloud refuses.
 */
export async function malformedRequestsAreRefused(
  { client }: StoreFixture,
  prefix: string,
): Promise<void> {
  const table = defineTable({
    name: `${prefix}malformed`,
    primaryKey: [['id', 'string']],
    columns: { v: column.int64() },
  });
  await ensureTables(client, [table.definition]);
  const key = table.key({ id: 'a' });
  await client.putRow(table.name, key, { v: 1n });
  const put = (condition: unknown) =>
    client.putRow(table.name, key, { v: 2n }, { condition: condition as Condition });
  const refusals: Array<[string, () => Promise<unknown>]> = [
    ['a blank row existence', () => put({ row: '' })],
    ['an empty condition', () => put({})],
    ['an empty column condition', () => put({ row: 'ignore', columns: {} })],
    [
      'a blank comparator',
      () => put({ row: 'ignore', columns: { column: 'v', is: '', value: 1n } }),
    ],
    ['an AND of nothing', () => put({ row: 'ignore', columns: { and: [] } })],
    ['an OR of nothing', () => put({ row: 'ignore', columns: { or: [] } })],
    [
      'a delete expecting no row',
      () => client.deleteRow(table.name, key, { condition: { row: 'expect-not-exist' } }),
    ],
    [
      'an update expecting no row',
      () =>
        client.updateRow(
          table.name,
          key,
          { put: { v: 3n } },
          {
            condition: { row: 'expect-not-exist' },
          },
        ),
    ],
    ['an update of no cell', () => client.updateRow(table.name, key, {})],
    ['a key column misnamed', () => client.putRow(table.name, [['ID', 'a']], { v: 2n })],
    ['a key of the wrong size', () => client.putRow(table.name, [...key, ['n', 1n]], { v: 2n })],
    ['a key value of the wrong type', () => client.putRow(table.name, [['id', 1n]], { v: 2n })],
    [
      'a bound as a row key',
      () => client.putRow(table.name, [['id', INF_MIN]] as never, { v: 2n }),
    ],
    ['a read of a misnamed key', () => client.getRow(table.name, [['ID', 'a']])],
    [
      'a range with a misnamed bound',
      () =>
        client.getRange({ table: table.name, start: [['ID', INF_MIN]], end: [['id', INF_MAX]] }),
    ],
    [
      'a forward range that starts after its end',
      () =>
        client.getRange({ table: table.name, start: [['id', INF_MAX]], end: [['id', INF_MIN]] }),
    ],
    [
      'a backward range that starts before its end',
      () =>
        client.getRange({
          table: table.name,
          direction: 'backward',
          start: [['id', INF_MIN]],
          end: [['id', INF_MAX]],
        }),
    ],
    [
      'an empty range',
      () => client.getRange({ table: table.name, start: [['id', 'a']], end: [['id', 'a']] }),
    ],
  ];
  for (const [what, write] of refusals) {
    const outcome = await conditionalWrite(write()).then(
      (applied) => (applied ? 'applied' : 'condition failed'),
      (error: unknown) => error,
    );
    expect(outcome, what).toBeInstanceOf(Error);
  }
  // None of them changed the row.
  const row = await client.getRow(table.name, key);
  expect(row && table.decode(row).v).toBe(1n);
  // A comparison with a value of another type, or a column the row lacks, is a failed condition.
  expect(
    await conditionalWrite(put({ row: 'ignore', columns: { column: 'v', is: '=', value: 'x' } })),
  ).toBe(false);
  expect(
    await conditionalWrite(put({ row: 'ignore', columns: { column: '', is: '=', value: 1n } })),
  ).toBe(false);
}

/**
 * A range read asking for some columns returns only those: a row holding none of them is left
 * out (unless a key column was asked for), and a filter on a column not asked for finds it
 * missing.
 */
export async function rangeReadsReturnTheColumnsAsked(
  { client }: StoreFixture,
  prefix: string,
): Promise<void> {
  const table = defineTable({
    name: `${prefix}projected`,
    primaryKey: [['id', 'string']],
    columns: { a: column.int64().optional(), b: column.int64().optional() },
  });
  await ensureTables(client, [table.definition]);
  await client.putRow(table.name, table.key({ id: 'x' }), { a: 1n, b: 2n });
  await client.putRow(table.name, table.key({ id: 'y' }), { b: 3n });
  await client.putRow(table.name, table.key({ id: 'z' }), { a: 4n });
  const read = async (columns?: readonly string[], filter?: ColumnCondition) => {
    const page = await client.getRange({
      table: table.name,
      start: [['id', INF_MIN]],
      end: [['id', INF_MAX]],
      ...(columns ? { columns } : {}),
      ...(filter ? { filter } : {}),
    });
    return page.rows.map((row) => [row.primaryKey[0]?.[1], row.columns]);
  };
  expect(await read()).toEqual([
    ['x', { a: 1n, b: 2n }],
    ['y', { b: 3n }],
    ['z', { a: 4n }],
  ]);
  expect(await read(['a'])).toEqual([
    ['x', { a: 1n }],
    ['z', { a: 4n }],
  ]);
  expect(await read(['b', 'a'])).toEqual([
    ['x', { a: 1n, b: 2n }],
    ['y', { b: 3n }],
    ['z', { a: 4n }],
  ]);
  expect(await read(['id'])).toEqual([
    ['x', {}],
    ['y', {}],
    ['z', {}],
  ]);
  expect(await read(['nothing'])).toEqual([]);
  expect(await read(['a'], { column: 'b', is: '=', value: 2n })).toEqual([]);
  expect(await read(['a', 'b'], { column: 'b', is: '=', value: 2n })).toEqual([
    ['x', { a: 1n, b: 2n }],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Repositories

export async function repositoriesRoundTripAndRejectStaleVersions({
  store,
  clock,
}: StoreFixture): Promise<void> {
  // Scopes
  const scope = await store.scopes.create({
    id: 'folder:fd-1',
    kind: 'folder',
    targetId: 'fd-1',
    services: ['sas'],
    createdBy: 'alice@example.com',
  });
  expect(scope.version).toBe(1);
  expect(await store.scopes.get('folder:fd-1')).toEqual(scope);
  await expect(
    store.scopes.create({
      id: 'folder:fd-1',
      kind: 'folder',
      targetId: 'fd-1',
      services: [],
      createdBy: 'bob',
    }),
  ).rejects.toBeInstanceOf(RecordAlreadyExists);
  clock.advance(1_000);
  const v2 = await store.scopes.update({ ...scope, services: ['sas', 'bdrc'] });
  expect(v2).toMatchObject({ version: 2, services: ['sas', 'bdrc'] });
  expect(v2.updatedAt > scope.updatedAt).toBe(true);
  expect(await store.scopes.get('folder:fd-1')).toEqual(v2);
  await expect(store.scopes.update({ ...scope, services: [] })).rejects.toBeInstanceOf(
    ConcurrentModification,
  );
  await expect(store.scopes.delete('folder:fd-1', 1)).rejects.toBeInstanceOf(
    ConcurrentModification,
  );
  await expect(store.scopes.update({ ...v2, id: 'folder:missing' })).rejects.toBeInstanceOf(
    ConcurrentModification,
  );
  await store.scopes.create({
    id: 'account:111',
    kind: 'account',
    targetId: '111',
    services: [],
    createdBy: 'alice',
  });
  expect((await store.scopes.list()).map((s) => s.id)).toEqual(['account:111', 'folder:fd-1']);
  await store.scopes.delete('folder:fd-1', 2);
  expect(await store.scopes.get('folder:fd-1')).toBeUndefined();

  // Members: optional fields round-trip, and clearing one removes it.
  const member = await store.members.create({
    accountId: '123456789012',
    displayName: 'prod-web',
    status: 'unreachable',
    scopeIds: ['folder:fd-1', 'directory:rd-1'],
    folderId: 'fd-1',
    folderPath: [
      { id: 'r-root', name: 'Root' },
      { id: 'fd-1', name: 'Prod' },
    ],
    joinMethod: 'created',
    lastReconcileAt: new Date(clock.now()).toISOString(),
    failure: {
      reason: 'You are not authorized to assume this role',
      roleArn: 'acs:ram::123456789012:role/ResourceDirectoryAccountAccessRole',
      code: 'NoPermission',
      at: new Date(clock.now()).toISOString(),
    },
  });
  expect(await store.members.get('123456789012')).toEqual(member);
  const { failure: _failure, ...withoutFailure } = member;
  const managed = await store.members.update({ ...withoutFailure, status: 'managed' });
  const reread = await store.members.get('123456789012');
  expect(reread).toEqual(managed);
  expect(reread?.failure).toBeUndefined();
  await expect(store.members.update({ ...member, status: 'offboarding' })).rejects.toBeInstanceOf(
    ConcurrentModification,
  );
  await store.members.create({
    accountId: '222222222222',
    status: 'onboarding',
    scopeIds: ['account:222'],
  });
  expect((await store.members.listCoveredBy('folder:fd-1')).map((m) => m.accountId)).toEqual([
    '123456789012',
  ]);
  expect(
    (await store.members.list()).filter((m) => m.status === 'onboarding').map((m) => m.accountId),
  ).toEqual(['222222222222']);

  // Role checks: newer observations win, older ones are superseded.
  const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
  expect(
    await store.roleChecks.recordAll([
      {
        accountId: '123456789012',
        roleName: 'AliyunServiceRoleForSasRd',
        service: 'rd.sas.aliyuncs.com',
        state: 'missing',
        reason: 'EntityNotExist.Role',
        checkedAt: at(10),
      },
    ]),
  ).toEqual(['recorded']);
  expect(
    await store.roleChecks.recordAll([
      {
        accountId: '123456789012',
        roleName: 'AliyunServiceRoleForSasRd',
        state: 'present',
        checkedAt: at(5),
      },
    ]),
  ).toEqual(['superseded']);
  expect(
    await store.roleChecks.recordAll([
      {
        accountId: '123456789012',
        roleName: 'AliyunServiceRoleForSasRd',
        state: 'present',
        checkedAt: at(20),
      },
    ]),
  ).toEqual(['recorded']);
  await store.roleChecks.recordAll([
    {
      accountId: '123456789012',
      roleName: 'AliyunServiceRoleForBdrcRd',
      state: 'error',
      reason: 'Throttling',
      checkedAt: at(21),
    },
  ]);
  await store.roleChecks.recordAll([
    {
      accountId: '222222222222',
      roleName: 'AliyunServiceRoleForSasRd',
      state: 'present',
      checkedAt: at(22),
    },
  ]);
  expect(await store.roleChecks.listForMember('123456789012')).toEqual([
    {
      accountId: '123456789012',
      roleName: 'AliyunServiceRoleForBdrcRd',
      state: 'error',
      reason: 'Throttling',
      checkedAt: at(21),
    },
    {
      accountId: '123456789012',
      roleName: 'AliyunServiceRoleForSasRd',
      state: 'present',
      checkedAt: at(20),
    },
  ]);
  expect(await store.roleChecks.clearMember('123456789012')).toBe(2);
  expect(await store.roleChecks.listForMember('123456789012')).toEqual([]);
  expect(await store.roleChecks.listForMember('222222222222')).toMatchObject([
    { roleName: 'AliyunServiceRoleForSasRd', state: 'present' },
  ]);
}

export async function activityLogPagesByAccountAndTime({
  store,
  clock,
}: StoreFixture): Promise<void> {
  const start = clock.now();
  for (let i = 0; i < 25; i++) {
    clock.advance(1_000);
    await store.activity.append({
      accountId: i % 5 === 4 ? '222222222222' : '111111111111',
      cause:
        i % 2 === 0
          ? { kind: 'event', eventId: `evt-${i}`, eventName: 'MoveAccount' }
          : { kind: 'user', identity: 'alice@example.com' },
      action: 'member.onboarded',
      target: { type: 'member', id: String(i) },
      outcome: i === 7 ? 'failed' : 'succeeded',
      ...(i === 7 ? { detail: 'AssumeRole refused' } : {}),
    });
  }
  clock.advance(1_000);
  await store.activity.append({
    cause: { kind: 'timer', trigger: 'reconcile' },
    action: 'scope.updated',
    outcome: 'succeeded',
  });

  // Newest first, per account, paged with cursors.
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.activity.list({ accountId: '111111111111', limit: 7, cursor });
    pages += 1;
    seen.push(...page.items.map((e) => e.target?.id ?? '?'));
    for (const e of page.items) expect(e.accountId).toBe('111111111111');
    cursor = page.nextCursor;
  } while (cursor);
  const expected = Array.from({ length: 25 }, (_, i) => i)
    .filter((i) => i % 5 !== 4)
    .reverse()
    .map(String);
  expect(seen).toEqual(expected);
  expect(pages).toBe(3);

  const global = await store.activity.list({ limit: 100 });
  expect(global.items).toHaveLength(26);
  expect(global.items[0]).toMatchObject({
    action: 'scope.updated',
    cause: { kind: 'timer', trigger: 'reconcile' },
  });
  expect(global.nextCursor).toBeUndefined();
  expect(global.items.find((e) => e.target?.id === '7')).toMatchObject({
    outcome: 'failed',
    detail: 'AssumeRole refused',
  });

  // Time range [from, to), oldest first.
  const from = new Date(start + 3_000).toISOString();
  const to = new Date(start + 6_000).toISOString();
  const window = await store.activity.list({ from, to, order: 'oldest-first', limit: 50 });
  expect(window.items.map((e) => e.target?.id)).toEqual(['2', '3', '4']);
  const acctWindow = await store.activity.list({ accountId: '222222222222', from, limit: 50 });
  expect(acctWindow.items.map((e) => e.target?.id)).toEqual(['24', '19', '14', '9', '4']);

  // A cursor only works for the query that issued it.
  const first = await store.activity.list({ accountId: '111111111111', limit: 2 });
  await expect(
    store.activity.list({ accountId: '222222222222', limit: 2, cursor: first.nextCursor }),
  ).rejects.toBeInstanceOf(InvalidCursor);
  await expect(store.activity.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
    InvalidCursor,
  );
}

// ---------------------------------------------------------------------------------------------
// Paging cursors

/**
 * Cursors are signed with the deployment's key (made once, in the store's keys table, whoever
 * asks first) and checked again against the table and the query's range, so even a cursor signed
 * with the right key cannot read outside its query; deleting the key rotates it.
 */
export async function cursorsAreSignedAndChecked(backend: Backend): Promise<void> {
  const { client, store, clock } = await storeFixture(backend);
  const tables = storeTables(backend.prefix);
  for (let i = 0; i < 6; i++) {
    clock.advance(1_000);
    await store.activity.append({
      accountId: i % 2 === 0 ? '111111111111' : '222222222222',
      cause: { kind: 'user', identity: 'alice' },
      action: 'member.onboarded',
      target: { type: 'member', id: String(i) },
      outcome: 'succeeded',
    });
  }
  // Many processes ask for the key at once: one is made, all get it.
  const keys = await Promise.all(
    Array.from({ length: 8 }, () => ensureSigningKey(client, tables, 'scenario-key')),
  );
  expect(keys.filter((k) => k.created)).toHaveLength(1);
  expect(new Set(keys.map((k) => Buffer.from(k.key).toString('hex'))).size).toBe(1);

  const first = await store.activity.list({ accountId: '111111111111', limit: 1 });
  const cursor = first.nextCursor ?? '';
  expect(cursor).not.toBe('');
  const second = await store.activity.list({ accountId: '111111111111', limit: 1, cursor });
  expect(second.items.map((e) => e.accountId)).toEqual(['111111111111']);

  // Signed with the deployment's own key, positions that do not fit are still refused.
  const { key } = await ensureSigningKey(client, tables);
  const signer = createCursorCodec(async () => key);
  const query = `${tables.activity.name}\n${JSON.stringify(['activity', 'account:111111111111', undefined, undefined, true])}`;
  const forged = async (position: CursorValue[]) => signer.encode(query, position);
  const refused = async (position: CursorValue[]) =>
    expect(
      store.activity.list({
        accountId: '111111111111',
        limit: 10,
        cursor: await forged(position),
      }),
    ).rejects.toBeInstanceOf(InvalidCursor);
  await refused(['global', BigInt(clock.now() + 3_600_000), '']); // another stream: wider
  await refused(['account:000000000000', 0n, '']); // outside the range
  await refused(['account:111111111111', 'not a time', '']); // a string where int64 is
  await refused(['account:111111111111', 0n]); // too short
  // A genuine position in range, signed the same way, is read.
  const inRange = await store.activity.list({
    accountId: '111111111111',
    limit: 10,
    cursor: await forged(['account:111111111111', BigInt(clock.now() + 3_600_000), '']),
  });
  expect(inRange.items.every((e) => e.accountId === '111111111111')).toBe(true);

  // Deleting the key rotates it: a store started afterwards refuses the old cursors.
  await client.deleteRow(tables.keys.name, tables.keys.key({ keyName: CURSOR_SIGNING_KEY }));
  const restarted = createStore({ client, tablePrefix: backend.prefix, clock });
  await expect(
    restarted.activity.list({ accountId: '111111111111', limit: 1, cursor }),
  ).rejects.toBeInstanceOf(InvalidCursor);
  const fresh = await restarted.activity.list({ accountId: '111111111111', limit: 1 });
  expect(fresh.nextCursor).toBeDefined();
  expect(fresh.nextCursor).not.toBe(cursor);
}
