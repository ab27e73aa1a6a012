// Redelivery and overlap (issue 14, done-when): the FC log trigger may deliver a cursor range
// again, or ranges out of order, or two at once. For 120 seeded plans, each range of forwarded
// log groups is delivered 1-3 times in random order (some deliveries concurrent) into one index,
// and once each in order into another: every session and every event must be the same in both.
// Plans hold out-of-order records (a session's end before its start), a duplicated forwarded
// batch, another template's group and a record that does not parse (counted, logged with its
// provenance, never failing the delivery).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogGroup } from '../../../shared/logs/model';
import { createLogger } from '../../../shared/runtime/logger';
import { indexLogGroups } from '../../../shared/sessions/ingest';
import type { SessionEventStore } from '../../../shared/sessions/ports';
import type { TablestoreSessionIndex } from '../../../shared/store';
import {
  forwardedGroups,
  forwardingTags,
  generateSessions,
} from '../../support/bastionhost-sessions';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
import { seededRandom } from '../../support/seeded-random';
import { setUpSessionIndex } from '../../support/session-index';

const PLANS = 120;
/** Plans run side by side (each has accounts of its own). */
const PARALLEL_PLANS = 8;

let local: LocalTablestore;
let inOrder: TablestoreSessionIndex;
let redelivered: TablestoreSessionIndex;

beforeAll(async () => {
  local = await startLocalTablestore();
  inOrder = await setUpSessionIndex(local.client, `${local.prefix}a_`);
  redelivered = await setUpSessionIndex(local.client, `${local.prefix}b_`);
}, 60_000);

afterAll(async () => {
  await local?.stop();
});

interface Plan {
  seed: number;
  keys: Array<{ ownerAccountId: string; sessionId: string }>;
  ranges: LogGroup[][];
  /** Records that do not parse, per range. */
  badPerRange: number[];
}

function makePlan(seed: number): Plan {
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const owner = (i: number) =>
    `${7 + i}${String(seed).padStart(5, '0')}${String(int(0, 1e9)).padStart(10, '0')}`;
  const owners = [owner(0), owner(1)];
  const sessions = generateSessions(int(2, 5), seed, {
    owners,
    startSeconds: 1_760_000_000 + seed * 1000,
    eventsPerSession: 3,
  });
  const groups = forwardedGroups(sessions, int(1, 4));
  // A forwarded batch sent twice (a PutLogs retried after it was applied): same batch id.
  const duplicate = groups[int(0, groups.length - 1)] as LogGroup;
  groups.splice(int(0, groups.length), 0, duplicate);
  // Another template's logs share the central Logstore.
  groups.splice(int(0, groups.length), 0, {
    logs: [{ time: 1_760_000_000, contents: [{ key: 'session_id', value: 'not-a-session' }] }],
    tags: forwardingTags(owners[0] as string, `waf-${seed}`, 'waf'),
  });
  // A record that does not parse.
  const bad: LogGroup = {
    logs: [
      {
        time: 1_760_000_000,
        contents: [
          { key: 'session_id', value: 'broken' },
          { key: 'event_type', value: 'command' },
          { key: 'event_time', value: 'not a time' },
        ],
      },
    ],
    tags: forwardingTags(owners[1] as string, `bad-${seed}`),
  };
  groups.splice(int(0, groups.length), 0, bad);
  // Half the plans shuffle the groups: a session's end may come before its start.
  if (random() < 0.5) groups.sort(() => random() - 0.5);
  const ranges: LogGroup[][] = [];
  for (let i = 0; i < groups.length; ) {
    const size = int(1, 3);
    ranges.push(groups.slice(i, i + size));
    i += size;
  }
  return {
    seed,
    keys: sessions.map(({ ownerAccountId, sessionId }) => ({ ownerAccountId, sessionId })),
    ranges,
    badPerRange: ranges.map((range) => (range.includes(bad) ? 1 : 0)),
  };
}

/**
 * The index, with a random pause between reading a session's events and writing its fold, so
 * that concurrent deliveries interleave there: a fold read before another delivery's events were
 * written must not overwrite the fold that saw them.
 */
function withPauses(index: TablestoreSessionIndex, random: () => number): SessionEventStore {
  const turns = async () => {
    for (let n = Math.floor(random() * 30); n > 0; n--) await new Promise(setImmediate);
  };
  return {
    putEvents: (events) => index.putEvents(events),
    async eventsOf(key) {
      const events = await index.eventsOf(key);
      await turns();
      return events;
    },
    saveSessions: (sessions) => index.saveSessions(sessions),
    createSessions: (sessions) => index.createSessions(sessions),
  };
}

async function runPlan(plan: Plan): Promise<void> {
  const random = seededRandom(plan.seed * 7919);
  const store = withPauses(redelivered, random);
  const warnings: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    write: (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.level === 'warn') warnings.push(entry);
    },
  });
  for (const [i, range] of plan.ranges.entries()) {
    const report = await indexLogGroups(range, { store: inOrder, logger });
    expect(report.unparseable).toBe(plan.badPerRange[i]);
  }
  const deliveries = plan.ranges.flatMap((range, i) =>
    Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ range, i })),
  );
  deliveries.sort(() => random() - 0.5);
  while (deliveries.length > 0) {
    // One to three deliveries at once, as concurrent invocations would be.
    const wave = deliveries.splice(0, 1 + Math.floor(random() * 3));
    const reports = await Promise.all(
      wave.map(({ range }) => indexLogGroups(range, { store, logger, concurrency: 4 })),
    );
    reports.forEach((report, j) => {
      expect(report.unparseable).toBe(plan.badPerRange[wave[j]?.i ?? -1]);
    });
  }
  for (const key of plan.keys) {
    const expected = await inOrder.get(key);
    expect(expected, `seed ${plan.seed}: session ${key.sessionId} indexed in order`).toBeDefined();
    expect(await redelivered.get(key), `seed ${plan.seed}: session ${key.sessionId}`).toEqual(
      expected,
    );
    expect(await redelivered.eventsOf(key)).toEqual(await inOrder.eventsOf(key));
  }
  // The record that did not parse was logged with where it came from, and indexed nowhere.
  expect(warnings.length).toBeGreaterThan(0);
  expect(warnings[0]).toMatchObject({
    reason: expect.stringContaining('event_time'),
    provenance: { batchId: `bad-${plan.seed}`, sourceLogstore: 'bastionhost-audit-logstore' },
  });
  const owner = plan.keys[0]?.ownerAccountId as string;
  expect(await redelivered.eventsOf({ ownerAccountId: owner, sessionId: 'not-a-session' })).toEqual(
    [],
  );
}

describe('session index: redelivered and overlapping ranges', () => {
  it('a fold that read fewer events never overwrites one that read more (two invocations racing)', async () => {
    const [session] = generateSessions(1, 4243, {
      owners: ['6000000000004242'],
      startSeconds: 1_760_000_000,
      eventsPerSession: 6,
      openShare: 0,
    });
    if (!session) throw new Error('no session');
    const groups = forwardedGroups([session], 1);
    expect(groups.length).toBeGreaterThanOrEqual(3);
    const logger = createLogger({ write: () => {} });
    // The session is stored, folded from its first record.
    expect(
      (await indexLogGroups(groups.slice(0, 1), { store: redelivered, logger })).sessionsWritten,
    ).toBe(1);
    // Invocation A (the second record) reads the stored events, then waits until invocation B
    // (the rest, the end among them) has written its events and its fold of all of them; only
    // then does A write its fold, of fewer events.
    let releaseA: () => void = () => {};
    const bDone = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let aRead: () => void = () => {};
    const aHasRead = new Promise<void>((resolve) => {
      aRead = resolve;
    });
    const slowA: SessionEventStore = {
      putEvents: (events) => redelivered.putEvents(events),
      async eventsOf(key) {
        const events = await redelivered.eventsOf(key);
        aRead();
        await bDone;
        return events;
      },
      saveSessions: (s) => redelivered.saveSessions(s),
      createSessions: (s) => redelivered.createSessions(s),
    };
    const a = indexLogGroups(groups.slice(1, 2), { store: slowA, logger });
    await aHasRead;
    const b = await indexLogGroups(groups.slice(2), { store: redelivered, logger });
    expect(b.sessionsWritten).toBe(1);
    releaseA();
    expect((await a).sessionsUnchanged).toBe(1);
    const stored = await redelivered.get(session);
    expect(stored?.eventCount).toBe(session.records.length);
    expect(stored?.ended).toBe(true);
  });

  it(`${PLANS} seeded plans, each range delivered 1-3 times in random order, equal a single in-order delivery`, async () => {
    const seeds = Array.from({ length: PLANS }, (_, i) => i + 1);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL_PLANS }, async () => {
        while (next < seeds.length) {
          const seed = seeds[next++] as number;
          await runPlan(makePlan(seed));
        }
      }),
    );
  }, 120_000);
});
