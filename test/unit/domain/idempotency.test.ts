import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  type IdempotencyRecord,
  idempotencyRecordKey,
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
