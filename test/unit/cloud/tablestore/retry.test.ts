import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  mayRetry,
  repeatSafetyOf,
  showsEffectOf,
  TABLESTORE_RETRY_POLICY,
} from '../../../../shared/cloud/tablestore/retry';
import { backoffCeiling, backoffDelay } from '../../../../shared/runtime/retry';

const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 2_000 };

describe('backoff schedule', () => {
  it('doubles the ceiling per retry up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((r) => backoffCeiling(r, policy))).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000,
    ]);
  });

  it('draws a full-jitter delay in [0, ceiling)', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(799);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (retry, r) => {
          const d = backoffDelay(retry, TABLESTORE_RETRY_POLICY, () => r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(backoffCeiling(retry, TABLESTORE_RETRY_POLICY));
        },
      ),
    );
  });
});

describe('which failures may be retried', () => {
  it.each([
    ['not-applied', 'unsafe', true],
    ['not-applied', 'verifiable', true],
    ['maybe-applied', 'read', true],
    ['maybe-applied', 'idempotent', true],
    ['maybe-applied', 'verifiable', true],
    ['maybe-applied', 'unsafe', false],
    ['final', 'read', false],
  ] as const)('%s on a %s operation: %s', (failure, safety, expected) => {
    expect(mayRetry(failure, safety)).toBe(expected);
  });

  it('classifies writes by how a repeat behaves', () => {
    const pk = [['id', 'a']] as const;
    expect(repeatSafetyOf({ type: 'put', table: 't', primaryKey: pk, columns: {} })).toBe(
      'idempotent',
    );
    expect(
      repeatSafetyOf({ type: 'delete', table: 't', primaryKey: pk, condition: { row: 'ignore' } }),
    ).toBe('idempotent');
    expect(
      repeatSafetyOf({
        type: 'put',
        table: 't',
        primaryKey: pk,
        columns: {},
        condition: { row: 'expect-not-exist' },
      }),
    ).toBe('verifiable');
    expect(
      repeatSafetyOf({
        type: 'update',
        table: 't',
        primaryKey: pk,
        update: { put: { a: 1n } },
        condition: { row: 'ignore', columns: { column: 'v', is: '=', value: 1n } },
      }),
    ).toBe('verifiable');
    expect(
      repeatSafetyOf({
        type: 'update',
        table: 't',
        primaryKey: pk,
        update: { increment: { n: 1n } },
      }),
    ).toBe('unsafe');
  });
});

describe('recognising a write in the row read back', () => {
  const pk = [['id', 'a']] as const;
  const row = (columns: Record<string, string | bigint | Buffer>) => ({ primaryKey: pk, columns });

  it('put: exactly the written columns', () => {
    const w = {
      type: 'put' as const,
      table: 't',
      primaryKey: pk,
      columns: { a: 1n, b: Buffer.from('x') },
    };
    expect(showsEffectOf(w, row({ a: 1n, b: Buffer.from('x') }))).toBe(true);
    expect(showsEffectOf(w, row({ a: 1n, b: Buffer.from('y') }))).toBe(false);
    expect(showsEffectOf(w, row({ a: 1n, b: Buffer.from('x'), c: 'extra' }))).toBe(false);
    expect(showsEffectOf(w, undefined)).toBe(false);
  });

  it('update: set columns hold their values, deleted ones are gone', () => {
    const w = {
      type: 'update' as const,
      table: 't',
      primaryKey: pk,
      update: { put: { a: 'x' }, delete: ['gone'] },
    };
    expect(showsEffectOf(w, row({ a: 'x', other: 'kept' }))).toBe(true);
    expect(showsEffectOf(w, row({ a: 'x', gone: 'still here' }))).toBe(false);
    expect(showsEffectOf(w, row({ a: 'y' }))).toBe(false);
  });

  it('delete: the row is absent', () => {
    const w = { type: 'delete' as const, table: 't', primaryKey: pk };
    expect(showsEffectOf(w, undefined)).toBe(true);
    expect(showsEffectOf(w, row({}))).toBe(false);
  });
});
