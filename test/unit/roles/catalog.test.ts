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
