// The session index (shared/store/sessions.ts) against localcloud's Tablestore started in this
// process (its search engine, not a copy of one in the in-memory double: the filters, sorts,
// tokens and groups are what this file is about, and localcloud answers them as the cloud does).
// One localcloud and one set of hand-made sessions serve the searches (~200 ms to start), so a
// mutant's run stays short. What it pins: each filter alone and together, both sorts in both
// directions with the primary key breaking ties, paging by signed token bound to its query, the
// summary's groups in count order, and the rows: events created once, sessions written only over
// a fold of fewer events, failures other than a condition thrown.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RowWrite,
  type RowWriteResult,
  SearchTokenRejected,
  selectSearchIndex,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../../../shared/cloud/tablestore';
import { createCursorCodec, InvalidCursor } from '../../../shared/domain/cursor';
import { ipKey } from '../../../shared/sessions/ip';
import type {
  Session,
  SessionEvent,
  SessionFilter,
  SessionSort,
} from '../../../shared/sessions/model';
import {
  ensureSigningKey,
  sessionsSearchIndex,
  storeTables,
  TablestoreSessionIndex,
} from '../../../shared/store';
import { throttled } from '../../support/hooked-tablestore';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
import { setUpSessionIndex } from '../../support/session-index';

const A = '1000000000000001';
const B = '1000000000000002';
const C = '1000000000000003';

function key(ip: string): string {
  const k = ipKey(ip);
  if (k === undefined) throw new Error(`${ip} is no IP`);
  return k;
}

function session(ownerAccountId: string, sessionId: string, extra: Partial<Session>): Session {
  return {
    ownerAccountId,
    sessionId,
    protocol: 'SSH',
    protocolSource: 'record',
    startTime: 1_000,
    ended: false,
    lastEventTime: 1_000,
    activeUntil: 1_000,
    eventCount: 1,
    commandCount: 0,
    fileTransferCount: 0,
    graphicalCount: 0,
    sqlCount: 0,
    blockedCount: 0,
    ...extra,
  };
}

const s1 = session(A, 's1', {
  instanceId: 'bastionhost-1',
  userId: 'u-alice',
  userName: 'alice',
  clientIp: '192.168.1.10',
  clientIpKey: key('192.168.1.10'),
  assetName: 'web-01',
  assetAddress: '10.0.0.5',
  assetPort: 22,
  assetAccount: 'root',
  startTime: 1_000,
  endTime: 2_000,
  ended: true,
  lastEventTime: 2_000,
  activeUntil: 2_000,
  eventCount: 3,
  commandCount: 2,
  region: 'cn-hangzhou',
});
const s2 = session(A, 's2', {
  userId: 'u-bob',
  userName: 'bob',
  clientIp: '192.168.1.20',
  clientIpKey: key('192.168.1.20'),
  assetName: 'db-01',
  assetAddress: '10.0.1.7',
  assetAccount: 'admin',
  protocol: 'MySQL',
  startTime: 1_500,
  lastEventTime: 5_000,
  activeUntil: 5_000,
  sqlCount: 4,
});
const s3 = session(B, 's3', {
  userId: 'u-alice',
  userName: 'alice',
  clientIp: '10.1.1.1',
  clientIpKey: key('10.1.1.1'),
  assetName: 'win-02',
  assetAddress: '172.16.0.1',
  assetAccount: 'root',
  protocol: 'RDP',
  startTime: 3_000,
  endTime: 3_500,
  ended: true,
  lastEventTime: 3_500,
  activeUntil: 3_500,
  graphicalCount: 1,
});
const s4 = session(C, 's4', {
  userId: 'u-carol',
  userName: 'carol',
  clientIp: '192.168.1.15',
  clientIpKey: key('192.168.1.15'),
  assetAddress: 'web-9.example',
  startTime: 500,
  endTime: 600,
  ended: true,
  lastEventTime: 600,
  activeUntil: 600,
});
// Its user id is another session's user name.
const s5 = session(B, 's5', {
  userId: 'alice',
  userName: 'dave',
  protocol: 'SSH',
  startTime: 2_500,
  lastEventTime: 2_600,
  activeUntil: 2_600,
});
// Starts with s2: the primary key orders them.
const s6 = session(C, 's6', {
  userName: 'bob',
  protocol: 'MySQL',
  startTime: 1_500,
  endTime: 1_600,
  ended: true,
  lastEventTime: 1_600,
  activeUntil: 1_600,
});
const ALL = [s1, s2, s3, s4, s5, s6];

let local: LocalTablestore;
let index: TablestoreSessionIndex;

beforeAll(async () => {
  local = await startLocalTablestore();
  index = await setUpSessionIndex(local.client, local.prefix);
  expect(await index.createSessions(ALL)).toEqual(ALL.map(() => true));
});

afterAll(() => local?.stop());

const ids = (sessions: readonly Session[]) => sessions.map((s) => s.sessionId);

async function everyPage(filter: SessionFilter, sort: SessionSort, limit: number) {
  const pages: string[][] = [];
  const totals = new Set<number>();
  let pageToken: string | undefined;
  do {
    const page = await index.search(filter, sort, { limit, pageToken });
    pages.push(ids(page.sessions));
    totals.add(page.totalCount);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return { pages, totals: [...totals] };
}

/** The index over the same tables with its search client (or row client) replaced. */
function indexWith(replace: {
  search?: TablestoreSearchClient['search'];
  batchWriteRows?: TablestoreClient['batchWriteRows'];
}): TablestoreSessionIndex {
  const tables = storeTables(local.prefix);
  const client = local.client;
  const wrapped = new Proxy(client, {
    get(target, prop) {
      if (prop === 'search' && replace.search) return replace.search;
      if (prop === 'batchWriteRows' && replace.batchWriteRows) return replace.batchWriteRows;
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const cursors = createCursorCodec(async () => (await ensureSigningKey(client, tables)).key);
  return new TablestoreSessionIndex(
    wrapped,
    wrapped,
    tables,
    cursors,
    selectSearchIndex(client, sessionsSearchIndex(tables)),
  );
}

describe('search filters', () => {
  const search = async (filter: SessionFilter) =>
    ids((await index.search(filter, 'startTime', { limit: 100 })).sessions);

  it('no filter (or no owners) finds every session', async () => {
    const page = await index.search({}, 'startTime', { limit: 100 });
    expect(page).toStrictEqual({
      sessions: [s4, s1, s2, s6, s5, s3],
      totalCount: 6,
    });
    expect(await search({ ownerAccountIds: [] })).toEqual(['s4', 's1', 's2', 's6', 's5', 's3']);
  });

  it('owners: any of them', async () => {
    expect(await search({ ownerAccountIds: [A] })).toEqual(['s1', 's2']);
    expect(await search({ ownerAccountIds: [B, C] })).toEqual(['s4', 's6', 's5', 's3']);
  });

  it('user: the user name or the user id, exactly', async () => {
    expect(await search({ user: 'alice' })).toEqual(['s1', 's5', 's3']);
    expect(await search({ user: 'u-bob' })).toEqual(['s2']);
    expect(await search({ user: 'ali' })).toEqual([]);
  });

  it("asset: a prefix of the asset's name or address", async () => {
    expect(await search({ asset: 'web-' })).toEqual(['s4', 's1']);
    expect(await search({ asset: '10.0.' })).toEqual(['s1', 's2']);
    expect(await search({ asset: 'db-01' })).toEqual(['s2']);
  });

  it('asset account and protocol, exactly', async () => {
    expect(await search({ assetAccount: 'root' })).toEqual(['s1', 's3']);
    expect(await search({ protocol: 'MySQL' })).toEqual(['s2', 's6']);
    expect(await search({ protocol: 'RDP' })).toEqual(['s3']);
  });

  it('source IP: one address, or a range with both ends included', async () => {
    const one = key('192.168.1.15');
    expect(await search({ sourceIp: { low: one, high: one } })).toEqual(['s4']);
    expect(
      await search({ sourceIp: { low: key('192.168.1.10'), high: key('192.168.1.20') } }),
    ).toEqual(['s4', 's1', 's2']);
    expect(
      await search({ sourceIp: { low: key('192.168.1.11'), high: key('192.168.1.19') } }),
    ).toEqual(['s4']);
  });

  it('time: started before `to` (excluded), active at or after `from` (included)', async () => {
    expect(await search({ to: 1_500 })).toEqual(['s4', 's1']);
    expect(await search({ to: 1_501 })).toEqual(['s4', 's1', 's2', 's6']);
    expect(await search({ from: 3_500 })).toEqual(['s2', 's3']);
    expect(await search({ from: 3_501 })).toEqual(['s2']);
    expect(await search({ from: 1_600, to: 2_600 })).toEqual(['s1', 's2', 's6', 's5']);
  });

  it('filters apply together', async () => {
    expect(await search({ user: 'alice', protocol: 'SSH' })).toEqual(['s1', 's5']);
    expect(await search({ user: 'alice', ownerAccountIds: [B], from: 3_000 })).toEqual(['s3']);
    expect(await search({ assetAccount: 'root', to: 1_000 })).toEqual([]);
  });
});

describe('search sorts and pages', () => {
  it('by start time either way, ties in primary key order the same way', async () => {
    expect(ids((await index.search({}, 'startTime', { limit: 10 })).sessions)).toEqual([
      's4',
      's1',
      's2',
      's6',
      's5',
      's3',
    ]);
    expect(ids((await index.search({}, '-startTime', { limit: 10 })).sessions)).toEqual([
      's3',
      's5',
      's6',
      's2',
      's1',
      's4',
    ]);
  });

  it('by end time either way, open sessions last', async () => {
    expect(ids((await index.search({}, 'endTime', { limit: 10 })).sessions)).toEqual([
      's4',
      's6',
      's1',
      's3',
      's2',
      's5',
    ]);
    expect(ids((await index.search({}, '-endTime', { limit: 10 })).sessions)).toEqual([
      's3',
      's1',
      's6',
      's4',
      's5',
      's2',
    ]);
  });

  it('pages by token to the end, each token only for its query', async () => {
    expect(await everyPage({}, '-startTime', 4)).toEqual({
      pages: [
        ['s3', 's5', 's6', 's2'],
        ['s1', 's4'],
      ],
      totals: [6],
    });
    expect(await everyPage({ user: 'alice' }, 'startTime', 1)).toEqual({
      pages: [['s1'], ['s5'], ['s3']],
      totals: [3],
    });
    const first = await index.search({}, 'startTime', { limit: 2 });
    expect(first.totalCount).toBe(6);
    expect(first.nextPageToken).toEqual(expect.any(String));
    const second = await index.search({}, 'startTime', {
      limit: 2,
      pageToken: first.nextPageToken,
    });
    expect(ids(second.sessions)).toEqual(['s2', 's6']);
    expect(second.totalCount).toBe(6);
    await expect(
      index.search({}, '-startTime', { limit: 2, pageToken: first.nextPageToken }),
    ).rejects.toThrow(/issued for another query/);
    await expect(
      index.search({ user: 'alice' }, 'startTime', { limit: 2, pageToken: first.nextPageToken }),
    ).rejects.toBeInstanceOf(InvalidCursor);
    await expect(
      index.search({}, 'startTime', { limit: 2, pageToken: 'forged' }),
    ).rejects.toBeInstanceOf(InvalidCursor);
  });

  it('the last page has no token, and an empty search neither', async () => {
    const all = await index.search({}, 'startTime', { limit: 6 });
    expect(all.sessions).toHaveLength(6);
    expect(all).not.toHaveProperty('nextPageToken');
    const none = await index.search({ user: 'nobody' }, 'startTime', { limit: 6 });
    expect(none).toStrictEqual({ sessions: [], totalCount: 0 });
  });

  it('a page holds 1 to 1000 sessions, the limit rounded down', async () => {
    expect((await index.search({}, 'startTime', { limit: 0 })).sessions).toHaveLength(1);
    expect((await index.search({}, 'startTime', { limit: -3 })).sessions).toHaveLength(1);
    expect((await index.search({}, 'startTime', { limit: 2.9 })).sessions).toHaveLength(2);
    expect((await index.search({}, 'startTime', { limit: 5_000 })).sessions).toHaveLength(6);
  });

  it('a token the rebuilt index no longer accepts is an invalid cursor', async () => {
    const rejecting = indexWith({
      search: async (request) => {
        if (request.nextToken !== undefined) {
          throw new SearchTokenRejected('Search', request.table, request.index, 'rebuilt');
        }
        return local.client.search(request);
      },
    });
    const first = await rejecting.search({}, 'startTime', { limit: 2 });
    await expect(
      rejecting.search({}, 'startTime', { limit: 2, pageToken: first.nextPageToken }),
    ).rejects.toThrow(new InvalidCursor('the search index no longer accepts it (it was rebuilt)'));
    const failing = indexWith({
      search: async () => {
        throw throttled('Search', 'sessions');
      },
    });
    await expect(failing.search({}, 'startTime', { limit: 2 })).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
  });
  it('a cursor of this query that carries no single search token is refused unsent', async () => {
    const tables = storeTables(local.prefix);
    const cursors = createCursorCodec(
      async () => (await ensureSigningKey(local.client, tables)).key,
    );
    const binding = JSON.stringify(['sessions', sessionsSearchIndex(tables).name, {}, 'startTime']);
    let sent = 0;
    const counting = indexWith({
      search: async (request) => {
        sent += 1;
        return local.client.search(request);
      },
    });
    for (const position of [[7n], ['a', 'b']]) {
      await expect(
        counting.search({}, 'startTime', {
          limit: 2,
          pageToken: await cursors.encode(binding, position),
        }),
      ).rejects.toThrow(new InvalidCursor('its position is malformed'));
    }
    expect(sent).toBe(0);
    // The same codec and binding with one token is a cursor the index takes.
    const first = await counting.search({}, 'startTime', { limit: 2 });
    const [token] = await cursors.decode(binding, first.nextPageToken ?? '');
    const again = await counting.search({}, 'startTime', {
      limit: 2,
      pageToken: await cursors.encode(binding, [token as string]),
    });
    expect(ids(again.sessions)).toEqual(['s2', 's6']);
  });

  it('a next token that came with no sessions ends the paging', async () => {
    const trailing = indexWith({
      search: async (request) => ({
        ...(await local.client.search({
          ...request,
          query: { kind: 'term', field: 'sessionId', value: 'none' },
        })),
        nextToken: 'AAAA',
      }),
    });
    expect(await trailing.search({}, 'startTime', { limit: 2 })).toStrictEqual({
      sessions: [],
      totalCount: 0,
    });
  });
});

describe('summary', () => {
  it('an answer without its group or count is an empty summary', async () => {
    const bare = indexWith({
      search: async () => ({
        rows: [],
        totalCount: undefined,
        nextToken: undefined,
        aggregations: {},
        groupBys: {},
      }),
    });
    expect(await bare.summary('protocol', {})).toStrictEqual({ groups: [], totalCount: 0 });
  });

  it('counts sessions per group, the largest first, ties by key', async () => {
    expect(await index.summary('ownerAccountId', {})).toStrictEqual({
      groups: [
        { key: A, sessions: 2 },
        { key: B, sessions: 2 },
        { key: C, sessions: 2 },
      ],
      totalCount: 6,
    });
    expect(await index.summary('user', {})).toStrictEqual({
      groups: [
        { key: 'alice', sessions: 2 },
        { key: 'bob', sessions: 2 },
        { key: 'carol', sessions: 1 },
        { key: 'dave', sessions: 1 },
      ],
      totalCount: 6,
    });
    expect(await index.summary('protocol', {})).toStrictEqual({
      groups: [
        { key: 'SSH', sessions: 3 },
        { key: 'MySQL', sessions: 2 },
        { key: 'RDP', sessions: 1 },
      ],
      totalCount: 6,
    });
  });

  it('over the sessions of the filter only', async () => {
    expect(await index.summary('protocol', { ownerAccountIds: [A, B], from: 2_000 })).toStrictEqual(
      {
        groups: [
          { key: 'SSH', sessions: 2 },
          { key: 'MySQL', sessions: 1 },
          { key: 'RDP', sessions: 1 },
        ],
        totalCount: 4,
      },
    );
    expect(await index.summary('user', { to: 0 })).toStrictEqual({ groups: [], totalCount: 0 });
  });
});

function event(
  ownerAccountId: string,
  sessionId: string,
  eventTime: number,
  extra: Partial<SessionEvent> = {},
): SessionEvent {
  return {
    ownerAccountId,
    sessionId,
    eventId: `e${eventTime}`,
    eventTime,
    eventType: 'command',
    ...extra,
  };
}

describe('rows', () => {
  const D = '1000000000000009';

  it('a session reads back with exactly its fields, or not at all', async () => {
    expect(await index.get({ ownerAccountId: A, sessionId: 's1' })).toStrictEqual(s1);
    expect(await index.get({ ownerAccountId: A, sessionId: 's2' })).toStrictEqual(s2);
    expect(await index.get({ ownerAccountId: B, sessionId: 's1' })).toBeUndefined();
  });

  it('events are created once and read back in time order, only their own', async () => {
    await index.putEvents([]);
    const full = event(D, 'x', 3_000, {
      content: 'ls -l',
      result: 'ok',
      instanceId: 'bastionhost-1',
      userId: 'u',
      userName: 'n',
      clientIp: '1.2.3.4',
      assetName: 'web',
      assetAddress: '10.0.0.1',
      assetPort: 22,
      assetAccount: 'root',
      protocol: 'SSH',
      sessionStartTime: 1_000,
      sessionEndTime: 4_000,
      region: 'cn-hangzhou',
      sourceProject: 'p',
      sourceLogstore: 'l',
    });
    await index.putEvents([event(D, 'x', 2_000), full, event(D, 'xy', 1_000)]);
    // Delivered again, with other contents under the same id: the first one stays.
    await index.putEvents([event(D, 'x', 2_000, { content: 'again' }), event(D, 'x', 1_000)]);
    expect(await index.eventsOf({ ownerAccountId: D, sessionId: 'x' })).toStrictEqual([
      event(D, 'x', 1_000),
      event(D, 'x', 2_000),
      full,
    ]);
    const first = await index.events({ ownerAccountId: D, sessionId: 'x' }, { limit: 2 });
    expect(first.events).toStrictEqual([event(D, 'x', 1_000), event(D, 'x', 2_000)]);
    const rest = await index.events(
      { ownerAccountId: D, sessionId: 'x' },
      { limit: 2, pageToken: first.nextPageToken },
    );
    expect(rest).toStrictEqual({ events: [full] });
    await expect(
      index.events(
        { ownerAccountId: D, sessionId: 'xy' },
        { limit: 2, pageToken: first.nextPageToken },
      ),
    ).rejects.toThrow(/issued for another query/);
  });

  it('an event row failing for another reason than existing throws', async () => {
    const failing = indexWith({
      batchWriteRows: async (writes: readonly RowWrite[]): Promise<RowWriteResult[]> => {
        const [head, ...rest] = writes;
        const results = await local.client.batchWriteRows(rest);
        return [{ ok: false, error: throttled('BatchWriteRow', head?.table ?? '') }, ...results];
      },
    });
    await expect(failing.putEvents([event(D, 'f', 1), event(D, 'f', 2)])).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
    await expect(failing.saveSessions([session(D, 'f', {})])).rejects.toMatchObject({
      code: 'OTSServerBusy',
    });
  });

  it('a session is created once, and saved only over a fold of fewer events', async () => {
    expect(await index.saveSessions([])).toEqual([]);
    expect(await index.createSessions([])).toEqual([]);
    const three = session(D, 'y', { eventCount: 3, userName: 'three' });
    expect(await index.createSessions([three, session(D, 'z', {})])).toEqual([true, true]);
    expect(await index.createSessions([session(D, 'y', {}), session(D, 'w', {})])).toEqual([
      false,
      true,
    ]);
    expect(await index.get({ ownerAccountId: D, sessionId: 'y' })).toStrictEqual(three);
    expect(
      await index.saveSessions([
        session(D, 'y', { eventCount: 3, userName: 'same' }),
        session(D, 'y2', { eventCount: 1 }),
      ]),
    ).toEqual([false, true]);
    expect(await index.get({ ownerAccountId: D, sessionId: 'y' })).toStrictEqual(three);
    const four = session(D, 'y', { eventCount: 4, userName: 'four' });
    expect(await index.saveSessions([four])).toEqual([true]);
    expect(await index.get({ ownerAccountId: D, sessionId: 'y' })).toStrictEqual(four);
    expect(await index.saveSessions([session(D, 'y', { eventCount: 2 })])).toEqual([false]);
  });
});
