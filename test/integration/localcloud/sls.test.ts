// The SLS emulator over its wire protocol: every operation through a raw HTTP client with its own
// v1 signer (test/support/sls-client.ts), through localcloud as an HTTP proxy, and through the
// official @alicloud/sls20201230 client (v1 and v4 signatures, lz4 bodies), with the service's
// errors, per-member access, STS tokens and session policies, TTL expiry and shard quotas.

import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as sls from '@alicloud/sls20201230';
import * as $dara from '@darabonba/typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { decodeGroupList, encodeGroup, RawSlsClient } from '../../support/sls-client';

let cloud: LocalCloud;
let owner: { id: string; accessKeyId: string; accessKeySecret: string };
let other: { id: string; accessKeyId: string; accessKeySecret: string };
let raw: RawSlsClient;
let project: string;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    organization: {
      seed: 'sls-integration',
      management: { name: 'sls-management' },
      members: [{ name: 'sls-owner', logProducts: ['waf'] }, { name: 'sls-other' }],
    },
  });
  const find = (name: string) => {
    const account = cloud.env.accounts.find((a) => a.name === name);
    if (!account) throw new Error(name);
    return account;
  };
  owner = find('sls-owner');
  other = find('sls-other');
  raw = new RawSlsClient(cloud.url, owner);
  project = `waf-project-${owner.id}-cn-hangzhou`;
});

afterAll(async () => {
  await cloud?.stop();
});

function sdkClient(
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
  signatureVersion?: 'v4',
) {
  const Client =
    (sls.default as unknown as { default?: typeof sls.default }).default ?? sls.default;
  return new Client(
    new $OpenApiUtil.Config({
      ...credentials,
      // The SDK builds the host as `<project>.<endpoint>`; with `@` first, the URL reads
      // `<project>.` as user info and connects to localcloud, which takes the project from Host.
      endpoint: `@${new URL(cloud.url).host}`,
      protocol: 'http',
      ...(signatureVersion ? { signatureVersion, regionId: 'cn-hangzhou' } : {}),
    }),
  );
}

describe('projects and Logstores', () => {
  it('lists only the caller’s projects and gets one', async () => {
    const list = await raw.request({ method: 'GET', path: '/' });
    expect(list.status).toBe(200);
    expect(list.json()).toMatchObject({ count: 1, total: 1, projects: [{ projectName: project }] });
    expect(list.headers['x-log-requestid']).toMatch(/^[0-9A-F]{24}$/);
    const mine = await raw.request({ method: 'GET', project, path: '/' });
    expect(mine.json()).toMatchObject({
      projectName: project,
      owner: owner.id,
      region: 'cn-hangzhou',
    });
    const theirs = await raw.withCredentials(other).request({ method: 'GET', path: '/' });
    expect(theirs.json()).toMatchObject({ count: 0, total: 0 });
  });

  it('creates, filters, pages, gets and deletes Logstores', async () => {
    for (const name of ['app-a', 'app-b', 'audit-c']) {
      const res = await raw.request({
        method: 'POST',
        project,
        path: '/logstores',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ logstoreName: name, ttl: 7, shardCount: 3 })),
      });
      expect(res.status, res.body.toString()).toBe(200);
    }
    const again = await raw.request({
      method: 'POST',
      project,
      path: '/logstores',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ logstoreName: 'app-a', ttl: 7, shardCount: 3 })),
    });
    expect(again.status).toBe(400);
    expect(again.json()).toMatchObject({ errorCode: 'LogStoreAlreadyExist' });
    const filtered = await raw.request({
      method: 'GET',
      project,
      path: '/logstores',
      query: { logstoreName: 'app', offset: '1', size: '1' },
    });
    expect(filtered.json()).toEqual({ count: 1, total: 2, logstores: ['app-b'] });
    const got = await raw.request({ method: 'GET', project, path: '/logstores/app-a' });
    expect(got.json()).toMatchObject({ logstoreName: 'app-a', ttl: 7, shardCount: 3 });
    expect(
      (await raw.request({ method: 'DELETE', project, path: '/logstores/audit-c' })).status,
    ).toBe(200);
    const gone = await raw.request({ method: 'GET', project, path: '/logstores/audit-c' });
    expect(gone.status).toBe(404);
    expect(gone.json()).toMatchObject({ errorCode: 'LogStoreNotExist' });
    const bad = await raw.request({
      method: 'POST',
      project,
      path: '/logstores',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ logstoreName: 'x', shardCount: 1 })),
    });
    expect(bad.json()).toMatchObject({ errorCode: 'ParameterInvalid' });
  });

  it('answers ProjectNotExist for an unknown project and InvalidHost without one', async () => {
    const missing = await raw.request({
      method: 'GET',
      project: 'no-such-project',
      path: '/logstores',
    });
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ errorCode: 'ProjectNotExist' });
    const hostless = await raw.request({ method: 'GET', path: '/logstores' });
    expect(hostless.status).toBe(400);
    expect(hostless.json()).toMatchObject({ errorCode: 'InvalidHost' });
  });
});

describe('PutLogs and PullLogs', () => {
  it('writes lz4, deflate and uncompressed bodies and reads them back in order with tags', async () => {
    const t = now();
    for (const compress of ['lz4', 'deflate', 'none'] as const) {
      const res = await raw.putLogs(
        project,
        'app-a',
        {
          logs: [{ time: t, contents: { method: compress, path: '/x'.repeat(50) } }],
          topic: 'access',
          source: '10.0.0.1',
          tags: { env: 'test' },
        },
        { compress, hashKey: '00000000000000000000000000000001' },
      );
      expect(res.status, res.body.toString()).toBe(200);
    }
    const begin = await raw.cursor(project, 'app-a', 0, 'begin');
    for (const encoding of ['lz4', 'deflate', undefined] as const) {
      const pulled = await raw.pullLogs(project, 'app-a', 0, begin, {
        ...(encoding ? { encoding } : {}),
      });
      expect(pulled.res.headers['x-log-compresstype']).toBe(encoding);
      expect(pulled.res.headers['x-log-count']).toBe('3');
      expect(pulled.groups.map((g) => g.logs[0]?.contents.method)).toEqual([
        'lz4',
        'deflate',
        'none',
      ]);
      expect(pulled.groups[0]).toMatchObject({
        topic: 'access',
        source: '10.0.0.1',
        tags: { env: 'test' },
      });
      const again = await raw.pullLogs(project, 'app-a', 0, pulled.next);
      expect(again.groups).toEqual([]);
      expect(again.next).toBe(pulled.next);
    }
  });

  it('pages by count and stops at end_cursor', async () => {
    const begin = await raw.cursor(project, 'app-a', 0, 'begin');
    const first = await raw.pullLogs(project, 'app-a', 0, begin, { count: 2 });
    expect(first.groups).toHaveLength(2);
    const bounded = await raw.pullLogs(project, 'app-a', 0, begin, { endCursor: first.next });
    expect(bounded.groups).toHaveLength(2);
    const rest = await raw.pullLogs(project, 'app-a', 0, first.next);
    expect(rest.groups).toHaveLength(1);
  });

  it('routes by hash key to the shard whose range holds it', async () => {
    await raw.putLogs(
      project,
      'app-b',
      { logs: [{ time: now(), contents: { k: 'high' } }] },
      { hashKey: 'f0000000000000000000000000000000' },
    );
    const shards = await raw.listShards(project, 'app-b');
    const last = shards.at(-1);
    expect(last?.exclusiveEndKey).toBe('ffffffffffffffffffffffffffffffff');
    const pulled = await raw.pullLogs(
      project,
      'app-b',
      last?.shardID ?? -1,
      await raw.cursor(project, 'app-b', last?.shardID ?? -1, 'begin'),
    );
    expect(pulled.groups.map((g) => g.logs[0]?.contents.k)).toEqual(['high']);
  });

  it('finds cursors by time and tells a cursor’s time', async () => {
    const begin = await raw.cursor(project, 'app-a', 0, 'begin');
    const end = await raw.cursor(project, 'app-a', 0, 'end');
    expect(await raw.cursor(project, 'app-a', 0, String(now() - 3600))).toBe(begin);
    expect(await raw.cursor(project, 'app-a', 0, String(now() + 3600))).toBe(end);
    const time = await raw.request({
      method: 'GET',
      project,
      path: '/logstores/app-a/shards/0',
      query: { type: 'cursor_time', cursor: begin },
    });
    expect(Math.abs(time.json<{ cursor_time: number }>().cursor_time - now())).toBeLessThan(120);
  });

  it('refuses bad cursors, counts, shards and bodies with the service’s codes', async () => {
    const begin = await raw.cursor(project, 'app-a', 0, 'begin');
    const cases: Array<[Promise<{ status: number; json<T>(): T }>, number, string]> = [
      [raw.pullLogs(project, 'app-a', 0, 'not-a-cursor!').then((p) => p.res), 400, 'InvalidCursor'],
      [
        raw
          .pullLogs(project, 'app-a', 0, Buffer.from('99999999999999999999').toString('base64'))
          .then((p) => p.res),
        400,
        'InvalidCursor',
      ],
      [
        raw.pullLogs(project, 'app-a', 0, begin, { count: 1001 }).then((p) => p.res),
        400,
        'ParameterInvalid',
      ],
      [
        raw.pullLogs(project, 'app-a', 0, begin, { count: 0 }).then((p) => p.res),
        400,
        'ParameterInvalid',
      ],
      [raw.pullLogs(project, 'app-a', 77, begin).then((p) => p.res), 404, 'ShardNotExist'],
      [raw.pullLogs(project, 'nope', 0, begin).then((p) => p.res), 404, 'LogStoreNotExist'],
      [
        raw.request({
          method: 'POST',
          project,
          path: '/logstores/app-a/shards/lb',
          headers: {
            'content-type': 'application/x-protobuf',
            'x-log-compresstype': 'lz4',
            'x-log-bodyrawsize': '500',
          },
          body: Buffer.from('garbage'),
        }),
        400,
        'PostBodyInvalid',
      ],
      [
        raw.request({
          method: 'POST',
          project,
          path: '/logstores/app-a/shards/lb',
          headers: { 'content-type': 'application/x-protobuf', 'x-log-compresstype': 'zip' },
          body: Buffer.from('x'),
        }),
        400,
        'InvalidCompressType',
      ],
      [
        raw.request({
          method: 'POST',
          project,
          path: '/logstores/app-a/shards/lb',
          body: encodeGroup({ logs: [{ time: now(), contents: { a: 'b' } }] }),
        }),
        400,
        'MissingContentType',
      ],
      [
        raw.putLogs(project, 'app-a', { logs: [{ time: 0, contents: { a: 'b' } }] }),
        400,
        'InvalidTimestamp',
      ],
      [
        raw.putLogs(project, 'app-a', {
          logs: Array.from({ length: 4097 }, () => ({ time: now(), contents: { a: 'b' } })),
        }),
        400,
        'InvalidLogSize',
      ],
      [
        raw.putLogs(
          project,
          'app-a',
          { logs: [{ time: now(), contents: { big: 'x'.repeat(5 * 1024 * 1024 + 1) } }] },
          { compress: 'deflate' },
        ),
        413,
        'PostBodyTooLarge',
      ],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect({ status: res.status, code: res.json<{ errorCode: string }>().errorCode }).toEqual({
        status,
        code,
      });
    }
  });
});

describe('GetLogs', () => {
  it('matches key: value and full text over a time range, newest first when reversed', async () => {
    const t = now() - 10;
    await raw.putLogs(project, 'app-b', {
      logs: [
        { time: t, contents: { status: '200', message: 'user alice logged in' } },
        { time: t + 1, contents: { status: '500', message: 'database timeout for alice' } },
        { time: t + 2, contents: { status: '200', message: 'user bob logged out' } },
      ],
    });
    const search = async (query: string, extra: Record<string, string> = {}) => {
      const res = await raw.request({
        method: 'GET',
        project,
        path: '/logstores/app-b',
        query: { type: 'log', from: String(t - 1), to: String(t + 60), query, ...extra },
      });
      expect(res.status, res.body.toString()).toBe(200);
      expect(res.headers['x-log-progress']).toBe('Complete');
      return res.json<Array<Record<string, string>>>().map((l) => l.message);
    };
    expect(await search('status: 200')).toEqual(['user alice logged in', 'user bob logged out']);
    expect(await search('alice')).toEqual(['user alice logged in', 'database timeout for alice']);
    expect(await search('alice and status: 500')).toEqual(['database timeout for alice']);
    expect(await search('bob or timeout')).toEqual([
      'database timeout for alice',
      'user bob logged out',
    ]);
    expect(await search('status: 200', { reverse: 'true', line: '1' })).toEqual([
      'user bob logged out',
    ]);
    const sql = await raw.request({
      method: 'GET',
      project,
      path: '/logstores/app-b',
      query: { type: 'log', from: String(t), to: String(t + 60), query: '* | select count(*)' },
    });
    expect(sql.json()).toMatchObject({ errorCode: 'ParameterInvalid' });
  });
});

describe('signatures and access', () => {
  it('refuses a wrong signature, an unknown key, a stale date and a missing API version', async () => {
    const wrong = await raw.request({
      method: 'GET',
      project,
      path: '/logstores',
      signature: 'AAAA',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json()).toMatchObject({ errorCode: 'SignatureNotMatch' });
    const unknown = await raw
      .withCredentials({ accessKeyId: 'LTAInotakey000000000000', accessKeySecret: 'x' })
      .request({ method: 'GET', project, path: '/logstores' });
    expect(unknown.json()).toMatchObject({ errorCode: 'Unauthorized' });
    const stale = await raw.request({
      method: 'GET',
      project,
      path: '/logstores',
      date: new Date(Date.now() - 20 * 60_000).toUTCString(),
    });
    expect(stale.json()).toMatchObject({ errorCode: 'RequestTimeExpired' });
    const sha256 = await raw.request({
      method: 'GET',
      project,
      path: '/logstores',
      signatureMethod: 'hmac-sha256',
    });
    expect(sha256.status).toBe(200);
  });

  it('opens a member’s project to that member’s identities only', async () => {
    const denied = await raw
      .withCredentials(other)
      .request({ method: 'GET', project, path: '/logstores' });
    expect(denied.status).toBe(401);
    expect(denied.json()).toMatchObject({
      errorCode: 'Unauthorized',
      errorMessage: `denied by sts or ram, action: log:ListLogStores, resource: acs:log:cn-hangzhou:${owner.id}:project/${project}/logstore/*`,
    });
    const session = cloud.credentials.issueSession({
      accountId: owner.id,
      roleName: 'ResourceDirectoryAccountAccessRole',
      // The role's own id: a session of a role id the account no longer has is refused.
      roleId:
        cloud.organization.findRole(owner.id, 'ResourceDirectoryAccountAccessRole')?.roleId ?? '',
      sessionName: 'reader',
      durationSeconds: 900,
      sessionPolicy: JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['log:GetCursorOrData', 'log:ListShards'],
            Resource: `acs:log:*:*:project/${project}/*`,
          },
        ],
      }),
    });
    const reader = raw.withCredentials(session);
    expect((await reader.listShards(project, 'app-a')).length).toBe(3);
    const put = await reader.putLogs(project, 'app-a', {
      logs: [{ time: now(), contents: { a: 'b' } }],
    });
    expect(put.status).toBe(401);
    expect(put.json<{ errorMessage: string }>().errorMessage).toContain('log:PostLogStoreLogs');
    const forged = await raw
      .withCredentials({ ...session, securityToken: `${session.securityToken.slice(0, -4)}AAAA` })
      .request({ method: 'GET', project, path: '/logstores/app-a/shards' });
    expect(forged.json()).toMatchObject({ errorCode: 'Unauthorized' });
    cloud.clock.advance(901);
    const expired = await reader.request({
      method: 'GET',
      project,
      path: '/logstores/app-a/shards',
    });
    expect(expired.json()).toMatchObject({
      errorCode: 'Unauthorized',
      errorMessage: 'The security token you provided has expired.',
    });
  });

  it('answers absolute-form requests for <project>.<region>.log.aliyuncs.com as an HTTP proxy', async () => {
    const proxied = new RawSlsClient(cloud.url, owner, 'proxy');
    const res = await proxied.request({ method: 'GET', project, path: '/logstores/app-a' });
    expect(res.status, res.body.toString()).toBe(200);
    expect(res.json()).toMatchObject({ logstoreName: 'app-a' });
    const elsewhere = new RawSlsClient(cloud.url, owner, 'proxy', 'cn-shanghai');
    const missing = await elsewhere.request({ method: 'GET', project, path: '/logstores' });
    expect(missing.json()).toMatchObject({ errorCode: 'ProjectNotExist' });
  });
});

describe('TTL and quotas', () => {
  it('expires data past the TTL: a cursor into it is InvalidCursor, begin moves on', async () => {
    const ttlProject = `ttl-${owner.id}`;
    cloud.sls.model.createProject({ region: 'cn-hangzhou', name: ttlProject, owner: owner.id });
    const store = cloud.sls.model.createLogstore(
      cloud.sls.model.project('cn-hangzhou', ttlProject),
      {
        name: 'short',
        ttl: 1,
        shardCount: 1,
      },
    );
    await raw.putLogs(ttlProject, 'short', { logs: [{ time: now(), contents: { n: 'old' } }] });
    const old = await raw.cursor(ttlProject, 'short', 0, 'begin');
    cloud.clock.advance(86_401);
    await raw.putLogs(ttlProject, 'short', { logs: [{ time: now(), contents: { n: 'new' } }] });
    const expired = await raw.pullLogs(ttlProject, 'short', 0, old);
    expect(expired.res.status).toBe(400);
    expect(expired.res.json()).toMatchObject({ errorCode: 'InvalidCursor' });
    const begin = await raw.cursor(ttlProject, 'short', 0, 'begin');
    const pulled = await raw.pullLogs(ttlProject, 'short', 0, begin);
    expect(pulled.groups.map((g) => g.logs[0]?.contents.n)).toEqual(['new']);
    expect(store.ttl).toBe(1);
  });

  it('throttles a shard past its write and read quotas with the service’s 403', async () => {
    const saved = { ...cloud.sls.model.quotas };
    cloud.sls.model.quotas = { ...saved, writeRequestsPerSecond: 2, readRequestsPerSecond: 2 };
    try {
      const codes: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await raw.putLogs(
          project,
          'app-a',
          { logs: [{ time: now(), contents: { i: String(i) } }] },
          { hashKey: '0' },
        );
        codes.push(res.status === 200 ? 'ok' : res.json<{ errorCode: string }>().errorCode);
      }
      expect(codes).toContain('ShardWriteQuotaExceed');
      const begin = await raw.cursor(project, 'app-a', 0, 'begin');
      const reads: number[] = [];
      for (let i = 0; i < 12; i++)
        reads.push((await raw.pullLogs(project, 'app-a', 0, begin)).res.status);
      expect(reads).toContain(403);
    } finally {
      cloud.sls.model.quotas = saved;
    }
  });
});

describe('the official @alicloud/sls20201230 client', () => {
  it('runs the JSON operations (v1, hmac-sha256)', async () => {
    const client = sdkClient(owner);
    const projects = await client.listProject(new sls.ListProjectRequest({}));
    expect(projects.body?.projects?.map((p) => p.projectName)).toContain(project);
    const stores = await client.listLogStores(
      project,
      new sls.ListLogStoresRequest({ logstoreName: 'app' }),
    );
    expect(stores.body?.logstores).toEqual(['app-a', 'app-b']);
    await client.createLogStore(
      project,
      new sls.CreateLogStoreRequest({ logstoreName: 'sdk-made', ttl: 3, shardCount: 2 }),
    );
    expect((await client.getLogStore(project, 'sdk-made')).body?.shardCount).toBe(2);
    const shards = await client.listShards(project, 'sdk-made');
    expect(shards.body?.map((s) => s.shardID)).toEqual([0, 1]);
    const split = await client.splitShard(
      project,
      'sdk-made',
      '0',
      new sls.SplitShardRequest({ key: '40000000000000000000000000000000', shardCount: 2 }),
    );
    expect(split.body?.map((s) => `${s.shardID}:${s.status}`)).toEqual([
      '0:readonly',
      '2:readwrite',
      '3:readwrite',
    ]);
    const merged = await client.mergeShard(project, 'sdk-made', '2');
    expect(merged.body?.map((s) => `${s.shardID}:${s.status}`)).toEqual([
      '2:readonly',
      '3:readonly',
      '4:readwrite',
    ]);
    const cursor = await client.getCursor(
      project,
      'sdk-made',
      '1',
      new sls.GetCursorRequest({ from: 'end' }),
    );
    expect(cursor.body?.cursor).toMatch(/^[A-Za-z0-9+/]+=*$/);
    await client.deleteLogStore(project, 'sdk-made');
    await expect(client.getLogStore(project, 'sdk-made')).rejects.toMatchObject({
      code: 'LogStoreNotExist',
      statusCode: 404,
    });
    await expect(sdkClient(other).getLogStore(project, 'app-a')).rejects.toMatchObject({
      code: 'Unauthorized',
    });
  });

  it.each([['v1'], ['v4']] as const)(
    'puts and pulls lz4 protobuf through execute() (%s)',
    async (version) => {
      const client = sdkClient(owner, version === 'v4' ? 'v4' : undefined);
      const body = encodeGroup({
        logs: [{ time: now(), contents: { via: version } }],
        topic: 'sdk',
      });
      await client.execute(
        new $OpenApiUtil.Params({
          action: 'PutLogs',
          version: '2020-12-30',
          protocol: 'HTTP',
          pathname: '/logstores/app-b/shards/route',
          method: 'POST',
          authType: 'AK',
          style: 'ROA',
          reqBodyType: 'binary',
          bodyType: 'none',
        }),
        new $OpenApiUtil.OpenApiRequest({
          hostMap: { project },
          headers: { 'content-type': 'application/x-protobuf' },
          query: { key: '10' },
          body,
        }),
        new $dara.RuntimeOptions({}),
      );
      const begin = await client.getCursor(
        project,
        'app-b',
        '0',
        new sls.GetCursorRequest({ from: 'begin' }),
      );
      const pulled = await client.execute(
        new $OpenApiUtil.Params({
          action: 'PullLogs',
          version: '2020-12-30',
          protocol: 'HTTP',
          pathname: '/logstores/app-b/shards/0',
          method: 'GET',
          authType: 'AK',
          style: 'ROA',
          reqBodyType: 'none',
          bodyType: 'byte',
        }),
        new $OpenApiUtil.OpenApiRequest({
          hostMap: { project },
          headers: { accept: 'application/x-protobuf' },
          query: { type: 'log', cursor: begin.body?.cursor ?? '', count: '1000' },
        }),
        new $dara.RuntimeOptions({}),
      );
      expect(pulled.headers?.['x-log-compresstype']).toBe('lz4');
      const groups = decodeGroupList(Buffer.from(pulled.body as Uint8Array));
      expect(groups.at(-1)?.logs[0]?.contents.via).toBe(version);
    },
  );

  it('gets injected faults per action through the common fault controls', async () => {
    cloud.control.addFault({ service: 'sls', action: 'ListShards', kind: 'error5xx', rate: 1 });
    try {
      await expect(sdkClient(owner).listShards(project, 'app-a')).rejects.toMatchObject({
        statusCode: 500,
      });
      expect((await sdkClient(owner).getLogStore(project, 'app-a')).body?.logstoreName).toBe(
        'app-a',
      );
    } finally {
      cloud.control.clearFaults();
    }
    const calls = cloud.control.calls({ service: 'sls', action: 'ListShards' });
    expect(calls.at(-1)).toMatchObject({ injected: true, status: 500 });
  });
});
