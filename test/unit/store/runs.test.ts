// Onboarding runs and their chunks (shared/store/runs.ts) on the in-memory double: a run and
// each chunk read back with exactly their fields and versions, writes over a stale version are
// refused naming the record, a run reads back with its chunks only, and chunks are written a few
// at a time, replacing what a first attempt wrote.

import { beforeEach, describe, expect, it } from 'vitest';
import type { NewRecord } from '../../../shared/domain/records';
import type { OnboardingRun, RunChunk } from '../../../shared/onboarding/model';
import type { Store } from '../../../shared/store';
import type { HookedTablestore } from '../../support/hooked-tablestore';
import type { ManualClock } from '../../support/manual-clock';
import { iso, memoryStore, T0 } from '../../support/memory-store';

let client: HookedTablestore;
let clock: ManualClock;
let store: Store;

beforeEach(async () => {
  ({ client, clock, store } = await memoryStore());
});

function run(runId: string, extra: Partial<OnboardingRun> = {}): NewRecord<OnboardingRun> {
  return {
    runId,
    reason: 'scope-added',
    scopeId: 'folder:fd-1',
    target: { kind: 'covered-by', scopeId: 'folder:fd-1' },
    cause: { kind: 'timer', trigger: 'reconcile' },
    lease: { owner: 'owner-1', token: '7' },
    state: 'planning',
    startedAt: iso(T0),
    ...extra,
  };
}

function chunk(runId: string, n: number, extra: Partial<RunChunk> = {}): NewRecord<RunChunk> {
  return { runId, chunk: n, lane: n % 2, accounts: [], state: 'pending', ...extra };
}

describe('onboarding runs', () => {
  it('a run reads back with exactly its fields, stamped at version 1', async () => {
    const created = await store.runs.create(run('r1'));
    expect(created).toStrictEqual({
      ...run('r1'),
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    expect(await store.runs.get('r1')).toStrictEqual(created);
    expect(await store.runs.get('r2')).toBeUndefined();
  });

  it('an update moves the version and updatedAt on, over the version read only', async () => {
    const created = await store.runs.create(run('r1'));
    clock.advance(3_000);
    const running = await store.runs.update({ ...created, state: 'running', chunks: 2 });
    expect(running).toStrictEqual({
      ...created,
      state: 'running',
      chunks: 2,
      version: 2,
      updatedAt: iso(T0 + 3_000),
    });
    expect(await store.runs.get('r1')).toStrictEqual(running);
    await expect(store.runs.update({ ...created, state: 'finished' })).rejects.toMatchObject({
      code: 'ConcurrentModification',
      details: { record: 'onboarding run r1', expectedVersion: 1 },
    });
    expect(await store.runs.get('r1')).toStrictEqual(running);
  });

  it('a run is created once, and an update of no run is refused', async () => {
    await store.runs.create(run('r1'));
    await expect(store.runs.create(run('r1', { state: 'running' }))).rejects.toMatchObject({
      code: 'AlreadyExists',
      message: 'onboarding run r1 already exists',
    });
    expect(await store.runs.get('r1')).toMatchObject({ state: 'planning' });
    await expect(
      store.runs.update({
        ...run('r9'),
        version: 1,
        createdAt: iso(T0),
        updatedAt: iso(T0),
      }),
    ).rejects.toMatchObject({ details: { record: 'onboarding run r9' } });
    expect(await store.runs.get('r9')).toBeUndefined();
  });

  it('a run reads back with its own chunks in order, or not at all', async () => {
    expect(await store.runs.read('r1')).toBeUndefined();
    const created = await store.runs.create(run('r1'));
    expect(await store.runs.read('r1')).toStrictEqual({ run: created, chunks: [] });
    await store.runs.create(run('r10'));
    await store.runs.putChunks([chunk('r1', 2), chunk('r1', 1), chunk('r10', 1)]);
    const read = await store.runs.read('r1');
    expect(read?.run).toStrictEqual(created);
    expect(read?.chunks).toStrictEqual([
      { ...chunk('r1', 1), version: 1, createdAt: iso(T0), updatedAt: iso(T0) },
      { ...chunk('r1', 2), version: 1, createdAt: iso(T0), updatedAt: iso(T0) },
    ]);
    // Chunks without their run are no run.
    await store.runs.putChunks([chunk('orphan', 1)]);
    expect(await store.runs.read('orphan')).toBeUndefined();
  });

  it('a chunk reads back with exactly its fields, and updates over its version only', async () => {
    await store.runs.putChunks([chunk('r1', 1, { lane: 3 })]);
    const stored = await store.runs.getChunk('r1', 1);
    expect(stored).toStrictEqual({
      ...chunk('r1', 1, { lane: 3 }),
      version: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    });
    expect(await store.runs.getChunk('r1', 2)).toBeUndefined();
    expect(await store.runs.get('r1')).toBeUndefined();
    if (!stored) throw new Error('no chunk');
    clock.advance(1_000);
    const done = await store.runs.updateChunk({ ...stored, state: 'done', nextInvoked: true });
    expect(done).toStrictEqual({
      ...stored,
      state: 'done',
      nextInvoked: true,
      version: 2,
      updatedAt: iso(T0 + 1_000),
    });
    expect(await store.runs.getChunk('r1', 1)).toStrictEqual(done);
    await expect(store.runs.updateChunk({ ...stored, state: 'done' })).rejects.toMatchObject({
      code: 'ConcurrentModification',
      details: { record: 'chunk 1 of onboarding run r1', expectedVersion: 1 },
    });
  });

  it('chunks written again replace the first attempt, a few at a time', async () => {
    await store.runs.putChunks([chunk('r1', 1, { lane: 0 })]);
    clock.advance(1_000);
    await store.runs.putChunks([chunk('r1', 1, { lane: 1 })]);
    expect(await store.runs.getChunk('r1', 1)).toMatchObject({
      lane: 1,
      version: 1,
      createdAt: iso(T0 + 1_000),
    });

    let inFlight = 0;
    let most = 0;
    client.before = async (op) => {
      if (op !== 'PutRow') return;
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
    };
    const many = Array.from({ length: 20 }, (_, i) => chunk('r2', i + 1));
    await store.runs.putChunks(many);
    expect(most).toBe(8);
    client.before = undefined;
    // Chunks without their run are no run.
    expect(await store.runs.read('r2')).toBeUndefined();
    for (let i = 1; i <= 20; i++) {
      expect(await store.runs.getChunk('r2', i)).toMatchObject({ chunk: i });
    }
    await store.runs.putChunks([]);
  });

  it('times that are not ISO 8601 are refused naming the field', async () => {
    const created = await store.runs.create(run('r1'));
    await expect(store.runs.update({ ...created, createdAt: 'then' })).rejects.toThrow(
      'createdAt: "then" is not an ISO 8601 time',
    );
  });
});
