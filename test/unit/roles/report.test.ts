// The organization-wide role report: per service a scope enables and per role it needs, which
// managed members have it, miss it, could not be reached or checked, and the CSV of its lines.

import { describe, expect, it } from 'vitest';
import type { ManagedMember, Scope } from '../../../shared/onboarding/model';
import type { RoleCheck } from '../../../shared/roles/model';
import type { NeededRole, RoleCatalogPort } from '../../../shared/roles/ports';
import { buildRoleReport, readRoleReport, toCsv } from '../../../shared/roles/report';

const T = '2026-01-01T00:00:00.000Z';
const scope = (id: string, services: string[]): Scope => ({
  id,
  kind: 'folder',
  targetId: id,
  services,
  createdBy: 'test',
  version: 1,
  createdAt: T,
  updatedAt: T,
});
const member = (
  accountId: string,
  scopeIds: string[],
  extra: Partial<ManagedMember> = {},
): ManagedMember => ({
  accountId,
  status: 'managed',
  scopeIds,
  version: 1,
  createdAt: T,
  updatedAt: T,
  ...extra,
});
const check = (
  accountId: string,
  roleName: string,
  state: RoleCheck['state'],
  reason?: string,
): RoleCheck => ({
  accountId,
  roleName,
  state,
  checkedAt: T,
  ...(reason === undefined ? {} : { reason }),
});

/** Two roles for `sas`, one for `bdrc`, none for anything else. */
const catalog: RoleCatalogPort = {
  rolesFor: (services) =>
    services.flatMap((s): NeededRole[] =>
      s === 'sas'
        ? [
            { roleName: 'SasA', serviceName: 'a.aliyuncs.com', services: ['sas'] },
            { roleName: 'SasB', serviceName: null, services: ['sas'] },
          ]
        : s === 'bdrc'
          ? [{ roleName: 'Bdrc', serviceName: null, services: ['bdrc'] }]
          : [],
    ),
};

describe('buildRoleReport', () => {
  const scopes = [scope('s1', ['sas']), scope('s2', ['bdrc', 'sas']), scope('s3', ['logs'])];
  const members = [
    member('300', ['s2']),
    member('100', ['s1']),
    member('200', ['s3']),
    member('400', ['s1'], {
      status: 'unreachable',
      failure: { reason: 'denied', roleArn: 'acs:ram::400:role/Access', at: T },
    }),
    member('500', ['s1'], { status: 'unreachable', failure: { reason: 'timeout', at: T } }),
    member('600', ['s1'], { status: 'unreachable' }),
  ];
  const checks = [
    check('100', 'SasA', 'present'),
    check('100', 'SasB', 'missing', 'not found in the member'),
    check('300', 'SasA', 'error', 'Throttling: slow down'),
    check('300', 'SasB', 'unreachable', 'AssumeRole refused'),
    check('300', 'Bdrc', 'present'),
    check('400', 'SasA', 'present'),
    check('300', 'Other', 'present'),
  ];
  const { report, lines } = buildRoleReport(members, scopes, checks, catalog, 'now');

  it('has an entry per service and role, services sorted, members that need it counted', () => {
    expect(report.generatedAt).toBe('now');
    // logs needs no role: it has no entry.
    expect(report.entries.map((e) => [e.service, e.roleName, e.serviceName, e.members])).toEqual([
      ['bdrc', 'Bdrc', null, 1],
      ['sas', 'SasA', 'a.aliyuncs.com', 5],
      ['sas', 'SasB', null, 5],
    ]);
  });

  it('sorts each member into present, missing, unreachable, errors or unchecked', () => {
    const sasA = report.entries.find((e) => e.roleName === 'SasA');
    expect(sasA).toEqual({
      service: 'sas',
      roleName: 'SasA',
      serviceName: 'a.aliyuncs.com',
      members: 5,
      present: 2,
      missing: [],
      unreachable: ['500', '600'],
      errors: [{ accountId: '300', reason: 'Throttling: slow down' }],
      unchecked: [],
    });
    const sasB = report.entries.find((e) => e.roleName === 'SasB');
    expect(sasB).toMatchObject({
      present: 0,
      missing: ['100'],
      unreachable: ['300', '400', '500', '600'],
      errors: [],
      unchecked: [],
    });
    expect(report.entries.find((e) => e.roleName === 'Bdrc')).toMatchObject({
      present: 1,
      unchecked: [],
    });
  });

  it('a managed member never checked is unchecked', () => {
    const fresh = buildRoleReport(
      [member('700', ['s1'])],
      [scope('s1', ['sas'])],
      [],
      catalog,
      'now',
    );
    expect(fresh.report.entries.map((e) => e.unchecked)).toEqual([['700'], ['700']]);
    expect(fresh.lines).toEqual([
      {
        service: 'sas',
        roleName: 'SasA',
        accountId: '700',
        state: 'unchecked',
        reason: '',
        checkedAt: '',
      },
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '700',
        state: 'unchecked',
        reason: '',
        checkedAt: '',
      },
    ]);
  });

  it('has one line per member and role, with the reason and time of the check or of the failure', () => {
    const sasB = lines.filter((l) => l.roleName === 'SasB');
    expect(sasB).toEqual([
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '100',
        state: 'missing',
        reason: 'not found in the member',
        checkedAt: T,
      },
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '300',
        state: 'unreachable',
        reason: 'AssumeRole refused',
        checkedAt: T,
      },
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '400',
        state: 'unreachable',
        reason: 'acs:ram::400:role/Access: denied',
        checkedAt: '',
      },
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '500',
        state: 'unreachable',
        reason: 'access role: timeout',
        checkedAt: '',
      },
      {
        service: 'sas',
        roleName: 'SasB',
        accountId: '600',
        state: 'unreachable',
        reason: '',
        checkedAt: '',
      },
    ]);
    expect(lines.filter((l) => l.roleName === 'Bdrc')).toEqual([
      {
        service: 'bdrc',
        roleName: 'Bdrc',
        accountId: '300',
        state: 'present',
        reason: '',
        checkedAt: T,
      },
    ]);
    expect(lines).toHaveLength(11);
  });

  it('a member needs a service when any of its scopes enables it, scopes gone aside', () => {
    const { report: r, lines: l } = buildRoleReport(
      [
        member('100', ['gone', 's3', 's1']),
        member('200', ['s3']),
        member('300', ['s1'], { status: 'onboarding', failure: { reason: 'step failed', at: T } }),
      ],
      [scope('s1', ['bdrc']), scope('s3', ['logs'])],
      [],
      catalog,
      'now',
    );
    expect(r.entries).toEqual([
      expect.objectContaining({ roleName: 'Bdrc', members: 2, unchecked: ['100', '300'] }),
    ]);
    // Only an unreachable member's failure explains a role left unchecked.
    expect(l.map((line) => [line.accountId, line.state, line.reason])).toEqual([
      ['100', 'unchecked', ''],
      ['300', 'unchecked', ''],
    ]);
  });

  it('an error check without a reason is listed with an empty one', () => {
    const { report: r } = buildRoleReport(
      [member('100', ['s1'])],
      [scope('s1', ['bdrc'])],
      [check('100', 'Bdrc', 'error')],
      catalog,
      'now',
    );
    expect(r.entries[0]?.errors).toEqual([{ accountId: '100', reason: '' }]);
  });
});

describe('readRoleReport', () => {
  it('builds the report from what the store keeps', async () => {
    async function* all() {
      yield check('100', 'Bdrc', 'present');
    }
    const { report } = await readRoleReport(
      {
        members: { get: async () => undefined, list: async () => [member('100', ['s1'])] },
        scopes: { list: async () => [scope('s1', ['bdrc'])] },
        roleChecks: {
          all,
          recordAll: async () => [],
          listForMember: async () => [],
          clearMember: async () => 0,
        },
      },
      catalog,
      'now',
    );
    expect(report.entries).toEqual([
      expect.objectContaining({ roleName: 'Bdrc', members: 1, present: 1 }),
    ]);
  });
});

describe('toCsv', () => {
  const line = (reason: string) => ({
    service: 's',
    roleName: 'R',
    accountId: '1',
    state: 'missing' as const,
    reason,
    checkedAt: T,
  });
  it('writes a header and one CRLF-ended row per line', () => {
    expect(toCsv([])).toBe('service,roleName,accountId,state,reason,checkedAt\r\n');
    expect(toCsv([line('plain'), line('')])).toBe(
      `service,roleName,accountId,state,reason,checkedAt\r\ns,R,1,missing,plain,${T}\r\ns,R,1,missing,,${T}\r\n`,
    );
  });
  it.each([
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM', "'@SUM"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['a=b', 'a=b'],
  ])('writes %j as %j', (reason, cell) => {
    expect(toCsv([line(reason)]).split('\r\n')[1]).toBe(`s,R,1,missing,${cell},${T}`);
  });
});
