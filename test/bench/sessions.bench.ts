// The session-audit index at scale (issue 14): Bastionhost sessions forwarded to a central
// Logstore (with log integration's tags, written here directly), ingested through the
// session-index function's use case (indexSessionRange: PullLogs by cursor range through the SLS
// adapter, events and sessions through the Tablestore adapter) from localcloud in another
// process; then p50/p99 of each single filter, a 4-filter query, page 50 of a query by token and
// the summary, rows read from Tablestore per row returned, and random filter combinations checked
// against brute force page by page over the same data set.
// Run: npm run bench -- sessions [-- --sessions 1000000 --samples 100 --combinations 200]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogService } from '../../shared/cloud/sls/client';
import {
  createTablestoreClient,
  type SearchPage,
  type SearchRequest,
  type TablestoreClient,
  type TablestoreSearchClient,
} from '../../shared/cloud/tablestore';
import { BATCH_ID_TAG, type LogGroup } from '../../shared/logs/model';
import type { LogSource } from '../../shared/logs/ports';
import { mapWithConcurrency } from '../../shared/runtime/concurrency';
import { silentLogger } from '../../shared/runtime/logger';
import { indexSessionRange } from '../../shared/sessions/ingest';
import { ipRange } from '../../shared/sessions/ip';
import type { Session, SessionFilter, SessionSort } from '../../shared/sessions/model';
import type { SessionEventStore } from '../../shared/sessions/ports';
import { foldSession, parseRecord, provenanceOf } from '../../shared/sessions/records';
import {
  createSessionIndex,
  ensureStoreSearchIndexes,
  ensureStoreTables,
  sessionsSearchIndex,
  storeTables,
} from '../../shared/store';
import {
  CENTRAL_LOGSTORE,
  CENTRAL_PROJECT,
  forwardedGroups,
  generateSessions,
} from '../support/bastionhost-sessions';
import { type CloudProcess, startCloudProcess } from '../support/localcloud-process';
import { seededRandom } from '../support/seeded-random';
import { comparePages, randomQuery, searchSpaceOf } from '../support/session-search-oracle';
import { BenchArgs } from './support/args';

const args = new BenchArgs();
const SESSIONS = args.integer('--sessions', 1_000_000, 100);
const SAMPLES = args.integer('--samples', 100, 5);
const COMBINATIONS = args.integer('--combinations', 200, 0);
const MAX_PAGES = args.integer('--max-pages', 10, 1);
/**
 * Sessions the queries run over: those ingested, plus more written straight into the sessions
 * table (folded here, BatchWriteRow), so queries can be measured at a scale whose ingest through
 * localcloud would take hours on a shared machine. Default: only those ingested.
 */
const QUERY_SESSIONS = args.integer('--query-sessions', 0, 0);
const SHARDS = 4;
const CHUNK = 10_000;
const OWNERS = Array.from({ length: 200 }, (_, i) => `1${String(i).padStart(15, '0')}`);
const PROJECT = CENTRAL_PROJECT;
const LOGSTORE = CENTRAL_LOGSTORE;

const say = (line: string) => process.stdout.write(`${line}\n`);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Rows the Search calls returned, to compare with the rows the index hands back. */
function counting(client: TablestoreClient & TablestoreSearchClient) {
  const counts = { rowsRead: 0 };
  const wrapped = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'search') {
        return async (request: SearchRequest): Promise<SearchPage> => {
          const page = await target.search(request);
          counts.rowsRead += page.rows.length;
          return page;
        };
      }
      if (property === 'getRange' || property === 'getRow') {
        const fn = Reflect.get(target, property, receiver) as (...a: unknown[]) => Promise<unknown>;
        return async (...a: unknown[]) => {
          const result = await fn.apply(target, a);
          if (property === 'getRow') counts.rowsRead += result ? 1 : 0;
          else counts.rowsRead += (result as { rows: unknown[] }).rows.length;
          return result;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { client: wrapped, counts };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sessions-bench-'));
  const orgFile = join(dir, 'org.yaml');
  writeFileSync(orgFile, 'seed: sessions-bench\nmanagement:\n  name: m\nmembers:\n  - name: one\n');
  let cloud: CloudProcess | undefined;
  try {
    cloud = await startCloudProcess(join(dir, 'data'), join(dir, 'env.json'), {
      organization: orgFile,
      memory: true,
      nodeFlags: ['--max-old-space-size=12288'],
    });
    const { env, url } = cloud;
    const management = env.accounts.find((a) => a.kind === 'management');
    if (!management) throw new Error('no management account');
    const credentials = {
      accessKeyId: management.accessKeyId,
      accessKeySecret: management.accessKeySecret,
    };
    const raw = createTablestoreClient({
      endpoint: url,
      instanceName: 'rdgov',
      credentials: () => credentials,
    });
    const { client, counts } = counting(raw);
    const prefix = 'bench_';
    await ensureStoreTables(raw, { prefix });
    await ensureStoreSearchIndexes(raw, { prefix });
    const index = createSessionIndex({ client, tablePrefix: prefix });
    const control = async (path: string, body: unknown) => {
      const res = await fetch(`${url}/__localcloud/sls/${path}`, {
        method: path === 'quotas' ? 'PUT' : 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    };
    await control('quotas', {
      writeBytesPerSecond: 1e12,
      writeRequestsPerSecond: 1e9,
      readBytesPerSecond: 1e12,
      readRequestsPerSecond: 1e9,
    });
    await control('projects', { name: PROJECT, accountId: management.id });
    await control(`projects/${PROJECT}/logstores`, { logstoreName: LOGSTORE, shardCount: SHARDS });
    const sls = createLogService({
      endpoint: `cn-hangzhou.log.aliyuncs.com@${new URL(url).host}`,
      protocol: 'http',
      region: 'cn-hangzhou',
      credentials,
      accountId: management.id,
      // localcloud is one process: it serves the shards' pulls (1,000 groups, 100,000 records
      // each) one after another, so the fourth starts answering after the SDK's default 5 s,
      // which its HTTP layer also applies as an idle timeout (LogServiceOptions.connectTimeoutMs).
      connectTimeoutMs: 60_000,
      readTimeoutMs: 60_000,
    });
    const address = { project: PROJECT, logstore: LOGSTORE };

    // 1. Forward: sessions as tagged log groups of 100 records into the central Logstore.
    const sessions: Session[] = [];
    let records = 0;
    const beginCursors = await Promise.all(
      Array.from({ length: SHARDS }, (_, shard) => sls.cursor(address, shard, 'begin')),
    );
    let started = performance.now();
    for (let from = 0; from < SESSIONS; from += CHUNK) {
      const chunk = generateSessions(Math.min(CHUNK, SESSIONS - from), 1000 + from, {
        owners: OWNERS,
        startSeconds: 1_760_000_000 + from * 10,
        eventsPerSession: 3.1,
      });
      for (const g of chunk) {
        records += g.records.length;
        const provenance = provenanceOf([{ key: 'rdgov_owner_account', value: g.ownerAccountId }]);
        sessions.push(
          foldSession(
            g.records.map((r) => {
              const parsed = parseRecord(r, provenance);
              if (!parsed.ok) throw new Error(parsed.reason);
              return parsed.event;
            }),
          ),
        );
      }
      const groups = forwardedGroups(chunk, 100);
      await mapWithConcurrency(groups, 8, async (group: LogGroup) => {
        const batchId = group.tags.find((t) => t.key === BATCH_ID_TAG)?.value ?? 'x';
        await sls.put(address, {
          group: { ...group, tags: group.tags.filter((t) => t.key !== BATCH_ID_TAG) },
          batchId: `${from}-${batchId}`,
        });
      });
    }
    const forwardSeconds = (performance.now() - started) / 1000;
    say(
      `forwarded ${SESSIONS} sessions, ${records} records (${(records / SESSIONS).toFixed(2)} per session) in ${forwardSeconds.toFixed(1)} s`,
    );

    // 2. Ingest through the function's use case: one range per shard, shards side by side.
    const endCursors = await Promise.all(
      Array.from({ length: SHARDS }, (_, shard) => sls.cursor(address, shard, 'end')),
    );
    const spent = { pull: 0, putEvents: 0, createSessions: 0, eventsOf: 0, saveSessions: 0 };
    const timed = async <T>(what: keyof typeof spent, call: Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await call;
      } finally {
        spent[what] += performance.now() - t0;
      }
    };
    const timedStore: SessionEventStore = {
      putEvents: (e) => timed('putEvents', index.putEvents(e)),
      eventsOf: (k) => timed('eventsOf', index.eventsOf(k)),
      saveSessions: (s) => timed('saveSessions', index.saveSessions(s)),
      createSessions: (s) => timed('createSessions', index.createSessions(s)),
    };
    const timedSls: LogSource = {
      ...sls,
      pull: (a, shard, range) => timed('pull', sls.pull(a, shard, range)),
      decode: (g) => sls.decode(g),
    };
    started = performance.now();
    const cpuBefore = process.cpuUsage();
    const reports = await Promise.all(
      Array.from({ length: SHARDS }, (_, shard) =>
        indexSessionRange(
          {
            address,
            shardId: shard,
            beginCursor: beginCursors[shard] as string,
            endCursor: endCursors[shard] as string,
          },
          { source: timedSls, store: timedStore, logger: silentLogger, concurrency: 16 },
        ),
      ),
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const events = reports.reduce((sum, r) => sum + r.events, 0);
    const folds = reports.reduce((sum, r) => sum + r.sessionsWritten + r.sessionsUnchanged, 0);
    say(
      `ingested ${events} events of ${SESSIONS} sessions in ${ingestSeconds.toFixed(1)} s: ${(SESSIONS / ingestSeconds).toFixed(0)} sessions/s, ${(events / ingestSeconds).toFixed(0)} events/s (${folds} session folds; function-side CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`,
    );
    say(
      `time inside calls (summed over concurrent calls): ${Object.entries(spent)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
        .join(', ')}`,
    );
    const tables = storeTables(prefix);
    const description = await raw.describeSearchIndex(
      tables.sessions.name,
      sessionsSearchIndex(tables).name,
    );
    say(`search index: ${description.rowCount} rows, phase ${description.syncPhase}`);

    // 2b. More sessions for the queries, written directly (not through the function).
    if (QUERY_SESSIONS > sessions.length) {
      const extra = QUERY_SESSIONS - sessions.length;
      started = performance.now();
      for (let from = SESSIONS; from < QUERY_SESSIONS; from += CHUNK) {
        const chunk = generateSessions(Math.min(CHUNK, QUERY_SESSIONS - from), 1000 + from, {
          owners: OWNERS,
          startSeconds: 1_760_000_000 + from * 10,
          eventsPerSession: 3.1,
        });
        const folded = chunk.map((g) => {
          const provenance = provenanceOf([
            { key: 'rdgov_owner_account', value: g.ownerAccountId },
          ]);
          return foldSession(
            g.records.map((r) => {
              const parsed = parseRecord(r, provenance);
              if (!parsed.ok) throw new Error(parsed.reason);
              return parsed.event;
            }),
          );
        });
        sessions.push(...folded);
        const batches = Array.from({ length: Math.ceil(folded.length / 200) }, (_, i) =>
          folded.slice(i * 200, i * 200 + 200),
        );
        await mapWithConcurrency(batches, 4, (batch) => index.createSessions(batch));
      }
      const after = await raw.describeSearchIndex(
        tables.sessions.name,
        sessionsSearchIndex(tables).name,
      );
      say(
        `wrote ${extra} more sessions straight into the sessions table for the queries in ${((performance.now() - started) / 1000).toFixed(1)} s; search index: ${after.rowCount} rows`,
      );
    }

    // 3. Latency of each query shape, and rows read per row returned.
    const random = seededRandom(5);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const sample = () => pick(sessions);
    const hour = 3_600_000;
    const shapes: Array<[string, () => SessionFilter]> = [
      ['ownerAccountId', () => ({ ownerAccountIds: [sample().ownerAccountId] })],
      [
        'ownerAccountId x3',
        () => ({ ownerAccountIds: [0, 1, 2].map(() => sample().ownerAccountId) }),
      ],
      ['user', () => ({ user: sample().userName as string })],
      ['asset prefix', () => ({ asset: (sample().assetName as string).slice(0, 4) })],
      ['assetAccount', () => ({ assetAccount: sample().assetAccount as string })],
      ['protocol', () => ({ protocol: sample().protocol })],
      [
        'sourceIp CIDR',
        () => ({
          sourceIp: ipRange(
            pick(['10.20.0.0/16', '172.16.0.0/12', '203.0.113.0/24']),
          ) as NonNullable<SessionFilter['sourceIp']>,
        }),
      ],
      [
        'time range (1 h)',
        () => {
          const t = sample().startTime;
          return { from: t, to: t + hour };
        },
      ],
      [
        '4 filters (owner, protocol, CIDR, 1 day)',
        () => {
          const s = sample();
          return {
            ownerAccountIds: [s.ownerAccountId],
            protocol: s.protocol,
            sourceIp: ipRange('10.0.0.0/8') as NonNullable<SessionFilter['sourceIp']>,
            from: s.startTime - 12 * hour,
            to: s.startTime + 12 * hour,
          };
        },
      ],
    ];
    const table: string[] = [];
    for (const [name, make] of shapes) {
      const times: number[] = [];
      let returned = 0;
      const readBefore = counts.rowsRead;
      for (let i = 0; i < SAMPLES; i++) {
        const filter = make();
        const t0 = performance.now();
        const page = await index.search(filter, '-startTime', { limit: 50 });
        times.push(performance.now() - t0);
        returned += page.sessions.length;
      }
      times.sort((a, b) => a - b);
      const read = counts.rowsRead - readBefore;
      table.push(
        `| ${name} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} | ${(returned / SAMPLES).toFixed(1)} | ${returned ? (read / returned).toFixed(2) : 'n/a'} |`,
      );
    }
    // Page 50 of a query by token: walk to page 49 once, then fetch page 50 from its token.
    {
      const filter: SessionFilter = {};
      const sort: SessionSort = '-startTime';
      let token: string | undefined;
      for (let p = 1; p < 50; p++) {
        const page = await index.search(filter, sort, {
          limit: 50,
          ...(token ? { pageToken: token } : {}),
        });
        token = page.nextPageToken;
      }
      const times: number[] = [];
      let returned = 0;
      const readBefore = counts.rowsRead;
      for (let i = 0; i < SAMPLES; i++) {
        const t0 = performance.now();
        const page = await index.search(filter, sort, { limit: 50, pageToken: token as string });
        times.push(performance.now() - t0);
        returned += page.sessions.length;
      }
      times.sort((a, b) => a - b);
      const read = counts.rowsRead - readBefore;
      table.push(
        `| page 50 by token (limit 50, all sessions by start time) | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} | ${(returned / SAMPLES).toFixed(1)} | ${(read / returned).toFixed(2)} |`,
      );
    }
    for (const groupBy of ['ownerAccountId', 'user', 'protocol'] as const) {
      const times: number[] = [];
      for (let i = 0; i < Math.max(5, Math.floor(SAMPLES / 4)); i++) {
        const t0 = performance.now();
        await index.summary(groupBy, {});
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      table.push(
        `| summary groupBy=${groupBy} (all sessions) | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} | groups | 0 rows |`,
      );
    }
    say(
      `\n| query (limit 50, newest first) | p50 ms | p99 ms | rows/page | rows read per row returned |`,
    );
    say('| --- | --- | --- | --- | --- |');
    for (const line of table) say(line);

    // 4. Random filter combinations against brute force, page by page.
    if (COMBINATIONS > 0) {
      const space = searchSpaceOf(sessions, OWNERS);
      const combos = seededRandom(2026);
      let mismatches = 0;
      let pages = 0;
      let rows = 0;
      started = performance.now();
      for (let i = 0; i < COMBINATIONS; i++) {
        const query = randomQuery(combos, space);
        const result = await comparePages(index, sessions, query, MAX_PAGES);
        pages += result.pages;
        rows += result.rows;
        if (result.mismatch) {
          mismatches += 1;
          say(`MISMATCH query ${i} ${JSON.stringify(query)}: ${result.mismatch}`);
        }
      }
      say(
        `\n${COMBINATIONS} random filter combinations vs brute force over ${sessions.length} sessions: ${mismatches} mismatches (${pages} pages, ${rows} rows compared, at most ${MAX_PAGES} pages per query; ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
      if (mismatches > 0) process.exitCode = 1;
    }
  } finally {
    if (cloud) {
      const child = cloud.child;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  // The other shards' ingest would go on against a stopped localcloud: nothing left to measure.
  process.exit(1);
});
