// makeIdempotent and its pure rules: canonical hashing, record states, the bounds it accepts,
// and what it asks of the store and does with each answer.

import { describe, expect, it } from 'vitest';
import {
  type AcquireOutcome,
  canonicalJson,
  IdempotencyInProgress,
  IdempotencyKeyMissing,
  IdempotencyLockLost,
  IdempotencyPayloadMismatch,
  type IdempotencyRecord,
  type IdempotencyStore,
  idempotencyRecordKey,
  MAX_IDEMPOTENCY_TTL_SECONDS,
  makeIdempotent,
  recordState,
  sha256Hex,
} from '../../../shared/domain/idempotency';
import { createStore } from '../../../shared/store';
import { MemoryTablestore } from '../../support/memory-tablestore';

describe('key hashing', () => {
  it('hashes equal values equally whatever their key order', () => {
    const a = { account: '123', event: { name: 'MoveAccount', id: 'e-1' }, list: [1, 2] };
    const b = { list: [1, 2], event: { id: 'e-1', name: 'MoveAccount' }, account: '123' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe(
      '{"account":"123","event":{"id":"e-1","name":"MoveAccount"},"list":[1,2]}',
    );
    expect(idempotencyRecordKey('directory-events', a)).toBe(
      idempotencyRecordKey('directory-events', b),
    );
  });

  it('tells different values apart, and keeps array order significant', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: 1n })).toBe('{"a":"1n"}');
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('keys are the handler name and the sha256 of the selected fields', () => {
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(idempotencyRecordKey('reconcile', 'abc')).toBe(`reconcile#${sha256Hex('"abc"')}`);
    expect(idempotencyRecordKey('a', 'x')).not.toBe(idempotencyRecordKey('b', 'x'));
  });
});

describe('record states', () => {
  const base: IdempotencyRecord = {
    recordKey: 'k',
    status: 'in_progress',
    lockToken: 't',
    lockExpiresAt: 1_000,
    expiresAt: 10_000,
    payloadHash: 'h',
    startedAt: 0,
  };
  it.each([
    [{ status: 'in_progress' as const }, 999, 'in_progress'],
    [{ status: 'in_progress' as const }, 1_000, 'expired'],
    [{ status: 'completed' as const }, 5_000, 'completed'],
    [{ status: 'completed' as const }, 10_000, 'expired'],
    [{ status: 'in_progress' as const, lockExpiresAt: 20_000 }, 10_000, 'expired'],
  ])('%o at %d is %s', (patch, now, state) => {
    expect(recordState({ ...base, ...patch }, now)).toBe(state);
  });
});

describe('makeIdempotent options', () => {
  const store = createStore({ client: new MemoryTablestore() });
  const fn = async () => 1;
  it('refuses a TTL beyond the table TTL and a lock longer than the TTL', () => {
    expect(() =>
      makeIdempotent(fn, {
        store: store.idempotency,
        name: 'x',
        keyOf: () => 'k',
        ttlSeconds: 8 * 86400,
        lockSeconds: 10,
      }),
    ).toThrow(RangeError);
    expect(() =>
      makeIdempotent(fn, {
        store: store.idempotency,
        name: 'x',
        keyOf: () => 'k',
        ttlSeconds: 60,
        lockSeconds: 61,
      }),
    ).toThrow(RangeError);
  });
  it('refuses a payload without a key', async () => {
    const h = makeIdempotent(async (_p: { id?: string }) => 1, {
      store: store.idempotency,
      name: 'x',
      keyOf: (p) => p.id,
      ttlSeconds: 60,
      lockSeconds: 10,
    });
    await expect(h({})).rejects.toMatchObject({ code: 'IdempotencyKeyMissing', status: 400 });
  });
});

// makeIdempotent against a scripted store: what it asks the store, what it does with each
// answer, and how store failures other than a lost lock reach the caller.

class Throttled extends Error {}

interface StoreCall {
  op: 'acquire' | 'complete' | 'release';
  args: unknown[];
}

function scriptedStore(script: {
  acquire?: () => AcquireOutcome;
  complete?: () => Error | undefined;
  release?: () => Error | undefined;
}) {
  const calls: StoreCall[] = [];
  const lock = { recordKey: 'rk', token: 'tok', lockExpiresAt: 0 };
  const store: IdempotencyStore = {
    async acquire(...args) {
      calls.push({ op: 'acquire', args });
      return script.acquire?.() ?? { kind: 'acquired', lock, tookOver: false };
    },
    async complete(...args) {
      calls.push({ op: 'complete', args });
      const error = script.complete?.();
      if (error) throw error;
    },
    async release(...args) {
      calls.push({ op: 'release', args });
      const error = script.release?.();
      if (error) throw error;
    },
  };
  return { store, calls, lock };
}

const clock = { now: () => 5_000 };
const base = {
  name: 'h',
  keyOf: (p: { id: string }) => p.id,
  ttlSeconds: 60,
  lockSeconds: 10,
  clock,
};

describe('makeIdempotent with a scripted store', () => {
  it('asks for the record of the key with the payload hash, lock and ttl in ms, at clock time', async () => {
    const { store, calls, lock } = scriptedStore({});
    const h = makeIdempotent(async (p: { id: string; n: number }) => ({ doubled: p.n * 2 }), {
      ...base,
      store,
    });
    expect(await h({ id: 'e1', n: 4 })).toEqual({ doubled: 8 });
    expect(calls).toEqual([
      {
        op: 'acquire',
        args: [
          idempotencyRecordKey('h', 'e1'),
          sha256Hex('{"id":"e1","n":4}'),
          { lockMs: 10_000, ttlMs: 60_000, now: 5_000 },
        ],
      },
      { op: 'complete', args: [lock, '{"doubled":8}', { ttlMs: 60_000, now: 5_000 }] },
    ]);
  });

  it('hashes only what payloadOf selects, when given', async () => {
    const { store, calls } = scriptedStore({});
    const h = makeIdempotent(async (_p: { id: string; noise: number }) => 1, {
      ...base,
      store,
      payloadOf: (p) => ({ id: p.id }),
    });
    await h({ id: 'e1', noise: 1 });
    expect(calls[0]?.args[1]).toBe(sha256Hex('{"id":"e1"}'));
  });

  it('answers a completed record with its stored result, without running the work', async () => {
    const { store, calls } = scriptedStore({
      acquire: () => ({ kind: 'completed', resultJson: '{"from":"store"}' }),
    });
    let runs = 0;
    const h = makeIdempotent(
      async (_p: { id: string }) => {
        runs++;
        return { from: 'run' };
      },
      { ...base, store },
    );
    expect(await h({ id: 'e1' })).toEqual({ from: 'store' });
    expect(runs).toBe(0);
    expect(calls.map((c) => c.op)).toEqual(['acquire']);
  });

  it('stores an undefined result as no text, and answers it as undefined', async () => {
    const { store, calls, lock } = scriptedStore({});
    const h = makeIdempotent(async (_p: { id: string }) => undefined, { ...base, store });
    expect(await h({ id: 'e1' })).toBeUndefined();
    expect(calls[1]).toEqual({
      op: 'complete',
      args: [lock, undefined, { ttlMs: 60_000, now: 5_000 }],
    });
    const done = scriptedStore({ acquire: () => ({ kind: 'completed', resultJson: undefined }) });
    const again = makeIdempotent(async (_p: { id: string }) => 'ran' as string | undefined, {
      ...base,
      store: done.store,
    });
    expect(await again({ id: 'e1' })).toBeUndefined();
  });

  it('uses the given codec both ways', async () => {
    const { store, calls } = scriptedStore({});
    const codec = {
      serialize: (r: bigint) => r.toString(),
      parse: (t: string | undefined) => BigInt(t ?? '0'),
    };
    const h = makeIdempotent(async (_p: { id: string }) => 12n, { ...base, store, codec });
    expect(await h({ id: 'e1' })).toBe(12n);
    expect(calls[1]?.args[1]).toBe('12');
    const done = scriptedStore({ acquire: () => ({ kind: 'completed', resultJson: '99' }) });
    const again = makeIdempotent(async (_p: { id: string }) => 0n, {
      ...base,
      store: done.store,
      codec,
    });
    expect(await again({ id: 'e1' })).toBe(99n);
  });

  it("releases the record when the work throws, and the work's error wins over a failed release", async () => {
    const { store, calls, lock } = scriptedStore({ release: () => new Throttled('Throttling') });
    const h = makeIdempotent(
      async (_p: { id: string }) => {
        throw new Error('work failed');
      },
      { ...base, store },
    );
    await expect(h({ id: 'e1' })).rejects.toThrow('work failed');
    expect(calls.map((c) => c.op)).toEqual(['acquire', 'release']);
    expect(calls[1]?.args).toEqual([lock]);
  });

  it('keeps a result of exactly the largest size and refuses one byte more, releasing the record', async () => {
    const limit = 2 * 1024 * 1024 - 1024;
    const fits = scriptedStore({});
    // JSON of a string of n characters is n + 2 bytes.
    const h = makeIdempotent(async (p: { id: string; size: number }) => 'x'.repeat(p.size), {
      ...base,
      store: fits.store,
    });
    expect(await h({ id: 'fits', size: limit - 2 })).toHaveLength(limit - 2);
    expect(fits.calls.map((c) => c.op)).toEqual(['acquire', 'complete']);

    const over = scriptedStore({ release: () => new Throttled('Throttling') });
    const h2 = makeIdempotent(async (p: { id: string; size: number }) => 'é'.repeat(p.size), {
      ...base,
      store: over.store,
    });
    // 'é' is two bytes in UTF-8: the limit counts bytes, not characters.
    const size = Math.floor((limit - 2) / 2) + 1;
    const error = await h2({ id: 'over', size }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe(
      `makeIdempotent(h): the result is ${size * 2 + 2} bytes, more than a record can keep (${limit}); return a smaller result`,
    );
    expect(over.calls.map((c) => c.op)).toEqual(['acquire', 'release']);
  });

  it('a lost lock at completion names the record and carries the result', async () => {
    const { store } = scriptedStore({
      complete: () => new IdempotencyLockLost('rk', 'complete'),
    });
    const h = makeIdempotent(async (_p: { id: string }) => ({ ok: 1 }), { ...base, store });
    const error = await h({ id: 'e1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyLockLost);
    expect(error).toMatchObject({
      recordKey: idempotencyRecordKey('h', 'e1'),
      step: 'complete',
      result: { ok: 1 },
      status: 409,
      code: 'IdempotencyLockLost',
    });
  });

  it('any other completion failure reaches the caller as it is', async () => {
    const throttled = new Throttled('Throttling');
    const { store } = scriptedStore({ complete: () => throttled });
    const h = makeIdempotent(async (_p: { id: string }) => 1, { ...base, store });
    await expect(h({ id: 'e1' })).rejects.toBe(throttled);
  });

  it('accepts keys that are present but falsy, and refuses absent or empty ones', async () => {
    const { store, calls } = scriptedStore({});
    const h = makeIdempotent(async (_p: { id: unknown }) => 1, {
      ...base,
      store,
      keyOf: (p) => p.id,
    });
    await h({ id: 0 });
    await h({ id: false });
    expect(calls.filter((c) => c.op === 'acquire')).toHaveLength(2);
    for (const id of [undefined, null, '']) {
      await expect(h({ id })).rejects.toBeInstanceOf(IdempotencyKeyMissing);
    }
    expect(new IdempotencyKeyMissing('h').message).toBe(
      'The payload carries no idempotency key for h (the key selector returned nothing)',
    );
  });

  it('takes TTL and lock at their bounds and refuses them one past', () => {
    const { store } = scriptedStore({});
    const make =
      (ttlSeconds: number, lockSeconds: number, name = 'h') =>
      () =>
        makeIdempotent(async () => 1, { store, name, keyOf: () => 'k', ttlSeconds, lockSeconds });
    expect(make(MAX_IDEMPOTENCY_TTL_SECONDS, MAX_IDEMPOTENCY_TTL_SECONDS)).not.toThrow();
    expect(make(MAX_IDEMPOTENCY_TTL_SECONDS + 1, 10)).toThrow(
      `makeIdempotent(h): ttlSeconds must be in (0, ${MAX_IDEMPOTENCY_TTL_SECONDS}]`,
    );
    expect(make(0, 0)).toThrow('ttlSeconds must be in');
    expect(make(-1, 1)).toThrow('ttlSeconds must be in');
    expect(make(Number.NaN, 1)).toThrow(RangeError);
    expect(make(60, 60)).not.toThrow();
    expect(make(60, 60.5)).toThrow('makeIdempotent(h): lockSeconds must be in (0, ttlSeconds]');
    expect(make(60, 0)).toThrow(RangeError);
    expect(make(60, Number.NaN)).toThrow(RangeError);
    expect(make(60, 10, '')).toThrow('makeIdempotent: a name is required');
    expect(MAX_IDEMPOTENCY_TTL_SECONDS).toBe(604_800);
  });
});

describe('idempotency errors', () => {
  it('in progress: Retry-After in whole seconds, at least 1', () => {
    const e = new IdempotencyInProgress('rk', 1_001);
    expect(e).toMatchObject({
      status: 409,
      code: 'RequestInProgress',
      recordKey: 'rk',
      retryAfterMs: 1_001,
      headers: { 'Retry-After': '2' },
      details: { retryAfterSeconds: 2 },
    });
    expect(e.message).toBe(
      'The same request is already being processed (idempotency record rk); retry after 2 s',
    );
    expect(new IdempotencyInProgress('rk', 0).headers['Retry-After']).toBe('1');
    expect(new IdempotencyInProgress('rk', 3_000).headers['Retry-After']).toBe('3');
  });
  it('payload mismatch and lost lock say what happened', () => {
    expect(new IdempotencyPayloadMismatch('rk')).toMatchObject({
      status: 422,
      code: 'IdempotencyKeyReused',
      recordKey: 'rk',
      message:
        'The idempotency key of this request was already used with a different payload (record rk); send a new key for a different request',
    });
    expect(new IdempotencyLockLost('rk', 'release').message).toBe(
      "Could not release idempotency record rk: this run's lock expired and another run now holds the record. Its lock must outlast the handler's timeout.",
    );
  });
});

describe('canonical JSON corners', () => {
  it('writes undefined array members as null and leaves out functions', () => {
    expect(canonicalJson([1, undefined, 'a'])).toBe('[1,null,"a"]');
    expect(canonicalJson({ f: () => 1, a: [] })).toBe('{"a":[]}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ z: 1, a: { d: 1, c: 2 }, m: true })).toBe(
      '{"a":{"c":2,"d":1},"m":true,"z":1}',
    );
    expect(canonicalJson({ b: 1, a: 1, c: 1 })).toBe('{"a":1,"b":1,"c":1}');
    expect(canonicalJson({ nested: { toJSON: () => ({ y: 1, x: 2 }) } })).toBe(
      '{"nested":{"x":2,"y":1}}',
    );
    expect(canonicalJson(5n)).toBe('"5n"');
    expect(canonicalJson('s')).toBe('"s"');
  });
});
