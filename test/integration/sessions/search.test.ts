// Session search over localcloud's Tablestore search index, against brute force: 200 random
// combinations of every filter with random sorts and page sizes, paged by token to the end, each
// page compared (issue 14, done-when, at test scale; the bench runs it over the bench data set).
// Then the HTTP routes over the same index: each filter from the query string, summary counts,
// CSV equal to the paged JSON with formula cells defused, one session and its events, and the
// 400s (unknown protocol, malformed IP or CIDR, from after to, tampered token).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFailureForApi } from '../../../shared/cloud/tablestore';
import { createHttpApp } from '../../../shared/http/app';
import { createTokenVerifier } from '../../../shared/http/auth';
import { sessionRoutes } from '../../../shared/http/session-routes';
import type { Session, SessionEvent } from '../../../shared/sessions/model';
import { foldSession, parseRecord, provenanceOf } from '../../../shared/sessions/records';
import {
  createSessionIndex,
  ensureStoreTables,
  type TablestoreSessionIndex,
} from '../../../shared/store';
import { forwardingTags, generateSessions } from '../../support/bastionhost-sessions';
import { bindings } from '../../support/invocation';
import { type LocalTablestore, startLocalTablestore } from '../../support/localcloud-tablestore';
import { seededRandom } from '../../support/seeded-random';
import { setUpSessionIndex } from '../../support/session-index';
import {
  bruteForce,
  comparePages,
  type OracleFilter,
  randomQuery,
  searchSpaceOf,
} from '../../support/session-search-oracle';
import { createTestIssuer } from '../../support/tokens';

const SESSIONS = 1000;
const OWNERS = Array.from({ length: 12 }, (_, i) => `50000000000000${String(i).padStart(2, '0')}`);

let local: LocalTablestore;
let index: TablestoreSessionIndex;
let sessions: Session[];
let eventsBySession: Map<string, SessionEvent[]>;
let app: ReturnType<typeof createHttpApp>;
let token: string;

beforeAll(async () => {
  local = await startLocalTablestore();
  index = await setUpSessionIndex(local.client, local.prefix);
  const generated = generateSessions(SESSIONS, 99, {
    owners: OWNERS,
    startSeconds: 1_760_000_000,
  });
  eventsBySession = new Map();
  sessions = generated.map((g) => {
    const provenance = provenanceOf(forwardingTags(g.ownerAccountId, 'b'));
    const events = g.records.map((record) => {
      const parsed = parseRecord(record, provenance);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.event;
    });
    eventsBySession.set(`${g.ownerAccountId}/${g.sessionId}`, events);
    return foldSession(events);
  });
  await index.saveSessions(sessions);
  const issuer = await createTestIssuer();
  app = createHttpApp({
    routes: sessionRoutes({ sessions: () => index }),
    verifier: createTokenVerifier(issuer.config),
  });
  token = await issuer.mint({ roles: ['viewer'] });
}, 120_000);

afterAll(async () => {
  await local?.stop();
});

const get = (path: string, accept = 'application/json') =>
  app.fetch(
    new Request(`https://api.test${path}`, {
      headers: { authorization: `Bearer ${token}`, accept },
    }),
    bindings(),
  );

describe('session search', () => {
  it('returns whole sessions as they were folded', async () => {
    const page = await index.search({}, '-startTime', { limit: 20 });
    const expected = bruteForce(sessions, {}, '-startTime').slice(0, 20);
    expect(page.sessions).toEqual(expected);
    expect(page.totalCount).toBe(SESSIONS);
  });

  it('200 random filter combinations equal brute force, page by page', async () => {
    const random = seededRandom(2026);
    const searchSpace = searchSpaceOf(sessions, OWNERS);
    let nonEmpty = 0;
    for (let i = 0; i < 200; i++) {
      const query = randomQuery(random, searchSpace);
      const result = await comparePages(index, sessions, query);
      expect(result.mismatch, `query ${i}: ${JSON.stringify(query)}`).toBeUndefined();
      if (result.rows > 0) nonEmpty += 1;
    }
    // The combinations are not all trivially empty.
    expect(nonEmpty).toBeGreaterThan(100);
  }, 120_000);
});

describe('session routes', () => {
  const readAll = async (query: string) => {
    const out: Array<{ sessionId: string }> = [];
    let next: string | undefined;
    let total = -1;
    do {
      const response = await get(
        `/v1/sessions?${query}&limit=100${next ? `&pageToken=${encodeURIComponent(next)}` : ''}`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        sessions: Array<{ sessionId: string }>;
        totalCount: number;
        nextPageToken?: string;
      };
      out.push(...body.sessions);
      total = body.totalCount;
      next = body.nextPageToken;
    } while (next);
    return { sessions: out, total };
  };

  it('each filter from the query string, alone and combined', async () => {
    const t = sessions[700]?.startTime as number;
    const cases: Array<[string, OracleFilter]> = [
      [
        `ownerAccountId=${OWNERS[1]}&ownerAccountId=${OWNERS[2]}`,
        { ownerAccountIds: [OWNERS[1] as string, OWNERS[2] as string] },
      ],
      [
        `ownerAccountId=${OWNERS[3]},${OWNERS[4]}`,
        { ownerAccountIds: [OWNERS[3] as string, OWNERS[4] as string] },
      ],
      ['user=alice', { user: 'alice' }],
      ['asset=web-', { asset: 'web-' }],
      ['asset=rm-bp1', { asset: 'rm-bp1' }],
      ['assetAccount=deploy', { assetAccount: 'deploy' }],
      ['protocol=sftp', { protocol: 'SFTP' }],
      ['sourceIp=10.20.0.0/16', { sourceIp: '10.20.0.0/16' }],
      ['sourceIp=2001:db8::15', { sourceIp: '2001:db8::15' }],
      [`from=${new Date(t).toISOString()}`, { from: t }],
      [`to=${new Date(t).toISOString()}`, { to: t }],
      [
        `ownerAccountId=${OWNERS[0]}&protocol=SSH&sourceIp=10.0.0.0/8&from=${new Date(t - 3_600_000).toISOString()}&to=${new Date(t).toISOString()}`,
        {
          ownerAccountIds: [OWNERS[0] as string],
          protocol: 'SSH',
          sourceIp: '10.0.0.0/8',
          from: t - 3_600_000,
          to: t,
        },
      ],
    ];
    for (const [query, filter] of cases) {
      const expected = bruteForce(sessions, filter, '-startTime').map((s) => s.sessionId);
      const { sessions: got, total } = await readAll(query);
      expect(
        got.map((s) => s.sessionId),
        query,
      ).toEqual(expected);
      expect(total, query).toBe(expected.length);
      expect(expected.length, `${query} selects something`).toBeGreaterThan(0);
    }
  }, 60_000);

  it('the CSV download equals the paged JSON, formula cells defused', async () => {
    const query = `protocol=SSH&sort=startTime`;
    const response = await get(`/v1/sessions?${query}`, 'text/csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const lines = (await response.text()).trimEnd().split('\r\n');
    expect(lines[0]?.split(',').slice(0, 3)).toEqual(['ownerAccountId', 'sessionId', 'userName']);
    const { sessions: paged } = await readAll(query);
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual(paged.map((s) => s.sessionId));
    // The asset named `=cmd|calc` and the account `+ops` come out quoted, never as formulas.
    const risky = lines.find((line) => line.includes('cmd|calc'));
    expect(risky).toBeDefined();
    expect(risky).toContain(",'=cmd|calc,");
    expect(risky).toContain(",'+ops,");
  });

  it('summary counts per owner account, user and protocol equal brute force', async () => {
    const t = sessions[500]?.startTime as number;
    const from = new Date(t - 2 * 3_600_000).toISOString();
    const to = new Date(t).toISOString();
    for (const groupBy of ['ownerAccountId', 'user', 'protocol'] as const) {
      const response = await get(`/v1/sessions/summary?groupBy=${groupBy}&from=${from}&to=${to}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        totalCount: number;
        groups: Array<{ key: string; sessions: number }>;
      };
      const matching = bruteForce(
        sessions,
        { from: Date.parse(from), to: Date.parse(to) },
        '-startTime',
      );
      const counts = new Map<string, number>();
      for (const s of matching) {
        const key = groupBy === 'user' ? s.userName : s[groupBy];
        if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      expect(body.totalCount).toBe(matching.length);
      expect(Object.fromEntries(body.groups.map((g) => [g.key, g.sessions]))).toEqual(
        Object.fromEntries(counts),
      );
    }
  });

  it('one session, and its events paged by time', async () => {
    const session = sessions[42] as Session;
    const key = `${session.ownerAccountId}/${session.sessionId}`;
    const events = eventsBySession.get(key) ?? [];
    await index.putEvents(events);
    const detail = await get(`/v1/sessions/${key}`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      sessionId: session.sessionId,
      ownerAccountId: session.ownerAccountId,
      protocol: session.protocol,
      startTime: new Date(session.startTime).toISOString(),
      eventCount: events.length,
    });
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const response = await get(
        `/v1/sessions/${key}/events?limit=2${next ? `&pageToken=${encodeURIComponent(next)}` : ''}`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        events: Array<{ eventId: string }>;
        nextPageToken?: string;
      };
      seen.push(...body.events.map((e) => e.eventId));
      next = body.nextPageToken;
    } while (next);
    expect(seen).toEqual(
      [...events]
        .sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : 1))
        .map((e) => e.eventId),
    );
    expect((await get(`/v1/sessions/${session.ownerAccountId}/no-such-session`)).status).toBe(404);
  });

  it('bad input is 400 naming the field', async () => {
    const first = (await (await get('/v1/sessions?limit=5')).json()) as { nextPageToken: string };
    const tampered = `${first.nextPageToken.slice(0, -2)}${first.nextPageToken.endsWith('A') ? 'B' : 'A'}A`;
    const cases: Array<[string, string[]]> = [
      ['protocol=gopher', ['protocol']],
      ['sourceIp=10.0.0.300', ['sourceIp']],
      ['sourceIp=10.0.0.0/40', ['sourceIp']],
      ['ownerAccountId=12', ['ownerAccountId']],
      ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', ['from', 'to']],
      ['from=yesterday', ['from']],
      ['sort=user', ['sort']],
      ['limit=0', ['limit']],
      [`pageToken=${encodeURIComponent(tampered)}`, ['pageToken']],
      // A token of another query is refused as well.
      [`protocol=RDP&pageToken=${encodeURIComponent(first.nextPageToken)}`, ['pageToken']],
    ];
    for (const [query, fields] of cases) {
      const response = await get(`/v1/sessions?${query}`);
      const body = (await response.json()) as {
        code: string;
        requestId: string;
        details: { issues: Array<{ field: string }> };
      };
      expect(response.status, query).toBe(400);
      expect(body.requestId).toBeTruthy();
      expect(body.details.issues.map((i) => i.field).sort(), query).toEqual(fields);
    }
    const summary = await get('/v1/sessions/summary?groupBy=asset');
    expect(summary.status).toBe(400);
  });
});

describe('before setup', () => {
  // What a deployment whose setup step has not run (or not finished) answers: 503 naming what is
  // missing, from the errors localcloud's Tablestore gives as the service does.
  async function answer(client: Awaited<ReturnType<LocalTablestore['freshInstance']>>) {
    const unready = createSessionIndex({ client, tablePrefix: 'rdg_' });
    const issuer = await createTestIssuer();
    const unreadyApp = createHttpApp({
      routes: sessionRoutes({ sessions: () => unready }),
      verifier: createTokenVerifier(issuer.config),
      mapError: storeFailureForApi,
    });
    const viewer = await issuer.mint({ roles: ['viewer'] });
    const ask = async (path: string) => {
      const response = await unreadyApp.fetch(
        new Request(`https://api.test${path}`, { headers: { authorization: `Bearer ${viewer}` } }),
        bindings(),
      );
      return {
        status: response.status,
        body: (await response.json()) as { code: string; details: { missing: string } },
      };
    };
    return ask;
  }

  it('without its tables, session routes answer 503 StoreNotReady naming the table', async () => {
    const ask = await answer(await local.freshInstance());
    for (const path of [
      '/v1/sessions',
      '/v1/sessions/summary',
      '/v1/sessions/1000000000000001/s-1',
    ]) {
      const { status, body } = await ask(path);
      expect(status, path).toBe(503);
      expect(body.code, path).toBe('StoreNotReady');
      expect(body.details.missing, path).toMatch(/^table rdg_sessions/);
    }
  });

  it('with its tables but not its search index, search answers 503 naming the index', async () => {
    const client = await local.freshInstance();
    await ensureStoreTables(client, { prefix: 'rdg_' });
    const ask = await answer(client);
    const { status, body } = await ask('/v1/sessions');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      code: 'StoreNotReady',
      details: { missing: 'index sessions_v1' },
    });
  });
});
