// Reaching members, end to end through the function host.
// A member that can no longer be reached does not stay `managed` (issue 9 item 5): its access
// role deleted or its trust policy broken through localcloud's controls, the next sweep
// (role-sweep fanning out to role-check-worker, whose instances hold the member's credentials
// from the sweep before) or role check finds it unreachable: the member's status and failure
// (role ARN, refusal) say so, its role checks are `unreachable` rather than read with the old
// credentials; restored, it is `managed` again with no failure.
// Least privilege (item 11): the sessions each function obtained in a member carry its session
// policy, and a call outside it is refused.

import * as Ram from '@alicloud/ram20150501';
import * as ResourceManager from '@alicloud/resourcemanager20200331';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACCESS_ROLE_NAME } from '../../../localcloud/index';
import { createOpenApiClient, readSdkFailure } from '../../../shared/cloud/openapi';
import {
  activityResponseSchema,
  memberResponseSchema,
  reconcileSummarySchema,
} from '../../../shared/http/membership-routes';
import {
  memberRoleReportSchema,
  memberRolesSchema,
  roleReportSchema,
  sweepStartedSchema,
} from '../../../shared/http/role-routes';
import type { CloudCredentials } from '../../../shared/runtime/context';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { memberId, testOrganization } from '../../support/organization';

const SAS_RD = 'AliyunServiceRoleForSasRd';

let env: MembershipSystem;

beforeAll(async () => {
  const organization = testOrganization({ members: 6 });
  env = await startMembershipSystem({
    ...organization,
    members: organization.members.map((member, i) => ({
      ...member,
      serviceLinkedRoles: i % 2 === 0 ? [SAS_RD] : [],
    })),
  });
  const res = await env.call('POST', '/v1/scopes', {
    body: { kind: 'directory', services: ['security-center'] },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  await env.system.asyncInvocations.drain();
}, 90_000);
afterAll(async () => {
  await env?.stop();
});

const roleArn = (accountId: string) => `acs:ram::${accountId}:role/${ACCESS_ROLE_NAME}`;

async function member(accountId: string) {
  const res = await env.call('GET', `/v1/members/${accountId}`);
  expect(res.status).toBe(200);
  return memberResponseSchema.parse(res.json).member;
}

async function checks(accountId: string) {
  const res = await env.call('GET', `/v1/members/${accountId}/roles`);
  expect(res.status).toBe(200);
  return memberRolesSchema.parse(res.json).checks;
}

async function sweep(): Promise<void> {
  const started = sweepStartedSchema.parse(await env.system.host.fireTimer('role-sweep'));
  expect(started.invoked).toBe(started.chunks);
  await env.system.asyncInvocations.drain();
}

/** The results of RAM GetRole calls since `since` ('ok' or the error code). A refused
 *  session names no caller in the call log: it was not authenticated. */
function getRoleResults(since: number): string[] {
  return env.system.cloud.control
    .calls({ service: 'ram', action: 'GetRole' })
    .filter((c) => c.seq > since)
    .map((c) => c.result);
}

function lastSeq(): number {
  return env.system.cloud.control.calls().at(-1)?.seq ?? 0;
}

describe('a member that can no longer be reached', () => {
  it('access role deleted: the next sweep drops the cached session and marks the member unreachable; the role back, the next sweep makes it managed again', async () => {
    const target = memberId(2);
    await sweep(); // the workers now hold credentials for every member
    expect((await member(target)).status).toBe('managed');
    const trust = env.system.cloud.organization.findRole(target, ACCESS_ROLE_NAME)?.trustPolicy;
    expect(trust).toBeDefined();

    await env.control('DELETE', `/accounts/${target}/roles/${ACCESS_ROLE_NAME}`);
    const before = lastSeq();
    await sweep();
    // The cached session was used, refused, dropped, and STS refused a new one (the only
    // deleted role is the target's).
    expect(getRoleResults(before)).toContain('NoPermission');
    const unreachable = await member(target);
    expect(unreachable).toMatchObject({
      status: 'unreachable',
      failure: { roleArn: roleArn(target), code: 'EntityNotExist.Role' },
    });
    expect(unreachable.failure?.reason).toContain(roleArn(target));
    const refused = await checks(target);
    expect(refused.map((c) => c.state)).toEqual(refused.map(() => 'unreachable'));
    expect(refused.length).toBeGreaterThan(0);
    for (const check of refused) expect(check.reason).toContain(roleArn(target));
    const report = roleReportSchema.parse((await env.call('GET', '/v1/roles/report')).json);
    for (const entry of report.entries) {
      expect(entry.unreachable).toContain(target);
      expect(entry.missing).not.toContain(target);
    }
    const activity = activityResponseSchema.parse(
      (await env.call('GET', `/v1/activity?accountId=${target}`)).json,
    );
    expect(activity.items[0]).toMatchObject({ action: 'member.unreachable', outcome: 'failed' });

    // A sweep that finds it unreachable the same way writes nothing more.
    const version = unreachable.version;
    await sweep();
    expect((await member(target)).version).toBe(version);

    await env.control('POST', `/accounts/${target}/roles`, {
      name: ACCESS_ROLE_NAME,
      trustPolicy: trust,
    });
    await sweep();
    const back = await member(target);
    expect(back.status).toBe('managed');
    expect(back.failure).toBeUndefined();
    const states = (await checks(target)).map((c) => c.state);
    expect(states).not.toContain('unreachable');
    expect(states).toContain('present');
  });

  it('trust broken: the sessions issued before work until they expire, then a role check finds the member unreachable; trusted again, the next reconcile makes it managed again', async () => {
    const target = memberId(3);
    // The API reaches the member once (onboarding ran in onboarding-worker), so that it holds a
    // session there when the trust changes.
    const reached = await env.call('POST', `/v1/members/${target}/roles/check`);
    expect(memberRoleReportSchema.parse(reached.json).reachable).toBe(true);
    await env.control('PUT', `/accounts/${target}/roles/${ACCESS_ROLE_NAME}/trust`, {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: ['acs:ram::1111111111111111:root'] },
        },
      ],
    });
    // As in the cloud, a trust policy is evaluated by AssumeRole only: the API's cached session
    // still reads the member's roles.
    const stillReached = await env.call('POST', `/v1/members/${target}/roles/check`);
    expect(stillReached.status).toBe(200);
    expect(memberRoleReportSchema.parse(stillReached.json).reachable).toBe(true);
    expect((await member(target)).status).toBe('managed');

    // An hour later every session has expired.
    env.system.cloud.control.advanceClock(3600);
    const checked = await env.call('POST', `/v1/members/${target}/roles/check`);
    expect(checked.status).toBe(200);
    expect(memberRoleReportSchema.parse(checked.json)).toMatchObject({
      reachable: false,
      roleArn: roleArn(target),
    });
    expect(await member(target)).toMatchObject({
      status: 'unreachable',
      failure: { roleArn: roleArn(target), code: 'NoPermission' },
    });
    // The other members' sessions expired too: renewed, they are reachable.
    const other = await env.call('POST', `/v1/members/${memberId(4)}/roles/check`);
    expect(memberRoleReportSchema.parse(other.json).reachable).toBe(true);
    expect((await member(memberId(4))).status).toBe('managed');

    await env.control('PUT', `/accounts/${target}/roles/${ACCESS_ROLE_NAME}/trust`, {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: [`acs:ram::${env.managementAccountId}:root`] },
        },
      ],
    });
    const result = z
      .object({ reconciled: reconcileSummarySchema })
      .parse(await env.system.host.fireTimer('reconcile'));
    expect(result.reconciled.updated).toContain(target);
    const back = await member(target);
    expect(back.status).toBe('managed');
    expect(back.failure).toBeUndefined();
  });
});

describe('the sessions the functions hold in members', () => {
  /** A live session a function obtained in `accountId`, by the function's name. */
  function sessionOf(fn: string, accountId: string) {
    const session = env.system.cloud.credentials
      .liveSessions(accountId)
      .find((s) => s.principal.sessionName?.startsWith(`${fn}.`));
    if (!session) throw new Error(`no live session of ${fn} in ${accountId}`);
    return session;
  }

  async function attempt(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (error) {
      return readSdkFailure(error).code;
    }
  }

  async function tryCalls(credentials: CloudCredentials) {
    const at = (endpoint: string) => ({ endpoint, protocol: 'http' as const });
    const { endpoints } = env.system.env;
    const ram = createOpenApiClient(Ram.default, at(endpoints.ram), credentials);
    const rm = createOpenApiClient(
      ResourceManager.default,
      at(endpoints.resourcemanager),
      credentials,
    );
    return {
      getRole: await attempt(() =>
        ram.getRole(new Ram.GetRoleRequest({ roleName: ACCESS_ROLE_NAME })),
      ),
      createServiceLinkedRole: await attempt(() =>
        rm.createServiceLinkedRole(
          new ResourceManager.CreateServiceLinkedRoleRequest({
            serviceName: 'cloudsiem.sas.aliyuncs.com',
          }),
        ),
      ),
      createRole: await attempt(() =>
        ram.createRole(
          new Ram.CreateRoleRequest({ roleName: 'outside-policy', assumeRolePolicyDocument: '{}' }),
        ),
      ),
    };
  }

  it('carry their function session policy: a call outside it is refused', async () => {
    // Member 3 was reached by the reconcile (onboarding's retry) and the sweep's workers.
    const target = memberId(3);
    await sweep();
    const reconcile = sessionOf('rdgov-reconcile', target);
    expect(JSON.parse(reconcile.principal.sessionPolicy ?? '{}')).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['ram:GetRole'], Resource: '*' }],
    });
    // ROLE_REPAIR_POLICY=report: the reconcile reads roles and may not create one.
    expect(await tryCalls(reconcile)).toEqual({
      getRole: 'ok',
      createServiceLinkedRole: 'NoPermission',
      createRole: 'NoPermission',
    });
    // The API serves the repair route and the sweep workers repair sweeps: both may create a
    // service-linked role, and nothing else.
    // (The API's session in member 3 expired with the clock moved above; member 4's was renewed.)
    for (const [fn, accountId] of [
      ['rdgov-api', memberId(4)],
      ['rdgov-role-check-worker', target],
    ] as const) {
      const session = sessionOf(fn, accountId);
      expect(await tryCalls(session), fn).toEqual({
        getRole: 'ok',
        createServiceLinkedRole: 'ok',
        createRole: 'NoPermission',
      });
    }
  });
});
