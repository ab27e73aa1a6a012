// The session-index use case over in-memory ports: which groups it reads, what it writes for new
// and for known sessions, what a redelivered or overlapping range changes (nothing), how a bad
// record is reported, and how a cursor range is read pull by pull up to its end cursor.

import { describe, expect, it } from 'vitest';
import type { LogGroup, LogRecord, LogstoreAddress } from '../../../shared/logs/model';
import { LogCursorInvalid } from '../../../shared/logs/ports';
import {
  indexLogGroups,
  indexSessionRange,
  type LogRange,
  type SessionIngestReport,
} from '../../../shared/sessions/ingest';
import type { SessionEvent } from '../../../shared/sessions/model';
import { foldSession, parseRecord, provenanceOf } from '../../../shared/sessions/records';
import { forwardingTags } from '../../support/bastionhost-sessions';
import { InMemorySessionEventStore } from '../../support/in-memory-sessions';
import { capturingLogger } from '../../support/invocation';
import { CentralShardLogs, logFailure } from '../../support/log-member-fakes';

const OWNER = '1234567890123456';
const OTHER = '6543210987654321';

const record = (time: number, fields: Record<string, string>): LogRecord => ({
  time,
  contents: Object.entries(fields).map(([key, value]) => ({ key, value })),
});

/** A session's record: `type` at `time` (unix seconds) of session `sessionId`. */
const sessionRecord = (sessionId: string, type: string, time: number, extra = {}): LogRecord =>
  record(time, { session_id: sessionId, event_type: type, user_name: 'alice', ...extra });

const bastionhost = (owner: string, logs: LogRecord[], batchId = 'b1'): LogGroup => ({
  logs,
  tags: forwardingTags(owner, batchId),
});

const otherTemplate = (logs: LogRecord[]): LogGroup => ({
  logs,
  tags: forwardingTags(OWNER, 'w1', 'waf'),
});

/** The events the session index makes of `records` forwarded from `owner`. */
const eventsOf = (owner: string, records: readonly LogRecord[]): SessionEvent[] =>
  records.map((r) => {
    const parsed = parseRecord(r, provenanceOf(forwardingTags(owner, 'b1')));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.event;
  });

const report = (counts: Partial<SessionIngestReport>): SessionIngestReport => ({
  groups: 0,
  bastionhostGroups: 0,
  records: 0,
  events: 0,
  unparseable: 0,
  sessionsWritten: 0,
  sessionsUnchanged: 0,
  ...counts,
});

function setUp() {
  const store = new InMemorySessionEventStore();
  const { logger, lines } = capturingLogger();
  return { store, lines, deps: { store, logger } };
}

describe('indexLogGroups', () => {
  it('indexes Bastionhost records as events and one session per session, without reading new sessions back', async () => {
    const { store, deps } = setUp();
    const s1 = [sessionRecord('s1', 'session_start', 100), sessionRecord('s1', 'command', 110)];
    const s2 = [sessionRecord('s2', 'session_start', 105)];
    const groups = [
      bastionhost(OWNER, [...s1, ...s2]),
      otherTemplate([sessionRecord('w', 'command', 100), sessionRecord('w', 'command', 101)]),
    ];

    expect(await indexLogGroups(groups, deps)).toEqual(
      report({ groups: 2, bastionhostGroups: 1, records: 3, events: 3, sessionsWritten: 2 }),
    );
    expect(store.calls).toEqual([
      'putEvents 3',
      `createSessions ${OWNER}/s1 ${OWNER}/s2`,
      'saveSessions',
    ]);
    expect(store.allSessions()).toEqual([
      foldSession(eventsOf(OWNER, s1)),
      foldSession(eventsOf(OWNER, s2)),
    ]);
    expect(store.eventCount()).toBe(3);
  });

  it('keeps the sessions of different owners apart, and groups of other templates out', async () => {
    const { store, deps } = setUp();
    const mine = [sessionRecord('s', 'session_start', 100)];
    const theirs = [sessionRecord('s', 'session_start', 200), sessionRecord('s', 'command', 201)];
    const result = await indexLogGroups(
      [bastionhost(OWNER, mine), bastionhost(OTHER, theirs, 'b2'), otherTemplate(theirs)],
      deps,
    );

    expect(result).toEqual(
      report({ groups: 3, bastionhostGroups: 2, records: 3, events: 3, sessionsWritten: 2 }),
    );
    expect(store.session({ ownerAccountId: OWNER, sessionId: 's' })).toMatchObject({
      eventCount: 1,
      startTime: 100_000,
    });
    expect(store.session({ ownerAccountId: OTHER, sessionId: 's' })).toMatchObject({
      eventCount: 2,
      startTime: 200_000,
    });
  });

  it('counts a record forwarded twice in one range as one event', async () => {
    const { store, deps } = setUp();
    const start = sessionRecord('s1', 'session_start', 100);
    const result = await indexLogGroups(
      [bastionhost(OWNER, [start]), bastionhost(OWNER, [start, start], 'b1')],
      deps,
    );

    expect(result).toEqual(
      report({ groups: 2, bastionhostGroups: 2, records: 3, events: 1, sessionsWritten: 1 }),
    );
    expect(store.calls[0]).toBe('putEvents 1');
    expect(store.session({ ownerAccountId: OWNER, sessionId: 's1' })?.eventCount).toBe(1);
  });

  it('logs a record that does not parse with its provenance and position, and indexes the rest', async () => {
    const { store, lines, deps } = setUp();
    const bad = record(1_700_000_000, { event_type: 'command', content: 'ls' });
    const good = sessionRecord('s1', 'command', 1_700_000_001);
    const result = await indexLogGroups([bastionhost(OWNER, [good, bad])], deps, {
      project: 'central',
      logstore: 'all-logs',
      shardId: 3,
      cursor: 'c7',
    });

    expect(result).toEqual(
      report({
        groups: 1,
        bastionhostGroups: 1,
        records: 2,
        events: 1,
        unparseable: 1,
        sessionsWritten: 1,
      }),
    );
    expect(store.eventCount()).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'session index: a Bastionhost record does not parse; not indexed',
        reason: 'no session_id',
        provenance: provenanceOf(forwardingTags(OWNER, 'b1')),
        recordIndex: 1,
        recordTime: 1_700_000_000,
        fields: ['event_type', 'content'],
        central: { project: 'central', logstore: 'all-logs', shardId: 3, cursor: 'c7' },
      }),
    ]);
    expect(lines[0]?.provenance).toMatchObject({ ownerAccountId: OWNER, batchId: 'b1' });
  });

  it('names no central position when it was given none', async () => {
    const { lines, deps } = setUp();
    await indexLogGroups([bastionhost(OWNER, [record(5, { session_id: 's' })])], deps);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'no event_type', recordIndex: 0, recordTime: 5 });
    expect(lines[0]).not.toHaveProperty('central');
  });

  it('touches no store when a range holds no Bastionhost event', async () => {
    const { store, deps } = setUp();
    const result = await indexLogGroups(
      [otherTemplate([sessionRecord('w', 'command', 1)]), bastionhost(OWNER, [record(2, {})])],
      deps,
    );

    expect(result).toEqual(report({ groups: 2, bastionhostGroups: 1, records: 1, unparseable: 1 }));
    expect(store.calls).toEqual([]);
    expect(await indexLogGroups([], deps)).toEqual(report({}));
    expect(store.calls).toEqual([]);
  });

  it('changes nothing when the same range is delivered again, and says the sessions were unchanged', async () => {
    const { store, deps } = setUp();
    const groups = [
      bastionhost(OWNER, [
        sessionRecord('s1', 'session_start', 100),
        sessionRecord('s2', 'session_start', 101),
        sessionRecord('s1', 'session_end', 130),
      ]),
    ];
    await indexLogGroups(groups, deps);
    const before = store.allSessions();
    store.calls.length = 0;

    expect(await indexLogGroups(groups, deps)).toEqual(
      report({ groups: 1, bastionhostGroups: 1, records: 3, events: 3, sessionsUnchanged: 2 }),
    );
    expect(store.allSessions()).toEqual(before);
    expect(store.calls).toEqual([
      'putEvents 3',
      `createSessions ${OWNER}/s1 ${OWNER}/s2`,
      `eventsOf ${OWNER}/s1`,
      `eventsOf ${OWNER}/s2`,
      `saveSessions ${OWNER}/s1 ${OWNER}/s2`,
    ]);
  });

  it('folds a known session again from all its stored events, in whichever order the ranges came', async () => {
    const first = [sessionRecord('s1', 'session_start', 100, { client_ip: '10.0.0.1' })];
    const second = [sessionRecord('s1', 'command', 120), sessionRecord('s1', 'session_end', 130)];
    const expected = foldSession(eventsOf(OWNER, [...first, ...second]));

    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const { store, deps } = setUp();
      const [a = [], b = []] = order;
      await indexLogGroups([bastionhost(OWNER, a)], deps);
      const result = await indexLogGroups([bastionhost(OWNER, b, 'b2')], deps);

      expect(result).toEqual(
        report({
          groups: 1,
          bastionhostGroups: 1,
          records: b.length,
          events: b.length,
          sessionsWritten: 1,
        }),
      );
      expect(store.session({ ownerAccountId: OWNER, sessionId: 's1' })).toEqual(expected);
    }
    expect(expected).toMatchObject({ eventCount: 3, ended: true, startTime: 100_000 });
  });

  it('leaves a session as stored when the TTL removed its events before they were read', async () => {
    const { store, deps } = setUp();
    await indexLogGroups([bastionhost(OWNER, [sessionRecord('s1', 'session_start', 100)])], deps);
    const stored = store.session({ ownerAccountId: OWNER, sessionId: 's1' });
    store.beforeRead = (key) => store.expireEvents(key);
    store.calls.length = 0;

    const result = await indexLogGroups(
      [bastionhost(OWNER, [sessionRecord('s1', 'command', 110)])],
      deps,
    );

    expect(result).toEqual(report({ groups: 1, bastionhostGroups: 1, records: 1, events: 1 }));
    expect(store.calls.at(-1)).toBe('saveSessions');
    expect(store.session({ ownerAccountId: OWNER, sessionId: 's1' })).toEqual(stored);
  });

  it('folds known sessions 16 at a time unless told otherwise', async () => {
    const starts = Array.from({ length: 20 }, (_, i) => sessionRecord(`s${i}`, 'session_start', i));
    const commands = Array.from({ length: 20 }, (_, i) => sessionRecord(`s${i}`, 'command', 50));

    for (const [concurrency, expected] of [
      [undefined, 16],
      [3, 3],
    ] as const) {
      const { store, deps } = setUp();
      await indexLogGroups([bastionhost(OWNER, starts)], deps);
      const result = await indexLogGroups([bastionhost(OWNER, commands, 'b2')], {
        ...deps,
        ...(concurrency === undefined ? {} : { concurrency }),
      });

      expect(result.sessionsWritten).toBe(20);
      expect(store.maxConcurrentReads).toBe(expected);
      expect(store.allSessions().every((s) => s.eventCount === 2)).toBe(true);
    }
  });

  it('fails, writing no session, when the events cannot be written', async () => {
    const { store, deps } = setUp();
    store.failNext('putEvents', new Error('throttled'));

    await expect(
      indexLogGroups([bastionhost(OWNER, [sessionRecord('s1', 'command', 1)])], deps),
    ).rejects.toThrow('throttled');
    expect(store.calls).toEqual(['putEvents 1']);
    expect(store.allSessions()).toEqual([]);
  });
});

const CENTRAL: LogstoreAddress = { project: 'rdgov-central', logstore: 'rdgov-central-logs' };

const range = (beginCursor: string, endCursor: string, shardId = 0): LogRange => ({
  address: CENTRAL,
  shardId,
  beginCursor,
  endCursor,
});

function centralShard(groups: readonly LogGroup[], shardId = 0): CentralShardLogs {
  return new CentralShardLogs('1000000000000001', 'cn-hangzhou').holding(CENTRAL, shardId, groups);
}

describe('indexSessionRange', () => {
  it('reads the range up to its end cursor, decoding only the Bastionhost groups', async () => {
    const { store, deps } = setUp();
    const source = centralShard([
      bastionhost(OWNER, [sessionRecord('s1', 'session_start', 100)]),
      otherTemplate([sessionRecord('w', 'command', 100)]),
      bastionhost(OTHER, [sessionRecord('s2', 'session_start', 100)], 'b2'),
      bastionhost(OWNER, [sessionRecord('s3', 'session_start', 100)], 'b3'),
    ]);

    const result = await indexSessionRange(range('c0', 'c3'), { ...deps, source });

    expect(result).toEqual(
      report({ groups: 3, bastionhostGroups: 2, records: 2, events: 2, sessionsWritten: 2 }),
    );
    expect(source.calls).toEqual([
      'pull 0 c0 1000',
      expect.stringMatching(/^decode .*rdgov_owner_account=1234567890123456.*rdgov_batch_id=b1$/),
      expect.stringMatching(/^decode .*rdgov_owner_account=6543210987654321.*rdgov_batch_id=b2$/),
    ]);
    expect(store.allSessions().map((s) => s.sessionId)).toEqual(['s1', 's2']);
  });

  it('reads a range longer than one pull pull by pull, adding up what each indexed', async () => {
    const { store, lines, deps } = setUp();
    const filler = Array.from({ length: 1000 }, () => otherTemplate([]));
    const source = centralShard(
      [
        bastionhost(OWNER, [sessionRecord('s1', 'session_start', 100)]),
        ...filler,
        bastionhost(OWNER, [sessionRecord('s1', 'session_end', 200), record(201, {})], 'b2'),
      ],
      2,
    );

    const result = await indexSessionRange(range('c0', 'c1002', 2), { ...deps, source });

    expect(result).toEqual(
      report({
        groups: 1002,
        bastionhostGroups: 2,
        records: 3,
        events: 2,
        unparseable: 1,
        sessionsWritten: 2,
      }),
    );
    expect(source.calls.filter((c) => c.startsWith('pull'))).toEqual([
      'pull 2 c0 1000',
      'pull 2 c1000 1000',
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        reason: 'no session_id',
        central: { ...CENTRAL, shardId: 2, cursor: 'c1000' },
      }),
    ]);
    expect(store.session({ ownerAccountId: OWNER, sessionId: 's1' })).toMatchObject({
      eventCount: 2,
      ended: true,
      endTime: 200_000,
    });
  });

  it('reads nothing from an empty range, and stops where the shard has nothing before the end', async () => {
    const { store, deps } = setUp();
    const source = centralShard([
      bastionhost(OWNER, [sessionRecord('s1', 'session_start', 100)]),
      bastionhost(OWNER, [sessionRecord('s2', 'session_start', 100)]),
    ]);

    expect(await indexSessionRange(range('c1', 'c1'), { ...deps, source })).toEqual(report({}));
    expect(source.calls).toEqual([]);

    expect(await indexSessionRange(range('c2', 'c1'), { ...deps, source })).toEqual(report({}));
    expect(source.calls).toEqual(['pull 0 c2 1000']);
    expect(store.calls).toEqual([]);
  });

  it('fails when the range cannot be read, so the trigger delivers it again', async () => {
    const { store, deps } = setUp();
    const source = centralShard([bastionhost(OWNER, [sessionRecord('s1', 'command', 1)])]);
    source.failNext(
      'pull',
      new LogCursorInvalid(logFailure('PullLogs', 'rejected', 'InvalidCursor')),
    );

    await expect(indexSessionRange(range('c0', 'c1'), { ...deps, source })).rejects.toBeInstanceOf(
      LogCursorInvalid,
    );
    expect(store.calls).toEqual([]);

    expect(await indexSessionRange(range('c0', 'c1'), { ...deps, source })).toMatchObject({
      events: 1,
      sessionsWritten: 1,
    });
  });
});
