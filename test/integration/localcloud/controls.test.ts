// Fault injection, the call log, env.json and the HTTP control plane.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOrganization,
  type LocalCloud,
  type LocalCloudEnv,
  startLocalCloud,
} from '../../../localcloud/index';
import { failure, type Keys, management, members, rm, rmClient, stsClient } from './support';

let cloud: LocalCloud;
let admin: Keys;
let dir: string;
let envFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'localcloud-controls-'));
  envFile = join(dir, '.localcloud', 'env.json');
  cloud = await startLocalCloud({
    organization: buildOrganization({ members: 3, seed: 'controls' }),
    envFile,
  });
  admin = management(cloud);
});
afterAll(async () => {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function control(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${cloud.env.control}/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('fault injection', () => {
  it("delivers injected throttling as the SDK's throttling error", async () => {
    cloud.control.addFault({
      service: 'resourcemanager',
      action: 'ListAccounts',
      kind: 'throttle',
      rate: 1,
    });
    try {
      const error = await failure(
        rmClient(cloud, admin).listAccounts(new rm.ListAccountsRequest({})),
      );
      expect(error.name).toBe('ThrottlingError');
      expect(error.code).toMatch(/^Throttling\./);
      expect(error.statusCode).toBe(400);
      // Other actions of the service are untouched.
      await expect(rmClient(cloud, admin).getResourceDirectory()).resolves.toBeDefined();
    } finally {
      cloud.control.clearFaults();
    }
    await expect(
      rmClient(cloud, admin).listAccounts(new rm.ListAccountsRequest({})),
    ).resolves.toBeDefined();
    const injected = cloud.control.calls({ service: 'resourcemanager', action: 'ListAccounts' });
    expect(injected[0]?.injected).toBe(true);
    expect(injected[0]?.result).toBe('Throttling.Api');
    expect(injected[1]?.injected).toBeUndefined();
  });

  it('answers injected 5xx as a server error', async () => {
    cloud.control.addFault({ service: 'sts', action: '*', kind: 'error5xx', rate: 1 });
    try {
      const error = await failure(stsClient(cloud, admin).getCallerIdentity());
      expect(error.statusCode).toBe(503);
      expect(error.code).toBe('ServiceUnavailable');
    } finally {
      cloud.control.clearFaults();
    }
  });

  it('drops the connection for an injected reset', async () => {
    const { json } = await control('POST', 'faults', {
      service: 'sts',
      action: 'GetCallerIdentity',
      kind: 'reset',
      rate: 1,
    });
    expect(json.kind).toBe('reset');
    try {
      const error = await failure(stsClient(cloud, admin).getCallerIdentity());
      // A transport error, not an answer: no HTTP status, the socket's own code.
      expect(error.statusCode).toBeUndefined();
      expect(`${error.code} ${error.message}`).toMatch(/ECONNRESET|socket hang up/);
    } finally {
      await control('DELETE', 'faults');
    }
    expect(cloud.control.faults()).toEqual([]);
  });

  it('adds latency and still answers', async () => {
    cloud.control.addFault({
      service: 'sts',
      action: 'GetCallerIdentity',
      kind: 'latency',
      rate: 1,
      latencyMs: 150,
    });
    try {
      const started = Date.now();
      await stsClient(cloud, admin).getCallerIdentity();
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      cloud.control.clearFaults();
    }
  });

  it('rejects a malformed fault rule with a JSON error', async () => {
    const { status, json } = await control('POST', 'faults', { service: 'sts', kind: 'explode' });
    expect(status).toBe(400);
    expect(json.code).toBe('InvalidFaultRule');
  });
});

describe('call log', () => {
  it('records caller, action and result, filterable by service, action and seq', async () => {
    const since = Math.max(0, ...cloud.control.calls().map((call) => call.seq));
    const member = members(cloud)[0];
    if (!member) throw new Error('no member');
    await stsClient(cloud, admin).getCallerIdentity();
    await failure(rmClient(cloud, member).listAccounts(new rm.ListAccountsRequest({})));
    const { json } = await control('GET', `calls?since=${since}`);
    const calls = json.calls as Array<Record<string, unknown>>;
    expect(
      calls.map((call) => `${call.service} ${call.action} ${call.status} ${call.result}`),
    ).toEqual(['sts GetCallerIdentity 200 ok', 'resourcemanager ListAccounts 403 NoPermission']);
    expect(calls[0]?.callerAccountId).toBe(cloud.env.managementAccountId);
    expect(calls[1]?.callerArn).toBe(`acs:ram::${member.id}:user/admin`);
    expect(typeof calls[0]?.durationMs).toBe('number');

    const filtered = await control('GET', `calls?service=resourcemanager&since=${since}`);
    expect((filtered.json.calls as unknown[]).length).toBe(1);
    await control('DELETE', 'calls');
    expect(cloud.control.calls()).toEqual([]);
  });
});

describe('env and organization controls', () => {
  it('writes env.json with every endpoint and account keys, and serves the same at /env', async () => {
    const written = JSON.parse(readFileSync(envFile, 'utf8')) as LocalCloudEnv;
    const served = (await control('GET', 'env')).json as unknown as LocalCloudEnv;
    expect(served).toEqual(written);
    const hostPort = cloud.url.replace('http://', '');
    expect(Object.values(written.endpoints)).toEqual(Array(6).fill(hostPort));
    expect(Object.keys(written.endpoints).sort()).toEqual([
      'fc',
      'ram',
      'resourcemanager',
      'sls',
      'sts',
      'tablestore',
    ]);
    expect(written.accounts).toHaveLength(4);
    for (const account of written.accounts) {
      expect(account.id).toMatch(/^\d{16}$/);
      expect(account.accessKeyId).toMatch(/^LTAI[A-Za-z0-9]{20}$/);
      expect(account.accessKeySecret).toMatch(/^[A-Za-z0-9]{30}$/);
      expect(account.user).toBe('admin');
    }
    expect(written.servicePrincipals['fc.aliyuncs.com']?.accessKeyId).toMatch(/^LTAI/);
  });

  it('creates, invites, moves and removes members over HTTP and rewrites env.json', async () => {
    const snapshot = (await control('GET', 'organization')).json as {
      folders: Array<{ id: string; path: string }>;
    };
    const staging = snapshot.folders.find((folder) => folder.path === 'Root/NonProduction/Staging');
    const created = await control('POST', 'members', {
      name: 'http-created',
      folderId: staging?.id,
      type: 'ResourceAccount',
    });
    expect(created.status).toBe(201);
    const invited = await control('POST', 'members/invite', { name: 'http-invited' });
    expect(invited.json.folderId).toBe((await control('GET', 'organization')).json.rootFolderId);
    const moved = await control('POST', `members/${String(invited.json.id)}/move`, {
      folderId: staging?.id,
    });
    expect(moved.json.folderId).toBe(staging?.id);

    await new Promise((resolve) => setImmediate(resolve));
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as LocalCloudEnv;
    expect(env.accounts.map((account) => account.name)).toContain('http-invited');

    // The new member's published keys work at once.
    const identity = await stsClient(cloud, {
      accessKeyId: String(created.json.accessKeyId),
      accessKeySecret: String(created.json.accessKeySecret),
    }).getCallerIdentity();
    expect(identity.body?.accountId).toBe(created.json.id);

    expect((await control('DELETE', `members/${String(created.json.id)}`)).status).toBe(200);
    const missing = await control('DELETE', `members/${String(created.json.id)}`);
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('EntityNotExists.Account');
  });

  it('adds and deletes roles, including service-linked ones', async () => {
    const member = members(cloud)[1];
    if (!member) throw new Error('no member');
    const added = await control('POST', `accounts/${member.id}/roles`, {
      serviceName: 'rd.bdrc.aliyuncs.com',
    });
    expect(added.status).toBe(201);
    expect(added.json.name).toBe('AliyunServiceRoleForBdrcRd');
    const duplicate = await control('POST', `accounts/${member.id}/roles`, {
      serviceName: 'rd.bdrc.aliyuncs.com',
    });
    expect(duplicate.status).toBe(409);
    const removed = await control(
      'DELETE',
      `accounts/${member.id}/roles/AliyunServiceRoleForBdrcRd`,
    );
    expect(removed.status).toBe(200);
    const unknown = await control('GET', 'nothing-here');
    expect(unknown.status).toBe(404);
  });
});

describe('data directory', () => {
  it('keeps organization changes across a restart', async () => {
    const dataDir = join(dir, 'data');
    const fixture = buildOrganization({ members: 2, seed: 'durable' });
    const first = await startLocalCloud({ organization: fixture, dataDir });
    const created = first.control.createMember({ name: 'survivor' });
    const member = members(first)[0];
    if (!member) throw new Error('no member');
    first.control.deleteRole(member.id, 'ResourceDirectoryAccountAccessRole');
    await first.stop();

    const second = await startLocalCloud({ organization: fixture, dataDir });
    try {
      const identity = await stsClient(second, created).getCallerIdentity();
      expect(identity.body?.accountId).toBe(created.id);
      const roles = second.control
        .organization()
        .accounts.find((account) => account.id === member.id)?.roles;
      expect(roles?.map((role) => role.name)).not.toContain('ResourceDirectoryAccountAccessRole');
    } finally {
      await second.stop();
    }
  });
});
