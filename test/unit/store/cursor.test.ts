// The paging cursor codec: a next start key round-trips with its types, bound to the query that
// issued it; anything else (another query, another table's key, an edited value) is refused with
// a 400 saying why, never misread.

import { describe, expect, it } from 'vitest';
import { InvalidCursor } from '../../../shared/store';
import { decodeCursor, encodeCursor } from '../../../shared/store/cursor';

const craft = (body: unknown) => Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');

function refusal(cursor: string, binding = 'q', names: readonly string[] = ['s', 'n']): string {
  try {
    decodeCursor(cursor, binding, names);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCursor);
    return (error as Error).message.replace(/^The paging cursor is not valid for this query: /, '');
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

describe('paging cursors', () => {
  it('round-trip strings, int64 and binary key values with their types', () => {
    const key = [
      ['s', 'account:111'],
      ['n', -9_223_372_036_854_775_808n],
      ['b', Buffer.from([0, 255, 7])],
    ] as const;
    const cursor = encodeCursor(key, 'query-1');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'query-1', ['s', 'n', 'b'])).toEqual(key);
    expect(
      decodeCursor(encodeCursor([['n', 9_223_372_036_854_775_807n]], 'q'), 'q', ['n']),
    ).toEqual([['n', 9_223_372_036_854_775_807n]]);
  });

  it('refuses what is not a cursor, or a cursor of another query', () => {
    const valid = encodeCursor(
      [
        ['s', 'a'],
        ['n', 1n],
      ],
      'q',
    );
    expect(refusal(valid, 'other')).toBe(
      'it belongs to a different query. Start again without a cursor.',
    );
    expect(refusal('%%%')).toBe(
      'it is not a cursor this service issued. Start again without a cursor.',
    );
    expect(refusal(craft('just a string'))).toMatch(/^it belongs to a different query/);
    expect(refusal(craft(null))).toMatch(/^it belongs to a different query/);
    expect(refusal(craft(7))).toMatch(/^it belongs to a different query/);
    expect(refusal(craft({ q: 'q' }))).toMatch(/^it belongs to a different query/);
    expect(refusal(craft({ q: 'q', k: 'not a list' }))).toMatch(/^it belongs to a different query/);
    expect(refusal(craft({ k: [] }), '')).toMatch(/^it belongs to a different query/);
  });

  it('refuses a key of another shape: length, names, types, values', () => {
    const shape = 'its key has the wrong shape. Start again without a cursor.';
    expect(refusal(craft({ q: 'q', k: [['s', 's', 'a']] }))).toBe(shape);
    expect(
      refusal(
        craft({
          q: 'q',
          k: [
            ['s', 's', 'a'],
            ['n', 'i', '1'],
            ['x', 's', ''],
          ],
        }),
      ),
    ).toBe(shape);
    expect(
      refusal(
        craft({
          q: 'q',
          k: [
            ['s', 's', 'a'],
            ['m', 'i', '1'],
          ],
        }),
      ),
    ).toBe(shape);
    expect(
      refusal(
        craft({
          q: 'q',
          k: [
            ['t', 's', 'a'],
            ['n', 'i', '1'],
          ],
        }),
      ),
    ).toBe(shape);
    expect(
      refusal(
        craft({
          q: 'q',
          k: [
            ['s', 's', 5],
            ['n', 'i', '1'],
          ],
        }),
      ),
    ).toBe(shape);
    expect(
      refusal(
        craft({
          q: 'q',
          k: [
            ['s', 'x', 'a'],
            ['n', 'i', '1'],
          ],
        }),
      ),
    ).toBe(shape);
    for (const int of ['1.5', 'x1', '1x', '', '12345678901234567890', '--1']) {
      expect(
        refusal(
          craft({
            q: 'q',
            k: [
              ['s', 's', 'a'],
              ['n', 'i', int],
            ],
          }),
        ),
      ).toBe(shape);
    }
    expect(
      decodeCursor(
        craft({
          q: 'q',
          k: [
            ['s', 's', 'a'],
            ['n', 'i', '-1234567890123456789'],
          ],
        }),
        'q',
        ['s', 'n'],
      ),
    ).toEqual([
      ['s', 'a'],
      ['n', -1_234_567_890_123_456_789n],
    ]);
  });
});
