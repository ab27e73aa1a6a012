// A planning run (planLogPulls) against in-memory member Log Services and a recording fan-out, on
// the real repositories over the in-memory Tablestore double: data sources follow enabled
// policies of integrable members, Logstores are found (and new ones added), only shards whose
// parents are finished are planned, held and backing-off shards are left alone, failures are
// recorded on the data source's snapshot, and the work goes out in chunks.

import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentModification } from '../../../shared/domain/records';
import { CloudApiError } from '../../../shared/errors';
import { DATA_SOURCE_TYPE, type ShardCheckpoint } from '../../../shared/logs/model';
import {
  type PlannerDeps,
  packChunks,
  planLogPulls,
  shardLeaseName,
  type WorkerChunk,
} from '../../../shared/logs/planner';
import type { MemberLogsResult } from '../../../shared/logs/ports';
import { createLogger } from '../../../shared/runtime/logger';
import { InMemoryShardLogs, logFailure } from '../../support/log-member-fakes';
import { freshCheckpoint, type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const B = '2000000000000002';
const REGION = 'cn-hangzhou';
const SAS = `SecurityCenter_${REGION}_${A}`;
const SAS_LOGS = { project: `sas-log-${A}-${REGION}`, logstore: 'sas-log' };
const HALF = '80000000000000000000000000000000';
const ZERO = '00000000000000000000000000000000';
const TOP = 'ffffffffffffffffffffffffffffffff';
const CONSUME_FROM = '2026-01-01T00:00:00.000Z';

let f: LogStoreFixture;
let members: Map<string, MemberLogsResult>;
let invocations: Array<{ functionName: string; payload: WorkerChunk }>;
let failInvocation: Error | undefined;
let lines: Array<Record<string, unknown>>;
let deps: PlannerDeps;

beforeEach(async () => {
  f = await logStoreFixture();
  f.clock.advance(Date.parse('2026-01-02T00:00:00.000Z') - f.clock.now());
  await f.scope('folder:fd-logs', ['security-center', 'log-integration']);
  await f.member(A, ['folder:fd-logs'], { displayName: 'Alpha' });
  members = new Map();
  invocations = [];
  failInvocation = undefined;
  lines = [];
  deps = {
    store: f.logs,
    memberLogs: async (accountId, region) => {
      expect(region).toBe(REGION);
      const found = members.get(accountId);
      if (!found) throw new Error(`no member logs for ${accountId}`);
      return found;
    },
    fanOut: {
      invokeAsync: async (functionName, payload) => {
        if (failInvocation) throw failInvocation;
        invocations.push({ functionName, payload: payload as WorkerChunk });
        return { requestId: `req-${invocations.length}` };
      },
    },
    clock: f.clock,
    logger: createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) }),
    settings: {
      regions: [REGION],
      functionsAccountId: MANAGEMENT,
      workerFunction: 'log-worker',
      shardsPerWorker: 2,
      memberConcurrency: 2,
    },
  };
});

async function policy(templateId: string, accountId = A, extra: Record<string, unknown> = {}) {
  await f.logs.policies.create({
    templateId,
    accountId,
    enabled: true,
    autoAddNewLogstores: true,
    consumeFrom: CONSUME_FROM,
    generation: 1,
    changedBy: 'user:test',
    ...extra,
  });
}

function memberLogs(accountId = A): InMemoryShardLogs {
  const logs = new InMemoryShardLogs(accountId, REGION);
  members.set(accountId, { ok: true, logs });
  return logs;
}

const checkpoint = (shardId: number, extra: Partial<ShardCheckpoint> = {}): ShardCheckpoint =>
  freshCheckpoint(
    { dataSource: SAS, ...SAS_LOGS, shardId },
    { cursor: 'c0', pullCount: 16, ...extra },
  );

describe('a planning run', () => {
  it('makes the data source, finds its Logstore, plans the ready shards and fans them out', async () => {
    await policy('sas-alerts');
    const logs = memberLogs();
    // 0 was split into 1 and 2; 3 is a separate range.
    logs
      .shard(SAS_LOGS, 0, [], 'readonly', { begin: ZERO, end: HALF })
      .shard(SAS_LOGS, 1, [], 'readwrite', { begin: ZERO, end: '40000000000000000000000000000000' })
      .shard(SAS_LOGS, 2, [], 'readwrite', { begin: '40000000000000000000000000000000', end: HALF })
      .shard(SAS_LOGS, 3, [], 'readwrite', { begin: HALF, end: TOP });
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({
      dataSources: 1,
      shards: 4,
      planned: 2,
      waitingForParents: 2,
      finished: 0,
      held: 0,
      backingOff: 0,
      logstoresAdded: [`${SAS}: ${SAS_LOGS.project}/${SAS_LOGS.logstore}`],
      failures: [],
      chunks: 1,
      invoked: 1,
      invocationFailures: [],
    });
    expect(summary).not.toHaveProperty('skipped');
    const source = await f.logs.dataSources.get(SAS);
    expect(source).toMatchObject({
      type: DATA_SOURCE_TYPE,
      templateId: 'sas-alerts',
      accountId: A,
      accountName: 'Alpha',
      region: REGION,
      enabled: true,
      generation: 1,
      consumeFrom: CONSUME_FROM,
      logstores: [SAS_LOGS],
      discoveredAt: '2026-01-02T00:00:00.000Z',
    });
    expect(invocations).toEqual([
      {
        functionName: 'log-worker',
        payload: {
          runId: summary.runId,
          chunk: 0,
          chunks: 1,
          items: [0, 3].map((shardId) => ({
            dataSource: SAS,
            templateId: 'sas-alerts',
            accountId: A,
            region: REGION,
            ...SAS_LOGS,
            shardId,
            readonly: shardId === 0,
            generation: 1,
            consumeFrom: CONSUME_FROM,
          })),
        },
      },
    ]);
    expect(await f.logs.snapshots.get(SAS)).toMatchObject({ generation: 1, shards: 4 });
    expect(lines.at(-1)).toMatchObject({
      message: 'log planning run',
      runId: summary.runId,
      dataSources: 1,
      shards: 4,
      planned: 2,
      waitingForParents: 2,
      held: 0,
      backingOff: 0,
      failures: 0,
      chunks: 1,
      invoked: 1,
    });
  });

  it('plans a child once its parent is finished, and leaves held and backing-off shards alone', async () => {
    await policy('sas-alerts');
    const logs = memberLogs();
    logs
      .shard(SAS_LOGS, 0, [], 'readonly', { begin: ZERO, end: HALF })
      .shard(SAS_LOGS, 1, [], 'readwrite', { begin: ZERO, end: HALF })
      .shard(SAS_LOGS, 2, [], 'readwrite', { begin: HALF, end: TOP })
      .shard(SAS_LOGS, 3, [], 'readwrite', { begin: HALF, end: TOP })
      .shard(SAS_LOGS, 4, [], 'readwrite', { begin: HALF, end: TOP });
    // Plan once so the data source and its Logstore exist.
    await planLogPulls(deps);
    invocations = [];
    const now = f.clock.now();
    await f.logs.checkpoints.create(checkpoint(0, { finished: true }));
    await f.logs.checkpoints.create(
      checkpoint(2, { backoffUntil: new Date(now + 1).toISOString() }),
    );
    await f.logs.checkpoints.create(checkpoint(3, { backoffUntil: new Date(now).toISOString() }));
    // An older generation's finished row does not count.
    await f.logs.checkpoints.create(checkpoint(4, { generation: 0, finished: true }));
    const held = { dataSource: SAS, ...SAS_LOGS, shardId: 1 };
    await f.logs.leases.acquire(shardLeaseName(held), 'worker', { ttlMs: 60_000 });
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({ finished: 1, held: 1, backingOff: 1, waitingForParents: 2 });
    expect(invocations.flatMap((i) => i.payload.items.map((item) => item.shardId))).toEqual([]);
    // Shards 3 and 4 wait for 2 (same range, lower id): only a released backoff matters for 2.
    f.clock.advance(1);
    const next = await planLogPulls(deps);
    expect(next.backingOff).toBe(0);
    expect(invocations.flatMap((i) => i.payload.items.map((item) => item.shardId))).toEqual([2]);
  });

  it("reads each region's data sources through that region's access only, one access per member and region", async () => {
    const SH = 'cn-shanghai';
    deps.settings = { ...deps.settings, regions: [REGION, SH] };
    await policy('sas-alerts');
    // A second template: two data sources per region, still one access per region.
    await policy('waf');
    const byRegion = new Map<string, InMemoryShardLogs>();
    const asked: string[] = [];
    for (const region of [REGION, SH]) {
      const logs = new InMemoryShardLogs(A, region);
      logs.shard({ project: `sas-log-${A}-${region}`, logstore: 'sas-log' }, 0, []);
      byRegion.set(region, logs);
    }
    deps.memberLogs = async (accountId, region) => {
      asked.push(`${accountId}/${region}`);
      const logs = byRegion.get(region);
      if (!logs) throw new Error(region);
      return { ok: true, logs };
    };
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({ dataSources: 4, planned: 2, failures: [] });
    expect(asked.sort()).toEqual([`${A}/${REGION}`, `${A}/${SH}`]);
    const items = invocations.flatMap((i) => i.payload.items);
    expect(items.map((i) => [i.dataSource, i.region, i.project]).sort()).toEqual([
      [SAS, REGION, `sas-log-${A}-${REGION}`],
      [`SecurityCenter_${SH}_${A}`, SH, `sas-log-${A}-${SH}`],
    ]);
    // Neither region's Log Service was asked about the other region's project.
    for (const [region, logs] of byRegion) {
      expect(logs.calls.length).toBeGreaterThan(0);
      expect(logs.calls.every((call) => !call.includes('sas-log-') || call.includes(region))).toBe(
        true,
      );
    }
  });

  it('follows only enabled policies of integrable members with a known template', async () => {
    await f.scope('folder:fd-plain', ['security-center']);
    await f.member(B, ['folder:fd-plain']);
    await policy('sas-alerts', B);
    await policy('waf', A, { enabled: false });
    await policy('retired', A);
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({ dataSources: 0, planned: 0, chunks: 0, invoked: 0 });
    expect(await f.logs.dataSources.list()).toEqual([]);
  });

  it('leaves a data source in step with its policy as it is', async () => {
    await policy('sas-alerts');
    memberLogs().shard(SAS_LOGS, 0, []);
    await planLogPulls(deps);
    const before = await f.logs.dataSources.get(SAS);
    await planLogPulls(deps);
    expect((await f.logs.dataSources.get(SAS))?.version).toBe(before?.version);
  });

  it('brings a data source back in step with its policy (re-enabled, new generation)', async () => {
    await policy('sas-alerts');
    memberLogs().shard(SAS_LOGS, 0, []);
    await planLogPulls(deps);
    const stored = await f.logs.dataSources.get(SAS);
    if (!stored) throw new Error('no data source');
    await f.logs.dataSources.update({ ...stored, enabled: false });
    const p = await f.logs.policies.get(`sas-alerts/${A}`);
    if (!p) throw new Error('no policy');
    await f.logs.policies.update({ ...p, generation: 2, consumeFrom: '2026-01-01T12:00:00.000Z' });
    await planLogPulls(deps);
    expect(await f.logs.dataSources.get(SAS)).toMatchObject({
      enabled: true,
      generation: 2,
      consumeFrom: '2026-01-01T12:00:00.000Z',
    });
    expect(invocations.at(-1)?.payload.items[0]).toMatchObject({ generation: 2 });
  });
});

describe('Logstores found and added', () => {
  const AT = `ActionTrail_${REGION}_${A}`;

  it('records the first found and each new one added automatically', async () => {
    await policy('actiontrail');
    const logs = memberLogs();
    logs.shard({ project: 'trails', logstore: 'actiontrail_a' }, 0, []);
    let summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([`${AT}: trails/actiontrail_a`]);
    logs.shard({ project: 'trails', logstore: 'actiontrail_b' }, 0, []);
    f.clock.advance(60_000);
    summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([`${AT}: trails/actiontrail_b`]);
    expect(await f.logs.dataSources.get(AT)).toMatchObject({
      logstores: [
        { project: 'trails', logstore: 'actiontrail_a' },
        { project: 'trails', logstore: 'actiontrail_b' },
      ],
      discoveredAt: '2026-01-02T00:00:00.000Z',
    });
    expect(f.appended).toEqual([
      expect.objectContaining({
        action: 'log-integration.logstore-added',
        outcome: 'succeeded',
        accountId: A,
        cause: { kind: 'timer', trigger: 'log-planner' },
        target: { type: 'data-source', id: AT },
        detail: 'found: project trails, Logstore actiontrail_a',
      }),
      expect.objectContaining({
        detail: 'new Logstore, added automatically: project trails, Logstore actiontrail_b',
      }),
    ]);
    expect(summary.planned).toBe(2);
    summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([]);
  });

  it('without auto-add, looks no further once the first were found', async () => {
    await policy('actiontrail', A, { autoAddNewLogstores: false });
    const logs = memberLogs();
    logs.shard({ project: 'trails', logstore: 'actiontrail_a' }, 0, []);
    await planLogPulls(deps);
    logs.shard({ project: 'trails', logstore: 'actiontrail_b' }, 0, []);
    logs.calls.length = 0;
    const summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([]);
    expect(logs.calls).not.toContain('listProjects');
    expect(summary.planned).toBe(1);
  });

  it('a Logstore update that lost to a concurrent write waits for the next run; other failures are recorded', async () => {
    await policy('actiontrail');
    const logs = memberLogs();
    logs.shard({ project: 'trails', logstore: 'actiontrail_a' }, 0, []);
    await planLogPulls(deps);
    logs.shard({ project: 'trails', logstore: 'actiontrail_b' }, 0, []);
    const update = f.logs.dataSources.update.bind(f.logs.dataSources);
    let refusal: Error | undefined = new ConcurrentModification(AT, 1);
    deps.store = {
      ...deps.store,
      dataSources: Object.assign(Object.create(f.logs.dataSources), {
        update: (next: Parameters<typeof update>[0]) => {
          if (refusal && next.logstores.length === 2) return Promise.reject(refusal);
          return update(next);
        },
      }),
    };
    f.clock.advance(60_000);
    let summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([]);
    expect(summary.failures).toEqual([]);
    // The Logstore it knew is still planned.
    expect(summary.planned).toBe(1);
    expect((await f.logs.dataSources.get(AT))?.logstores).toHaveLength(1);
    refusal = new RangeError('store broke');
    f.clock.advance(60_000);
    summary = await planLogPulls(deps);
    expect(summary.failures).toEqual([
      { dataSource: AT, code: 'PlanningFailed', reason: 'store broke' },
    ]);
    refusal = undefined;
    f.clock.advance(60_000);
    summary = await planLogPulls(deps);
    expect(summary.logstoresAdded).toEqual([`${AT}: trails/actiontrail_b`]);
  });

  it('finds nothing yet: no Logstore, nothing planned, no discovery time', async () => {
    await policy('sas-alerts');
    memberLogs();
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({ dataSources: 1, shards: 0, planned: 0, logstoresAdded: [] });
    expect(await f.logs.dataSources.get(SAS)).not.toHaveProperty('discoveredAt');
  });
});

describe('failures', () => {
  it('records a member it cannot reach on each of its data sources', async () => {
    await policy('sas-alerts');
    await policy('waf');
    members.set(A, { ok: false, roleArn: 'arn:role', reason: 'not trusted', code: 'NoPermission' });
    const summary = await planLogPulls(deps);
    expect(summary.failures).toEqual([
      {
        dataSource: SAS,
        code: 'NoPermission',
        reason: 'AssumeRole into arn:role failed: not trusted',
      },
      {
        dataSource: `WAF_${REGION}_${A}`,
        code: 'NoPermission',
        reason: 'AssumeRole into arn:role failed: not trusted',
      },
    ]);
    expect(await f.logs.snapshots.get(SAS)).toMatchObject({
      shards: 0,
      error: { code: 'NoPermission', at: '2026-01-02T00:00:00.000Z' },
      planningError: { code: 'NoPermission' },
    });
    expect(summary.planned).toBe(0);
  });

  it('records a Logstore gone, planning the others', async () => {
    await policy('waf');
    const logs = memberLogs();
    const waf = { project: `waf-project-${A}-${REGION}`, logstore: 'waf-logstore' };
    const wafng = { project: `wafng-project-${A}-${REGION}`, logstore: 'wafng-logstore' };
    logs.shard(waf, 0, []).shard(wafng, 0, []);
    await planLogPulls(deps);
    logs.drop(waf);
    invocations = [];
    f.clock.advance(60_000);
    const summary = await planLogPulls(deps);
    expect(summary.failures).toEqual([]);
    expect(summary.planned).toBe(1);
    expect(await f.logs.snapshots.get(`WAF_${REGION}_${A}`)).toMatchObject({
      shards: 1,
      planningError: { code: 'LogStoreNotExist' },
    });
  });

  it('records a cloud error or any other failure of planning a data source, and warns', async () => {
    await policy('sas-alerts');
    const logs = memberLogs();
    logs.getLogstore = async () => {
      throw new CloudApiError(logFailure('GetLogStore', 'denied', 'Unauthorized', A));
    };
    let summary = await planLogPulls(deps);
    expect(summary.failures).toEqual([
      { dataSource: SAS, code: 'Unauthorized', reason: expect.stringContaining('Unauthorized') },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'log planning of a data source failed',
        dataSource: SAS,
        code: 'Unauthorized',
      }),
    );
    logs.getLogstore = async () => {
      throw new RangeError('unexpected');
    };
    f.clock.advance(60_000);
    summary = await planLogPulls(deps);
    expect(summary.failures).toEqual([
      { dataSource: SAS, code: 'PlanningFailed', reason: 'unexpected' },
    ]);
    logs.getLogstore = async () => {
      throw 'text';
    };
    f.clock.advance(60_000);
    summary = await planLogPulls(deps);
    expect(summary.failures[0]?.reason).toBe('text');
    expect(await f.logs.snapshots.get(SAS)).toMatchObject({
      planningError: { code: 'PlanningFailed' },
    });
  });

  it('counts a worker invocation that failed', async () => {
    await policy('sas-alerts');
    memberLogs().shard(SAS_LOGS, 0, []);
    failInvocation = new Error('FC throttled');
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({
      chunks: 1,
      invoked: 0,
      invocationFailures: ['chunk 0: FC throttled'],
    });
  });
});

describe('chunks', () => {
  it("packs the planned shards by member, at most shardsPerWorker each, a member's together", async () => {
    await f.member(B, ['folder:fd-logs']);
    await policy('sas-alerts');
    await policy('sas-alerts', B);
    memberLogs(A)
      .shard(SAS_LOGS, 0, [], 'readwrite', { begin: ZERO, end: HALF })
      .shard(SAS_LOGS, 1, [], 'readwrite', { begin: HALF, end: TOP });
    const bLogs = { project: `sas-log-${B}-${REGION}`, logstore: 'sas-log' };
    memberLogs(B).shard(bLogs, 0, []);
    const summary = await planLogPulls(deps);
    expect(summary).toMatchObject({ planned: 3, failures: [] });
    expect(summary.chunks).toBe(2);
    expect(
      invocations.map((i) => [
        i.payload.chunk,
        i.payload.chunks,
        i.payload.items.map((x) => x.accountId),
      ]),
    ).toEqual([
      [0, 2, [A, A]],
      [1, 2, [B]],
    ]);
  });
});

describe('packing chunks', () => {
  const item = (accountId: string, shardId: number) => ({
    dataSource: `WAF_${REGION}_${accountId}`,
    templateId: 'waf',
    accountId,
    region: REGION,
    project: 'p',
    logstore: 'l',
    shardId,
    readonly: false,
    generation: 1,
    consumeFrom: CONSUME_FROM,
  });
  const shape = (chunks: ReturnType<typeof packChunks>) =>
    chunks.map((c) => c.map((i) => `${i.accountId.slice(-1)}:${i.shardId}`));

  it('fills a chunk exactly, and never sends an empty one', () => {
    expect(shape(packChunks([item(A, 0), item(A, 1), item(B, 0), item(B, 1)], 4))).toEqual([
      ['1:0', '1:1', '2:0', '2:1'],
    ]);
    expect(shape(packChunks([item(A, 0), item(A, 1), item(A, 2)], 2))).toEqual([
      ['1:0', '1:1'],
      ['1:2'],
    ]);
    expect(packChunks([], 2)).toEqual([]);
  });
});

describe('the planner lease', () => {
  it('lets a store failure through (only a busy lease is a skip)', async () => {
    const down = new Error('store down');
    const failing = {
      ...deps,
      store: {
        ...f.logs,
        leases: {
          acquire: () => Promise.reject(down),
          renew: () => Promise.reject(down),
          release: () => Promise.reject(down),
          heldNames: () => Promise.reject(down),
          current: () => Promise.reject(down),
        },
      },
    };
    await expect(planLogPulls(failing)).rejects.toBe(down);
  });
});

describe('policy changes', () => {
  for (const change of [{ generation: 2 }, { consumeFrom: '2026-01-01T12:00:00.000Z' }]) {
    it(`brings the data source in step when only ${Object.keys(change)[0]} changed`, async () => {
      await policy('sas-alerts');
      memberLogs().shard(SAS_LOGS, 0, []);
      await planLogPulls(deps);
      const p = await f.logs.policies.get(`sas-alerts/${A}`);
      if (!p) throw new Error('no policy');
      await f.logs.policies.update({ ...p, ...change });
      await planLogPulls(deps);
      expect(await f.logs.dataSources.get(SAS)).toMatchObject(change);
      expect(invocations.at(-1)?.payload.items[0]).toMatchObject(change);
    });
  }
});
