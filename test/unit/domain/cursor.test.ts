// The one paging cursor codec: what it issues reads back exactly, for the query it was issued
// for, under the key it was signed with; anything else (another query, another key, any changed
// character, a body that is not a position) is InvalidCursor, and the key is read once.

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CursorValue, createCursorCodec, InvalidCursor } from '../../../shared/domain/cursor';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const codec = createCursorCodec(async () => KEY);

const value: fc.Arbitrary<CursorValue> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
);
const position = fc.array(value, { minLength: 1, maxLength: 4 });

/** A cursor body signed with KEY as the codec signs, whatever the body: the "leaked key" case. */
function signedBody(query: string, body: unknown): string {
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  const mac = createHmac('sha256', KEY)
    .update(`rdg-cursor/v1\n${query}\n${payload}`, 'utf8')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
  return `${payload}.${mac}`;
}

describe('cursor codec', () => {
  it('reads back what it issued, for the same query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), position, async (query, values) => {
        const cursor = await codec.encode(query, values);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        const back = await codec.decode(query, cursor);
        expect(back.map(normal)).toEqual(values.map(normal));
      }),
    );
  });

  it('refuses it for another query or under another key', async () => {
    const cursor = await codec.encode('members', ['2000000000000001']);
    await expect(codec.decode('activity', cursor)).rejects.toBeInstanceOf(InvalidCursor);
    const otherDeployment = createCursorCodec(async () => OTHER_KEY);
    await expect(otherDeployment.decode('members', cursor)).rejects.toBeInstanceOf(InvalidCursor);
  });

  it('refuses any cursor that differs from an issued one in one character', async () => {
    await fc.assert(
      fc.asyncProperty(
        position,
        fc.nat(),
        fc.constantFrom(...'AQgw-_09az.'),
        async (values, index, replacement) => {
          const cursor = await codec.encode('q', values);
          const at = index % cursor.length;
          fc.pre(cursor[at] !== replacement);
          const changed = `${cursor.slice(0, at)}${replacement}${cursor.slice(at + 1)}`;
          await expect(codec.decode('q', changed)).rejects.toBeInstanceOf(InvalidCursor);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a cursor at all', async () => {
    for (const text of ['', '.', 'abc', 'a.b.c', 'not a cursor.x', '%%%.AAAA', 'e30']) {
      await expect(codec.decode('q', text)).rejects.toBeInstanceOf(InvalidCursor);
    }
  });

  it('even correctly signed, a body that is not a position is refused', async () => {
    for (const body of [
      null,
      [],
      { v: 2, k: [['s', 'x']] },
      { v: 1, k: null },
      { v: 1, k: [] },
      { v: 1, k: [null] },
      { v: 1, k: [['s', null]] },
      { v: 1, k: [['i', '5.5']] },
      { v: 1, k: [['i', '99999999999999999999']] },
      { v: 1, k: [['b', 'not base64!']] },
      { v: 1, k: [['x', 'y']] },
      {
        v: 1,
        k: [
          ['s', 'a'],
          ['s', 'b'],
          ['s', 'c'],
          ['s', 'd'],
          ['s', 'e'],
        ],
      },
    ]) {
      await expect(codec.decode('q', signedBody('q', body))).rejects.toBeInstanceOf(InvalidCursor);
    }
    // The same helper signs a good body that the codec accepts (so the refusals above are the
    // bodies', not the helper's).
    expect(await codec.decode('q', signedBody('q', { v: 1, k: [['i', '5']] }))).toEqual([5n]);
  });

  it('InvalidCursor is a 400 naming the cursor parameter', () => {
    const error = new InvalidCursor('it was altered');
    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidCursor');
    expect(error.details).toEqual({
      issues: [{ location: 'query', field: 'cursor', message: 'it was altered' }],
    });
  });

  it('reads the key once, tries again after a failed read, and refuses a short key', async () => {
    let reads = 0;
    let fail = true;
    const counted = createCursorCodec(async () => {
      reads++;
      if (fail) throw new Error('Tablestore unavailable');
      return KEY;
    });
    await expect(counted.encode('q', ['a'])).rejects.toThrow('Tablestore unavailable');
    fail = false;
    const cursor = await counted.encode('q', ['a']);
    await counted.decode('q', cursor);
    await counted.encode('q', ['b']);
    expect(reads).toBe(2);
    const short = createCursorCodec(async () => Buffer.alloc(16));
    await expect(short.encode('q', ['a'])).rejects.toThrow(/shorter than 32 bytes/);
  });
});

/** Buffers compare by bytes. */
function normal(v: CursorValue): unknown {
  return typeof v === 'string' || typeof v === 'bigint' ? v : Buffer.from(v).toString('hex');
}
