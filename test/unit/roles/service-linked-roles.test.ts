// Checking and repairing one member's roles, on the in-memory store with scripted member roles;
// and the report and its CSV built from what was recorded.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Reachability } from '../../../shared/onboarding/ports';
import { loadRoleCatalog, roleCatalogPort } from '../../../shared/roles/catalog';
import { decodeSweepChunk } from '../../../shared/roles/handlers';
import type { MemberRoles, MemberRolesAccess } from '../../../shared/roles/ports';
import { buildRoleReport, toCsv } from '../../../shared/roles/report';
import { ServiceLinkedRoles } from '../../../shared/roles/service-linked-roles';
import { chunkMembers } from '../../../shared/roles/sweep';
import { MalformedTriggerEvent } from '../../../shared/runtime/trigger-events';
import { createStore, ensureStoreTables, type Store } from '../../../shared/store';
import { capturingLogger } from '../../support/invocation';
import { MemoryTablestore } from '../../support/memory-tablestore';

const A = '2000000000000001';
const B = '2000000000000002';
const caller = { cause: { kind: 'user' as const, identity: 'tester' } };
const catalog = roleCatalogPort(loadRoleCatalog());

/** Roles per account; created ones are added. `refuse` makes creation fail. */
function scriptedAccess(held: Map<string, Set<string>>, refuse = false): MemberRolesAccess {
  const created: Record<string, string> = {
    'rd.sas.aliyuncs.com': 'AliyunServiceRoleForSasRd',
    'cloudsiem.sas.aliyuncs.com': 'AliyunServiceRoleForSasCloudSiem',
  };
  return async (accountId) => {
    const roles = held.get(accountId);
    if (!roles) {
      return {
        ok: false,
        roleArn: `acs:ram::${accountId}:role/ResourceDirectoryAccountAccessRole`,
        reason: 'You are not authorized to do this action.',
        code: 'NoPermission',
      };
    }
    const memberRoles: MemberRoles = {
      getRole: async (name) => (roles.has(name) ? { state: 'present' } : { state: 'missing' }),
      createServiceLinkedRole: async (serviceName) => {
        if (refuse) return { created: false, reason: 'denied', code: 'NoPermission' };
        const name = created[serviceName];
        if (!name) return { created: false, reason: 'unknown service', code: 'InvalidParameter' };
        roles.add(name);
        return { created: true, roleName: name };
      },
    };
    return { ok: true, roles: memberRoles };
  };
}

let store: Store;
beforeEach(async () => {
  const client = new MemoryTablestore();
  await ensureStoreTables(client);
  store = createStore({ client });
  await store.scopes.create({
    id: 'directory:rd-1',
    kind: 'directory',
    targetId: 'rd-1',
    services: ['security-center', 'bdrc'],
    createdBy: 'test',
  });
  for (const accountId of [A, B]) {
    await store.members.create({ accountId, status: 'managed', scopeIds: ['directory:rd-1'] });
  }
});

describe('ServiceLinkedRoles', () => {
  it('reports missing roles without creating them under the report policy', async () => {
    const held = new Map([[A, new Set(['AliyunServiceRoleForSasRd'])]]);
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(held),
      catalog,
      policy: 'report',
    });
    const report = await roles.checkMember({ accountId: A, scopeIds: ['directory:rd-1'] }, caller);
    const states = Object.fromEntries(report.roles.map((r) => [r.roleName, r.state]));
    expect(states).toEqual({
      AliyunServiceRoleForSasRd: 'present',
      AliyunServiceRoleForSasCloudSiem: 'missing',
      AliyunServiceRoleForBdrcRd: 'missing',
    });
    expect(held.get(A)?.has('AliyunServiceRoleForSasCloudSiem')).toBe(false);
    expect((await store.roleChecks.listForMember(A)).map((c) => c.state).sort()).toEqual([
      'missing',
      'missing',
      'present',
    ]);
  });

  it('repairs what has a service name, logs each repair, and never creates an undocumented one', async () => {
    const held = new Map([[A, new Set<string>()]]);
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(held),
      catalog,
      policy: 'repair',
    });
    const report = await roles.checkMember({ accountId: A, scopeIds: ['directory:rd-1'] }, caller);
    const byName = new Map(report.roles.map((r) => [r.roleName, r]));
    expect(byName.get('AliyunServiceRoleForSasRd')).toMatchObject({
      state: 'present',
      repaired: true,
    });
    expect(byName.get('AliyunServiceRoleForBdrcRd')).toMatchObject({ state: 'missing' });
    expect(byName.get('AliyunServiceRoleForBdrcRd')?.reason).toContain(
      'no documented service name',
    );
    expect([...(held.get(A) ?? [])].sort()).toEqual([
      'AliyunServiceRoleForSasCloudSiem',
      'AliyunServiceRoleForSasRd',
    ]);
    const activity = await store.activity.list({ accountId: A, limit: 10 });
    expect(activity.items.map((e) => [e.action, e.outcome])).toEqual([
      ['role.repaired', 'succeeded'],
      ['role.repaired', 'succeeded'],
    ]);
  });

  it('a refused repair leaves the role missing with the reason, and says so in the log', async () => {
    const held = new Map([[A, new Set<string>()]]);
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(held, true),
      catalog,
      policy: 'report',
    });
    const report = await roles.checkMember({ accountId: A, scopeIds: ['directory:rd-1'] }, caller, {
      repair: true,
    });
    expect(report.roles.find((r) => r.roleName === 'AliyunServiceRoleForSasRd')).toMatchObject({
      state: 'missing',
      reason: 'repair failed: NoPermission: denied',
    });
    const activity = await store.activity.list({ accountId: A, limit: 10 });
    expect(activity.items.length).toBeGreaterThan(0);
    expect(activity.items.every((e) => e.outcome === 'failed')).toBe(true);
    expect(activity.items.every((e) => e.action === 'role.repair-failed')).toBe(true);
  });

  it('an unreachable member is reported with the role ARN; the others are checked', async () => {
    const held = new Map([[B, new Set(['AliyunServiceRoleForSasRd'])]]);
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(held),
      catalog,
      policy: 'report',
    });
    const results = await roles.checkAccounts([A, B], caller);
    const a = results.find((r) => r.accountId === A);
    expect(a).toMatchObject({
      reachable: false,
      roleArn: `acs:ram::${A}:role/ResourceDirectoryAccountAccessRole`,
    });
    expect(results.find((r) => r.accountId === B)).toMatchObject({ reachable: true });
    const { report, lines } = buildRoleReport(
      await store.members.list(),
      await store.scopes.list(),
      await (async () => {
        const out = [];
        for await (const c of store.roleChecks.all()) out.push(c);
        return out;
      })(),
      catalog,
      '2026-01-01T00:00:00.000Z',
    );
    const sasRd = report.entries.find((e) => e.roleName === 'AliyunServiceRoleForSasRd');
    expect(sasRd).toMatchObject({ members: 2, present: 1, missing: [], unreachable: [A] });
    expect(lines).toHaveLength(2 * 3);
  });

  it('skips accounts that are not managed members', async () => {
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(new Map()),
      catalog,
      policy: 'report',
    });
    expect(await roles.checkAccounts(['2000000000000099'], caller)).toEqual([
      { accountId: '2000000000000099', skipped: 'not a managed member' },
    ]);
  });
});

describe('what a check finds about reaching a member', () => {
  const arn = `acs:ram::${A}:role/ResourceDirectoryAccountAccessRole`;
  const refusal = {
    roleArn: arn,
    reason: 'The specified Role not exists',
    code: 'EntityNotExist.Role',
  };

  function observing(access: MemberRolesAccess) {
    const observed: Array<[string, Reachability]> = [];
    const roles = new ServiceLinkedRoles({
      store,
      access,
      catalog,
      policy: 'report',
      reachability: {
        async record(accountId, observation) {
          observed.push([accountId, observation]);
        },
      },
    });
    return { roles, observed };
  }

  it('a lookup refused after the session was renewed makes the whole member unreachable', async () => {
    let lookups = 0;
    const { roles, observed } = observing(async () => ({
      ok: true,
      roles: {
        // The first role is read with the old session; the second finds the member refusing.
        getRole: async () =>
          ++lookups === 1 ? { state: 'present' } : { state: 'unreachable', refusal },
        createServiceLinkedRole: async () => ({ created: false, reason: 'not called' }),
      },
    }));
    const [report] = await roles.checkAccounts([A], caller);
    expect(report).toMatchObject({ accountId: A, reachable: false, roleArn: arn });
    expect(report && 'roles' in report && report.roles.map((r) => r.state)).toEqual([
      'unreachable',
      'unreachable',
      'unreachable',
    ]);
    expect((await store.roleChecks.listForMember(A)).map((c) => c.state)).toEqual([
      'unreachable',
      'unreachable',
      'unreachable',
    ]);
    expect(observed).toEqual([[A, { reachable: false, refusal }]]);
  });

  it('a repair the member refuses makes the whole member unreachable and logs no repair', async () => {
    const roles = new ServiceLinkedRoles({
      store,
      access: async () => ({
        ok: true,
        roles: {
          getRole: async () => ({ state: 'missing' }),
          createServiceLinkedRole: async () => ({
            created: false,
            reason: 'session refused',
            unreachable: refusal,
          }),
        },
      }),
      catalog,
      policy: 'repair',
    });
    const report = await roles.checkMember({ accountId: A, scopeIds: ['directory:rd-1'] }, caller);
    expect(report).toMatchObject({ accountId: A, reachable: false, roleArn: arn });
    expect(report.roles.map((r) => r.state)).toEqual(['unreachable', 'unreachable', 'unreachable']);
    expect(report.reason).toBe('EntityNotExist.Role: The specified Role not exists');
    expect((await store.activity.list({ accountId: A, limit: 10 })).items).toEqual([]);
  });

  it('a failure to record reachability is logged and the check still answers', async () => {
    const { logger, lines } = capturingLogger();
    const held = new Map([[A, new Set<string>()]]);
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(held),
      catalog,
      policy: 'report',
      logger,
      reachability: {
        async record() {
          throw new Error('OTSServerBusy');
        },
      },
    });
    const report = await roles.checkAccount(A, caller);
    expect(report).toMatchObject({ accountId: A, reachable: true });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'member reachability not recorded',
        accountId: A,
        reason: 'OTSServerBusy',
      }),
    );
  });

  it('a failure to record reachability without a logger still answers the check', async () => {
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(new Map([[A, new Set<string>()]])),
      catalog,
      policy: 'report',
      reachability: {
        async record() {
          throw new Error('OTSServerBusy');
        },
      },
    });
    await expect(roles.checkAccount(A, caller)).resolves.toMatchObject({ reachable: true });
  });

  it('without a reachability port a check records nothing and logs nothing', async () => {
    const { logger, lines } = capturingLogger();
    const roles = new ServiceLinkedRoles({
      store,
      access: scriptedAccess(new Map([[A, new Set<string>()]])),
      catalog,
      policy: 'report',
      logger,
    });
    await roles.checkAccount(A, caller);
    expect(lines).toEqual([]);
  });

  it('sweeps and checks on demand report reachability; the onboarding step does not', async () => {
    const held = new Map([[B, new Set<string>()]]);
    const { roles, observed } = observing(scriptedAccess(held));
    await roles.checkAccounts([A, B], caller);
    await roles.checkAccount(B, caller);
    await roles.checkMember({ accountId: A, scopeIds: ['directory:rd-1'] }, caller);
    expect(observed.map(([id, o]) => `${id} ${o.reachable}`)).toEqual([
      `${A} false`,
      `${B} true`,
      `${B} true`,
    ]);
  });
});

describe('report CSV and chunks', () => {
  it('quotes fields as RFC 4180 says and defuses spreadsheet formulas', () => {
    const csv = toCsv([
      {
        service: 'bdrc',
        roleName: 'R',
        accountId: A,
        state: 'error',
        reason: '=HYPERLINK("x"), boom',
        checkedAt: '',
      },
    ]);
    expect(csv).toBe(
      `service,roleName,accountId,state,reason,checkedAt\r\nbdrc,R,${A},error,"'=HYPERLINK(""x""), boom",\r\n`,
    );
  });

  it('chunks members in account order, none lost or repeated', () => {
    const ids = Array.from({ length: 123 }, (_, i) => String(3000000000000000 + ((i * 37) % 123)));
    const chunks = chunkMembers(ids, 50);
    expect(chunks.map((c) => c.length)).toEqual([50, 50, 23]);
    expect(chunks.flat()).toEqual([...ids].sort());
  });
});

describe('decodeSweepChunk', () => {
  it('takes a chunk as FC delivers it and refuses what is not one, naming the field', () => {
    const chunk = { sweepId: 's', chunk: 0, chunks: 1, accountIds: [A] };
    expect(decodeSweepChunk(Buffer.from(JSON.stringify(chunk)))).toEqual(chunk);
    expect(() => decodeSweepChunk(Buffer.from('{nope'))).toThrow(MalformedTriggerEvent);
    expect(() => decodeSweepChunk({ ...chunk, accountIds: [] })).toThrow(/accountIds/);
  });
});
