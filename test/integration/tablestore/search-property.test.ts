// Property: random rows, random bool combinations of term, range and prefix queries with random
// sorts, paged by next_token while more rows are written between pages. Every page equals the
// brute-force page over the rows as they are at that moment, after the previous page's last row;
// the pages never repeat a row and miss none of the rows that existed when paging began.

import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';
import type { SdkClient } from './sdk';
import {
  BASE_TIME,
  compareRows,
  createSessionsIndex,
  createSessionsTable,
  idsOf,
  matches,
  type SessionRow,
  sdkQuery,
  sdkSort,
  search,
  sessionRows,
  TABLE,
  type TestQuery,
  type TestSort,
  writeRows,
} from './search-support';

let harness: Harness;
let client: SdkClient;

beforeAll(async () => {
  harness = await startHarness();
  client = harness.client();
});

afterAll(async () => {
  await harness.close();
});

const DAY = 86_400_000;

const clause: fc.Arbitrary<TestQuery> = fc.oneof(
  fc.record({
    kind: fc.constant('term' as const),
    field: fc.constantFrom('account', 'user', 'protocol'),
    value: fc.constantFrom('1001', '1002', '1003', 'alice', 'bob', 'carol', 'SSH', 'RDP'),
  }),
  fc.record({
    kind: fc.constant('range' as const),
    field: fc.constant('duration'),
    from: fc.integer({ min: 0, max: 4000 }),
    to: fc.integer({ min: 1000, max: 6000 }),
    includeLower: fc.boolean(),
    includeUpper: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('range' as const),
    field: fc.constant('start'),
    from: fc.integer({ min: 0, max: 30 }).map((d) => BASE_TIME + d * DAY),
    includeLower: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('prefix' as const),
    field: fc.constantFrom('ip', 'user'),
    prefix: fc.constantFrom('10.0.1', '10.0.', 'a', 'c', 'd'),
  }),
);

const query: fc.Arbitrary<TestQuery> = fc.oneof(
  clause,
  fc
    .record({
      must: fc.array(clause, { maxLength: 2 }),
      mustNot: fc.array(clause, { maxLength: 1 }),
      filter: fc.array(clause, { maxLength: 2 }),
      should: fc.array(clause, { maxLength: 3 }),
      minimum: fc.integer({ min: 1, max: 3 }),
    })
    .map(
      ({ must, mustNot, filter, should, minimum }): TestQuery => ({
        kind: 'bool',
        must,
        mustNot,
        filter,
        ...(should.length > 0
          ? { should, minimumShouldMatch: Math.min(minimum, should.length) }
          : {}),
      }),
    ),
);

const sorts: fc.Arbitrary<TestSort[]> = fc.array(
  fc.record({
    field: fc.constantFrom('start', 'duration', 'score', 'user', 'account', 'active'),
    desc: fc.boolean(),
    missingFirst: fc.boolean(),
  }),
  { maxLength: 2 },
);

it('pages by next_token equal brute force while rows are written, without gaps or repeats', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      query,
      sorts,
      fc.integer({ min: 1, max: 25 }),
      fc.integer({ min: 1, max: 1_000_000 }),
      async (q, s, limit, seed) => {
        run++;
        await client.deleteTable({ tableName: TABLE }).catch(() => undefined);
        await createSessionsTable(client);
        await createSessionsIndex(client);
        const current: SessionRow[] = sessionRows(120, seed, 'a');
        await writeRows(client, current);
        const matching = (rows: readonly SessionRow[]) =>
          rows
            .filter((row) => matches(q, row as unknown as Record<string, unknown>))
            .sort(compareRows(s));
        const atStart = new Set(matching(current).map((row) => row.id));
        const compare = compareRows(s);

        const seen: string[] = [];
        let last: SessionRow | undefined;
        let token: Buffer | null = null;
        let page = 0;
        do {
          const response = await search(client, {
            query: sdkQuery(q),
            limit,
            ...(token ? { token } : s.length > 0 ? { sort: sdkSort(s) } : {}),
          });
          const ids = idsOf(response.rows);
          const after = last;
          const expected = matching(current)
            .filter((row) => after === undefined || compare(row, after) > 0)
            .slice(0, limit)
            .map((row) => row.id);
          expect(ids).toEqual(expected);
          seen.push(...ids);
          last = current.find((row) => row.id === ids.at(-1)) ?? last;
          token = response.nextToken && response.nextToken.length > 0 ? response.nextToken : null;
          page++;
          if (token && page <= 6) {
            // More rows arrive between pages: some sort before the cursor, some after.
            const more = sessionRows(15, seed + page, `r${run}p${page}-`);
            await writeRows(client, more);
            current.push(...more);
          }
        } while (token);

        expect(new Set(seen).size).toBe(seen.length);
        for (const id of atStart) expect(seen).toContain(id);
      },
    ),
    { numRuns: 30 },
  );
});
