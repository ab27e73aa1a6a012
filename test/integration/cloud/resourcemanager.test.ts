// The ResourceManager adapter through the official SDK against localcloud.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { createResourceManagerDirectory } from '../../../shared/cloud/resourcemanager/directory-source';
import { createStsAssumeRole } from '../../../shared/cloud/sts';
import { readDirectory } from '../../../shared/directory/read-directory';
import { buildDirectory } from '../../../shared/directory/tree';
import { CloudApiError } from '../../../shared/errors';
import { FUNCTION_ROLE, folderOf, memberId, testOrganization } from '../../support/organization';

const MEMBERS = 250;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({
    port: 0,
    organization: testOrganization({ members: MEMBERS, wideFolders: 12 }),
  });
});
afterAll(async () => {
  await cloud?.stop();
});

function account(kind: 'management' | 'member', name?: string) {
  const found = cloud.env.accounts.find(
    (a) => a.kind === kind && (name === undefined || a.name === name),
  );
  if (!found) throw new Error(`no ${kind} account ${name ?? ''} in localcloud env`);
  return found;
}

function directoryAs(
  who: { id: string; accessKeyId: string; accessKeySecret: string; securityToken?: string },
  pageSize?: number,
) {
  return createResourceManagerDirectory({
    endpoint: cloud.env.endpoints.resourcemanager,
    protocol: 'http',
    credentials: {
      accessKeyId: who.accessKeyId,
      accessKeySecret: who.accessKeySecret,
      ...(who.securityToken ? { securityToken: who.securityToken } : {}),
    },
    accountId: who.id,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    ...(pageSize !== undefined ? { pageSize } : {}),
  });
}

describe('ResourceManager directory source', () => {
  it(`lists all ${MEMBERS} members over several ListAccounts pages, and every folder`, async () => {
    const snapshot = await directoryAs(account('management'), 100).readSnapshot();
    const listed = new Set(snapshot.members.map((m) => m.accountId));
    for (let i = 0; i < MEMBERS; i++)
      expect(listed.has(memberId(i)), `member ${memberId(i)}`).toBe(true);
    expect(snapshot.members.length).toBe(listed.size);
    expect(snapshot.managementAccountId).toBe(cloud.env.managementAccountId);
    // Root, Production, Retail, Web, Sandbox and the 12 wide folders.
    expect(snapshot.folders).toHaveLength(5 + 12);
  });

  it('pages ListFoldersForParent too (12+ children, 5 per page)', async () => {
    const snapshot = await directoryAs(account('management'), 5).readSnapshot();
    expect(snapshot.folders.filter((f) => f.name.startsWith('Team'))).toHaveLength(12);
    expect(new Set(snapshot.members.map((m) => m.accountId)).size).toBeGreaterThanOrEqual(MEMBERS);
  });

  it('builds the tree: every member under its folder path, delegated administrators grouped', async () => {
    const directory = await readDirectory(directoryAs(account('management')));
    const rootName = directory.root.name;
    for (let i = 0; i < MEMBERS; i += 7) {
      const member = directory.members.find((m) => m.accountId === memberId(i));
      const path = folderOf(i);
      expect(member?.folderPath).toBe(path ? `${rootName}/${path}` : rootName);
      expect(member?.joinMethod).toBe(i % 3 === 0 ? 'invited' : 'created');
    }
    const web = directory.root.children
      .find((f) => f.name === 'Production')
      ?.children.find((f) => f.name === 'Retail')
      ?.children.find((f) => f.name === 'Web');
    expect(web?.members).toContain(memberId(2));
    expect(directory.delegatedAdministrators).toEqual([
      {
        accountId: memberId(0),
        displayName: expect.any(String),
        services: ['cloudfw.aliyuncs.com', 'sas.aliyuncs.com'],
      },
    ]);
    expect(buildDirectory(await directoryAs(account('management')).readSnapshot()).ok).toBe(true);
  });

  it("reads with the functions' role credentials, as FC hands them to an invocation", async () => {
    const fc = cloud.env.servicePrincipals['fc.aliyuncs.com'];
    if (!fc) throw new Error('no fc.aliyuncs.com service principal');
    const roleCredentials = await createStsAssumeRole({
      endpoint: cloud.env.endpoints.sts,
      protocol: 'http',
      credentials: fc,
      callerAccountId: 'fc.aliyuncs.com',
    })({
      accountId: cloud.env.managementAccountId,
      roleArn: `acs:ram::${cloud.env.managementAccountId}:role/${FUNCTION_ROLE}`,
      sessionName: 'rdgov-api.integration',
      durationSeconds: 900,
    });
    const directory = await readDirectory(
      directoryAs({ id: cloud.env.managementAccountId, ...roleCredentials }),
    );
    expect(directory.members.filter((m) => m.accountId.startsWith('2')).length).toBe(MEMBERS);
  });

  it("refuses a member's credentials with CloudApiError naming the API and the account", async () => {
    const member = account('member', 'member-001');
    const error = await directoryAs(member)
      .readSnapshot()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    const failure = (error as CloudApiError).failure;
    expect(failure).toMatchObject({
      service: 'ResourceManager',
      api: 'GetResourceDirectory',
      accountId: member.id,
    });
    expect(['denied', 'rejected']).toContain(failure.kind);
    expect((error as CloudApiError).message).toContain(`as account ${member.id}`);
  });

  it('refuses a wrong secret as denied, without retrying it', async () => {
    const management = account('management');
    const error = await directoryAs({ ...management, accessKeySecret: 'not-the-secret' })
      .readSnapshot()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect((error as CloudApiError).failure.kind).toBe('denied');
    expect((error as CloudApiError).code).toBe('CloudAccessDenied');
  });

  it('reports an unreachable endpoint as CloudUnavailable', async () => {
    const management = account('management');
    const source = createResourceManagerDirectory({
      endpoint: '127.0.0.1:1',
      protocol: 'http',
      credentials: {
        accessKeyId: management.accessKeyId,
        accessKeySecret: management.accessKeySecret,
      },
      accountId: management.id,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const error = await source.readSnapshot().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CloudUnavailable', status: 503 });
  });
});
