// Products that write logs into members' SLS, and the /__localcloud/sls controls: enabling and
// disabling a product's logging, generators driven by localcloud's clock, Bastionhost sessions,
// adding a Logstore, splitting and merging, TTL, writing a batch and reading a Logstore back.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { RawSlsClient } from '../../support/sls-client';

let cloud: LocalCloud;
let member: { id: string; accessKeyId: string; accessKeySecret: string };

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    organization: {
      seed: 'sls-products',
      management: { name: 'm' },
      members: [
        {
          name: 'ops',
          logProducts: [
            { product: 'bastionhost', logsPerMinute: 600 },
            { product: 'waf', logsPerMinute: 120 },
          ],
        },
        { name: 'quiet' },
      ],
    },
  });
  const found = cloud.env.accounts.find((a) => a.name === 'ops');
  if (!found) throw new Error('no member');
  member = found;
});

afterAll(async () => {
  await cloud?.stop();
});

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${cloud.env.control}/sls/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface ReadBack {
  logCount: number;
  groups: Array<{
    shardId: number;
    topic: string;
    tags: Record<string, string>;
    logs: Array<{ time: number; contents: Record<string, string> }>;
  }>;
}

describe('products writing logs', () => {
  it('creates the products’ projects and Logstores with their default names', async () => {
    const list = await control('GET', 'products');
    expect(list.body.products).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          accountId: member.id,
          product: 'waf',
          project: `waf-project-${member.id}-cn-hangzhou`,
          logstore: 'waf-logstore',
        }),
        expect.objectContaining({ product: 'bastionhost', logstore: 'bastionhost-audit-logstore' }),
      ]),
    );
    const raw = new RawSlsClient(cloud.url, member);
    const stores = await raw.request({
      method: 'GET',
      project: `waf-project-${member.id}-cn-hangzhou`,
      path: '/logstores',
    });
    expect(stores.json()).toMatchObject({ logstores: ['waf-logstore'] });
  });

  it('appends records at the configured rate as localcloud’s clock moves', async () => {
    // localcloud's clock is real time plus the offset tests add: what real time adds while the
    // test runs is bounded by the elapsed time measured around it.
    const started = Date.now();
    await control('POST', 'tick');
    cloud.clock.advance(60);
    const written = (await control('POST', 'tick')).body.written as number;
    const elapsedMinutes = (Date.now() - started) / 60_000;
    // 600 + 120 per minute (give or take the fraction carried between ticks).
    expect(written).toBeGreaterThanOrEqual(718);
    expect(written).toBeLessThanOrEqual(722 + Math.ceil(720 * elapsedMinutes));
    const waf = (
      await control(
        'GET',
        `projects/waf-project-${member.id}-cn-hangzhou/logstores/waf-logstore/logs`,
      )
    ).body as unknown as ReadBack;
    expect(waf.logCount).toBeGreaterThanOrEqual(119);
    const record = waf.groups[0]?.logs[0]?.contents ?? {};
    for (const field of [
      'real_client_ip',
      'request_method',
      'request_path',
      'status',
      'final_action',
      'host',
      'user_agent',
    ]) {
      expect(record, field).toHaveProperty(field);
    }
    expect(waf.groups[0]?.tags).toEqual({ __product__: 'waf' });
  });

  it('plays whole Bastionhost sessions across protocols, users and client IPs', async () => {
    cloud.clock.advance(600);
    cloud.sls.products.tick();
    const back = (
      await control(
        'GET',
        `projects/bastionhost-project-${member.id}-cn-hangzhou/logstores/bastionhost-audit-logstore/logs`,
      )
    ).body as unknown as ReadBack;
    const events = back.groups.flatMap((g) => g.logs.map((l) => l.contents));
    const sessions = new Map<string, Array<Record<string, string>>>();
    for (const event of events) {
      expect(event.aliuid).toBe(member.id);
      sessions.set(event.session_id ?? '', [
        ...(sessions.get(event.session_id ?? '') ?? []),
        event,
      ]);
    }
    const protocols = new Set(events.map((e) => e.protocol));
    expect([...protocols].sort()).toEqual(['MySQL', 'PostgreSQL', 'RDP', 'SFTP', 'SSH']);
    expect(new Set(events.map((e) => e.user_name)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(events.map((e) => e.client_ip)).size).toBeGreaterThanOrEqual(2);
    const types = new Set(events.map((e) => e.event_type));
    for (const type of [
      'session_start',
      'command',
      'file_transfer',
      'graphical',
      'sql',
      'session_end',
    ]) {
      expect(types, type).toContain(type);
    }
    // Events are written in time order across groups within each shard; every session that ended
    // started first and its events name one user, asset and protocol.
    let ended = 0;
    for (const list of sessions.values()) {
      const sorted = [...list].sort((a, b) =>
        (a.event_time ?? '').localeCompare(b.event_time ?? ''),
      );
      if (list.some((e) => e.event_type === 'session_end')) {
        ended++;
        expect(list.some((e) => e.event_type === 'session_start')).toBe(true);
      }
      expect(new Set(list.map((e) => `${e.user_name}/${e.asset_name}/${e.protocol}`)).size).toBe(1);
      const start = list.find((e) => e.event_type === 'session_start');
      expect(start?.event_time).toBe(sorted[0]?.event_time);
      expect(start?.session_start_time).toBe(start?.event_time);
    }
    expect(ended).toBeGreaterThan(5);
  });

  it('disables a product’s logging: no project any more (log service not enabled)', async () => {
    expect((await control('DELETE', `products/${member.id}/waf`)).body).toEqual({ disabled: true });
    const raw = new RawSlsClient(cloud.url, member);
    const res = await raw.request({
      method: 'GET',
      project: `waf-project-${member.id}-cn-hangzhou`,
      path: '/logstores',
    });
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ errorCode: 'ProjectNotExist' });
    const enabled = await control('POST', 'products', {
      accountId: member.id,
      product: 'waf',
      logsPerMinute: 1,
    });
    expect(enabled.status).toBe(201);
    const bad = await control('POST', 'products', { accountId: member.id, product: 'nginx' });
    expect(bad.status).toBe(400);
  });
});

describe('Logstore controls', () => {
  it('adds a Logstore, writes a batch, splits and merges, sets TTL and reads it back', async () => {
    const project = `bastionhost-project-${member.id}-cn-hangzhou`;
    const added = await control('POST', `projects/${project}/logstores`, {
      logstoreName: 'extra',
      shardCount: 1,
      ttl: 2,
    });
    expect(added.status).toBe(201);
    const wrote = await control('POST', `projects/${project}/logstores/extra/logs`, {
      topic: 'test',
      tags: { origin: 'control' },
      logs: [{ time: 1_700_000_000, contents: { a: '1' } }, { contents: { a: '2' } }],
    });
    expect(wrote.body).toMatchObject({ shardId: 0, seq: 0, logCount: 2 });
    const split = await control('POST', `projects/${project}/logstores/extra/shards/0/split`, {});
    expect((split.body.shards as Array<{ status: string }>).map((s) => s.status)).toEqual([
      'readonly',
      'readwrite',
      'readwrite',
    ]);
    const merged = await control('POST', `projects/${project}/logstores/extra/shards/1/merge`, {});
    expect(merged.status).toBe(200);
    expect(
      (await control('PUT', `projects/${project}/logstores/extra/ttl`, { ttl: 1 })).body,
    ).toEqual({ logstoreName: 'extra', ttl: 1 });
    expect(
      (await control('PUT', `projects/${project}/logstores/extra/ttl`, { ttl: 0 })).status,
    ).toBe(400);
    const back = (await control('GET', `projects/${project}/logstores/extra/logs`))
      .body as unknown as ReadBack;
    expect(back.logCount).toBe(2);
    expect(back.groups[0]).toMatchObject({ topic: 'test', tags: { origin: 'control' } });
    expect(back.groups[0]?.logs[0]).toEqual({ time: 1_700_000_000, contents: { a: '1' } });
    cloud.clock.advance(86_401);
    expect(
      (
        (await control('GET', `projects/${project}/logstores/extra/logs`))
          .body as unknown as ReadBack
      ).logCount,
    ).toBe(0);
    expect((await control('GET', 'projects/no-such/logstores/x/logs')).body).toMatchObject({
      code: 'ProjectNotExist',
    });
  });

  it('scales the per-shard quotas', async () => {
    const set = await control('PUT', 'quotas', { readRequestsPerSecond: 5 });
    expect(set.body).toMatchObject({ readRequestsPerSecond: 5, writeRequestsPerSecond: 500 });
    expect(cloud.sls.model.quotas.readRequestsPerSecond).toBe(5);
    await control('PUT', 'quotas', { readRequestsPerSecond: 100 });
  });
});
