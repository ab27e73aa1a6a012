// The preset templates are data the rest of log integration trusts: slug ids, data source names
// that parse back, naming rules with their sources, patterns that compile and match the names the
// products use, and a recommended set.

import { describe, expect, it } from 'vitest';
import {
  DATA_SOURCE_NAME_PATTERN,
  dataSourceName,
  parseDataSourceName,
} from '../../../shared/logs/model';
import {
  findTemplate,
  LOG_TEMPLATES,
  recommendedTemplateIds,
  resolveDefaultName,
} from '../../../shared/logs/templates';

describe('log templates', () => {
  it('are the five products, with lower-case slug ids and unique data source name parts', () => {
    expect(LOG_TEMPLATES.map((t) => t.id)).toEqual([
      'waf',
      'cloudfirewall',
      'actiontrail',
      'sas-alerts',
      'bastionhost',
    ]);
    for (const template of LOG_TEMPLATES) expect(template.id).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(new Set(LOG_TEMPLATES.map((t) => t.name)).size).toBe(LOG_TEMPLATES.length);
    expect(Object.isFrozen(LOG_TEMPLATES)).toBe(true);
  });

  it('say where every naming rule comes from', () => {
    for (const template of LOG_TEMPLATES) {
      const rule = template.logstores;
      const sources =
        rule.kind === 'default-name' ? rule.names.map((n) => n.source) : [rule.source];
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) expect(source.length).toBeGreaterThan(20);
    }
  });

  it("fill in the member's account and region in default names", () => {
    const waf = findTemplate('waf');
    if (waf?.logstores.kind !== 'default-name') throw new Error('waf uses default names');
    expect(
      waf.logstores.names.map((n) => resolveDefaultName(n, '1234567890123456', 'cn-shanghai')),
    ).toEqual([
      { project: 'waf-project-1234567890123456-cn-shanghai', logstore: 'waf-logstore' },
      { project: 'wafng-project-1234567890123456-cn-shanghai', logstore: 'wafng-logstore' },
      { project: 'wafnew-project-1234567890123456-cn-shanghai', logstore: 'wafnew-logstore' },
    ]);
  });

  it("name Cloud Firewall's project and Logstore by its default rule", () => {
    const firewall = findTemplate('cloudfirewall');
    if (firewall?.logstores.kind !== 'default-name') throw new Error('default names');
    expect(
      firewall.logstores.names.map((n) => resolveDefaultName(n, '1234567890123456', 'cn-beijing')),
    ).toEqual([
      {
        project: 'cloudfirewall-project-1234567890123456-cn-beijing',
        logstore: 'cloudfirewall-logstore',
      },
    ]);
  });

  it("discover ActionTrail's Logstores by ActionTrail's naming, whatever the project", () => {
    const trail = findTemplate('actiontrail');
    if (trail?.logstores.kind !== 'discovery') throw new Error('actiontrail is discovered');
    const pattern = new RegExp(trail.logstores.logstorePattern);
    expect(pattern.test('actiontrail_default')).toBe(true);
    expect(pattern.test('actiontrail_security-trail')).toBe(true);
    expect(pattern.test('actiontrail_')).toBe(false);
    expect(pattern.test('innertrail_default')).toBe(false);
    expect('actiontrail_default'.includes(trail.logstores.nameContains)).toBe(true);
  });

  it('name data sources <Template>_<RegionId>_<MemberUID>, and read the name back', () => {
    const names = LOG_TEMPLATES.map((t) => dataSourceName(t, 'ap-southeast-1', '1234567890123456'));
    expect(names).toEqual([
      'WAF_ap-southeast-1_1234567890123456',
      'CloudFirewall_ap-southeast-1_1234567890123456',
      'ActionTrail_ap-southeast-1_1234567890123456',
      'SecurityCenter_ap-southeast-1_1234567890123456',
      'Bastionhost_ap-southeast-1_1234567890123456',
    ]);
    for (const name of names) expect(name).toMatch(DATA_SOURCE_NAME_PATTERN);
    expect(parseDataSourceName('WAF_cn-hangzhou_1234567890123456')).toEqual({
      templateName: 'WAF',
      region: 'cn-hangzhou',
      accountId: '1234567890123456',
    });
    for (const bad of [
      'WAF_cn-hangzhou_123',
      'waf-cn-hangzhou-1234567890123456',
      'WAF__1234567890123456',
    ]) {
      expect(parseDataSourceName(bad)).toBeUndefined();
    }
  });

  it('recommend every product but ActionTrail, which a multi-account trail usually covers', () => {
    expect(recommendedTemplateIds()).toEqual(['waf', 'cloudfirewall', 'sas-alerts', 'bastionhost']);
    expect(findTemplate('actiontrail')?.recommendation).toMatch(/multi-account trail/);
    expect(findTemplate('nope')).toBeUndefined();
  });
});
