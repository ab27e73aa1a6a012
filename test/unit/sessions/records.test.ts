// The session index's rules: which groups are Bastionhost's, a record as an event (owner from the
// forwarding tag, refusals with a reason), the protocol and the session end derived where the
// records do not say them, a fold that depends only on the set of events, and IP keys for CIDR.

import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../shared/logs/model';
import { ipKey, ipRange } from '../../../shared/sessions/ip';
import type { SessionEvent } from '../../../shared/sessions/model';
import {
  foldSession,
  isBastionhostGroup,
  parseRecord,
  protocolNamed,
  provenanceOf,
} from '../../../shared/sessions/records';
import { forwardingTags } from '../../support/bastionhost-sessions';
import { seededRandom } from '../../support/seeded-random';

const OWNER = '1234567890123456';
const record = (fields: Record<string, string>, time = 1_700_000_000): LogRecord => ({
  time,
  contents: Object.entries(fields).map(([key, value]) => ({ key, value })),
});
const event = (fields: Record<string, string>, time?: number): SessionEvent => {
  const parsed = parseRecord(record(fields, time), provenanceOf(forwardingTags(OWNER, 'b1')));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
};

describe('records', () => {
  it('keeps only groups tagged rdgov_template=bastionhost', () => {
    expect(isBastionhostGroup({ tags: forwardingTags(OWNER, 'b') })).toBe(true);
    expect(isBastionhostGroup({ tags: forwardingTags(OWNER, 'b', 'waf') })).toBe(false);
    expect(isBastionhostGroup({ tags: [] })).toBe(false);
  });

  it('takes the owner from the forwarding tag over the record, and the same record is the same event', () => {
    const fields = { aliuid: '9999999999999999', session_id: 's1', event_type: 'command' };
    const a = event(fields);
    expect(a.ownerAccountId).toBe(OWNER);
    expect(a.eventTime).toBe(1_700_000_000_000);
    expect(event({ ...fields }).eventId).toBe(a.eventId);
    expect(event({ ...fields, content: 'ls' }).eventId).not.toBe(a.eventId);
    expect(event(fields, 1_700_000_001).eventId).not.toBe(a.eventId);
  });

  it('refuses a record without a session id, event type, valid time or owner, saying why', () => {
    const tags = provenanceOf(forwardingTags(OWNER, 'b'));
    expect(parseRecord(record({ event_type: 'command' }), tags)).toEqual({
      ok: false,
      reason: 'no session_id',
    });
    expect(parseRecord(record({ session_id: 's' }), tags)).toEqual({
      ok: false,
      reason: 'no event_type',
    });
    const badTime = parseRecord(
      record({ session_id: 's', event_type: 'command', event_time: 'yesterday' }),
      tags,
    );
    expect(badTime).toMatchObject({ ok: false, reason: expect.stringContaining('event_time') });
    expect(parseRecord(record({ session_id: 's', event_type: 'command' }), {})).toEqual({
      ok: false,
      reason: 'no owner account',
    });
  });

  it('derives the protocol from the record, then event types, then the asset port', () => {
    const base = { session_id: 's', asset_port: '5432' };
    expect(foldSession([event({ ...base, event_type: 'sql', protocol: 'mysql' })])).toMatchObject({
      protocol: 'MySQL',
      protocolSource: 'record',
    });
    expect(foldSession([event({ ...base, event_type: 'sql' })])).toMatchObject({
      protocol: 'PostgreSQL',
      protocolSource: 'event-type',
    });
    expect(
      foldSession([event({ session_id: 's', event_type: 'file_transfer', asset_port: '22' })]),
    ).toMatchObject({ protocol: 'SFTP', protocolSource: 'event-type' });
    expect(foldSession([event({ session_id: 's', event_type: 'graphical' })])).toMatchObject({
      protocol: 'RDP',
    });
    expect(
      foldSession([event({ session_id: 's', event_type: 'command', asset_port: '22' })]),
    ).toMatchObject({ protocol: 'SSH', protocolSource: 'asset-port' });
    expect(foldSession([event({ session_id: 's', event_type: 'command' })])).toMatchObject({
      protocol: 'unknown',
      protocolSource: 'none',
    });
    expect(protocolNamed('postgres')).toBe('PostgreSQL');
    expect(protocolNamed('gopher')).toBeUndefined();
  });

  it('derives start and end: stated times first, then the start and end events, else open until the last event', () => {
    const start = event({ session_id: 's', event_type: 'session_start' }, 100);
    const cmd = event({ session_id: 's', event_type: 'command', result: 'blocked' }, 150);
    const end = event({ session_id: 's', event_type: 'session_end' }, 200);
    const open = foldSession([cmd, start]);
    expect(open).toMatchObject({ startTime: 100_000, ended: false, activeUntil: 150_000 });
    expect(open.endTime).toBeUndefined();
    const closed = foldSession([end, cmd, start]);
    expect(closed).toMatchObject({
      startTime: 100_000,
      endTime: 200_000,
      ended: true,
      eventCount: 3,
      commandCount: 1,
      blockedCount: 1,
    });
    const stated = event(
      {
        session_id: 's',
        event_type: 'command',
        session_start_time: '2023-11-14T22:00:00Z',
        session_end_time: '2023-11-14T23:00:00Z',
      },
      150,
    );
    expect(foldSession([stated])).toMatchObject({
      startTime: Date.parse('2023-11-14T22:00:00Z'),
      endTime: Date.parse('2023-11-14T23:00:00Z'),
    });
  });

  it('folds the same session whatever order the events come in', () => {
    const random = seededRandom(7);
    const events = Array.from({ length: 12 }, (_, i) =>
      event(
        {
          session_id: 's',
          event_type: i === 0 ? 'session_start' : i === 11 ? 'session_end' : 'command',
          user_name: i === 3 ? 'late' : '',
          client_ip: `10.0.0.${i}`,
        },
        1000 + Math.floor(i / 2),
      ),
    );
    const expected = foldSession(events);
    for (let trial = 0; trial < 20; trial++) {
      const shuffled = [...events].sort(() => random() - 0.5);
      expect(foldSession(shuffled)).toEqual(expected);
    }
    expect(expected.clientIp).toBe('10.0.0.0');
    expect(expected.userName).toBe('late');
  });
});

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
});
