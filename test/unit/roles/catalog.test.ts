// The role catalog: built-in data, extension by ROLE_CATALOG_EXTRA, and the roles a set of
// services needs.

import { describe, expect, it } from 'vitest';
import { MANAGED_SERVICES } from '../../../shared/onboarding/model';
import {
  BUILT_IN_ROLE_CATALOG,
  describeRoleCatalog,
  loadRoleCatalog,
  type RoleCatalogEntry,
  RoleCatalogError,
  roleCatalogPort,
  rolesFor,
  SERVICES_WITHOUT_ROLES,
} from '../../../shared/roles/catalog';

function extra(...entries: unknown[]): string {
  return JSON.stringify(entries);
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RoleCatalogError);
    return (error as RoleCatalogError).problems.map((p) => p.message);
  }
  throw new Error('expected a RoleCatalogError');
}

const entry = (overrides: Partial<RoleCatalogEntry> = {}): RoleCatalogEntry => ({
  service: 'bdrc',
  roleName: 'AliyunServiceRoleForExample',
  serviceName: 'example.aliyuncs.com',
  source: 'https://example.invalid/doc',
  ...overrides,
});

describe('built-in catalog', () => {
  it('has a source for every entry, a known service key, and a URL or a note', () => {
    for (const e of BUILT_IN_ROLE_CATALOG) {
      expect(MANAGED_SERVICES).toContain(e.service);
      expect(e.source.length).toBeGreaterThan(20);
      expect(e.source).toMatch(/https:\/\//);
      if (e.serviceName === null) expect(e.source).toMatch(/no ServiceName is documented/i);
    }
  });

  it('is what loadRoleCatalog returns without extension (absent, empty, blank)', () => {
    for (const value of [undefined, '', '   ']) {
      expect(loadRoleCatalog(value).entries).toEqual(BUILT_IN_ROLE_CATALOG);
    }
  });

  it('gives every managed service roles or a reason why it has none', () => {
    for (const item of describeRoleCatalog(loadRoleCatalog())) {
      expect(item.roles.length > 0 || typeof item.withoutRoles === 'string', item.service).toBe(
        true,
      );
    }
    expect(SERVICES_WITHOUT_ROLES['log-integration']).toBeTruthy();
  });
});

describe('rolesFor', () => {
  const catalog = loadRoleCatalog();

  it('lists the roles of the requested services only', () => {
    const roles = rolesFor(catalog, ['security-center']);
    expect(roles.map((r) => [r.roleName, r.serviceName])).toEqual([
      ['AliyunServiceRoleForSasRd', 'rd.sas.aliyuncs.com'],
      ['AliyunServiceRoleForSasCloudSiem', 'cloudsiem.sas.aliyuncs.com'],
    ]);
    expect(roles.every((r) => r.services.join() === 'security-center')).toBe(true);
    expect(rolesFor(catalog, [])).toEqual([]);
    expect(rolesFor(catalog, ['log-integration'])).toEqual([]);
    expect(rolesFor(catalog, ['no-such-service'])).toEqual([]);
  });

  it('keeps a null serviceName: the role is checked by name only', () => {
    const [bdrc] = rolesFor(catalog, ['bdrc']);
    expect(bdrc).toMatchObject({ roleName: 'AliyunServiceRoleForBdrcRd', serviceName: null });
  });

  it('lists a role two services need once, with both services and both sources', () => {
    const shared = loadRoleCatalog(
      extra({
        service: 'log-integration',
        roleName: 'ALIYUNSERVICEROLEFORSASCLOUDSIEM', // the built-in role, spelled otherwise
        serviceName: 'cloudsiem.sas.aliyuncs.com',
        source: 'operator note: integration reads through Agentic SOC',
      }),
    );
    const roles = rolesFor(shared, ['log-integration', 'security-center', 'bdrc']);
    const siem = roles.filter((r) => r.roleName === 'AliyunServiceRoleForSasCloudSiem');
    expect(siem).toHaveLength(1);
    expect(siem[0]?.services).toEqual(['security-center', 'log-integration']);
    expect(siem[0]?.sources).toHaveLength(2);
    expect(new Set(roles.map((r) => r.roleName.toLowerCase())).size).toBe(roles.length);
  });

  it('takes the documented ServiceName when one entry of a shared role has none', () => {
    const catalog2 = {
      entries: [
        entry({ service: 'bdrc', serviceName: null, source: 'a' }),
        entry({ service: 'bastionhost', serviceName: 'x.aliyuncs.com', source: 'b' }),
      ],
    };
    expect(rolesFor(catalog2, ['bdrc', 'bastionhost'])).toEqual([
      {
        roleName: 'AliyunServiceRoleForExample',
        serviceName: 'x.aliyuncs.com',
        services: ['bdrc', 'bastionhost'],
        sources: ['a', 'b'],
      },
    ]);
  });

  it('serves the use cases through roleCatalogPort', () => {
    expect(roleCatalogPort(catalog).rolesFor(['sls-audit'])).toEqual(
      rolesFor(catalog, ['sls-audit']),
    );
  });
});

describe('ROLE_CATALOG_EXTRA', () => {
  it('adds roles to a known service', () => {
    const catalog = loadRoleCatalog(extra(entry({ service: 'bastionhost' })));
    expect(catalog.entries).toHaveLength(BUILT_IN_ROLE_CATALOG.length + 1);
    expect(rolesFor(catalog, ['bastionhost']).map((r) => r.roleName)).toEqual([
      'AliyunServiceRoleForBastionhost',
      'AliyunServiceRoleForExample',
    ]);
  });

  it('replaces the built-in entry with the same service and roleName (case-insensitive), in place', () => {
    const catalog = loadRoleCatalog(
      extra(
        entry({
          service: 'bdrc',
          roleName: 'ALIYUNSERVICEROLEFORBDRCRD',
          serviceName: 'rd.bdrc.aliyuncs.com',
          source: 'verified with the BDRC team',
        }),
      ),
    );
    expect(catalog.entries).toHaveLength(BUILT_IN_ROLE_CATALOG.length);
    const index = BUILT_IN_ROLE_CATALOG.findIndex((e) => e.service === 'bdrc');
    expect(catalog.entries[index]).toMatchObject({
      serviceName: 'rd.bdrc.aliyuncs.com',
      source: 'verified with the BDRC team',
    });
    expect(rolesFor(catalog, ['bdrc'])[0]?.serviceName).toBe('rd.bdrc.aliyuncs.com');
  });

  it('does not touch the built-in constant', () => {
    const before = JSON.stringify(BUILT_IN_ROLE_CATALOG);
    loadRoleCatalog(extra(entry({ service: 'bdrc', roleName: 'AliyunServiceRoleForBdrcRd' })));
    expect(JSON.stringify(BUILT_IN_ROLE_CATALOG)).toBe(before);
  });

  it('refuses what is not a JSON array', () => {
    expect(problemsOf(() => loadRoleCatalog('{nope'))[0]).toMatch(
      /ROLE_CATALOG_EXTRA is not valid JSON/,
    );
    expect(problemsOf(() => loadRoleCatalog('{"service":"bdrc"}'))[0]).toMatch(
      /must be a JSON array/,
    );
  });

  it('names the bad entry and field for each problem', () => {
    const problems = problemsOf(() =>
      loadRoleCatalog(
        extra(
          entry(),
          { ...entry(), service: 'waf' },
          { ...entry(), roleName: 'bad name!' },
          { ...entry(), serviceName: 'https://rd.sas.aliyuncs.com' },
          { service: 'bdrc', roleName: 'AliyunServiceRoleForX', source: 'x' },
          { ...entry(), source: '  ' },
          { ...entry(), rolename: 'typo' },
          'not an object',
        ),
      ),
    );
    expect(problems).toHaveLength(7);
    expect(problems[0]).toMatch(
      /^ROLE_CATALOG_EXTRA\[1\] \(service "waf", .*\)\.service must be one of/,
    );
    expect(problems[1]).toMatch(
      /^ROLE_CATALOG_EXTRA\[2\] .*roleName "bad name!"\)\.roleName must be 1 to 64/,
    );
    expect(problems[2]).toMatch(/^ROLE_CATALOG_EXTRA\[3\] .*\.serviceName must be a service name/);
    expect(problems[3]).toMatch(/^ROLE_CATALOG_EXTRA\[4\] .*\.serviceName is required: .*or null/);
    expect(problems[4]).toMatch(/^ROLE_CATALOG_EXTRA\[5\] .*\.source must not be empty/);
    expect(problems[5]).toMatch(/^ROLE_CATALOG_EXTRA\[6\] .* has unknown field\(s\) rolename/);
    expect(problems[6]).toMatch(/^ROLE_CATALOG_EXTRA\[7\] /);
  });

  it('accepts serviceName null and refuses a service key the project does not know', () => {
    expect(
      loadRoleCatalog(extra(entry({ service: 'sls-audit', serviceName: null }))).entries.at(-1),
    ).toMatchObject({ serviceName: null });
    expect(
      problemsOf(() => loadRoleCatalog(extra({ ...entry(), service: 'new-product' })))[0],
    ).toMatch(
      /\.service must be one of security-center, bdrc, bastionhost, sls-audit, log-integration/,
    );
  });

  it('refuses the same service and roleName twice in the extension', () => {
    const problems = problemsOf(() =>
      loadRoleCatalog(extra(entry(), entry({ roleName: 'aliyunserviceroleforexample' }))),
    );
    expect(problems).toEqual([
      expect.stringMatching(/ROLE_CATALOG_EXTRA\[1\] .* repeats ROLE_CATALOG_EXTRA\[0\]/),
    ]);
  });

  it('refuses one role with two different ServiceNames', () => {
    const problems = problemsOf(() =>
      loadRoleCatalog(
        extra(
          entry({
            service: 'log-integration',
            roleName: 'AliyunServiceRoleForSasRd',
            serviceName: 'other.sas.aliyuncs.com',
          }),
        ),
      ),
    );
    expect(problems[0]).toMatch(
      /role AliyunServiceRoleForSasRd has serviceName other\.sas\.aliyuncs\.com for log-integration but rd\.sas\.aliyuncs\.com for security-center/,
    );
  });
});

describe('the built-in catalog, as README "Service-linked roles" states it', () => {
  it("names each service's roles and the ServiceName to create them with", () => {
    expect(BUILT_IN_ROLE_CATALOG.map((e) => [e.service, e.roleName, e.serviceName])).toEqual([
      ['security-center', 'AliyunServiceRoleForSasRd', 'rd.sas.aliyuncs.com'],
      ['security-center', 'AliyunServiceRoleForSasCloudSiem', 'cloudsiem.sas.aliyuncs.com'],
      ['bdrc', 'AliyunServiceRoleForBdrcRd', null],
      ['bastionhost', 'AliyunServiceRoleForBastionhost', 'bastionhost.aliyuncs.com'],
      ['sls-audit', 'AliyunServiceRoleForSLSAudit', 'audit.log.aliyuncs.com'],
    ]);
  });

  it('describes every managed service in order, with its roles or why it has none', () => {
    const described = describeRoleCatalog(loadRoleCatalog());
    expect(
      described.map((d) => [d.service, d.roles.map((r) => r.roleName), d.withoutRoles]),
    ).toEqual([
      [
        'security-center',
        ['AliyunServiceRoleForSasRd', 'AliyunServiceRoleForSasCloudSiem'],
        undefined,
      ],
      ['bdrc', ['AliyunServiceRoleForBdrcRd'], undefined],
      ['bastionhost', ['AliyunServiceRoleForBastionhost'], undefined],
      ['sls-audit', ['AliyunServiceRoleForSLSAudit'], undefined],
      ['log-integration', [], SERVICES_WITHOUT_ROLES['log-integration']],
    ]);
    expect(described.find((d) => d.service === 'bdrc')).not.toHaveProperty('withoutRoles');
    // A service with roles added by extension is described with them, not as having none.
    const extended = describeRoleCatalog(
      loadRoleCatalog(extra(entry({ service: 'log-integration' }))),
    );
    expect(extended.find((d) => d.service === 'log-integration')).toStrictEqual({
      service: 'log-integration',
      roles: [entry({ service: 'log-integration' })],
    });
  });
});

describe('ROLE_CATALOG_EXTRA problems, exactly', () => {
  function problems(json: string) {
    try {
      loadRoleCatalog(json);
    } catch (error) {
      expect(error).toBeInstanceOf(RoleCatalogError);
      const e = error as RoleCatalogError;
      expect(e.name).toBe('RoleCatalogError');
      expect(e.variable).toBe('ROLE_CATALOG_EXTRA');
      expect(e.message).toBe(e.problems.map((p) => `Configuration error: ${p.message}`).join('\n'));
      return e.problems;
    }
    throw new Error('expected a RoleCatalogError');
  }

  it('the whole value: not JSON, not an array', () => {
    const [notJson] = problems('{nope');
    expect(notJson).toMatchObject({ index: -1, field: '' });
    expect(notJson?.message).toMatch(
      /^ROLE_CATALOG_EXTRA is not valid JSON \(.+\); expected an array of \{service, roleName, serviceName, source\}$/,
    );
    expect(problems('{"service":"bdrc"}')).toEqual([
      {
        index: -1,
        field: '',
        message:
          'ROLE_CATALOG_EXTRA must be a JSON array of {service, roleName, serviceName, source}',
      },
    ]);
  });

  it('each entry by index, labelled with what it names, and the field', () => {
    expect(
      problems(
        extra(
          { ...entry(), roleName: 'a'.repeat(65) },
          { ...entry(), roleName: 'ok', service: 7, serviceName: 'rd.sas.aliyuncs.com.evil' },
          { ...entry(), source: 'x'.repeat(2001) },
          { ...entry(), serviceName: 7 },
          { ...entry(), source: undefined },
          null,
          { ...entry(), extra1: 1, extra2: 2 },
        ),
      ),
    ).toEqual([
      {
        index: 0,
        field: 'roleName',
        message: `ROLE_CATALOG_EXTRA[0] (service "bdrc", roleName "${'a'.repeat(65)}").roleName must be 1 to 64 letters, digits, periods (.) or hyphens (-)`,
      },
      {
        index: 1,
        field: 'service',
        message: expect.stringMatching(
          /^ROLE_CATALOG_EXTRA\[1\] \(roleName "ok"\)\.service must be one of /,
        ),
      },
      {
        index: 1,
        field: 'serviceName',
        message:
          'ROLE_CATALOG_EXTRA[1] (roleName "ok").serviceName must be a service name such as rd.sas.aliyuncs.com',
      },
      {
        index: 2,
        field: 'source',
        message:
          'ROLE_CATALOG_EXTRA[2] (service "bdrc", roleName "AliyunServiceRoleForExample").source must be at most 2000 characters',
      },
      {
        index: 3,
        field: 'serviceName',
        message: expect.stringMatching(
          /^ROLE_CATALOG_EXTRA\[3\] .*\.serviceName must be a service name such as rd\.sas\.aliyuncs\.com, or null$/,
        ),
      },
      {
        index: 4,
        field: 'source',
        message:
          'ROLE_CATALOG_EXTRA[4] (service "bdrc", roleName "AliyunServiceRoleForExample").source is required: where the entry comes from (a URL or a note)',
      },
      { index: 5, field: '', message: expect.stringMatching(/^ROLE_CATALOG_EXTRA\[5\] \S/) },
      {
        index: 6,
        field: '',
        message:
          'ROLE_CATALOG_EXTRA[6] (service "bdrc", roleName "AliyunServiceRoleForExample") has unknown field(s) extra1, extra2 (allowed: service, roleName, serviceName, source)',
      },
    ]);
  });

  it('an entry that names neither service nor role is labelled by its index alone', () => {
    const [only] = problems(extra({ serviceName: null, source: 's' }));
    expect(only?.message).toMatch(/^ROLE_CATALOG_EXTRA\[0\]\.service /);
    const [array] = problems(extra([1, 2]));
    expect(array?.message).toMatch(/^ROLE_CATALOG_EXTRA\[0\] /);
    expect(array?.message).not.toMatch(/\(/);
  });

  it('role and service names are checked whole', () => {
    for (const roleName of ['a'.repeat(64), 'A.b-9']) {
      expect(() => loadRoleCatalog(extra(entry({ roleName })))).not.toThrow();
    }
    for (const roleName of ['', 'bad!', '!bad', 'a b']) {
      expect(problems(extra(entry({ roleName })))[0]?.field).toBe('roleName');
    }
    for (const serviceName of ['x.aliyuncs.com', 'a-b.c.aliyuncs.com', 'a.b.aliyuncs.com']) {
      expect(() => loadRoleCatalog(extra(entry({ serviceName })))).not.toThrow();
    }
    for (const serviceName of [
      'aliyuncs.com',
      'x.aliyuncs.com.evil',
      'evil.x.aliyuncs.comx',
      '-x.aliyuncs.com',
      'x-.aliyuncs.com',
      'X.aliyuncs.com',
    ]) {
      expect(problems(extra(entry({ serviceName })))[0]?.field, serviceName).toBe('serviceName');
    }
  });

  it('a repeated entry names the first by index', () => {
    expect(
      problems(extra(entry(), entry(), entry({ roleName: 'AliyunServiceRoleForExample' }))),
    ).toEqual([
      {
        index: 1,
        field: 'roleName',
        message:
          'ROLE_CATALOG_EXTRA[1] (service "bdrc", roleName "AliyunServiceRoleForExample") repeats ROLE_CATALOG_EXTRA[0] (same service and roleName)',
      },
      {
        index: 2,
        field: 'roleName',
        message:
          'ROLE_CATALOG_EXTRA[2] (service "bdrc", roleName "AliyunServiceRoleForExample") repeats ROLE_CATALOG_EXTRA[0] (same service and roleName)',
      },
    ]);
  });

  it('every role given two ServiceNames is named, across services', () => {
    const found = problems(
      extra(
        entry({ service: 'bdrc', roleName: 'R1', serviceName: 'a.aliyuncs.com' }),
        entry({ service: 'bastionhost', roleName: 'r1', serviceName: 'b.aliyuncs.com' }),
        entry({ service: 'sls-audit', roleName: 'R1', serviceName: 'c.aliyuncs.com' }),
        entry({ service: 'log-integration', roleName: 'R1', serviceName: null }),
      ),
    );
    expect(found).toEqual([
      {
        index: -1,
        field: 'serviceName',
        message:
          'role r1 has serviceName b.aliyuncs.com for bastionhost but a.aliyuncs.com for bdrc; one role has one ServiceName',
      },
      {
        index: -1,
        field: 'serviceName',
        message:
          'role R1 has serviceName c.aliyuncs.com for sls-audit but a.aliyuncs.com for bdrc; one role has one ServiceName',
      },
    ]);
    // The same ServiceName twice is fine.
    expect(() =>
      loadRoleCatalog(
        extra(
          entry({ service: 'bdrc', roleName: 'R1', serviceName: 'a.aliyuncs.com' }),
          entry({ service: 'bastionhost', roleName: 'R1', serviceName: 'a.aliyuncs.com' }),
        ),
      ),
    ).not.toThrow();
  });

  it('an extension entry replaces the first built-in entry in place too', () => {
    const catalog = loadRoleCatalog(
      extra(
        entry({
          service: 'security-center',
          roleName: 'aliyunservicerolesforsasrd'.replace('roles', 'role'),
          serviceName: 'rd.sas.aliyuncs.com',
          source: 'mine',
        }),
      ),
    );
    expect(catalog.entries[0]).toMatchObject({ source: 'mine' });
    expect(catalog.entries).toHaveLength(BUILT_IN_ROLE_CATALOG.length);
  });
});

describe('rolesFor merges entries of one role', () => {
  it('lists each service and each source once, and keeps the first ServiceName found', () => {
    const catalog = {
      entries: [
        entry({ service: 'bdrc', serviceName: 'a.aliyuncs.com', source: 's1' }),
        entry({ service: 'bdrc', serviceName: 'b.aliyuncs.com', source: 's1' }),
        entry({
          service: 'bastionhost',
          roleName: 'aliyunserviceroleforexample',
          serviceName: null,
          source: 's2',
        }),
      ],
    };
    expect(rolesFor(catalog, ['bdrc', 'bastionhost'])).toEqual([
      {
        roleName: 'AliyunServiceRoleForExample',
        serviceName: 'a.aliyuncs.com',
        services: ['bdrc', 'bastionhost'],
        sources: ['s1', 's2'],
      },
    ]);
  });
});
