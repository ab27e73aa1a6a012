// The template catalogue as users and diagnosis read it: each product's name, the services whose
// service-linked roles diagnosis step 3 checks, and a description, recommendation and naming
// source that are never blank.

import { expect, it } from 'vitest';
import { LOG_TEMPLATES } from '../../../shared/logs/templates';

it('names each product and the role services diagnosis checks', () => {
  expect(LOG_TEMPLATES.map((t) => [t.id, t.product, t.roleServices])).toEqual([
    ['waf', 'Web Application Firewall', []],
    ['cloudfirewall', 'Cloud Firewall', []],
    ['actiontrail', 'ActionTrail', []],
    ['sas-alerts', 'Security Center', ['security-center']],
    ['bastionhost', 'Bastionhost', ['bastionhost']],
  ]);
});

it('describes and recommends every template, and says where each naming rule comes from', () => {
  for (const template of LOG_TEMPLATES) {
    expect(template.description.length, template.id).toBeGreaterThan(20);
    expect(template.recommendation.length, template.id).toBeGreaterThan(20);
    const sources =
      template.logstores.kind === 'default-name'
        ? template.logstores.names.map((n) => n.source)
        : [template.logstores.source];
    for (const source of sources) expect(source.length, template.id).toBeGreaterThan(20);
  }
  const waf = LOG_TEMPLATES[0];
  expect(waf?.logstores.kind === 'default-name' && waf.logstores.names[0]?.source).toMatch(
    /^Simple Log Service, "Cloud service logs": the dedicated project/,
  );
});
