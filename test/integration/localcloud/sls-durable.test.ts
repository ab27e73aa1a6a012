// SLS under a data directory: localcloud is stopped and started again on the same directory and
// everything written through the raw client comes back: projects, Logstores (TTL, shard count),
// shards (status, ranges, lineage after split and merge), every log group with its receive time,
// cursors handed out before the restart (same strings, same positions), TTL expiry (also of data
// expired before the restart), and the product generators, which go on with the same sequence of
// records as a run that never stopped. Segments are small here so data spans many segment files.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalCloud,
  type OrganizationFixture,
  startLocalCloud,
} from '../../../localcloud/index';
import {
  spreadHashKey as hashKey,
  LineageReader,
  RawSlsClient,
  type TestLogGroup,
} from '../../support/sls-client';

const ORGANIZATION: OrganizationFixture = {
  seed: 'sls-durable',
  management: { name: 'm' },
  members: [
    { name: 'writer' },
    {
      name: 'ops',
      logProducts: [{ product: 'bastionhost', logsPerMinute: 60 }, 'waf'],
    },
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'sls-durable-'));
const dataDir = join(dir, 'data');
let cloud: LocalCloud;
let writer: { id: string; accessKeyId: string; accessKeySecret: string };
let client: RawSlsClient;
let project: string;
const now = () => Math.floor(Date.now() / 1000);

function start(): Promise<LocalCloud> {
  return startLocalCloud({
    port: 0,
    organization: ORGANIZATION,
    dataDir,
    slsPersistence: { segmentBytes: 4096, compactAfterBytes: 4096 },
    slsQuotas: { readRequestsPerSecond: 1_000_000, writeRequestsPerSecond: 1_000_000 },
  });
}

async function restart(): Promise<void> {
  await cloud.stop();
  cloud = await start();
  client = new RawSlsClient(cloud.url, writer);
}

beforeAll(async () => {
  cloud = await start();
  const found = cloud.env.accounts.find((a) => a.name === 'writer');
  if (!found) throw new Error('no writer');
  writer = found;
  client = new RawSlsClient(cloud.url, writer);
  project = `durable-${writer.id}`;
  const created = await fetch(`${cloud.env.control}/sls/projects`, {
    method: 'POST',
    body: JSON.stringify({ name: project, accountId: writer.id }),
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function createLogstore(name: string, ttl: number, shardCount: number): Promise<void> {
  const res = await client.createLogstore(project, name, { ttl, shardCount });
  expect(res.status, res.body.toString()).toBe(200);
}

async function put(logstore: string, n: number, hashKey?: string): Promise<void> {
  const group: TestLogGroup = {
    topic: `topic-${n % 3}`,
    source: `10.0.0.${n % 7}`,
    tags: { batch: String(n) },
    logs: Array.from({ length: 1 + (n % 4) }, (_, i) => ({
      time: now(),
      contents: { n: String(n), i: String(i), text: 'x'.repeat(50 + ((n * 37) % 400)) },
    })),
  };
  const compress = (['lz4', 'deflate', 'none'] as const)[n % 3];
  const res = await client.putLogs(project, logstore, group, {
    compress,
    ...(hashKey ? { hashKey } : {}),
  });
  expect(res.status, res.body.toString()).toBe(200);
}

/** Every group from `cursor` to the shard's end, and the end cursor. */
async function pullAll(logstore: string, shard: number, cursor: string, count = 7) {
  const groups: TestLogGroup[] = [];
  let at = cursor;
  for (;;) {
    const pulled = await client.pullLogs(project, logstore, shard, at, {
      count,
      encoding: groups.length % 2 === 0 ? 'lz4' : 'deflate',
    });
    expect(pulled.res.status, pulled.res.body.toString()).toBe(200);
    groups.push(...pulled.groups);
    if (pulled.next === at) return { groups, end: at };
    at = pulled.next;
  }
}

async function request(path: string, query: Record<string, string>) {
  const res = await client.request({ method: 'GET', project, path, query });
  expect(res.status, res.body.toString()).toBe(200);
  return res.json();
}

describe('SLS across restarts on the same data directory', () => {
  it('keeps Logstores, shards and every log group; old cursors read the same data', async () => {
    await createLogstore('central', 7, 3);
    await createLogstore('side', 30, 1);
    for (let n = 0; n < 90; n++) await put('central', n, n % 2 === 0 ? hashKey(n) : undefined);
    for (let n = 0; n < 10; n++) await put('side', 1000 + n);

    const shards = await client.listShards(project, 'central');
    const before = new Map<
      number,
      {
        begin: string;
        middle: string;
        end: string;
        all: TestLogGroup[];
        fromMiddle: TestLogGroup[];
        middleTime: unknown;
        byTime: string;
      }
    >();
    for (const { shardID } of shards) {
      const begin = await client.cursor(project, 'central', shardID, 'begin');
      const { groups: all, end } = await pullAll('central', shardID, begin);
      const middle = (await client.pullLogs(project, 'central', shardID, begin, { count: 11 }))
        .next;
      const { groups: fromMiddle } = await pullAll('central', shardID, middle);
      const middleTime = await request(`/logstores/central/shards/${shardID}`, {
        type: 'cursor_time',
        cursor: middle,
      });
      const byTime = await client.cursor(
        project,
        'central',
        shardID,
        String((middleTime as { cursor_time: number }).cursor_time),
      );
      expect(all.length).toBeGreaterThan(11);
      before.set(shardID, { begin, middle, end, all, fromMiddle, middleTime, byTime });
    }
    const logstores = await request('/logstores', {});
    const central = await request('/logstores/central', {});

    await restart();

    expect(await request('/logstores', {})).toEqual(logstores);
    expect(await request('/logstores/central', {})).toEqual(central);
    expect(central).toMatchObject({ ttl: 7, shardCount: 3 });
    expect(await client.listShards(project, 'central')).toEqual(shards);
    let total = 0;
    for (const { shardID } of shards) {
      const saved = before.get(shardID);
      if (!saved) throw new Error(`shard ${shardID}`);
      expect(await client.cursor(project, 'central', shardID, 'begin')).toBe(saved.begin);
      expect(await client.cursor(project, 'central', shardID, 'end')).toBe(saved.end);
      expect((await pullAll('central', shardID, saved.begin, 3)).groups).toEqual(saved.all);
      expect((await pullAll('central', shardID, saved.middle)).groups).toEqual(saved.fromMiddle);
      expect(
        await request(`/logstores/central/shards/${shardID}`, {
          type: 'cursor_time',
          cursor: saved.middle,
        }),
      ).toEqual(saved.middleTime);
      const middleTime = (saved.middleTime as { cursor_time: number }).cursor_time;
      expect(await client.cursor(project, 'central', shardID, String(middleTime))).toBe(
        saved.byTime,
      );
      total += saved.all.length;
    }
    expect(total).toBe(90);
    const side = await pullAll('side', 0, await client.cursor(project, 'side', 0, 'begin'));
    expect(side.groups.map((g) => g.tags?.batch)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(1000 + i)),
    );

    // Writes go on after the restart: an old end cursor reads exactly the new groups.
    for (let n = 90; n < 120; n++) await put('central', n, hashKey(n));
    const fresh: string[] = [];
    for (const { shardID } of shards) {
      const saved = before.get(shardID);
      if (!saved) throw new Error(`shard ${shardID}`);
      const after = await pullAll('central', shardID, saved.end);
      fresh.push(...after.groups.map((g) => g.tags?.batch ?? ''));
    }
    expect(fresh.map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => 90 + i),
    );
  });

  it('keeps split and merge lineage; a reader following parents reads every log once across restarts', async () => {
    await createLogstore('reshard', 7, 2);
    const seen: number[] = [];
    const lineage = new LineageReader(client, project, 'reshard');
    // Twice, so children unblocked by a pass are read too.
    const read = async () => {
      lineage.use(client);
      for (let pass = 0; pass < 2; pass++) {
        await lineage.pass((group) => seen.push(Number(group.tags?.batch)));
      }
    };
    let n = 0;
    const write = async (count: number) => {
      for (const stop = n + count; n < stop; n++) await put('reshard', n, hashKey(n));
    };
    await write(40);
    await read();
    const split = await client.request({
      method: 'POST',
      project,
      path: '/logstores/reshard/shards/0',
      query: { action: 'split', key: '40000000000000000000000000000000' },
    });
    expect(split.status, split.body.toString()).toBe(200);
    await write(40);
    const afterSplit = await client.listShards(project, 'reshard');
    await restart();
    expect(await client.listShards(project, 'reshard')).toEqual(afterSplit);
    await read();
    await write(20);
    const merge = await client.request({
      method: 'POST',
      project,
      path: '/logstores/reshard/shards/2',
      query: { action: 'merge' },
    });
    expect(merge.status, merge.body.toString()).toBe(200);
    await write(40);
    await restart();
    const shards = await client.listShards(project, 'reshard');
    expect(shards.map((s) => `${s.shardID}:${s.status}:${s.inclusiveBeginKey}`)).toEqual([
      '0:readonly:00000000000000000000000000000000',
      '1:readwrite:80000000000000000000000000000000',
      '2:readonly:00000000000000000000000000000000',
      '3:readonly:40000000000000000000000000000000',
      '4:readwrite:00000000000000000000000000000000',
    ]);
    // Shard ids go on from where they were: a new split gets 5 and 6.
    const again = await client.request({
      method: 'POST',
      project,
      path: '/logstores/reshard/shards/1',
      query: { action: 'split', key: 'c0000000000000000000000000000000' },
    });
    expect(again.json<Array<{ shardID: number }>>().map((s) => s.shardID)).toEqual([1, 5, 6]);
    await write(20);
    await read();
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 160 }, (_, i) => i));
  });

  it('applies TTL after a restart, and what expired before it stays expired', async () => {
    await createLogstore('ttl-kept', 1, 1);
    await put('ttl-kept', 1);
    const old = await client.cursor(project, 'ttl-kept', 0, 'begin');
    cloud.clock.advance(2 * 86_400);
    const expired = await client.pullLogs(project, 'ttl-kept', 0, old);
    expect(expired.res.json()).toMatchObject({ errorCode: 'InvalidCursor' });
    // A longer TTL does not bring expired data back, and neither does the restart (localcloud's
    // clock starts again from real time, two days before the moment the data expired at).
    const longer = await fetch(
      `${cloud.env.control}/sls/projects/${project}/logstores/ttl-kept/ttl`,
      {
        method: 'PUT',
        body: JSON.stringify({ ttl: 30 }),
      },
    );
    expect(longer.status).toBe(200);
    await put('ttl-kept', 2);

    await createLogstore('ttl-later', 1, 1);
    await restart();
    expect(await request('/logstores/ttl-kept', {})).toMatchObject({ ttl: 30 });
    expect((await client.pullLogs(project, 'ttl-kept', 0, old)).res.json()).toMatchObject({
      errorCode: 'InvalidCursor',
    });
    const kept = await pullAll('ttl-kept', 0, await client.cursor(project, 'ttl-kept', 0, 'begin'));
    expect(kept.groups.map((g) => g.tags?.batch)).toEqual(['2']);

    await put('ttl-later', 3);
    const later = await client.cursor(project, 'ttl-later', 0, 'begin');
    await restart();
    expect((await client.pullLogs(project, 'ttl-later', 0, later)).groups).toHaveLength(1);
    cloud.clock.advance(86_401);
    expect((await client.pullLogs(project, 'ttl-later', 0, later)).res.json()).toMatchObject({
      errorCode: 'InvalidCursor',
    });
    expect(await client.cursor(project, 'ttl-later', 0, 'begin')).toBe(
      await client.cursor(project, 'ttl-later', 0, 'end'),
    );
  });

  it('keeps deleted Logstores deleted; one created again under the same name starts empty', async () => {
    await createLogstore('gone', 7, 1);
    await put('gone', 1);
    const deleted = await client.request({ method: 'DELETE', project, path: '/logstores/gone' });
    expect(deleted.status).toBe(200);
    await restart();
    const missing = await client.request({ method: 'GET', project, path: '/logstores/gone' });
    expect(missing.json()).toMatchObject({ errorCode: 'LogStoreNotExist' });
    await createLogstore('gone', 7, 1);
    await restart();
    const begin = await client.cursor(project, 'gone', 0, 'begin');
    expect((await client.pullLogs(project, 'gone', 0, begin)).groups).toEqual([]);
  });
});

describe('product generators across restarts', () => {
  type Records = Array<Record<string, string>>;

  /** Bastionhost records written since `seen` (shard/seq), fields that do not depend on time. */
  async function newRecords(target: LocalCloud, seen: Set<string>): Promise<Records> {
    const ops = target.env.accounts.find((a) => a.name === 'ops');
    const res = await fetch(
      `${target.env.control}/sls/projects/bastionhost-project-${ops?.id}-cn-hangzhou/logstores/bastionhost-audit-logstore/logs`,
    );
    const body = (await res.json()) as {
      groups: Array<{
        shardId: number;
        seq: number;
        logs: Array<{ contents: Record<string, string> }>;
      }>;
    };
    const records: Records = [];
    for (const group of body.groups) {
      const id = `${group.shardId}/${group.seq}`;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const { contents } of group.logs) {
        records.push({
          session_id: contents.session_id ?? '',
          user_name: contents.user_name ?? '',
          client_ip: contents.client_ip ?? '',
          asset_name: contents.asset_name ?? '',
          asset_account: contents.asset_account ?? '',
          event_type: contents.event_type ?? '',
          result: contents.result ?? '',
          content: contents.event_type === 'session_end' ? '' : (contents.content ?? ''),
        });
      }
    }
    return records;
  }

  it('go on with the same records as a run that never stopped; a disabled product stays disabled', async () => {
    const reference = await startLocalCloud({ port: 0, organization: ORGANIZATION });
    try {
      const referenceSeen = new Set<string>();
      const durableSeen = new Set<string>();
      // The durable cloud's products were enabled when it first started (earlier tests wrote
      // nothing through them); both runs now write two minutes of records.
      const expected: Records = [];
      const actual: Records = [];
      for (const target of [reference, cloud]) target.clock.advance(60);
      reference.sls.products.tick();
      cloud.sls.products.tick();
      expected.push(...(await newRecords(reference, referenceSeen)));
      actual.push(...(await newRecords(cloud, durableSeen)));
      const ops = cloud.env.accounts.find((a) => a.name === 'ops');
      const disabled = await fetch(`${cloud.env.control}/sls/products/${ops?.id}/waf`, {
        method: 'DELETE',
      });
      expect(disabled.status).toBe(200);
      const listed = cloud.sls.products.list();

      await restart();
      expect(cloud.sls.restored).toBe(true);
      expect(cloud.sls.products.list()).toEqual(listed);
      expect(listed.map((entry) => entry.product)).toEqual(['bastionhost']);
      expect(cloud.sls.model.findProject('cn-hangzhou', `waf-project-${ops?.id}-cn-hangzhou`)).toBe(
        undefined,
      );
      for (const target of [reference, cloud]) target.clock.advance(60);
      reference.sls.products.tick();
      cloud.sls.products.tick();
      expected.push(...(await newRecords(reference, referenceSeen)));
      actual.push(...(await newRecords(cloud, durableSeen)));

      // Records are drawn one after another from the generator's random source and its open
      // sessions, so the two streams agree record by record (a tick may cut them one apart).
      const length = Math.min(expected.length, actual.length);
      expect(length).toBeGreaterThanOrEqual(110);
      expect(actual.slice(0, length)).toEqual(expected.slice(0, length));
      // Sessions opened before the restart go on after it.
      const before = new Set(actual.slice(0, 55).map((r) => r.session_id));
      expect(actual.slice(62).some((r) => before.has(r.session_id))).toBe(true);
    } finally {
      await reference.stop();
    }
  });
});
