// Least privilege on every hop (issue 9 item 11): each function's member sessions carry the
// session policy shared/wiring/member-sessions.ts declares for it, and localcloud's STS and RAM
// evaluate it as the cloud does: what the function calls in members is allowed, anything else is
// refused. Sessions are obtained through the project's own STS adapter and MemberAccess; the
// calls are made with the official SDKs.

import * as Ram from '@alicloud/ram20150501';
import * as ResourceManager from '@alicloud/resourcemanager20200331';
import * as Sts from '@alicloud/sts20150401';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { createOpenApiClient, readSdkFailure } from '../../../shared/cloud/openapi';
import { createMemberRolesAccess } from '../../../shared/cloud/ram/member-roles';
import {
  createMemberCredentialCache,
  createStsAssumeRole,
  MemberAccess,
  sessionPolicyAllowing,
} from '../../../shared/cloud/sts';
import type { CloudCredentials } from '../../../shared/runtime/context';
import {
  type MemberSessionFunction,
  memberSessionPolicy,
} from '../../../shared/wiring/member-sessions';
import { memberId, testOrganization } from '../../support/organization';

const ACCESS_ROLE = 'ResourceDirectoryAccountAccessRole';
const noRetry = { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } };
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({ port: 0, organization: testOrganization({ members: 10 }) });
});
afterAll(async () => {
  await cloud?.stop();
});

function access(sessionPolicy: string): MemberAccess {
  const management = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('no management account');
  return new MemberAccess({
    roleName: ACCESS_ROLE,
    cache: createMemberCredentialCache(),
    sessionName: 'policy-test',
    sessionPolicy,
    assumeRole: createStsAssumeRole({
      endpoint: cloud.env.endpoints.sts,
      protocol: 'http',
      credentials: {
        accessKeyId: management.accessKeyId,
        accessKeySecret: management.accessKeySecret,
      },
      callerAccountId: management.id,
      ...noRetry,
    }),
  });
}

/** 'ok' or the code the member answered with. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return readSdkFailure(error).code;
  }
}

/** GetCallerIdentity, GetRole, CreateServiceLinkedRole and CreateRole with a session. */
async function tryCalls(credentials: CloudCredentials): Promise<Record<string, string>> {
  const target = (endpoint: string) => ({ endpoint, protocol: 'http' as const });
  const sts = createOpenApiClient(Sts.default, target(cloud.env.endpoints.sts), credentials);
  const ram = createOpenApiClient(Ram.default, target(cloud.env.endpoints.ram), credentials);
  const rm = createOpenApiClient(
    ResourceManager.default,
    target(cloud.env.endpoints.resourcemanager),
    credentials,
  );
  return {
    identity: await outcome(() => sts.getCallerIdentity()),
    getRole: await outcome(() => ram.getRole(new Ram.GetRoleRequest({ roleName: ACCESS_ROLE }))),
    createServiceLinkedRole: await outcome(() =>
      rm.createServiceLinkedRole(
        new ResourceManager.CreateServiceLinkedRoleRequest({ serviceName: 'rd.sas.aliyuncs.com' }),
      ),
    ),
    createRole: await outcome(() =>
      ram.createRole(
        new Ram.CreateRoleRequest({ roleName: 'not-allowed', assumeRolePolicyDocument: '{}' }),
      ),
    ),
  };
}

const REPAIRS = {
  identity: 'ok',
  getRole: 'ok',
  createServiceLinkedRole: 'ok',
  createRole: 'NoPermission',
};
const CHECKS_ONLY = { ...REPAIRS, createServiceLinkedRole: 'NoPermission' };
/** Log integration's planner and worker call members' Log Service only: no RAM at all. */
const NO_RAM = { ...CHECKS_ONLY, getRole: 'NoPermission' };

describe('the member session policy of each function', () => {
  const cases: Array<[MemberSessionFunction, 'report' | 'repair', Record<string, string>]> = [
    ['api', 'report', REPAIRS],
    ['role-check-worker', 'report', REPAIRS],
    ['reconcile', 'report', CHECKS_ONLY],
    ['directory-events', 'report', CHECKS_ONLY],
    ['onboarding-worker', 'report', CHECKS_ONLY],
    ['reconcile', 'repair', REPAIRS],
    ['directory-events', 'repair', REPAIRS],
    ['onboarding-worker', 'repair', REPAIRS],
    ['log-planner', 'repair', NO_RAM],
    ['log-worker', 'repair', NO_RAM],
  ];
  cases.forEach(([fn, repairPolicy, expected], i) => {
    it(`${fn} under ROLE_REPAIR_POLICY=${repairPolicy}: ${Object.entries(expected)
      .map(([call, answer]) => `${call} ${answer}`)
      .join(', ')}`, async () => {
      const policy = memberSessionPolicy(fn, {
        repairPolicy,
        catalogExtra: undefined,
        workerFunction: 'rdgov-role-check-worker',
      });
      // Members 1 to 8 hold the access role (each access has its own credential cache).
      const credentials = await access(policy).credentialsFor(memberId(1 + (i % 8)));
      expect(await tryCalls(credentials)).toEqual(expected);
    });
  });
});

describe('a session the member refuses for its permissions, not its age', () => {
  it('is renewed once, then the refusal is reported as an error: the member is reachable', async () => {
    const since = cloud.control.calls().at(-1)?.seq ?? 0;
    const roles = createMemberRolesAccess({
      access: access(sessionPolicyAllowing([])),
      ramEndpoint: cloud.env.endpoints.ram,
      resourceManagerEndpoint: cloud.env.endpoints.resourcemanager,
      protocol: 'http',
      ...noRetry,
    });
    const reached = await roles(memberId(9));
    if (!reached.ok) throw new Error(reached.reason);
    expect(await reached.roles.getRole('AliyunServiceRoleForSasRd')).toMatchObject({
      state: 'error',
      code: 'NoPermission',
    });
    const assumed = cloud.control.calls({ service: 'sts', action: 'AssumeRole', since });
    expect(assumed.map((c) => c.result)).toEqual(['ok', 'ok']);
  });
});
