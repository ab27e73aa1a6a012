// ServiceLinkedRoles against scripted ports: which roles a member needs (its own scopes only),
// what each lookup answer becomes, what is recorded and logged, and how one failing member is
// kept from stopping the others.

import { describe, expect, it } from 'vitest';
import type { ActivityEntry, NewActivity } from '../../../shared/domain/activity';
import type { ManagedMember, Scope } from '../../../shared/onboarding/model';
import type { RoleCheck } from '../../../shared/roles/model';
import type {
  MemberRoles,
  MemberRolesAccess,
  NeededRole,
  RoleCatalogPort,
  RoleLookup,
  RoleStore,
} from '../../../shared/roles/ports';
import { ServiceLinkedRoles } from '../../../shared/roles/service-linked-roles';
import { capturingLogger } from '../../support/invocation';

const T = '2026-01-01T00:00:00.000Z';
const NOW = Date.parse('2026-02-01T00:00:00.000Z');
const caller = { cause: { kind: 'user' as const, identity: 'alice' }, requestId: 'req-7' };

const scope = (id: string, services: string[]): Scope => ({
  id,
  kind: 'folder',
  targetId: id,
  services,
  createdBy: 't',
  version: 1,
  createdAt: T,
  updatedAt: T,
});
const member = (accountId: string, scopeIds: string[]): ManagedMember => ({
  accountId,
  status: 'managed',
  scopeIds,
  version: 1,
  createdAt: T,
  updatedAt: T,
});

/** One role per service, named after it; `nameless` has no service name. */
const catalog: RoleCatalogPort = {
  rolesFor: (services) =>
    services.map(
      (s): NeededRole => ({
        roleName: `Role-${s}`,
        serviceName: s === 'nameless' ? null : `${s}.aliyuncs.com`,
        // `pair` stands for a role two services need.
        services: s === 'pair' ? ['pair', 'other'] : [s],
      }),
    ),
};

function fakeStore(scopes: Scope[], members: ManagedMember[]) {
  const recorded: RoleCheck[][] = [];
  const appended: NewActivity[] = [];
  const cleared: string[] = [];
  let scopeReads = 0;
  let failScopeRead = false;
  const store: RoleStore = {
    members: {
      get: async (id) => members.find((m) => m.accountId === id),
      list: async () => members,
    },
    scopes: {
      list: async () => {
        scopeReads++;
        if (failScopeRead) throw new Error('scopes unavailable');
        return scopes;
      },
    },
    roleChecks: {
      recordAll: async (checks) => {
        recorded.push([...checks]);
        return checks.map(() => 'recorded' as const);
      },
      listForMember: async (id) => recorded.flat().filter((c) => c.accountId === id),
      async *all() {},
      clearMember: async (id) => {
        cleared.push(id);
        return 1;
      },
    },
    activity: {
      append: async (entry) => {
        appended.push(entry);
        return { ...entry, id: 'x', at: T } as ActivityEntry;
      },
    },
  };
  return {
    store,
    recorded,
    appended,
    cleared,
    get scopeReads() {
      return scopeReads;
    },
    failScopeRead(fail: boolean) {
      failScopeRead = fail;
    },
  };
}

function access(
  lookups: Record<string, RoleLookup>,
  create: (
    serviceName: string,
  ) => Awaited<ReturnType<MemberRoles['createServiceLinkedRole']>> = () => ({
    created: true,
  }),
): MemberRolesAccess & { created: string[] } {
  const created: string[] = [];
  const fn = async () => ({
    ok: true as const,
    roles: {
      getRole: async (name: string) => lookups[name] ?? { state: 'missing' as const },
      createServiceLinkedRole: async (serviceName: string) => {
        created.push(serviceName);
        return create(serviceName);
      },
    },
  });
  return Object.assign(fn, { created });
}

const roles = (
  store: RoleStore,
  memberAccess: MemberRolesAccess,
  policy: 'report' | 'repair' = 'report',
  extra = {},
) =>
  new ServiceLinkedRoles({
    store,
    access: memberAccess,
    catalog,
    policy,
    clock: { now: () => NOW },
    ...extra,
  });

describe('the roles a member needs', () => {
  it('come from the scopes that cover it, not from every scope', async () => {
    const f = fakeStore(
      [scope('s1', ['sas']), scope('s2', ['bdrc']), scope('s3', ['sas', 'audit'])],
      [],
    );
    const r = roles(f.store, access({}));
    expect((await r.neededBy({ scopeIds: ['s1', 's3'] })).map((n) => n.roleName)).toEqual([
      'Role-audit',
      'Role-sas',
    ]);
    expect(await r.neededBy({ scopeIds: [] })).toEqual([]);
    expect(
      (await r.neededBy({ scopeIds: ['s2'] }, [scope('s2', ['other'])])).map((n) => n.roleName),
    ).toEqual(['Role-other']);
  });

  it('scopes are read once per instance, and a failed read is not kept', async () => {
    const f = fakeStore([scope('s1', ['sas'])], []);
    const r = roles(f.store, access({}));
    f.failScopeRead(true);
    await expect(r.neededBy({ scopeIds: ['s1'] })).rejects.toThrow('scopes unavailable');
    f.failScopeRead(false);
    await r.neededBy({ scopeIds: ['s1'] });
    await r.neededBy({ scopeIds: ['s1'] });
    expect(f.scopeReads).toBe(2);
  });

  it('memberRoles lists the needed roles and the checks kept; a non-member is a 404', async () => {
    const f = fakeStore([scope('s1', ['sas'])], [member('100', ['s1'])]);
    const r = roles(f.store, access({ 'Role-sas': { state: 'present' } }));
    await r.checkAccount('100', caller);
    expect(await r.memberRoles('100')).toEqual({
      accountId: '100',
      needed: [{ roleName: 'Role-sas', serviceName: 'sas.aliyuncs.com', services: ['sas'] }],
      checks: [
        {
          accountId: '100',
          roleName: 'Role-sas',
          service: 'sas',
          state: 'present',
          checkedAt: new Date(NOW).toISOString(),
        },
      ],
    });
    await expect(r.memberRoles('999')).rejects.toMatchObject({ status: 404, code: 'NotFound' });
    await expect(r.checkAccount('999', caller)).rejects.toMatchObject({ status: 404 });
  });
});

describe('checking a member', () => {
  const checkedAt = new Date(NOW).toISOString();

  it('records each role as present, missing or error, with the service names and reason', async () => {
    const f = fakeStore([scope('s1', ['a', 'b', 'c'])], [member('100', ['s1'])]);
    const r = roles(
      f.store,
      access({
        'Role-a': { state: 'present' },
        'Role-b': { state: 'error', reason: 'slow down', code: 'Throttling' },
        'Role-c': { state: 'error', reason: 'odd' },
      }),
    );
    const report = await r.checkMember(member('100', ['s1']), caller);
    expect(report).toEqual({
      accountId: '100',
      reachable: true,
      roles: [
        {
          roleName: 'Role-a',
          services: ['a'],
          serviceName: 'a.aliyuncs.com',
          state: 'present',
          checkedAt,
        },
        {
          roleName: 'Role-b',
          services: ['b'],
          serviceName: 'b.aliyuncs.com',
          state: 'error',
          reason: 'Throttling: slow down',
          checkedAt,
        },
        {
          roleName: 'Role-c',
          services: ['c'],
          serviceName: 'c.aliyuncs.com',
          state: 'error',
          reason: 'odd',
          checkedAt,
        },
      ],
    });
    expect(f.recorded).toEqual([
      [
        { accountId: '100', roleName: 'Role-a', service: 'a', state: 'present', checkedAt },
        {
          accountId: '100',
          roleName: 'Role-b',
          service: 'b',
          state: 'error',
          checkedAt,
          reason: 'Throttling: slow down',
        },
        {
          accountId: '100',
          roleName: 'Role-c',
          service: 'c',
          state: 'error',
          checkedAt,
          reason: 'odd',
        },
      ],
    ]);
    expect(f.appended).toEqual([]);
  });

  it('a member whose access role cannot be assumed has every role unreachable, saying why', async () => {
    const f = fakeStore([scope('s1', ['a'])], []);
    const refused: MemberRolesAccess = async () => ({
      ok: false,
      roleArn: 'acs:ram::100:role/Access',
      reason: 'not authorized',
      code: 'NoPermission',
    });
    const report = await roles(f.store, refused).checkMember(member('100', ['s1']), caller);
    expect(report).toEqual({
      accountId: '100',
      reachable: false,
      roleArn: 'acs:ram::100:role/Access',
      reason: 'NoPermission: not authorized',
      roles: [
        {
          roleName: 'Role-a',
          services: ['a'],
          serviceName: 'a.aliyuncs.com',
          state: 'unreachable',
          reason:
            'AssumeRole into acs:ram::100:role/Access was refused: NoPermission: not authorized',
          checkedAt,
        },
      ],
    });
    const noCode: MemberRolesAccess = async () => ({
      ok: false,
      roleArn: 'arn',
      reason: 'timeout',
    });
    expect((await roles(f.store, noCode).checkMember(member('100', ['s1']), caller)).reason).toBe(
      'timeout',
    );
  });

  it('repairs under the repair policy unless told not to, and logs each repair with the caller', async () => {
    const f = fakeStore([scope('s1', ['a', 'b'])], []);
    const a = access({}, (name) =>
      name === 'b.aliyuncs.com' ? { created: false, reason: 'denied' } : { created: true },
    );
    const report = await roles(f.store, a, 'repair').checkMember(member('100', ['s1']), caller);
    expect(report.roles.map((r) => [r.roleName, r.state, r.repaired, r.reason])).toEqual([
      ['Role-a', 'present', true, undefined],
      ['Role-b', 'missing', undefined, 'repair failed: denied'],
    ]);
    expect(f.appended).toEqual([
      {
        accountId: '100',
        cause: caller.cause,
        action: 'role.repaired',
        target: { type: 'role', id: '100/Role-a' },
        outcome: 'succeeded',
        detail: 'CreateServiceLinkedRole a.aliyuncs.com created Role-a',
        requestId: 'req-7',
      },
      {
        accountId: '100',
        cause: caller.cause,
        action: 'role.repair-failed',
        target: { type: 'role', id: '100/Role-b' },
        outcome: 'failed',
        detail: 'CreateServiceLinkedRole b.aliyuncs.com failed: denied',
        requestId: 'req-7',
      },
    ]);
    const b = access({});
    const held = await roles(f.store, b, 'repair').checkMember(member('100', ['s1']), caller, {
      repair: false,
    });
    expect(held.roles.map((r) => [r.state, r.reason])).toEqual([
      ['missing', 'not found in the member'],
      ['missing', 'not found in the member'],
    ]);
    expect(b.created).toEqual([]);
  });

  it('a repair without a request id logs none', async () => {
    const f = fakeStore([scope('s1', ['a'])], []);
    await roles(f.store, access({}), 'repair').checkMember(member('100', ['s1']), {
      cause: { kind: 'timer', trigger: 'sweep' },
    });
    expect(f.appended[0]).not.toHaveProperty('requestId');
  });

  it('records the services that need a role, comma-separated', async () => {
    const f = fakeStore([scope('s1', ['pair'])], []);
    await roles(f.store, access({ 'Role-pair': { state: 'present' } })).checkMember(
      member('100', ['s1']),
      caller,
    );
    expect(f.recorded[0]?.[0]?.service).toBe('pair,other');
  });

  it('forgetMember clears what was kept for the member', async () => {
    const f = fakeStore([], []);
    await roles(f.store, access({})).forgetMember('100');
    expect(f.cleared).toEqual(['100']);
  });
});

describe('checking several members', () => {
  it('one member that fails is reported as skipped with the reason and logged; the others are checked', async () => {
    const f = fakeStore([scope('s1', ['a'])], [member('100', ['s1']), member('200', ['s1'])]);
    const flaky: MemberRolesAccess = async (accountId) => {
      if (accountId === '100') throw new Error('STS unavailable');
      if (accountId === '300') throw 'not an Error';
      return access({ 'Role-a': { state: 'present' } })(accountId);
    };
    f.store.members.get = async (id) =>
      id === '300'
        ? member('300', ['s1'])
        : id === '100' || id === '200'
          ? member(id, ['s1'])
          : undefined;
    const { logger, lines } = capturingLogger();
    const results = await roles(f.store, flaky, 'report', { logger, concurrency: 1 }).checkAccounts(
      ['100', '200', '300', '400'],
      caller,
    );
    expect(results).toEqual([
      { accountId: '100', skipped: 'check failed: STS unavailable' },
      expect.objectContaining({ accountId: '200', reachable: true }),
      { accountId: '300', skipped: 'check failed: not an Error' },
      { accountId: '400', skipped: 'not a managed member' },
    ]);
    expect(lines.filter((l) => l.message === 'role check failed')).toEqual([
      expect.objectContaining({ level: 'warn', accountId: '100', reason: 'STS unavailable' }),
      expect.objectContaining({ level: 'warn', accountId: '300', reason: 'not an Error' }),
    ]);
  });

  it('a failing member is skipped without a logger too', async () => {
    const f = fakeStore([scope('s1', ['a'])], [member('100', ['s1'])]);
    const failing: MemberRolesAccess = async () => {
      throw new Error('down');
    };
    expect(await roles(f.store, failing).checkAccounts(['100'], caller)).toEqual([
      { accountId: '100', skipped: 'check failed: down' },
    ]);
  });

  it('checks with the repair flag given, against the scopes read once', async () => {
    const f = fakeStore([scope('s1', ['a'])], [member('100', ['s1']), member('200', ['s1'])]);
    const a = access({});
    await roles(f.store, a, 'report').checkAccounts(['100', '200'], caller, { repair: true });
    expect(a.created).toEqual(['a.aliyuncs.com', 'a.aliyuncs.com']);
    expect(f.scopeReads).toBe(1);
  });
});
