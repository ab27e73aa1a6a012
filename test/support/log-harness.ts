// Log integration end to end in one process, as the log functions build it (shared/wiring/logs.ts)
// but with the management account's admin keys: localcloud in memory (STS, SLS), the member
// access role through the official STS SDK, the project's SLS adapter for members and for the
// central Logstore, and the store (the real repositories over the in-memory Tablestore double, or
// over localcloud's Tablestore). The planner's fan-out is captured instead of invoking FC, so a
// test runs the planner and the worker chunks itself, with crash points and faults where it
// wants them.

import { randomUUID } from 'node:crypto';
import {
  type LocalCloud,
  type OrganizationFixture,
  type StartLocalCloudOptions,
  startLocalCloud,
} from '../../localcloud/index';
import { decodeLogGroup, encodeLogGroup } from '../../localcloud/sls/index';
import type { RetryOptions } from '../../shared/cloud/openapi';
import type { LogService } from '../../shared/cloud/sls/client';
import type { Clock } from '../../shared/domain/clock';
import { ensureCentralLogstore } from '../../shared/logs/central';
import { LogIntegration } from '../../shared/logs/integration';
import type { LogstoreAddress } from '../../shared/logs/model';
import { type PlanSummary, planLogPulls, type WorkerChunk } from '../../shared/logs/planner';
import type { LogIntegrationStore, MemberLogAccess } from '../../shared/logs/ports';
import {
  type ChunkOutcome,
  DEFAULT_PULLER_SETTINGS,
  type PullerDeps,
  type PullerSettings,
  pullChunk,
} from '../../shared/logs/puller';
import { silentLogger } from '../../shared/runtime/logger';
import { ensureStoreTables, type Store } from '../../shared/store';
import { connectLogDeps, type LogConnection, REGION } from './log-connection';
import { MemoryTablestore } from './memory-tablestore';

export { type LogConnection, REGION };

export interface HarnessOptions {
  members: number;
  /** Extra members' fixtures (e.g. withoutAccessRole). */
  extraMembers?: OrganizationFixture['members'];
  /** The store over localcloud's Tablestore (default: the in-memory double). */
  tablestore?: 'memory' | 'localcloud';
  /** Retries of the SLS and STS adapters (tests with faults want more, with no waiting). */
  retry?: RetryOptions;
  puller?: Partial<PullerSettings>;
  shardsPerWorker?: number;
  /** localcloud's random source (fault injection draws from it). */
  random?: () => number;
  /** localcloud's per-shard SLS quotas (a benchmark lifts them). */
  slsQuotas?: StartLocalCloudOptions['slsQuotas'];
}

export interface CentralLog {
  uid: string;
  batchId: string;
  tags: Record<string, string>;
  contents: Record<string, string>;
}

export interface LogHarness {
  cloud: LocalCloud;
  clock: Clock;
  store: Store;
  logs: LogIntegrationStore;
  managementId: string;
  memberIds: string[];
  integration: LogIntegration;
  memberLogs: MemberLogAccess;
  central: { service: LogService; address: LogstoreAddress };
  /** The member's WAF Logstore (created by its product, 2 shards). */
  wafOf(accountId: string): LogstoreAddress;
  /** Writes `count` logs, each with a unique `uid`, as one group into the shard `hashKey` routes to. */
  write(
    address: LogstoreAddress,
    count: number,
    options?: { hashKey?: string; topic?: string },
  ): string[];
  /** Every log of a Logstore, decoded (localcloud's own codec). */
  read(address: LogstoreAddress): CentralLog[];
  plan(): Promise<{ summary: PlanSummary; chunks: WorkerChunk[] }>;
  /** A chunk through the worker, with the deps a test may override. */
  pull(
    chunk: WorkerChunk,
    overrides?: Partial<PullerDeps>,
    deadline?: number,
  ): Promise<ChunkOutcome>;
  pullerDeps(overrides?: Partial<PullerDeps>): PullerDeps;
  /** Plans and pulls until a round moves nothing and leaves nothing behind (at most `rounds`). */
  drain(rounds?: number): Promise<number>;
  stop(): Promise<void>;
}

function memberId(i: number): string {
  return `30000000000${String(i + 1).padStart(5, '0')}`;
}

export async function startLogHarness(options: HarnessOptions): Promise<LogHarness> {
  const members = Array.from({ length: options.members }, (_, i) => ({
    name: `log-member-${i + 1}`,
    id: memberId(i),
    logProducts: [{ product: 'waf' as const, logsPerMinute: 0 }],
  }));
  const cloud = await startLocalCloud({
    port: 0,
    ...(options.random ? { random: options.random } : {}),
    ...(options.slsQuotas ? { slsQuotas: options.slsQuotas } : {}),
    organization: {
      seed: 'log-harness',
      management: { name: 'log-management', id: '3000000000000000' },
      members: [...members, ...(options.extraMembers ?? [])],
    },
  });
  const clock: Clock = { now: () => cloud.clock.now() };
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('no management account');
  if (options.tablestore === 'localcloud') cloud.tablestore.createInstance(management.id, 'logs');
  const connection: LogConnection = {
    url: cloud.url,
    sts: cloud.env.endpoints.sts,
    managementId: management.id,
    adminKeys: { accessKeyId: management.accessKeyId, accessKeySecret: management.accessKeySecret },
    tablestoreInstance: options.tablestore === 'localcloud' ? 'logs' : undefined,
  };
  const { store, logs, memberLogs, central } = connectLogDeps(connection, clock, {
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.tablestore === 'localcloud' ? {} : { client: new MemoryTablestore() }),
  });
  await ensureStoreTables(store.client);
  await ensureCentralLogstore(central.service, central.address, { ttlDays: 30, shardCount: 2 });
  const memberIds = members.map((m) => m.id);
  await store.scopes.create({
    id: 'directory:rd-logs',
    kind: 'directory',
    targetId: 'rd-logs',
    services: ['log-integration'],
    createdBy: 'user:test',
  });
  for (const accountId of [...memberIds, ...(options.extraMembers ?? []).map((m) => m.id ?? '')]) {
    if (!accountId) continue;
    await store.members.create({
      accountId,
      displayName: `Log member ${accountId.slice(-2)}`,
      status: 'managed',
      scopeIds: ['directory:rd-logs'],
    });
  }
  const settings = {
    regions: [REGION],
    functionsAccountId: management.id,
    noDataAfterMs: 3_600_000,
  };
  const integration = new LogIntegration({ store: logs, settings, clock });

  function pullerDeps(overrides: Partial<PullerDeps> = {}): PullerDeps {
    return {
      store: logs,
      memberLogs,
      central: { sink: central.service, address: central.address },
      clock,
      logger: silentLogger,
      settings: { ...DEFAULT_PULLER_SETTINGS, ...options.puller },
      ...overrides,
    };
  }

  const harness: LogHarness = {
    cloud,
    clock,
    store,
    logs,
    managementId: management.id,
    memberIds,
    integration,
    memberLogs,
    central,
    wafOf: (accountId) => ({
      project: `waf-project-${accountId}-${REGION}`,
      logstore: 'waf-logstore',
    }),
    write(address, count, writeOptions = {}) {
      const model = cloud.sls.model;
      const project = model.project(REGION, address.project);
      const logstore = model.logstore(project, address.logstore);
      // A short key is left-aligned, as the service reads an MD5 prefix.
      const key =
        writeOptions.hashKey === undefined
          ? undefined
          : BigInt(`0x${writeOptions.hashKey.padEnd(32, '0')}`);
      const shard = model.writeShard(logstore, key);
      const now = Math.floor(clock.now() / 1000);
      const uids = Array.from({ length: count }, () => randomUUID());
      const group = {
        logs: uids.map((uid, i) => ({
          time: now,
          contents: [
            { key: 'uid', value: uid },
            { key: 'i', value: String(i) },
            { key: 'message', value: `request ${i} from 10.0.0.${i % 250}` },
          ],
        })),
        topic: writeOptions.topic ?? 'waf_access_log',
        source: '10.0.0.1',
        tags: [{ key: '__product__', value: 'waf' }],
      };
      model.append(
        project,
        logstore,
        shard,
        { bytes: encodeLogGroup(group), logCount: count },
        { quota: false },
      );
      return uids;
    },
    read(address) {
      const model = cloud.sls.model;
      const logstore = model.logstore(model.project(REGION, address.project), address.logstore);
      const out: CentralLog[] = [];
      for (const { group } of model.retained(logstore)) {
        const decoded = decodeLogGroup(group.bytes);
        const tags = Object.fromEntries(decoded.tags.map((t) => [t.key, t.value]));
        for (const log of decoded.logs) {
          const contents = Object.fromEntries(log.contents.map((c) => [c.key, c.value]));
          out.push({ uid: contents.uid ?? '', batchId: tags.rdgov_batch_id ?? '', tags, contents });
        }
      }
      return out;
    },
    async plan() {
      const chunks: WorkerChunk[] = [];
      const summary = await planLogPulls({
        store: logs,
        memberLogs,
        fanOut: {
          async invokeAsync(_name, payload) {
            chunks.push(payload as WorkerChunk);
            return { requestId: `r-${chunks.length}` };
          },
        },
        clock,
        logger: silentLogger,
        settings: {
          regions: [REGION],
          functionsAccountId: management.id,
          workerFunction: 'rdgov-log-worker',
          shardsPerWorker: options.shardsPerWorker ?? 40,
          memberConcurrency: 8,
        },
      });
      return { summary, chunks };
    },
    pull(chunk, overrides = {}, deadline = clock.now() + 60_000) {
      return pullChunk(pullerDeps(overrides), chunk, deadline);
    },
    pullerDeps,
    async drain(rounds = 20) {
      let logsMoved = 0;
      for (let round = 0; round < rounds; round++) {
        const { summary, chunks } = await harness.plan();
        let moved = 0;
        let settled = true;
        for (const chunk of chunks) {
          const outcome = await harness.pull(chunk);
          moved += outcome.logs;
          settled &&= outcome.shards.every(
            (s) => s.outcome === 'caught-up' || s.outcome === 'finished',
          );
        }
        logsMoved += moved;
        // Every shard read to its end as of now, and no child waiting for a parent: done.
        if (settled && summary.waitingForParents === 0) return logsMoved;
      }
      throw new Error(`log harness: not drained after ${rounds} rounds`);
    },
    stop: () => cloud.stop(),
  };
  return harness;
}

export interface Reconciliation {
  /** Source logs with no copy in the central Logstore. */
  lost: string[];
  /** Batch ids under which some log is there more than once. */
  duplicatedBatches: Set<string>;
  /** Logs there more than once under different batch ids (a duplicate nobody could recognise). */
  unrecognisable: string[];
  /** Central logs that were never written to a source. */
  unknown: number;
}

/** Source logs (by uid) against what the central Logstore holds, log by log. */
export function reconcile(
  source: ReadonlySet<string>,
  central: readonly CentralLog[],
): Reconciliation {
  const copies = new Map<string, string[]>();
  let unknown = 0;
  for (const log of central) {
    if (!source.has(log.uid)) {
      unknown++;
      continue;
    }
    const list = copies.get(log.uid) ?? [];
    list.push(log.batchId);
    copies.set(log.uid, list);
  }
  const lost = [...source].filter((uid) => !copies.has(uid));
  const duplicatedBatches = new Set<string>();
  const unrecognisable: string[] = [];
  for (const [uid, batches] of copies) {
    if (batches.length < 2) continue;
    if (new Set(batches).size > 1) unrecognisable.push(uid);
    for (const id of batches) duplicatedBatches.add(id);
  }
  return { lost, duplicatedBatches, unrecognisable, unknown };
}
