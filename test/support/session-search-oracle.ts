// The brute-force answer to a session search, and random filter combinations to ask: the search
// test and the sessions bench compare the index's pages with these, page by page. The filter
// rules are written out again here (not imported), so the search index is checked, not copied.

import { ipRange } from '../../shared/sessions/ip';
import type { Session, SessionFilter, SessionSort } from '../../shared/sessions/model';
import type { SessionSearch } from '../../shared/sessions/ports';

function ipv4Number(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  return parts.reduce((n, part) => n * 256 + Number(part), 0);
}

/** A filter as the test states it: source IP as text (an address or an IPv4 CIDR block). */
export interface OracleFilter extends Omit<SessionFilter, 'sourceIp'> {
  sourceIp?: string;
}

function ipMatches(clientIp: string | undefined, wanted: string): boolean {
  if (clientIp === undefined) return false;
  if (!wanted.includes('/')) return clientIp === wanted;
  const [block, bitsText] = wanted.split('/') as [string, string];
  const bits = Number(bitsText);
  const a = ipv4Number(clientIp);
  const b = ipv4Number(block);
  if (a === undefined || b === undefined) {
    // IPv6 blocks asked by the tests are whole 16-bit groups: compare the leading groups.
    if (!clientIp.includes(':') || !block.includes(':')) return false;
    const groups = bits / 16;
    const lead = (ip: string) => ip.split(':').slice(0, groups).join(':');
    return lead(clientIp) === lead(block);
  }
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}

export function matches(session: Session, filter: OracleFilter): boolean {
  if (filter.ownerAccountIds && !filter.ownerAccountIds.includes(session.ownerAccountId)) {
    return false;
  }
  if (
    filter.user !== undefined &&
    session.userName !== filter.user &&
    session.userId !== filter.user
  )
    return false;
  if (
    filter.asset !== undefined &&
    !(session.assetName?.startsWith(filter.asset) || session.assetAddress?.startsWith(filter.asset))
  )
    return false;
  if (filter.assetAccount !== undefined && session.assetAccount !== filter.assetAccount)
    return false;
  if (filter.protocol !== undefined && session.protocol !== filter.protocol) return false;
  if (filter.sourceIp !== undefined && !ipMatches(session.clientIp, filter.sourceIp)) return false;
  if (filter.to !== undefined && !(session.startTime < filter.to)) return false;
  if (filter.from !== undefined && !(session.activeUntil >= filter.from)) return false;
  return true;
}

const keyOrder = (a: Session, b: Session) =>
  a.ownerAccountId < b.ownerAccountId
    ? -1
    : a.ownerAccountId > b.ownerAccountId
      ? 1
      : a.sessionId < b.sessionId
        ? -1
        : a.sessionId > b.sessionId
          ? 1
          : 0;

/** Matching sessions in the order a search returns them (ties by primary key, same direction). */
export function bruteForce(
  sessions: readonly Session[],
  filter: OracleFilter,
  sort: SessionSort,
): Session[] {
  const desc = sort.startsWith('-');
  const field = (desc ? sort.slice(1) : sort) as 'startTime' | 'endTime';
  const sign = desc ? -1 : 1;
  return sessions
    .filter((s) => matches(s, filter))
    .sort((a, b) => {
      const va = a[field];
      const vb = b[field];
      if (va === undefined && vb !== undefined) return 1;
      if (vb === undefined && va !== undefined) return -1;
      if (va !== undefined && vb !== undefined && va !== vb) return sign * (va - vb);
      return sign * keyOrder(a, b);
    });
}

export interface SearchSpace {
  owners: readonly string[];
  users: readonly string[];
  assets: readonly string[];
  accounts: readonly string[];
  protocols: ReadonlyArray<NonNullable<SessionFilter['protocol']>>;
  ips: readonly string[];
  /** Epoch ms the sessions span. */
  timeRange: { min: number; max: number };
}

/** What filters to draw for a set of sessions: the values they hold, and addresses and blocks. */
export function searchSpaceOf(
  sessions: readonly Session[],
  owners: readonly string[],
): SearchSpace {
  const users = new Set<string>();
  const assets = new Set<string>();
  const accounts = new Set<string>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const s of sessions) {
    for (const user of [s.userName, s.userId]) if (user) users.add(user);
    for (const asset of [s.assetName, s.assetAddress]) if (asset) assets.add(asset);
    if (s.assetAccount) accounts.add(s.assetAccount);
    min = Math.min(min, s.startTime);
    max = Math.max(max, s.startTime);
  }
  return {
    owners,
    users: [...users],
    assets: [...assets],
    accounts: [...accounts],
    protocols: ['SSH', 'SFTP', 'RDP', 'MySQL', 'PostgreSQL', 'unknown'],
    ips: [
      '10.20.1.5',
      '10.20.0.0/16',
      '10.0.0.0/8',
      '172.16.4.2/32',
      '2001:db8::15',
      '2001:db8::/32',
      '203.0.113.0/24',
    ],
    timeRange: { min: min - 60_000, max: max + 60_000 },
  };
}

/** The oracle's filter as the index takes it (the source IP as a range of keys). */
export function indexFilter(filter: OracleFilter): SessionFilter {
  const { sourceIp, ...rest } = filter;
  const range = sourceIp === undefined ? undefined : ipRange(sourceIp);
  return range ? { ...rest, sourceIp: range } : rest;
}

/** A random combination of filters (each present with some probability) and a sort. */
export function randomQuery(
  random: () => number,
  space: SearchSpace,
): { filter: OracleFilter; sort: SessionSort; limit: number } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const filter: OracleFilter = {};
  if (random() < 0.4) {
    const n = 1 + Math.floor(random() * 3);
    filter.ownerAccountIds = [...new Set(Array.from({ length: n }, () => pick(space.owners)))];
  }
  if (random() < 0.3) filter.user = pick(space.users);
  if (random() < 0.3) {
    const asset = pick(space.assets);
    filter.asset = asset.slice(0, 1 + Math.floor(random() * asset.length));
  }
  if (random() < 0.2) filter.assetAccount = pick(space.accounts);
  if (random() < 0.3) filter.protocol = pick(space.protocols);
  if (random() < 0.25) filter.sourceIp = pick(space.ips);
  const span = space.timeRange.max - space.timeRange.min;
  if (random() < 0.4) filter.from = space.timeRange.min + Math.floor(random() * span);
  if (random() < 0.4) {
    filter.to = (filter.from ?? space.timeRange.min) + Math.floor(random() * span);
  }
  const sort = pick<SessionSort>(['-startTime', 'startTime', '-endTime', 'endTime']);
  return { filter, sort, limit: 1 + Math.floor(random() * 100) };
}

/**
 * Pages through a search by token and compares every page with the brute-force answer: each
 * page but the last full, the pages together exactly the answer, the total count right. Returns
 * a description of the first difference, or undefined.
 */
export async function comparePages(
  search: SessionSearch,
  sessions: readonly Session[],
  query: { filter: OracleFilter; sort: SessionSort; limit: number },
  maxPages = Number.POSITIVE_INFINITY,
): Promise<{ pages: number; rows: number; mismatch?: string }> {
  const expected = bruteForce(sessions, query.filter, query.sort);
  const filter = indexFilter(query.filter);
  const key = (s: Session) => `${s.ownerAccountId}/${s.sessionId}`;
  let token: string | undefined;
  let offset = 0;
  let pages = 0;
  do {
    const page = await search.search(filter, query.sort, {
      limit: query.limit,
      ...(token !== undefined ? { pageToken: token } : {}),
    });
    pages += 1;
    if (page.totalCount !== expected.length) {
      return {
        pages,
        rows: offset,
        mismatch: `total ${page.totalCount}, expected ${expected.length}`,
      };
    }
    const want = expected.slice(offset, offset + query.limit).map(key);
    const got = page.sessions.map(key);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      return {
        pages,
        rows: offset,
        mismatch: `page ${pages} (offset ${offset}): got ${got.length} [${got.slice(0, 3)}...], expected ${want.length} [${want.slice(0, 3)}...]`,
      };
    }
    offset += got.length;
    token = page.nextPageToken;
  } while (token !== undefined && pages < maxPages);
  if (pages < maxPages && offset !== expected.length) {
    return { pages, rows: offset, mismatch: `paged ${offset} rows, expected ${expected.length}` };
  }
  return { pages, rows: offset };
}
