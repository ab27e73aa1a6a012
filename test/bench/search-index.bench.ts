// localcloud Tablestore search index at session-audit scale, through the official SDK: 1M rows
// with 8 indexed fields; how long the index takes to rebuild on start; p50/p99 of a term query,
// a range query, a 4-filter bool query sorted by time, and a group-by over every row; memory per
// stored row and per indexed row; and a new index on the 1M rows: how fast CreateSearchIndex
// answers and how long its FULL phase indexes in the background.
// Run alone: npm run bench -- search-index [-- --rows 200000]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createTablestoreService, type TablestoreService } from '../../localcloud/tablestore';
import { type Harness, startHarness, TestClock } from '../integration/tablestore/harness';
import { long, type SdkClient, TableStore } from '../integration/tablestore/sdk';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = argument('rows', 1_000_000);
const SAMPLES = argument('samples', 200);
const TABLE = 'audit';
const INDEX = 'audit_index';
const DAY = 86_400_000;
const BASE = Date.UTC(2024, 0, 1);
const F = TableStore.FieldType;

/** Session records: 50 accounts, 2000 users, 5000 assets, 6 protocols, 90 days. */
function row(i: number): Array<Record<string, unknown>> {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return [
    { account: `acct-${h % 50}` },
    { user: `user-${(h >>> 3) % 2000}` },
    { asset: `asset-${(h >>> 7) % 5000}` },
    { assetAccount: `os-${(h >>> 11) % 20}` },
    { protocol: ['SSH', 'RDP', 'SFTP', 'MySQL', 'Telnet', 'VNC'][(h >>> 13) % 6] },
    { sourceIp: `10.${(h >>> 5) % 256}.${(h >>> 15) % 256}.${h % 251}` },
    { start: long(BASE + (h % (90 * DAY))) },
    { duration: long((h >>> 9) % 7200) },
  ];
}

const fields = [
  ['account', F.KEYWORD],
  ['user', F.KEYWORD],
  ['asset', F.KEYWORD],
  ['assetAccount', F.KEYWORD],
  ['protocol', F.KEYWORD],
  ['sourceIp', F.KEYWORD],
  ['start', F.DATE],
  ['duration', F.LONG],
].map(([fieldName, fieldType]) => ({ fieldName, fieldType, index: true, enableSortAndAgg: true }));

const Q = TableStore.QueryType;
const term = (fieldName: string, value: unknown) => ({
  queryType: Q.TERM_QUERY,
  query: { fieldName, term: value },
});
const range = (fieldName: string, from: number, to: number) => ({
  queryType: Q.RANGE_QUERY,
  query: {
    fieldName,
    rangeFrom: long(from),
    rangeTo: long(to),
    includeLower: true,
    includeUpper: false,
  },
});

/**
 * Retries a call that failed on the connection (an idle keep-alive socket the server closed
 * while this loaded machine kept its event loop busy); the calls retried are idempotent.
 */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5 || (error as { code?: unknown }).code !== 'NetworkingError') throw error;
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function latency(label: string, run: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 5; i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(
    `  ${label.padEnd(44)} p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(times, 99).toFixed(1).padStart(7)} ms`,
  );
}

/** Heap and array-buffer memory (typed arrays live outside the JS heap), after a full GC. */
function heapMb(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.arrayBuffers) / 2 ** 20;
}

async function load(client: SdkClient): Promise<void> {
  const started = performance.now();
  let next = 0;
  const batches = Math.ceil(ROWS / 200);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let b = next++; b < batches; b = next++) {
        const rows: Array<Record<string, unknown>> = [];
        for (let i = b * 200; i < Math.min(ROWS, (b + 1) * 200); i++) {
          rows.push({
            type: 'PUT',
            condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
            primaryKey: [{ id: `s${String(i).padStart(8, '0')}` }],
            attributeColumns: row(i),
          });
        }
        const result = await retried(() =>
          client.batchWriteRow({ tables: [{ tableName: TABLE, rows }] }),
        );
        if (!result.tables.every((r) => r.isOk)) throw new Error('batch write failed');
      }
    }),
  );
  console.log(
    `  wrote ${ROWS} rows (indexed as they arrive) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function queries(client: SdkClient): Promise<void> {
  const search = (searchQuery: Record<string, unknown>) =>
    retried(() =>
      client.search({
        tableName: TABLE,
        indexName: INDEX,
        searchQuery,
        columnToGet: { returnType: TableStore.ColumnReturnType.RETURN_NONE },
      }),
    );
  const total = await search({
    query: { queryType: Q.MATCH_ALL_QUERY },
    limit: 0,
    getTotalCount: true,
  });
  console.log(`  index holds ${total.totalCounts} rows`);
  await latency('term (account = one of 50), limit 100', (i) =>
    search({ query: term('account', `acct-${i % 50}`), limit: 100, getTotalCount: true }),
  );
  await latency('range (start within one day), limit 100', (i) =>
    search({
      query: range('start', BASE + (i % 89) * DAY, BASE + ((i % 89) + 1) * DAY),
      limit: 100,
    }),
  );
  await latency('bool of 4 filters sorted by start desc, 100', (i) =>
    search({
      query: {
        queryType: Q.BOOL_QUERY,
        query: {
          filterQueries: [
            term('account', `acct-${i % 50}`),
            term('protocol', ['SSH', 'RDP', 'SFTP'][i % 3]),
            range('start', BASE + (i % 60) * DAY, BASE + ((i % 60) + 30) * DAY),
            range('duration', 60, 7200),
          ],
        },
      },
      sort: {
        sorters: [
          { fieldSort: { fieldName: 'start', order: TableStore.SortOrder.SORT_ORDER_DESC } },
        ],
      },
      limit: 100,
      getTotalCount: true,
    }),
  );
  await latency('group by account (size 50) over every row', () =>
    search({
      query: { queryType: Q.MATCH_ALL_QUERY },
      limit: 0,
      groupBys: {
        groupBys: [
          {
            name: 'byAccount',
            type: TableStore.GroupByType.GROUP_BY_FIELD,
            body: { fieldName: 'account', size: 50 },
          },
        ],
      },
    }),
  );
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'search-bench-'));
  const clock = new TestClock();
  const open = (): TablestoreService =>
    createTablestoreService({ dataDir, clock, compactAfterBytes: 8 * 2 ** 30 });
  console.log(
    `search index bench: ${ROWS} rows, 8 indexed fields (${os.cpus().length} cores; figures are noisy under load)`,
  );
  let harness: Harness | undefined;
  try {
    harness = await startHarness({ service: open() });
    let client = harness.client();
    await client.createTable({
      tableMeta: { tableName: TABLE, primaryKey: [{ name: 'id', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    await client.createSearchIndex({
      tableName: TABLE,
      indexName: INDEX,
      schema: { fieldSchemas: fields },
    });
    await load(client);
    await harness.close();
    harness = undefined;

    console.log('restart from the data directory:');
    harness = await startHarness({ service: open() });
    client = harness.client();
    const timings = harness.service.startupTimings();
    console.log(
      `  replay ${(timings.replayMs / 1000).toFixed(1)} s, search index rebuild ${(timings.searchIndexBuildMs / 1000).toFixed(1)} s`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const withIndex = heapMb();
    await queries(client);
    // Memory of the index alone: the same rows with it, then without it.
    await client.deleteSearchIndex({ tableName: TABLE, indexName: INDEX });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const withoutIndex = heapMb();
    const indexMb = withIndex - withoutIndex;
    console.log(
      `  memory: ${withIndex.toFixed(0)} MB with the index, ${withoutIndex.toFixed(0)} MB without: ${((indexMb * 2 ** 20) / ROWS).toFixed(0)} bytes per indexed row, ${((withoutIndex * 2 ** 20) / ROWS).toFixed(0)} bytes per stored row (the whole heap over the row count)`,
    );

    console.log('a new index over the rows:');
    const asked = performance.now();
    await client.createSearchIndex({
      tableName: TABLE,
      indexName: `${INDEX}_2`,
      schema: { fieldSchemas: fields },
    });
    const answered = performance.now();
    let phase = 1;
    let describes = 0;
    while (phase === 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const described = await retried(() =>
        client.describeSearchIndex({ tableName: TABLE, indexName: `${INDEX}_2` }),
      );
      phase = described.syncStat.syncPhase;
      describes++;
    }
    console.log(
      `  CreateSearchIndex answered in ${(answered - asked).toFixed(0)} ms; FULL phase done after ${((performance.now() - asked) / 1000).toFixed(1)} s (${describes} DescribeSearchIndex calls meanwhile)`,
    );
  } finally {
    await harness?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// A million emulated rows need more than Node's default heap: run again with room if needed.
const HEAP_MB = 12_288;
if (v8.getHeapStatistics().heap_size_limit < HEAP_MB * 2 ** 20 * 0.9) {
  const child = spawnSync(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exitCode = child.status ?? 1;
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
