// The session index's rules: which groups are Bastionhost's, a record as an event (owner from the
// forwarding tag, refusals with a reason), the protocol and the session end derived where the
// records do not say them, and a fold that depends only on the set of events.

import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../shared/logs/model';
import type { SessionEvent } from '../../../shared/sessions/model';
import {
  compareEvents,
  foldSession,
  isBastionhostGroup,
  parseRecord,
  protocolNamed,
  provenanceOf,
} from '../../../shared/sessions/records';
import { forwardingTags } from '../../support/bastionhost-sessions';
import { seededRandom } from '../../support/seeded-random';

const OWNER = '1234567890123456';
const OTHER_OWNER = '9876543210987654';
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

describe('a record as an event', () => {
  const tags = provenanceOf(forwardingTags(OWNER, 'b1'));
  const parse = (fields: Record<string, string>, time = 1_700_000_000) =>
    parseRecord(record(fields, time), tags);
  const timeOf = (eventTime: string) => {
    const parsed = parse({ session_id: 's', event_type: 'command', event_time: eventTime });
    return parsed.ok ? parsed.event.eventTime : parsed.reason;
  };

  it('reads every forwarding tag into the provenance, leaving out tags that are missing or empty', () => {
    expect(provenanceOf(forwardingTags(OWNER, 'b9'))).toStrictEqual({
      ownerAccountId: OWNER,
      region: 'cn-hangzhou',
      sourceProject: `bastionhost-project-${OWNER}-cn-hangzhou`,
      sourceLogstore: 'bastionhost-audit-logstore',
      sourceShard: '0',
      batchId: 'b9',
    });
    expect(
      provenanceOf([
        { key: 'rdgov_owner_account', value: '' },
        { key: 'rdgov_region', value: 'cn-shanghai' },
      ]),
    ).toStrictEqual({ region: 'cn-shanghai' });
  });

  it('reads every field Bastionhost writes, trimmed, and the provenance the event keeps', () => {
    const parsed = parse({
      session_id: ' s1 ',
      event_type: 'command',
      content: 'ls -la',
      result: 'success',
      instance_id: 'bastionhost-cn-1',
      user_id: '101',
      user_name: 'alice',
      client_ip: '10.20.1.5',
      asset_name: 'web-1',
      asset_address: '192.168.0.10',
      asset_port: '22',
      asset_account: 'root',
      protocol: 'ssh',
      session_start_time: '1700000000',
      session_end_time: '1700000060000',
      aliuid: '9999999999999999',
    });

    expect(parsed).toStrictEqual({
      ok: true,
      event: {
        ownerAccountId: OWNER,
        sessionId: 's1',
        eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
        eventTime: 1_700_000_000_000,
        eventType: 'command',
        content: 'ls -la',
        result: 'success',
        instanceId: 'bastionhost-cn-1',
        userId: '101',
        userName: 'alice',
        clientIp: '10.20.1.5',
        assetName: 'web-1',
        assetAddress: '192.168.0.10',
        assetPort: 22,
        assetAccount: 'root',
        protocol: 'ssh',
        sessionStartTime: 1_700_000_000_000,
        sessionEndTime: 1_700_000_060_000,
        region: 'cn-hangzhou',
        sourceProject: `bastionhost-project-${OWNER}-cn-hangzhou`,
        sourceLogstore: 'bastionhost-audit-logstore',
      },
    });
  });

  it('sets no field a record does not have (nor one that is blank)', () => {
    const parsed = parseRecord(record({ session_id: 's', event_type: 'command', content: ' ' }), {
      ownerAccountId: OWNER,
    });
    expect(parsed.ok && Object.keys(parsed.event)).toEqual([
      'ownerAccountId',
      'sessionId',
      'eventId',
      'eventTime',
      'eventType',
    ]);
  });

  it("takes the owner from the record's aliuid when the group has no owner tag, and refuses one that is not an account id", () => {
    const fields = { session_id: 's', event_type: 'command' };
    const withOwner = (aliuid: string) => parseRecord(record({ ...fields, aliuid }), {});
    expect(withOwner(OTHER_OWNER)).toMatchObject({
      ok: true,
      event: { ownerAccountId: OTHER_OWNER },
    });
    for (const aliuid of [`${OTHER_OWNER}7`, `x${OTHER_OWNER}`, `${OTHER_OWNER}x`, '12345']) {
      expect(withOwner(aliuid)).toEqual({
        ok: false,
        reason: `owner account ${JSON.stringify(aliuid)} is not an id`,
      });
    }
    expect(withOwner('   ')).toEqual({ ok: false, reason: 'no owner account' });
  });

  it('refuses a blank session id or event type, and a session id over 256 characters', () => {
    expect(parse({ session_id: '  ', event_type: 'command' })).toEqual({
      ok: false,
      reason: 'no session_id',
    });
    expect(parse({ session_id: 's', event_type: '\t' })).toEqual({
      ok: false,
      reason: 'no event_type',
    });
    expect(parse({ session_id: 'x'.repeat(257), event_type: 'command' })).toEqual({
      ok: false,
      reason: 'session_id is too long',
    });
    expect(parse({ session_id: 'x'.repeat(256), event_type: 'command' })).toMatchObject({
      ok: true,
      event: { sessionId: 'x'.repeat(256) },
    });
  });

  it('reads event times as ISO 8601, unix seconds (10 digits) or milliseconds (13 digits)', () => {
    expect(timeOf('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(timeOf('2023-11-14 22:13:20Z')).toBe(1_700_000_000_000);
    expect(timeOf('2023-11-14T22:13Z')).toBe(1_699_999_980_000);
    expect(timeOf('2023-11-15T06:13:20+08:00')).toBe(1_700_000_000_000);
    expect(timeOf('1700000001')).toBe(1_700_000_001_000);
    expect(timeOf('1700000001234')).toBe(1_700_000_001_234);
    const refused = (text: string) => `event_time ${JSON.stringify(text)} is not a time`;
    for (const text of [
      '170000000',
      '17000000012',
      'x1700000001',
      '1700000001x',
      'x1700000001234',
      '1700000001234x',
      'on 2023-11-14 22:13',
      '2023-11-14T22:1',
      '2023-11-14 22:1Z',
      '2023-11-14',
      '2023-13-45T99:99Z',
    ]) {
      expect(timeOf(text), text).toBe(refused(text));
    }
  });

  it('reads a time without an offset as UTC, whatever the time zone of the process', () => {
    const zone = process.env.TZ;
    try {
      for (const tz of ['Asia/Shanghai', 'America/Los_Angeles', 'UTC']) {
        process.env.TZ = tz;
        expect(timeOf('2023-11-14T22:13:20'), tz).toBe(1_700_000_000_000);
        expect(timeOf('2023-11-14 22:13:20.5'), tz).toBe(1_700_000_000_500);
        expect(timeOf('2023-11-14T22:13'), tz).toBe(1_699_999_980_000);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('keeps a numeric asset port of at most 5 digits, and no other', () => {
    const port = (text: string) => {
      const parsed = parse({ session_id: 's', event_type: 'command', asset_port: text });
      return parsed.ok ? parsed.event.assetPort : parsed.reason;
    };
    expect(port('3389')).toBe(3389);
    expect(port('65535')).toBe(65535);
    for (const text of ['123456', 'ssh', 'x22', '22x', '2 2'])
      expect(port(text), text).toBeUndefined();
  });

  it('gives a record the same event id whatever the order of its fields, and ids that stored rows keep', () => {
    const fields = [
      { key: 'session_id', value: 's1' },
      { key: 'event_type', value: 'command' },
      { key: 'content', value: 'ls -la' },
    ];
    const idOf = (contents: LogRecord['contents'], timeNs?: number) => {
      const parsed = parseRecord(
        { time: 1_700_000_000, ...(timeNs === undefined ? {} : { timeNs }), contents },
        { ownerAccountId: OWNER },
      );
      return parsed.ok ? parsed.event.eventId : parsed.reason;
    };
    // Stored event rows are keyed by these ids: a release that computed them differently would
    // store every redelivered record a second time.
    expect(idOf(fields)).toBe('e1784f1e2589bd9791b5b459ec405e26');
    expect(idOf(fields, 5)).toBe('d65493c0fb257c65c47ce5ce9bb841f5');
    expect(idOf([...fields].reverse())).toBe(idOf(fields));
    expect(idOf([fields[2], fields[0], fields[1]] as LogRecord['contents'])).toBe(idOf(fields));
    expect(idOf(fields, 0)).not.toBe(idOf(fields));
    // A key written twice: the event is the same whichever order its values come in.
    const twice = [...fields, { key: 'tag', value: 'a' }, { key: 'tag', value: 'b' }];
    const swapped = [...fields, { key: 'tag', value: 'b' }, { key: 'tag', value: 'a' }];
    expect(idOf(twice)).toBe(idOf(swapped));
    expect(idOf(twice)).not.toBe(idOf(fields));
    // Many values under one key, in any order (sorted as a whole, not pairwise).
    const random = seededRandom(5);
    const many = Array.from({ length: 40 }, (_, i) => ({ key: 'tag', value: `v${i % 13}` }));
    const manyId = idOf([...fields, ...many]);
    for (let trial = 0; trial < 5; trial++) {
      const shuffled = [...many].sort(() => random() - 0.5);
      expect(idOf([...shuffled, ...fields])).toBe(manyId);
    }
  });
});

describe('the protocol of a session', () => {
  const fold = (...events: Array<Record<string, string>>) =>
    foldSession(events.map((fields, i) => event({ session_id: 's', ...fields }, 100 + i)));

  it('names protocols in any case and by their aliases, and not "unknown"', () => {
    expect(protocolNamed(' SSH ')).toBe('SSH');
    expect(protocolNamed('sftp')).toBe('SFTP');
    expect(protocolNamed('pgsql')).toBe('PostgreSQL');
    expect(protocolNamed('MSSQL')).toBe('SQLServer');
    expect(protocolNamed('SQL Server')).toBe('SQLServer');
    expect(protocolNamed('unknown')).toBeUndefined();
    expect(protocolNamed('')).toBeUndefined();
  });

  it('skips a protocol a record names that is not known, and takes a later record that names one', () => {
    expect(
      fold(
        { event_type: 'command', protocol: 'unknown', asset_port: '3389' },
        { event_type: 'command', protocol: 'gopher' },
        { event_type: 'command', protocol: 'Telnet' },
      ),
    ).toMatchObject({ protocol: 'Telnet', protocolSource: 'record' });
  });

  it("takes each well-known port's service", () => {
    const byPort: Array<[string, string]> = [
      ['22', 'SSH'],
      ['23', 'Telnet'],
      ['3389', 'RDP'],
      ['5900', 'VNC'],
      ['3306', 'MySQL'],
      ['5432', 'PostgreSQL'],
      ['1433', 'SQLServer'],
      ['1521', 'Oracle'],
      ['6379', 'Redis'],
    ];
    for (const [port, protocol] of byPort) {
      expect(fold({ event_type: 'command', asset_port: port }), port).toMatchObject({
        protocol,
        protocolSource: 'asset-port',
      });
    }
    expect(fold({ event_type: 'command', asset_port: '8080' })).toMatchObject({
      protocol: 'unknown',
      protocolSource: 'none',
    });
  });

  it('takes the port of the first event that has one', () => {
    expect(
      fold({ event_type: 'command' }, { event_type: 'command', asset_port: '22' }),
    ).toMatchObject({ protocol: 'SSH', protocolSource: 'asset-port' });
  });

  it('makes graphical sessions RDP, or VNC on port 5900', () => {
    expect(fold({ event_type: 'graphical', asset_port: '5900' })).toMatchObject({
      protocol: 'VNC',
      protocolSource: 'event-type',
    });
    expect(fold({ event_type: 'graphical', asset_port: '22' })).toMatchObject({
      protocol: 'RDP',
      protocolSource: 'event-type',
    });
  });

  it('makes SQL sessions the database their port names, else unknown', () => {
    for (const [port, protocol] of [
      ['3306', 'MySQL'],
      ['1433', 'SQLServer'],
      ['1521', 'Oracle'],
      ['6379', 'Redis'],
    ]) {
      expect(fold({ event_type: 'sql', asset_port: port as string }), port).toMatchObject({
        protocol,
        protocolSource: 'event-type',
      });
    }
    const ports: Array<Record<string, string>> = [{ asset_port: '22' }, { asset_port: '5900' }, {}];
    for (const fields of ports) {
      expect(fold({ event_type: 'sql', ...fields })).toMatchObject({
        protocol: 'unknown',
        protocolSource: 'event-type',
      });
    }
  });
});

describe('a session folded from its events', () => {
  it('orders events by time, then by event id', () => {
    const a = event({ session_id: 's', event_type: 'command', content: 'a' }, 100);
    const b = event({ session_id: 's', event_type: 'command', content: 'b' }, 100);
    const [low, high] = a.eventId < b.eventId ? [a, b] : [b, a];
    const later = event({ session_id: 's', event_type: 'command' }, 99);
    expect(compareEvents(low, high)).toBe(-1);
    expect(compareEvents(high, low)).toBe(1);
    expect(compareEvents(low, low)).toBe(0);
    expect(compareEvents(later, low)).toBeLessThan(0);
    expect(compareEvents(low, later)).toBeGreaterThan(0);
  });

  it('takes each descriptive field from the earliest event that has it, and keys the client IP', () => {
    const events = [
      event({ session_id: 's', event_type: 'session_start' }, 100),
      event(
        {
          session_id: 's',
          event_type: 'command',
          instance_id: 'bastionhost-1',
          user_id: '7',
          user_name: 'bob',
          client_ip: '2001:db8::15',
          asset_name: 'db-1',
          asset_address: '10.0.0.9',
          asset_port: '3306',
          asset_account: 'admin',
        },
        110,
      ),
      event({ session_id: 's', event_type: 'command', user_name: 'carol', asset_name: 'x' }, 120),
    ];
    expect(foldSession(events)).toStrictEqual({
      ownerAccountId: OWNER,
      sessionId: 's',
      instanceId: 'bastionhost-1',
      userId: '7',
      userName: 'bob',
      clientIp: '2001:db8::15',
      clientIpKey: '20010db8000000000000000000000015',
      assetName: 'db-1',
      assetAddress: '10.0.0.9',
      assetPort: 3306,
      assetAccount: 'admin',
      protocol: 'MySQL',
      protocolSource: 'asset-port',
      startTime: 100_000,
      ended: false,
      lastEventTime: 120_000,
      activeUntil: 120_000,
      eventCount: 3,
      commandCount: 2,
      fileTransferCount: 0,
      graphicalCount: 0,
      sqlCount: 0,
      blockedCount: 0,
      region: 'cn-hangzhou',
    });
  });

  it('counts each kind of event', () => {
    const types = ['command', 'file_transfer', 'file_transfer', 'graphical', 'sql', 'sql', 'sql'];
    const session = foldSession(
      types.map((type, i) => event({ session_id: 's', event_type: type }, 100 + i)),
    );
    expect(session).toMatchObject({
      eventCount: 7,
      commandCount: 1,
      fileTransferCount: 2,
      graphicalCount: 1,
      sqlCount: 3,
      blockedCount: 0,
    });
  });

  it('starts at the session_start event, not an earlier event, and ends at the last session_end', () => {
    const session = foldSession([
      event({ session_id: 's', event_type: 'command' }, 90),
      event({ session_id: 's', event_type: 'session_start' }, 100),
      event({ session_id: 's', event_type: 'session_end' }, 150),
      event({ session_id: 's', event_type: 'session_end', content: 'again' }, 160),
    ]);
    expect(session).toMatchObject({
      startTime: 100_000,
      endTime: 160_000,
      ended: true,
      lastEventTime: 160_000,
      activeUntil: 160_000,
    });
  });

  it('takes the earliest start and the latest end the records state', () => {
    const stated = (start: string, end: string, time: number) =>
      event(
        {
          session_id: 's',
          event_type: 'command',
          session_start_time: start,
          session_end_time: end,
        },
        time,
      );
    const session = foldSession([
      stated('1699999000', '1700000500', 100),
      stated('1699998000', '1700000900', 101),
      stated('1699999500', '1700000100', 102),
    ]);
    expect(session).toMatchObject({
      startTime: 1_699_998_000_000,
      endTime: 1_700_000_900_000,
      activeUntil: 1_700_000_900_000,
    });
  });

  it('is active until its start when a record states a start after every event', () => {
    const session = foldSession([
      event({ session_id: 's', event_type: 'command', session_start_time: '1700000000' }, 100),
    ]);
    expect(session).toMatchObject({ startTime: 1_700_000_000_000, activeUntil: 1_700_000_000_000 });
  });

  it('refuses to fold no events', () => {
    expect(() => foldSession([])).toThrow('foldSession: a session has at least one event');
  });
});
