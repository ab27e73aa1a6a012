// Service-linked roles end to end: onboarding checks every member's roles, the report matches
// what localcloud actually holds, repair creates roles in localcloud, and a role deleted through
// localcloud's controls is reported missing after the next sweep (role-sweep fanning out to
// role-check-worker through localcloud's FC InvokeFunction, as in the cloud).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ACCESS_ROLE_NAME, type OrganizationFixture } from '../../../localcloud/index';
import { errorEnvelopeSchema } from '../../../shared/http/app';
import { activityResponseSchema } from '../../../shared/http/membership-routes';
import {
  memberRoleReportSchema,
  memberRolesSchema,
  roleReportSchema,
  sweepStartedSchema,
} from '../../../shared/http/role-routes';
import { invalidRequestDetailsSchema } from '../../../shared/http/validation';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { memberId, testOrganization } from '../../support/organization';

const MEMBERS = 12;
const SAS_RD = 'AliyunServiceRoleForSasRd';
const SIEM = 'AliyunServiceRoleForSasCloudSiem';
const ROLES = [SAS_RD, SIEM];
/** Members (by index) that already have each role; the others miss it. */
const HAS: Record<string, number[]> = { [SAS_RD]: [1, 2, 3, 5, 8], [SIEM]: [2, 3, 9] };
const BROKEN = 7;

function organization(): OrganizationFixture {
  const base = testOrganization({ members: MEMBERS });
  return {
    ...base,
    members: (base.members ?? []).map((member, i) => ({
      ...member,
      serviceLinkedRoles: ROLES.filter((role) => HAS[role]?.includes(i)),
    })),
  };
}

type ReportEntry = z.infer<typeof roleReportSchema>['entries'][number];

let env: MembershipSystem;
let managed: string[];

beforeAll(async () => {
  env = await startMembershipSystem(organization());
  await env.control('PUT', `/accounts/${memberId(BROKEN)}/roles/${ACCESS_ROLE_NAME}/trust`, {
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { RAM: ['acs:ram::1111111111111111:root'] },
      },
    ],
  });
  const res = await env.call('POST', '/v1/scopes', {
    body: { kind: 'directory', services: ['security-center'] },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  await env.system.asyncInvocations.drain();
  managed = (await env.store.members.list()).map((m) => m.accountId).sort();
}, 90_000);
afterAll(async () => {
  await env?.stop();
});

/** What localcloud holds: does the account have the role? */
function holds(accountId: string, roleName: string): boolean {
  return env.system.cloud.organization.findRole(accountId, roleName) !== undefined;
}

async function report(): Promise<ReportEntry[]> {
  const res = await env.call('GET', '/v1/roles/report');
  expect(res.status).toBe(200);
  return roleReportSchema.parse(res.json).entries;
}

function expectReportMatchesCloud(entries: ReportEntry[]) {
  expect(entries.map((e) => e.roleName).sort()).toEqual([...ROLES].sort());
  for (const entry of entries) {
    const reachable = managed.filter((id) => id !== memberId(BROKEN));
    expect(entry.members).toBe(managed.length);
    expect(entry.unreachable).toEqual([memberId(BROKEN)]);
    expect(entry.errors).toEqual([]);
    expect(entry.unchecked).toEqual([]);
    expect(entry.missing).toEqual(reachable.filter((id) => !holds(id, entry.roleName)));
    expect(entry.present).toBe(reachable.filter((id) => holds(id, entry.roleName)).length);
  }
}

describe('service-linked roles through the function host', () => {
  it('after onboarding, the report lists exactly the roles localcloud left missing', async () => {
    const entries = await report();
    expectReportMatchesCloud(entries);
    const sasRd = entries.find((e) => e.roleName === SAS_RD);
    expect(sasRd?.missing.length).toBeGreaterThan(0);
  });

  it('reports the unreachable member with its role ARN and the refusal', async () => {
    const roleArn = `acs:ram::${memberId(BROKEN)}:role/${ACCESS_ROLE_NAME}`;
    const checked = await env.call('POST', `/v1/members/${memberId(BROKEN)}/roles/check`);
    expect(checked.status).toBe(200);
    const report = memberRoleReportSchema.parse(checked.json);
    expect(report).toMatchObject({ reachable: false, roleArn });
    expect(report.reason).not.toBe('');
    const res = await env.call('GET', `/v1/members/${memberId(BROKEN)}/roles`);
    expect(res.status).toBe(200);
    const { checks } = memberRolesSchema.parse(res.json);
    expect(checks).toHaveLength(2);
    for (const check of checks) {
      expect(check.state).toBe('unreachable');
      expect(check.reason).toContain(roleArn);
    }
  });

  it('the report is also CSV, one line per service, role and member', async () => {
    const response = await fetch(new URL('/v1/roles/report', env.system.host.apiUrl), {
      headers: {
        authorization: `Bearer ${env.system.host.tokens.viewer}`,
        accept: 'text/csv',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe('service,roleName,accountId,state,reason,checkedAt');
    expect(lines).toHaveLength(1 + ROLES.length * managed.length);
  });

  it('refuses bad input: malformed id 400, unmanaged account 404, viewer repair 403', async () => {
    const malformed = await env.call('POST', '/v1/members/12ab/roles/repair');
    expect(malformed.status).toBe(400);
    const { details } = errorEnvelopeSchema.parse(malformed.json);
    expect(invalidRequestDetailsSchema.parse(details).issues[0]?.field).toBe('accountId');
    const unmanaged = await env.call('GET', '/v1/members/2999999999999999/roles');
    expect(unmanaged.status).toBe(404);
    expect(errorEnvelopeSchema.parse(unmanaged.json).message).toContain('2999999999999999');
    const viewer = await env.call('POST', `/v1/members/${managed[0]}/roles/repair`, {
      token: env.system.host.tokens.viewer,
    });
    expect(viewer.status).toBe(403);
    const sweep = await env.call('POST', '/v1/roles/sweep?repair=maybe');
    expect(sweep.status).toBe(400);
  });

  it('repair creates the missing roles, as localcloud itself shows', async () => {
    const target = managed.find((id) => !holds(id, SAS_RD) && id !== memberId(BROKEN)) ?? '';
    expect(target).not.toBe('');
    const res = await env.call('POST', `/v1/members/${target}/roles/repair`);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const { roles } = memberRoleReportSchema.parse(res.json);
    expect(roles.find((r) => r.roleName === SAS_RD)).toMatchObject({
      state: 'present',
      repaired: true,
    });
    expect(holds(target, SAS_RD)).toBe(true);
    expect(holds(target, SIEM)).toBe(true);
    const activity = await env.call('GET', `/v1/activity?accountId=${target}`);
    const actions = activityResponseSchema
      .parse(activity.json)
      .items.filter((a) => a.action === 'role.repaired');
    expect(actions.length).toBeGreaterThanOrEqual(1);
    expect(actions.every((a) => a.outcome === 'succeeded')).toBe(true);
    expectReportMatchesCloud(await report());
  });

  it('a role deleted through localcloud is reported missing after the next sweep', async () => {
    const victim = managed.find((id) => holds(id, SAS_RD) && id !== memberId(BROKEN)) ?? '';
    await env.control('DELETE', `/accounts/${victim}/roles/${SAS_RD}`);
    expect(holds(victim, SAS_RD)).toBe(false);
    const started = sweepStartedSchema.parse(await env.system.host.fireTimer('role-sweep'));
    expect(started.invoked).toBe(started.chunks);
    await env.system.asyncInvocations.drain();
    const entries = await report();
    expect(entries.find((e) => e.roleName === SAS_RD)?.missing).toContain(victim);
    expectReportMatchesCloud(entries);
  });

  it('with 20% of RAM and ResourceManager calls failing, a sweep still ends with correct results', async () => {
    for (const service of ['ram', 'resourcemanager']) {
      await env.control('POST', '/faults', { service, action: '*', kind: 'throttle', rate: 0.1 });
      await env.control('POST', '/faults', {
        service,
        action: '*',
        kind: 'error5xx',
        rate: 0.1,
      });
    }
    try {
      await env.control('DELETE', `/accounts/${managed[0]}/roles/${SIEM}`).catch(() => undefined);
      await env.system.host.fireTimer('role-sweep');
      await env.system.asyncInvocations.drain();
      const failedCalls = env.system.cloud.control
        .calls({ service: 'ram' })
        .filter((c) => c.status >= 400);
      expect(failedCalls.length).toBeGreaterThan(0);
    } finally {
      await env.control('DELETE', '/faults');
    }
    expectReportMatchesCloud(await report());
  });
});
