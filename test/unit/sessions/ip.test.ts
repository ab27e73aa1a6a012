// IP keys: every address as the 32 hex digits of its IPv6 form (IPv4 mapped), and a CIDR block as
// the inclusive range of keys it covers, so a source-IP filter is one exact key or one range.

import { describe, expect, it } from 'vitest';
import { ipKey, ipRange } from '../../../shared/sessions/ip';
import { seededRandom } from '../../support/seeded-random';

describe('IP keys', () => {
  it('maps IPv4 into IPv6 and ranges CIDR blocks, refusing what is not an address', () => {
    expect(ipKey('10.0.0.1')).toBe('00000000000000000000ffff0a000001');
    expect(ipKey('::ffff:10.0.0.1')).toBe(ipKey('10.0.0.1'));
    expect(ipKey('2001:db8::1')).toBe('20010db8000000000000000000000001');
    expect(ipRange('10.0.0.0/8')).toEqual({
      low: '00000000000000000000ffff0a000000',
      high: '00000000000000000000ffff0affffff',
    });
    expect(ipRange('10.1.2.3/32')).toEqual({ low: ipKey('10.1.2.3'), high: ipKey('10.1.2.3') });
    expect(ipRange('2001:db8::/32')?.high).toBe('20010db8ffffffffffffffffffffffff');
    expect(ipRange('10.0.0.0/33')).toBeUndefined();
    expect(ipRange('10.0.0')).toBeUndefined();
    expect(ipRange('10.0.0.0/8/1')).toBeUndefined();
    expect(ipRange('example.com')).toBeUndefined();
    expect(ipRange('1::2::3')).toBeUndefined();
  });

  it('a key lies in a block exactly when the address does (random IPv4 addresses and blocks)', () => {
    const random = seededRandom(11);
    const toNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
    for (let i = 0; i < 500; i++) {
      const octets = () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');
      const address = octets();
      const block = octets();
      const bits = Math.floor(random() * 33);
      const range = ipRange(`${block}/${bits}`);
      const key = ipKey(address);
      if (!range || !key) throw new Error('expected valid input');
      const mask = bits === 0 ? 0 : Number((0xffffffffn << BigInt(32 - bits)) & 0xffffffffn);
      const inside =
        Number(BigInt(toNumber(address)) & BigInt(mask)) >>> 0 ===
        Number(BigInt(toNumber(block)) & BigInt(mask)) >>> 0;
      expect(key >= range.low && key <= range.high, `${address} in ${block}/${bits}`).toBe(inside);
    }
  });

  it('reads every way of writing an IPv6 address: compressed, leading zeros dropped, any case, an IPv4 tail, a zone', () => {
    const random = seededRandom(23);
    for (let i = 0; i < 300; i++) {
      // Eight groups, with a run of zeros somewhere in most of them.
      const groups = Array.from({ length: 8 }, () =>
        random() < 0.3 ? 0 : Math.floor(random() * 0x10000),
      );
      const runStart = Math.floor(random() * 8);
      const runLength = Math.floor(random() * (9 - runStart));
      groups.fill(0, runStart, runStart + runLength);
      const key = groups.map((g) => g.toString(16).padStart(4, '0')).join('');
      const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
      const short = groups.map((g) => g.toString(16));
      const compressed =
        runLength >= 2
          ? `${short.slice(0, runStart).join(':')}::${short.slice(runStart + runLength).join(':')}`
          : short.join(':');
      const last = groups.slice(6);
      const v4 = [last[0] ?? 0, last[1] ?? 0].flatMap((g) => [g >> 8, g & 0xff]).join('.');
      const withTail =
        runLength >= 2 && runStart + runLength <= 6
          ? `${short.slice(0, runStart).join(':')}::${short.slice(runStart + runLength, 6).join(':')}${runStart + runLength < 6 ? ':' : ''}${v4}`
          : `${short.slice(0, 6).join(':')}:${v4}`;
      for (const text of [
        full,
        compressed,
        compressed.toUpperCase(),
        withTail,
        `${compressed}%eth0`,
        `${withTail.toUpperCase()}%eth0`,
      ]) {
        expect(ipKey(text), `${text} (${full})`).toBe(key);
      }
    }
    expect(ipKey('::')).toBe('0'.repeat(32));
    expect(ipKey('1:2:3:4:5:6:7::')).toBe('00010002000300040005000600070000');
    expect(ipKey('::1.2.3.4')).toBe('00000000000000000000000001020304');
  });

  it('reads addresses and blocks with blanks around them, and an address alone as its own key', () => {
    expect(ipKey(' 10.0.0.1\n')).toBe('00000000000000000000ffff0a000001');
    expect(ipRange(' 10.0.0.0/8 ')).toEqual(ipRange('10.0.0.0/8'));
    expect(ipRange('10.1.2.3')).toEqual({ low: ipKey('10.1.2.3'), high: ipKey('10.1.2.3') });
    expect(ipRange('2001:db8::1')).toEqual({
      low: ipKey('2001:db8::1'),
      high: ipKey('2001:db8::1'),
    });
  });

  it('counts the prefix in the address family, from 0 to its width, and refuses any other prefix', () => {
    expect(ipRange('10.9.8.7/0')).toEqual({
      low: '00000000000000000000ffff00000000',
      high: '00000000000000000000ffffffffffff',
    });
    expect(ipRange('::/0')).toEqual({ low: '0'.repeat(32), high: 'f'.repeat(32) });
    expect(ipRange('2001:db8::1/128')).toEqual(ipRange('2001:db8::1'));
    expect(ipRange('2001:db8::/129')).toBeUndefined();
    expect(ipRange('10.9.8.7/20')).toEqual({
      low: '00000000000000000000ffff0a090000',
      high: '00000000000000000000ffff0a090fff',
    });
    for (const text of [
      '10.0.0.0/',
      '10.0.0.0/x8',
      '10.0.0.0/8x',
      '10.0.0.0/abc',
      '10.0.0.0/-1',
      '10.0.0.0/0008',
      '/8',
      '',
    ]) {
      expect(ipRange(text), text).toBeUndefined();
    }
    expect(ipKey('')).toBeUndefined();
    expect(ipKey('10.0.0.256')).toBeUndefined();
  });
});
