// Authentication as the cloud does it, through the official SDKs: ACS3-HMAC-SHA256 from the
// typed clients, HMAC-SHA1 RPC from @alicloud/credentials, and raw RPC requests for the
// replay and clock-skew checks.

import Credential, {
  RAMRoleARNCredentialsProvider,
  StaticAKCredentialsProvider,
} from '@alicloud/credentials';
import { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrganization, type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import {
  accessRoleArn,
  assumeRole,
  failure,
  type Keys,
  management,
  members,
  rmClient,
  StsClient,
  stsClient,
} from './support';

let cloud: LocalCloud;
let admin: Keys;
let memberId: string;

beforeAll(async () => {
  cloud = await startLocalCloud({
    organization: buildOrganization({ members: 4, seed: 'signatures' }),
  });
  admin = management(cloud);
  memberId = members(cloud)[0]?.id ?? '';
});
afterAll(async () => {
  await cloud.stop();
});

describe('ACS3-HMAC-SHA256 (typed SDK clients)', () => {
  it('accepts a correctly signed request and identifies the caller', async () => {
    const identity = await stsClient(cloud, admin).getCallerIdentity();
    expect(identity.body?.accountId).toBe(cloud.env.managementAccountId);
    expect(identity.body?.arn).toBe(`acs:ram::${cloud.env.managementAccountId}:user/admin`);
    expect(identity.body?.identityType).toBe('RAMUser');
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const error = await failure(
      rmClient(cloud, {
        ...admin,
        accessKeySecret: `${admin.accessKeySecret}x`,
      }).getResourceDirectory(),
    );
    expect(error.code).toBe('SignatureDoesNotMatch');
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('Specified signature is not matched with our calculation.');
  });

  it('refuses an unknown AccessKeyId with InvalidAccessKeyId.NotFound', async () => {
    const error = await failure(
      stsClient(cloud, {
        accessKeyId: 'LTAI00000000000000000000',
        accessKeySecret: 'x'.repeat(30),
      }).getCallerIdentity(),
    );
    expect(error.code).toBe('InvalidAccessKeyId.NotFound');
    expect(error.statusCode).toBe(404);
  });

  it('refuses an STS token once the localcloud clock passes its expiry', async () => {
    const session = await assumeRole(cloud, admin, accessRoleArn(memberId), {
      durationSeconds: 900,
    });
    const identity = await stsClient(cloud, session).getCallerIdentity();
    expect(identity.body?.accountId).toBe(memberId);

    cloud.control.advanceClock(899);
    await expect(stsClient(cloud, session).getCallerIdentity()).resolves.toBeDefined();
    cloud.control.advanceClock(2);
    const error = await failure(stsClient(cloud, session).getCallerIdentity());
    expect(error.code).toBe('InvalidSecurityToken.Expired');
    expect(error.statusCode).toBe(400);
  });

  it('refuses a token that belongs to another key, and a malformed one', async () => {
    const first = await assumeRole(cloud, admin, accessRoleArn(memberId));
    const second = await assumeRole(cloud, admin, accessRoleArn(memberId));
    const mismatch = await failure(
      stsClient(cloud, { ...first, securityToken: second.securityToken ?? '' }).getCallerIdentity(),
    );
    expect(mismatch.code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
    const malformed = await failure(
      stsClient(cloud, { ...first, securityToken: 'not-a-token' }).getCallerIdentity(),
    );
    expect(malformed.code).toBe('InvalidSecurityToken.Malformed');
  });

  it('refuses a session secret that does not match its token', async () => {
    const session = await assumeRole(cloud, admin, accessRoleArn(memberId));
    const error = await failure(
      stsClient(cloud, { ...session, accessKeySecret: 'wrong-secret' }).getCallerIdentity(),
    );
    expect(error.code).toBe('SignatureDoesNotMatch');
  });
});

/** Sends a raw RPC request signed with HMAC-SHA1 by the SDK's own utility. */
async function rawRpc(
  params: Record<string, string>,
  secret: string,
): Promise<{ status: number; body: Record<string, string> }> {
  const signature = OpenApiUtil.getRPCSignature(params, 'POST', secret);
  const query = new URLSearchParams({ ...params, Signature: signature });
  const response = await fetch(`${cloud.url}/?${query.toString()}`, { method: 'POST' });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

function rpcParams(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    Action: 'GetCallerIdentity',
    Version: '2015-04-01',
    Format: 'JSON',
    AccessKeyId: admin.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: crypto.randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...overrides,
  };
}

describe('HMAC-SHA1 RPC signatures', () => {
  it('accepts a signed request once and refuses the replayed nonce', async () => {
    const params = rpcParams();
    const first = await rawRpc(params, admin.accessKeySecret);
    expect(first.status).toBe(200);
    expect(first.body.AccountId).toBe(cloud.env.managementAccountId);
    const replay = await rawRpc(params, admin.accessKeySecret);
    expect(replay.status).toBe(400);
    expect(replay.body.Code).toBe('SignatureNonceUsed');
  });

  it('refuses a timestamp more than 15 minutes off with InvalidTimeStamp.Expired', async () => {
    const skewed = new Date(Date.now() - 16 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const answer = await rawRpc(rpcParams({ Timestamp: skewed }), admin.accessKeySecret);
    expect(answer.status).toBe(400);
    expect(answer.body.Code).toBe('InvalidTimeStamp.Expired');
    expect(answer.body.Message).toContain('Specified time stamp or date value is expired.');
    expect(answer.body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(answer.body.HostId).toBe('sts.aliyuncs.com');
  });

  it('answers an unknown action with InvalidAction.NotFound', async () => {
    const answer = await rawRpc(rpcParams({ Action: 'AssumeEverything' }), admin.accessKeySecret);
    expect(answer.status).toBe(404);
    expect(answer.body.Code).toBe('InvalidAction.NotFound');
  });

  it('names a missing signature parameter', async () => {
    const { SignatureNonce: _dropped, ...params } = rpcParams();
    const answer = await rawRpc(params, admin.accessKeySecret);
    expect(answer.status).toBe(400);
    expect(answer.body.Code).toBe('MissingSignatureNonce');
  });

  it('serves @alicloud/credentials RAMRoleARN provider (parameters in query and form body)', async () => {
    const provider = ramRoleArnProvider(admin, accessRoleArn(memberId));
    const credentials = await provider.getCredentials();
    expect(credentials.accessKeyId).toMatch(/^STS\./);
    // The credentials work with a typed client through the SDK's Credential wrapper.
    const client = new StsClient(
      new $OpenApiUtil.Config({
        credential: new Credential(null, provider),
        endpoint: cloud.env.endpoints.sts,
        protocol: 'http',
      }),
    );
    const identity = await client.getCallerIdentity();
    expect(identity.body?.arn).toBe(
      `acs:ram::${memberId}:assumed-role/resourcedirectoryaccountaccessrole/ram-role-arn-test`,
    );
  });

  it('lets the RAMRoleARN provider tell a wrong secret from a signing bug', async () => {
    // The provider compares the server's string-to-sign with its own: equal strings mean the
    // secret is wrong, which is only true when localcloud canonicalizes exactly as the SDK does.
    const provider = ramRoleArnProvider(
      { ...admin, accessKeySecret: 'wrong-secret' },
      accessRoleArn(memberId),
    );
    await expect(provider.getCredentials()).rejects.toThrow('the access key secret is invalid');
  });
});

function ramRoleArnProvider(keys: Keys, roleArn: string) {
  const provider = RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(
      StaticAKCredentialsProvider.builder()
        .withAccessKeyId(keys.accessKeyId)
        .withAccessKeySecret(keys.accessKeySecret)
        .build(),
    )
    .withRoleArn(roleArn)
    .withRoleSessionName('ram-role-arn-test')
    .withDurationSeconds(900)
    .withStsEndpoint(cloud.env.endpoints.sts)
    .build();
  // The provider always builds https URLs; localcloud serves plain http on loopback. Its
  // transport is swapped for one that only changes the scheme: signing stays the provider's.
  const transport = provider as unknown as {
    doRequest: (request: { protocol: string }) => Promise<unknown>;
  };
  const send = transport.doRequest;
  transport.doRequest = (request) => {
    request.protocol = 'http';
    return send(request);
  };
  return provider;
}
