// The preset integration templates, as data: one per cloud product, each saying how the product's
// Logstores are found in a member (its default names, or discovery with a pattern), whether it is
// in the recommended set, and where each naming rule comes from. Immutable: no route changes a
// template; a new product is a new entry here.

import type { DefaultLogstoreName, LogstoreAddress, LogTemplate } from './model';

const SLS_CLOUD_SERVICE_LOGS =
  'Simple Log Service, "Cloud service logs": the dedicated project and Logstore each product creates when its log delivery is enabled';

export const LOG_TEMPLATES: readonly LogTemplate[] = Object.freeze([
  {
    id: 'waf',
    name: 'WAF',
    product: 'Web Application Firewall',
    description: 'Web access and protection logs of the protected domains and cloud instances.',
    recommended: true,
    recommendation: 'Attacks on internet-facing applications: the first signal a SOC correlates.',
    logstores: {
      kind: 'default-name',
      names: [
        {
          project: 'waf-project-{uid}-{region}',
          logstore: 'waf-logstore',
          source: `${SLS_CLOUD_SERVICE_LOGS} (WAF 2.0: waf-project-<uid>-<region> / waf-logstore)`,
        },
        {
          project: 'wafng-project-{uid}-{region}',
          logstore: 'wafng-logstore',
          source: 'WAF 3.0 logs, subscription instances (help: "WAF 3.0 logs", asset details)',
        },
        {
          project: 'wafnew-project-{uid}-{region}',
          logstore: 'wafnew-logstore',
          source: 'WAF 3.0 logs, pay-as-you-go instances (help: "WAF 3.0 logs", asset details)',
        },
      ],
    },
    roleServices: [],
  },
  {
    id: 'cloudfirewall',
    name: 'CloudFirewall',
    product: 'Cloud Firewall',
    description: 'Internet, VPC and NAT boundary traffic logs with their ACL verdicts.',
    recommended: true,
    recommendation: 'Network traffic across the boundaries, allowed and denied.',
    logstores: {
      kind: 'default-name',
      names: [
        {
          project: 'cloudfirewall-project-{uid}-{region}',
          logstore: 'cloudfirewall-logstore',
          source:
            'Simple Log Service, "Cloud Firewall logs": project cloudfirewall-project-<uid>-<region>, Logstore cloudfirewall-logstore',
        },
      ],
    },
    roleServices: [],
  },
  {
    id: 'actiontrail',
    name: 'ActionTrail',
    product: 'ActionTrail',
    description:
      "API-call events of the member's account, delivered by its trails to a project the customer names.",
    recommended: false,
    recommendation:
      'Often already centralized by a multi-account trail of the management account; add it where members run their own trails.',
    logstores: {
      kind: 'discovery',
      nameContains: 'actiontrail_',
      logstorePattern: '^actiontrail_.+$',
      source:
        'Simple Log Service, "ActionTrail events": a trail delivers to a custom project and a dedicated Logstore actiontrail_<trail name>',
    },
    roleServices: [],
  },
  {
    id: 'sas-alerts',
    name: 'SecurityCenter',
    product: 'Security Center',
    description: 'Security Center alerts and host security logs (logins, processes).',
    recommended: true,
    recommendation: 'Host threats and alerts: what Agentic SOC correlates first.',
    logstores: {
      kind: 'default-name',
      names: [
        {
          project: 'sas-log-{uid}-{region}',
          logstore: 'sas-log',
          source:
            'Simple Log Service, "Security Center logs": project sas-log-<uid>-<region>, Logstore sas-log',
        },
      ],
    },
    roleServices: ['security-center'],
  },
  {
    id: 'bastionhost',
    name: 'Bastionhost',
    product: 'Bastionhost',
    description: 'O&M session records: session start and end, commands, file transfers, SQL.',
    recommended: true,
    recommendation: 'Privileged access to assets; session-audit indexing reads these logs.',
    logstores: {
      kind: 'default-name',
      names: [
        {
          project: 'bastionhost-project-{uid}-{region}',
          logstore: 'bastionhost-audit-logstore',
          source:
            "Not in Simple Log Service's table of cloud service logs: the names Bastionhost's log delivery uses in this project's local cloud (localcloud/README.md, Products that write logs)",
        },
      ],
    },
    roleServices: ['bastionhost'],
  },
]);

export function findTemplate(id: string): LogTemplate | undefined {
  return LOG_TEMPLATES.find((template) => template.id === id);
}

export function recommendedTemplateIds(): string[] {
  return LOG_TEMPLATES.filter((t) => t.recommended).map((t) => t.id);
}

/** A default name with the member's account id and the region filled in. */
export function resolveDefaultName(
  name: DefaultLogstoreName,
  accountId: string,
  region: string,
): LogstoreAddress {
  const fill = (text: string) => text.replaceAll('{uid}', accountId).replaceAll('{region}', region);
  return { project: fill(name.project), logstore: fill(name.logstore) };
}
