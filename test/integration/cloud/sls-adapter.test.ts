// The project's SLS adapter (shared/cloud/sls) against localcloud, reached by configuration only
// (endpoint templates `{region}.log.aliyuncs.com@<localcloud>`): every operation, each error the
// ports promise (missing project, Logstore, shard; malformed and TTL-expired cursors; count out
// of range; quotas retried; body too large; 5xx retried at least once), and cross-account
// access (the member's project refuses the administrator's credentials and answers the member's
// assumed role). What was written is read back through localcloud's own read-back control,
// which shares no code with the adapter.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import type { RetryOptions } from '../../../shared/cloud/openapi';
import { createLogService, type LogServiceOptions } from '../../../shared/cloud/sls/client';
import { slsEndpointFor } from '../../../shared/cloud/sls/endpoint';
import { createStsAssumeRole, memberRoleArn } from '../../../shared/cloud/sts';
import { CloudApiError } from '../../../shared/errors';
import { BATCH_ID_TAG, type LogGroup } from '../../../shared/logs/model';
import {
  LogCursorInvalid,
  LogResourceMissing,
  ProjectOwnedElsewhere,
} from '../../../shared/logs/ports';
import type { CloudCredentials } from '../../../shared/runtime/context';

const REGION = 'cn-hangzhou';
let cloud: LocalCloud;
/** localcloud's wall clock, stopped so that quota windows (seconds of localcloud's clock, the wall
 *  plus what tests advance) change only when a test moves the clock. */
const wallMs = Date.now();
let owner: { id: string; accessKeyId: string; accessKeySecret: string };
let memberKeys: CloudCredentials;
let adminKeys: CloudCredentials;
let managementId: string;
let wafProject: string;
let shanghaiProject: string;
const scratch = 'adapter-scratch';

/** No waiting: each retry moves localcloud's clock one second (a new quota window) instead. */
function retrying(maxAttempts: number, onRetry?: () => void): RetryOptions {
  return {
    retry: { maxAttempts, baseDelayMs: 1000, maxDelayMs: 1000 },
    random: () => 0,
    sleep: async () => {
      cloud.clock.advance(1);
      onRetry?.();
    },
  };
}

/** The member's credentials: AssumeRole into its access role with the administrator's keys. */
async function assumeMember(): Promise<CloudCredentials> {
  const assume = createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials: adminKeys,
    callerAccountId: managementId,
  });
  const session = await assume({
    accountId: owner.id,
    roleArn: memberRoleArn(owner.id, 'ResourceDirectoryAccountAccessRole'),
    sessionName: 'sls-adapter-integration',
    durationSeconds: 3600,
  });
  return {
    accessKeyId: session.accessKeyId,
    accessKeySecret: session.accessKeySecret,
    securityToken: session.securityToken,
  };
}

function service(overrides: Partial<LogServiceOptions> = {}) {
  const region = overrides.region ?? REGION;
  const host = new URL(cloud.url).host;
  return createLogService({
    endpoint: slsEndpointFor(
      {
        endpoint: `{region}.log.aliyuncs.com@${host}`,
        ownRegionEndpoint: `{region}-intranet.log.aliyuncs.com@${host}`,
        functionsRegion: REGION,
      },
      region,
    ),
    protocol: 'http',
    region,
    credentials: memberKeys,
    accountId: owner.id,
    ...retrying(3),
    ...overrides,
  });
}

async function readBack(project: string, logstore: string) {
  const res = await fetch(
    `${cloud.env.control}/sls/projects/${project}/logstores/${logstore}/logs`,
  );
  return (await res.json()) as {
    logCount: number;
    groups: Array<{
      shardId: number;
      topic: string;
      source: string;
      tags: Record<string, string>;
      logs: Array<{ time: number; contents: Record<string, string> }>;
    }>;
  };
}

function slsCalls(action: string): number {
  return cloud.control.calls({ service: 'sls', action }).length;
}

const now = () => Math.floor(cloud.clock.now() / 1000);

function group(n: number, label: string): LogGroup {
  return {
    logs: Array.from({ length: n }, (_, i) => ({
      time: now(),
      contents: [
        { key: 'label', value: label },
        { key: 'i', value: String(i) },
        { key: 'message', value: `événement ${i} ✓` },
      ],
    })),
    topic: 'adapter',
    source: '10.0.0.7',
    tags: [{ key: 'origin', value: 'test' }],
  };
}

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    wallClock: () => wallMs,
    random: () => 0,
    organization: {
      seed: 'sls-adapter',
      management: { name: 'adapter-management' },
      members: [
        {
          name: 'log-owner',
          logProducts: ['waf', { product: 'cloudfirewall', region: 'cn-shanghai' }],
        },
        { name: 'bystander' },
      ],
    },
  });
  const find = (name: string) => {
    const account = cloud.env.accounts.find((a) => a.name === name);
    if (!account) throw new Error(name);
    return account;
  };
  owner = find('log-owner');
  const management = find('adapter-management');
  managementId = management.id;
  adminKeys = { accessKeyId: management.accessKeyId, accessKeySecret: management.accessKeySecret };
  memberKeys = await assumeMember();
  wafProject = `waf-project-${owner.id}-cn-hangzhou`;
  shanghaiProject = `cloudfirewall-project-${owner.id}-cn-shanghai`;
  await service().createLogstore(
    { project: wafProject, logstore: scratch },
    { ttlDays: 7, shardCount: 2 },
  );
});

afterAll(async () => {
  await cloud?.stop();
});

afterEach(() => {
  cloud.control.clearFaults();
});

describe('discovery', () => {
  it('gets the project with its owner and region', async () => {
    expect(await service().getProject(wafProject)).toMatchObject({
      name: wafProject,
      owner: owner.id,
      region: REGION,
    });
  });

  it('reaches a project in another region through that region’s endpoint only', async () => {
    const shanghai = service({ region: 'cn-shanghai' });
    expect(await shanghai.getProject(shanghaiProject)).toMatchObject({ region: 'cn-shanghai' });
    expect(await shanghai.listAllLogstores(shanghaiProject)).toEqual(['cloudfirewall-logstore']);
    await expect(service().getProject(shanghaiProject)).rejects.toBeInstanceOf(LogResourceMissing);
  });

  it('creates Logstores once, and lists them by page and name filter', async () => {
    const logs = service({ listPageSize: 2 });
    for (const name of ['audit-a', 'audit-b', 'audit-c']) {
      expect(
        await logs.createLogstore(
          { project: wafProject, logstore: name },
          { ttlDays: 3, shardCount: 1 },
        ),
      ).toBe('created');
    }
    expect(
      await logs.createLogstore(
        { project: wafProject, logstore: 'audit-a' },
        { ttlDays: 3, shardCount: 1 },
      ),
    ).toBe('exists');
    expect(
      await logs.listLogstores(wafProject, { nameContains: 'audit', offset: 1, size: 1 }),
    ).toEqual({ names: ['audit-b'], total: 3 });
    const calls = slsCalls('ListLogStores');
    expect(await logs.listAllLogstores(wafProject, 'audit')).toEqual([
      'audit-a',
      'audit-b',
      'audit-c',
    ]);
    expect(slsCalls('ListLogStores') - calls).toBe(2);
    expect(await logs.listAllLogstores(wafProject)).toEqual(
      expect.arrayContaining(['waf-logstore', scratch, 'audit-c']),
    );
    expect(await logs.getLogstore({ project: wafProject, logstore: 'audit-b' })).toMatchObject({
      name: 'audit-b',
      ttlDays: 3,
      shardCount: 1,
    });
  });

  it("lists the account's projects of a region, all pages", async () => {
    expect(await service({ listPageSize: 1 }).listProjects()).toEqual([wafProject]);
    expect(await service({ region: 'cn-shanghai' }).listProjects()).toEqual([shanghaiProject]);
  });

  it('creates a project once; a name another account holds is ProjectOwnedElsewhere', async () => {
    const logs = service();
    expect(await logs.createProject('adapter-central', 'central')).toBe('created');
    expect(await logs.createProject('adapter-central', 'central')).toBe('exists');
    expect(await logs.getProject('adapter-central')).toMatchObject({ owner: owner.id });
    const bystander = cloud.env.accounts.find((a) => a.name === 'bystander');
    if (!bystander) throw new Error('bystander');
    const theirs = service({
      credentials: {
        accessKeyId: bystander.accessKeyId,
        accessKeySecret: bystander.accessKeySecret,
      },
      accountId: bystander.id,
    });
    await expect(theirs.createProject('adapter-central', 'mine?')).rejects.toBeInstanceOf(
      ProjectOwnedElsewhere,
    );
    expect((await service().listProjects()).sort()).toEqual(['adapter-central', wafProject]);
  });

  it('lists shards with their status, hash range and create time', async () => {
    const shards = await service().listShards({ project: wafProject, logstore: scratch });
    expect(shards.map((s) => [s.shardId, s.status])).toEqual([
      [0, 'readwrite'],
      [1, 'readwrite'],
    ]);
    expect(shards[0]?.inclusiveBeginKey).toBe('00000000000000000000000000000000');
    expect(shards[1]?.exclusiveEndKey).toBe('ffffffffffffffffffffffffffffffff');
    expect(shards[0]?.createTime).toBeGreaterThan(1_600_000_000);
  });
});

describe('writing and reading', () => {
  it.each([
    ['lz4', 'deflate', 'v1'],
    ['deflate', 'lz4', 'v4'],
  ] as const)(
    'puts a built group (%s), pulls it back (%s) with its tags, signing %s',
    async (compression, pullCompression, signatureVersion) => {
      const logs = service({ putCompression: compression, pullCompression, signatureVersion });
      const address = { project: wafProject, logstore: scratch };
      const end = await logs.cursor(address, 1, 'end');
      const outcome = await logs.put(address, {
        group: group(3, compression),
        tags: [{ key: 'owner_account', value: owner.id }],
        batchId: `batch-${compression}`,
        hashKey: 'f0000000000000000000000000000000',
      });
      expect(outcome).toEqual({ attempts: 1, maybeDuplicated: false });
      const pulled = await logs.pull(address, 1, { cursor: end });
      expect(pulled.logCount).toBe(3);
      expect(pulled.groups).toHaveLength(1);
      const [first] = pulled.groups;
      if (!first) throw new Error('no group');
      expect(first).toMatchObject({ logCount: 3, topic: 'adapter', source: '10.0.0.7' });
      expect(first.tags).toEqual([
        { key: 'origin', value: 'test' },
        { key: 'owner_account', value: owner.id },
        { key: BATCH_ID_TAG, value: `batch-${compression}` },
      ]);
      const decoded = logs.decode(first);
      expect(decoded.logs.map((l) => l.contents)).toEqual(
        group(3, compression).logs.map((l) => l.contents),
      );
      expect(pulled.rawBytes).toBe(first.bytes.length + 2 + (first.bytes.length > 127 ? 1 : 0));
      const again = await logs.pull(address, 1, { cursor: pulled.nextCursor });
      expect(again).toMatchObject({ groups: [], logCount: 0, nextCursor: pulled.nextCursor });
    },
  );

  it('forwards pulled groups as they are, with tags appended, and keeps every field', async () => {
    const logs = service();
    for (let minute = 0; minute < 3; minute++) {
      cloud.clock.advance(60);
      cloud.sls.products.tick();
    }
    const source = { project: wafProject, logstore: 'waf-logstore' };
    const target = { project: wafProject, logstore: 'forwarded' };
    await logs.createLogstore(target, { ttlDays: 1, shardCount: 1 });
    const forwarded: Array<{ logs: unknown; tags: Record<string, string> }> = [];
    for (const shard of await logs.listShards(source)) {
      const cursor = await logs.cursor(source, shard.shardId, 'begin');
      const pulled = await logs.pull(source, shard.shardId, { cursor, count: 1000 });
      for (const [index, encoded] of pulled.groups.entries()) {
        const provenance = [
          { key: 'source_shard', value: String(shard.shardId) },
          { key: 'source_project', value: source.project },
        ];
        await logs.put(target, {
          group: encoded,
          tags: provenance,
          batchId: `${shard.shardId}:${cursor}:${index}`,
        });
        const original = logs.decode(encoded);
        forwarded.push({
          logs: original.logs.map((l) => ({
            time: l.time,
            contents: Object.fromEntries(l.contents.map((c) => [c.key, c.value])),
          })),
          tags: {
            ...Object.fromEntries(original.tags.map((t) => [t.key, t.value])),
            source_shard: String(shard.shardId),
            source_project: source.project,
            [BATCH_ID_TAG]: `${shard.shardId}:${cursor}:${index}`,
          },
        });
      }
    }
    expect(forwarded.length).toBeGreaterThan(1);
    const back = await readBack(target.project, target.logstore);
    expect(back.groups.map((g) => ({ logs: g.logs, tags: g.tags }))).toEqual(forwarded);
    expect(back.groups.every((g) => g.tags.__product__ === 'waf')).toBe(true);
  });

  it('merges pulled groups into one PutLogs: their logs in order, one set of tags', async () => {
    const logs = service();
    const target = { project: wafProject, logstore: 'merged' };
    await logs.createLogstore(target, { ttlDays: 1, shardCount: 1 });
    const source = { project: wafProject, logstore: scratch };
    const cursor = await logs.cursor(source, 0, 'end');
    for (const label of ['m1', 'm2', 'm3']) {
      await logs.put(source, {
        group: group(2, label),
        batchId: `seed-${label}`,
        hashKey: '00000000000000000000000000000000',
      });
    }
    const pulled = await logs.pull(source, 0, { cursor });
    expect(pulled.groups).toHaveLength(3);
    await logs.put(target, {
      group: pulled.groups,
      tags: [{ key: 'via', value: 'merge' }],
      batchId: 'b-1',
    });
    const back = await readBack(target.project, target.logstore);
    expect(back.groups).toHaveLength(1);
    expect(back.groups[0]?.logs.map((l) => `${l.contents.label}/${l.contents.i}`)).toEqual([
      'm1/0',
      'm1/1',
      'm2/0',
      'm2/1',
      'm3/0',
      'm3/1',
    ]);
    expect(back.groups[0]?.tags).toEqual({
      origin: 'test',
      [BATCH_ID_TAG]: 'b-1',
      via: 'merge',
    });
  });

  it('takes cursors at the beginning, the end and by time, and tells a cursor’s time', async () => {
    const logs = service();
    const address = { project: wafProject, logstore: scratch };
    const begin = await logs.cursor(address, 1, 'begin');
    const end = await logs.cursor(address, 1, 'end');
    expect(begin).not.toBe(end);
    expect(await logs.cursor(address, 1, { unixSeconds: now() - 3600 })).toBe(begin);
    expect(await logs.cursor(address, 1, { unixSeconds: now() + 3600 })).toBe(end);
    expect(Math.abs((await logs.cursorTime(address, 1, begin)) - now())).toBeLessThan(600);
    const bounded = await logs.pull(address, 1, { cursor: begin, count: 1 });
    expect(bounded.groups).toHaveLength(1);
    const upTo = await logs.pull(address, 1, { cursor: begin, endCursor: bounded.nextCursor });
    expect(upTo.groups).toHaveLength(1);
  });
});

describe('errors', () => {
  it('tells a missing project, Logstore and shard apart, without retrying', async () => {
    const logs = service();
    const before = cloud.control.calls({ service: 'sls' }).length;
    const missing = async (call: Promise<unknown>) => {
      const error = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LogResourceMissing);
      return error as LogResourceMissing;
    };
    const project = await missing(logs.getProject(`nothing-${owner.id}`));
    expect(project.resource).toBe('project');
    expect(project.failure).toMatchObject({ kind: 'rejected', cloudCode: 'ProjectNotExist' });
    expect(project.message).toContain('log service may not be enabled');
    const logstore = await missing(logs.listShards({ project: wafProject, logstore: 'nope' }));
    expect(logstore.resource).toBe('logstore');
    const shard = await missing(logs.cursor({ project: wafProject, logstore: scratch }, 9, 'end'));
    expect(shard.resource).toBe('shard');
    expect(cloud.control.calls({ service: 'sls' }).length - before).toBe(3);
  });

  it('refuses a malformed cursor and a cursor into data removed by the TTL as LogCursorInvalid', async () => {
    const logs = service();
    const address = { project: wafProject, logstore: 'short-lived' };
    await logs.createLogstore(address, { ttlDays: 1, shardCount: 1 });
    await expect(logs.pull(address, 0, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
      LogCursorInvalid,
    );
    await logs.put(address, { group: group(1, 'old'), batchId: 'old' });
    const old = await logs.cursor(address, 0, 'begin');
    cloud.clock.advance(86_401);
    // The day also expired the member's STS session: take a new one.
    memberKeys = await assumeMember();
    const later = service();
    await later.put(address, { group: group(1, 'new'), batchId: 'new' });
    const calls = slsCalls('PullLogs');
    const expired = await later.pull(address, 0, { cursor: old }).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(LogCursorInvalid);
    expect((expired as LogCursorInvalid).failure.cloudCode).toBe('InvalidCursor');
    expect(slsCalls('PullLogs') - calls).toBe(1);
    const begin = await later.cursor(address, 0, 'begin');
    const kept = await later.pull(address, 0, { cursor: begin });
    expect(kept.groups.map((g) => later.decode(g).logs[0]?.contents[0]?.value)).toEqual(['new']);
  });

  it.each([0, 1001])('refuses count %i with the service’s ParameterInvalid', async (count) => {
    const logs = service();
    const address = { project: wafProject, logstore: scratch };
    const cursor = await logs.cursor(address, 0, 'begin');
    const error = await logs.pull(address, 0, { cursor, count }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect((error as CloudApiError).failure).toMatchObject({
      kind: 'rejected',
      cloudCode: 'ParameterInvalid',
    });
  });

  it('retries shard quota throttling with backoff until the next window', async () => {
    const saved = { ...cloud.sls.model.quotas };
    cloud.sls.model.quotas = { ...saved, writeRequestsPerSecond: 1, readRequestsPerSecond: 1 };
    try {
      const logs = service();
      const address = { project: wafProject, logstore: scratch };
      const hashKey = '00000000000000000000000000000001';
      expect(await logs.put(address, { group: group(1, 'q1'), batchId: 'q1', hashKey })).toEqual({
        attempts: 1,
        maybeDuplicated: false,
      });
      expect(await logs.put(address, { group: group(1, 'q2'), batchId: 'q2', hashKey })).toEqual({
        attempts: 2,
        maybeDuplicated: false,
      });
      const cursor = await logs.cursor(address, 0, 'begin');
      const readThrottled = () =>
        cloud.control
          .calls({ service: 'sls', action: 'PullLogs' })
          .filter((c) => c.result === 'ShardReadQuotaExceed').length;
      const throttledBefore = readThrottled();
      const first = await logs.pull(address, 0, { cursor });
      const second = await logs.pull(address, 0, { cursor });
      expect(second.logCount).toBe(first.logCount);
      expect(readThrottled() - throttledBefore).toBe(1);
    } finally {
      cloud.sls.model.quotas = saved;
    }
  });

  it('reports project-level throttling that outlasts the retries as throttled', async () => {
    cloud.control.addFault({ service: 'sls', action: 'PutLogs', kind: 'throttle', rate: 1 });
    const calls = slsCalls('PutLogs');
    const error = await service(retrying(3))
      .put({ project: wafProject, logstore: scratch }, { group: group(1, 't'), batchId: 't' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect((error as CloudApiError).failure).toMatchObject({
      kind: 'throttled',
      cloudCode: 'WriteQuotaExceed',
    });
    expect(slsCalls('PutLogs') - calls).toBe(3);
  });

  it('retries a PutLogs that may have been applied, and says a duplicate may exist', async () => {
    cloud.control.addFault({
      service: 'sls',
      action: 'PutLogs',
      kind: 'error5xx',
      rate: 1,
      status: 500,
    });
    const address = { project: wafProject, logstore: scratch };
    const logs = service(retrying(3, () => cloud.control.clearFaults()));
    expect(await logs.put(address, { group: group(1, 'r'), batchId: 'retried' })).toEqual({
      attempts: 2,
      maybeDuplicated: true,
    });
  });

  it('refuses a group over 5 MB with PostBodyTooLarge, without retrying', async () => {
    const calls = slsCalls('PutLogs');
    const big: LogGroup = {
      logs: [{ time: now(), contents: [{ key: 'big', value: 'x'.repeat(5 * 1024 * 1024) }] }],
      tags: [],
    };
    const error = await service()
      .put({ project: wafProject, logstore: scratch }, { group: big, batchId: 'big' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect((error as CloudApiError).failure).toMatchObject({
      kind: 'rejected',
      cloudCode: 'PostBodyTooLarge',
      httpStatus: 413,
    });
    expect(slsCalls('PutLogs') - calls).toBe(1);
  });
});

describe('cross-account access', () => {
  it('refuses the member’s project to the administrator’s own credentials', async () => {
    const asAdmin = service({ credentials: adminKeys, accountId: managementId });
    const error = await asAdmin
      .listShards({ project: wafProject, logstore: 'waf-logstore' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect((error as CloudApiError).failure).toMatchObject({
      kind: 'denied',
      cloudCode: 'Unauthorized',
      httpStatus: 401,
    });
    expect((error as CloudApiError).message).toContain('its access role');
    const shards = await service().listShards({ project: wafProject, logstore: 'waf-logstore' });
    expect(shards.length).toBeGreaterThan(0);
  });
});
