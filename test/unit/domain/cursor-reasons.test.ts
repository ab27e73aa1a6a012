// The cursor codec's refusals, each with the reason a client is told: not a cursor at all, a
// signature that is not this deployment's for this query (including one that differs only in
// base64's spare bits or in length), and a signed body that is not a position.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCursorCodec, InvalidCursor } from '../../../shared/domain/cursor';

const KEY = Buffer.alloc(32, 3);
const codec = createCursorCodec(async () => KEY);

const NOT_ISSUED = 'it is not a cursor this service issued';
const ALTERED = 'it was issued for another query or by another deployment, or it was altered';
const MALFORMED = 'its position is malformed';

/** `payload` (any text) signed with KEY for `query`, as the codec signs. */
function signed(query: string, text: string, macBytes = 16): string {
  const payload = Buffer.from(text, 'utf8').toString('base64url');
  const mac = createHmac('sha256', KEY)
    .update(`rdg-cursor/v1\n${query}\n${payload}`, 'utf8')
    .digest()
    .subarray(0, macBytes)
    .toString('base64url');
  return `${payload}.${mac}`;
}

async function reason(cursor: string, query = 'q'): Promise<string> {
  const error = await codec.decode(query, cursor).catch((e: unknown) => e);
  expect(error, cursor).toBeInstanceOf(InvalidCursor);
  const e = error as InvalidCursor;
  const why = (e.details as { issues: Array<{ message: string }> }).issues[0]?.message ?? '';
  expect(e.message).toBe(
    `The paging cursor is not valid for this query: ${why}. Start again without a cursor.`,
  );
  return why;
}

describe('cursor refusals, with their reasons', () => {
  it('what is not two base64url parts is not a cursor', async () => {
    const good = await codec.encode('q', ['a']);
    const [payload, mac] = good.split('.');
    for (const text of [
      '',
      '.',
      'abc',
      `${good}.x`,
      `%%${payload}.${mac}`,
      `${payload}%%.${mac}`,
      `${payload}.${mac}%`,
      `${payload}.%${mac}`,
    ]) {
      expect(await reason(text), text).toBe(NOT_ISSUED);
    }
  });

  it('a signature not made for this query, of another length, or spelt another way is refused as altered', async () => {
    const good = await codec.encode('q', ['a']);
    expect(await reason(good, 'other')).toBe(ALTERED);
    const [payload, mac = ''] = good.split('.');
    // The same 16 bytes written with other spare bits in the last character.
    const last = mac.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const group = alphabet.indexOf(last) & ~0b1111;
    const sibling = alphabet[group + ((alphabet.indexOf(last) + 1) % 16)] ?? 'A';
    const respelt = `${payload}.${mac.slice(0, -1)}${sibling}`;
    expect(Buffer.from(respelt.split('.')[1] ?? '', 'base64url')).toEqual(
      Buffer.from(mac, 'base64url'),
    );
    expect(await reason(respelt)).toBe(ALTERED);
    // A correct MAC cut short, or longer than the codec's.
    expect(await reason(signed('q', '{"v":1,"k":[["s","a"]]}', 15))).toBe(ALTERED);
    expect(await reason(signed('q', '{"v":1,"k":[["s","a"]]}', 20))).toBe(ALTERED);
  });

  it('a signed body that is not a position is malformed', async () => {
    for (const body of [
      'not json',
      '"text"',
      '7',
      '{"k":[["s","a"]]}',
      '{"v":1}',
      '{"v":1,"k":[["s","a","extra"]]}',
      '{"v":1,"k":[["x","5"]]}',
      '{"v":1,"k":[["i","9223372036854775808"]]}',
      '{"v":1,"k":[["i","-9223372036854775809"]]}',
    ]) {
      expect(await reason(signed('q', body)), body).toBe(MALFORMED);
    }
  });

  it('int64 positions at their bounds read back', async () => {
    expect(
      await codec.decode('q', signed('q', '{"v":1,"k":[["i","9223372036854775807"]]}')),
    ).toEqual([9_223_372_036_854_775_807n]);
    expect(
      await codec.decode('q', signed('q', '{"v":1,"k":[["i","-9223372036854775808"]]}')),
    ).toEqual([-9_223_372_036_854_775_808n]);
  });
});
