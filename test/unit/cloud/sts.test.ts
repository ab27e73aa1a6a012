import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AssumeRoleInput,
  CredentialCache,
  createStsAssumeRole,
  MemberAccess,
  memberRoleArn,
  roleSessionName,
  SESSION_NAME_PATTERN,
  sessionPolicyAllowing,
  type TemporaryCredentials,
} from '../../../shared/cloud/sts';
import { CloudApiError, MemberAccessDenied } from '../../../shared/errors';

const noRetry = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

describe('role session name', () => {
  it('names function and request', () => {
    expect(roleSessionName('rdgov-api', '1-6780a2f3-1a2b3c4d-5e6f7a8b9c0d')).toBe(
      'rdgov-api.1-6780a2f3-1a2b3c4d-5e6f7a8b9c0d',
    );
  });

  it('is always 2-64 characters of [\\w.@-], whatever the inputs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (fn, requestId) => {
        const name = roleSessionName(fn, requestId);
        expect(name).toMatch(SESSION_NAME_PATTERN);
        expect(name.length).toBeLessThanOrEqual(64);
      }),
    );
  });

  it('shortens the function name before the request id', () => {
    const name = roleSessionName('f'.repeat(80), 'req-123');
    expect(name.endsWith('.req-123')).toBe(true);
    expect(name).toHaveLength(64);
  });
});

function controlledClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function credentials(expiresAt: number, id = 'STS.one'): TemporaryCredentials {
  return { accessKeyId: id, accessKeySecret: 's', securityToken: 't', expiresAt };
}

describe('credential cache', () => {
  it('reuses credentials until the refresh margin before expiry', async () => {
    const clock = controlledClock();
    const cache = new CredentialCache<TemporaryCredentials>({ clock, refreshMarginMs: 5 * 60_000 });
    let loads = 0;
    const load = async () => credentials(clock.now() + 60 * 60_000, `STS.${++loads}`);
    expect((await cache.get('m', load)).accessKeyId).toBe('STS.1');
    clock.advance(54 * 60_000); // 6 minutes left: still fresh
    expect((await cache.get('m', load)).accessKeyId).toBe('STS.1');
    clock.advance(60_001); // within 5 minutes of expiry
    expect((await cache.get('m', load)).accessKeyId).toBe('STS.2');
    expect(loads).toBe(2);
  });

  it('shares one in-flight load among concurrent callers of the same key', async () => {
    const clock = controlledClock();
    const cache = new CredentialCache<TemporaryCredentials>({ clock });
    let loads = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const load = async () => {
      loads += 1;
      await gate;
      return credentials(clock.now() + 3_600_000);
    };
    const pending = Array.from({ length: 10 }, () => cache.get('m', load));
    const other = cache.get('other', load);
    release();
    const results = await Promise.all([...pending, other]);
    expect(loads).toBe(2);
    expect(new Set(results.slice(0, 10)).size).toBe(1);
  });

  it('does not keep failures: the next caller tries again', async () => {
    const clock = controlledClock();
    const cache = new CredentialCache<TemporaryCredentials>({ clock });
    let attempt = 0;
    const load = async () => {
      attempt += 1;
      if (attempt === 1) throw new Error('refused');
      return credentials(clock.now() + 3_600_000);
    };
    await expect(cache.get('m', load)).rejects.toThrow('refused');
    await expect(cache.get('m', load)).resolves.toMatchObject({ accessKeyId: 'STS.one' });
  });
});

describe('member access', () => {
  function access(
    assume: (input: AssumeRoleInput) => Promise<TemporaryCredentials>,
    clock = controlledClock(),
  ) {
    return new MemberAccess({
      roleName: 'ResourceDirectoryAccountAccessRole',
      assumeRole: assume,
      cache: new CredentialCache({ clock }),
      sessionName: 'rdgov-api.req-1',
    });
  }

  it('assumes the member role with the session name and at most 3600 s', async () => {
    const calls: AssumeRoleInput[] = [];
    const member = access(async (input) => {
      calls.push(input);
      return credentials(Date.now() + 3_600_000);
    });
    await member.credentialsFor('2000000000000002');
    await member.credentialsFor('2000000000000002');
    expect(calls).toEqual([
      {
        accountId: '2000000000000002',
        roleArn: 'acs:ram::2000000000000002:role/ResourceDirectoryAccountAccessRole',
        sessionName: 'rdgov-api.req-1',
        durationSeconds: 3600,
      },
    ]);
  });

  it('passes its one session policy with every AssumeRole and keys cached credentials by it', async () => {
    const calls: AssumeRoleInput[] = [];
    const assume = async (input: AssumeRoleInput) => {
      calls.push(input);
      return credentials(Date.now() + 3_600_000);
    };
    const cache = new CredentialCache<TemporaryCredentials>({ clock: controlledClock() });
    const policy = sessionPolicyAllowing(['ram:GetRole']);
    const withPolicy = (sessionPolicy?: string) =>
      new MemberAccess({
        roleName: 'ResourceDirectoryAccountAccessRole',
        assumeRole: assume,
        cache,
        sessionName: 'rdgov-api.req-1',
        ...(sessionPolicy ? { sessionPolicy } : {}),
      });
    await withPolicy(policy).credentialsFor('2000000000000002');
    await withPolicy().credentialsFor('2000000000000002');
    await withPolicy(policy).credentialsFor('2000000000000002');
    expect(calls.map((c) => c.policy)).toEqual([policy, undefined]);
  });

  it('builds session policies of the actions named, or one that allows nothing', () => {
    expect(
      JSON.parse(sessionPolicyAllowing(['ram:GetRole', 'log:PullLogs', 'ram:GetRole'])),
    ).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['log:PullLogs', 'ram:GetRole'], Resource: '*' }],
    });
    expect(JSON.parse(sessionPolicyAllowing([]))).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });
  });

  it('a probe (fresh) assumes the role again; renew drops refused credentials once for all who saw them', async () => {
    const calls: AssumeRoleInput[] = [];
    let issued = 0;
    const member = access(async (input) => {
      calls.push(input);
      issued += 1;
      return credentials(Date.now() + 3_600_000, `STS.${issued}`);
    });
    const first = await member.credentialsFor('2000000000000002');
    expect((await member.credentialsFor('2000000000000002')).accessKeyId).toBe('STS.1');
    const probed = await member.credentialsFor('2000000000000002', { fresh: true });
    expect(probed.accessKeyId).toBe('STS.2');
    // The member refused STS.2: two callers that saw it refused get one new session between them.
    const [a, b] = await Promise.all([
      member.renew('2000000000000002', probed),
      member.renew('2000000000000002', probed),
    ]);
    expect([a.accessKeyId, b.accessKeyId]).toEqual(['STS.3', 'STS.3']);
    // A late report about credentials already replaced keeps the newer ones.
    expect((await member.renew('2000000000000002', first)).accessKeyId).toBe('STS.3');
    expect(calls).toHaveLength(3);
  });

  it('renew throws when the role cannot be assumed any more', async () => {
    let refuse = false;
    const member = access(async (input) => {
      if (refuse) {
        throw new MemberAccessDenied(input.accountId, input.roleArn, 'EntityNotExist.Role', 'gone');
      }
      return credentials(Date.now() + 3_600_000);
    });
    const held = await member.credentialsFor('2000000000000002');
    refuse = true;
    await expect(member.renew('2000000000000002', held)).rejects.toMatchObject({
      code: 'MemberAccessDenied',
      cloudCode: 'EntityNotExist.Role',
    });
  });

  it('reports each member on its own: one refusal does not fail the others', async () => {
    const member = access(async (input) => {
      if (input.accountId === '2000000000000003') {
        throw new MemberAccessDenied(
          input.accountId,
          input.roleArn,
          'NoPermission',
          'trust policy does not name the caller',
        );
      }
      return credentials(Date.now() + 3_600_000, `STS.${input.accountId}`);
    });
    const results = await member.forMembers(['2000000000000002', '2000000000000003', 'bad:id']);
    expect(results.map((r) => [r.accountId, r.ok])).toEqual([
      ['2000000000000002', true],
      ['2000000000000003', false],
      ['bad:id', false],
    ]);
    const refused = results[1];
    expect(refused?.ok === false && refused.error).toMatchObject({
      code: 'MemberAccessDenied',
      accountId: '2000000000000003',
      roleArn: memberRoleArn('2000000000000003', 'ResourceDirectoryAccountAccessRole'),
      cloudCode: 'NoPermission',
    });
  });
});

describe('STS AssumeRole over the SDK', () => {
  let server: Server;
  let endpoint: string;
  const requests: Array<{
    query: URLSearchParams;
    body: string;
    headers: IncomingMessage['headers'];
  }> = [];
  let reply: { status: number; body: unknown } = { status: 200, body: {} };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({
          query: new URL(req.url ?? '/', 'http://x').searchParams,
          body,
          headers: req.headers,
        });
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const input = (): AssumeRoleInput => ({
    accountId: '2000000000000002',
    roleArn: 'acs:ram::2000000000000002:role/ResourceDirectoryAccountAccessRole',
    sessionName: 'rdgov-api.req-1',
    durationSeconds: 3600,
    policy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"}]}',
  });
  const assume = () =>
    createStsAssumeRole({
      endpoint,
      protocol: 'http',
      credentials: {
        accessKeyId: 'STS.caller',
        accessKeySecret: 'caller-secret',
        securityToken: 'caller-token',
      },
      callerAccountId: '1000000000000001',
      retry: noRetry,
    });

  it('sends the role, session name, duration and policy, and returns the credentials with expiry', async () => {
    reply = {
      status: 200,
      body: {
        RequestId: 'r1',
        Credentials: {
          AccessKeyId: 'STS.member',
          AccessKeySecret: 'member-secret',
          SecurityToken: 'member-token',
          Expiration: '2030-01-01T00:00:00Z',
        },
        AssumedRoleUser: {
          Arn: 'acs:ram::2000000000000002:role/x/rdgov-api.req-1',
          AssumedRoleId: '1',
        },
      },
    };
    const result = await assume()(input());
    expect(result).toEqual({
      accessKeyId: 'STS.member',
      accessKeySecret: 'member-secret',
      securityToken: 'member-token',
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    const sent = requests.at(-1);
    const params = new URLSearchParams([
      ...(sent?.query ?? []),
      ...new URLSearchParams(sent?.body ?? ''),
    ]);
    expect(params.get('RoleArn')).toBe(input().roleArn);
    expect(params.get('RoleSessionName')).toBe('rdgov-api.req-1');
    expect(params.get('DurationSeconds')).toBe('3600');
    expect(params.get('Policy')).toBe(input().policy);
    expect(sent?.headers['x-acs-security-token']).toBe('caller-token');
  });

  it('turns a refusal into MemberAccessDenied with the role ARN and reason', async () => {
    reply = {
      status: 403,
      body: {
        RequestId: 'r2',
        HostId: 'sts.aliyuncs.com',
        Code: 'NoPermission',
        Message: 'You are not authorized to do this action.',
      },
    };
    const error = await assume()(input()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberAccessDenied);
    expect(error).toMatchObject({
      accountId: '2000000000000002',
      roleArn: input().roleArn,
      cloudCode: 'NoPermission',
      reason: 'You are not authorized to do this action.',
    });
  });

  it('turns throttling into CloudApiError (CloudThrottled), not MemberAccessDenied', async () => {
    reply = {
      status: 400,
      body: {
        RequestId: 'r3',
        Code: 'Throttling.User',
        Message: 'Request was denied due to user flow control.',
      },
    };
    const error = await assume()(input()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({ code: 'CloudThrottled', status: 503 });
  });

  it('refuses a session name or duration STS would refuse, before calling', async () => {
    const before = requests.length;
    await expect(assume()({ ...input(), sessionName: 'has space' })).rejects.toThrow(
      /RoleSessionName/,
    );
    await expect(assume()({ ...input(), durationSeconds: 7200 })).rejects.toThrow(
      /DurationSeconds/,
    );
    expect(requests.length).toBe(before);
  });
});
