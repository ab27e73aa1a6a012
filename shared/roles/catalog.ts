// The role catalog: per managed service, the service-linked roles it needs in each member account,
// with the ServiceName for ResourceManager CreateServiceLinkedRole where one is documented and the
// source of every entry. Data, not code: a deployment adds or corrects entries with
// ROLE_CATALOG_EXTRA (a JSON array of entries) and no release.
//
// Where no ServiceName is documented the entry says so (serviceName: null): the role is checked
// by name only and never created by this project.

import { z } from 'zod';
import { MANAGED_SERVICES, type ManagedService, managedServiceSchema } from '../onboarding/model';
import type { NeededRole, RoleCatalogPort } from './ports';

/** The environment variable that extends the catalog (the lead wires it in shared/config.ts). */
export const ROLE_CATALOG_EXTRA_VARIABLE = 'ROLE_CATALOG_EXTRA';

export interface RoleCatalogEntry {
  /** The project's service key (shared/onboarding/model.ts). */
  service: ManagedService;
  /** The RAM role name, as RAM GetRole takes it. */
  roleName: string;
  /** ServiceName for CreateServiceLinkedRole; null where none is documented (check only). */
  serviceName: string | null;
  /** Where the entry comes from: URLs, and what is (not) documented there. */
  source: string;
}

export interface RoleCatalog {
  readonly entries: readonly RoleCatalogEntry[];
}

/** A role some of the given services need, once per role name. */
export interface RoleEntry extends NeededRole {
  roleName: string;
  serviceName: string | null;
  /** Every requested service that needs the role, in catalog order. */
  services: ManagedService[];
  /** The sources of the entries merged into this one. */
  sources: string[];
}

const SECURITY_CENTER_ROLES =
  'https://www.alibabacloud.com/help/en/security-center/user-guide/service-linked-roles-for-security-center';

export const BUILT_IN_ROLE_CATALOG: readonly RoleCatalogEntry[] = [
  {
    service: 'security-center',
    roleName: 'AliyunServiceRoleForSasRd',
    serviceName: 'rd.sas.aliyuncs.com',
    source:
      `${SECURITY_CENTER_ROLES} (table: AliyunServiceRoleForSasRd, service identifier rd.sas.aliyuncs.com; ` +
      'in a multi-account setup it lets the Security Center delegated administrator reach member accounts); ' +
      'https://www.alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyforsasrd ' +
      '(its policy names ram:ServiceName rd.sas.aliyuncs.com)',
  },
  {
    service: 'security-center',
    roleName: 'AliyunServiceRoleForSasCloudSiem',
    serviceName: 'cloudsiem.sas.aliyuncs.com',
    source:
      `${SECURITY_CENTER_ROLES} (table: AliyunServiceRoleForSasCloudSiem, service identifier ` +
      'cloudsiem.sas.aliyuncs.com; threat analysis / Agentic SOC reads the logs of connected products); ' +
      'https://www.alibabacloud.com/help/en/security-center/developer-reference/api-cloud-siem-2022-06-16-describeauth',
  },
  {
    service: 'bdrc',
    roleName: 'AliyunServiceRoleForBdrcRd',
    serviceName: null,
    source:
      'https://www.alibabacloud.com/help/en/bdrc/security-and-compliance/bdrc-service-linked-roles ' +
      '(BDRC creates AliyunServiceRoleForBdrcRd in each member account once cross-account management ' +
      'covers it); https://www.alibabacloud.com/help/en/bdrc/user-guide/cross-account-management. ' +
      'No ServiceName is documented for this role (only bdrc.aliyuncs.com, for AliyunServiceRoleForBDRC): ' +
      'checked by name only.',
  },
  {
    service: 'bastionhost',
    roleName: 'AliyunServiceRoleForBastionhost',
    serviceName: 'bastionhost.aliyuncs.com',
    source:
      'https://www.alibabacloud.com/help/en/bh/bastionhost/user-guide/authorize-bastionhost-to-access-cloud-resources ' +
      '(the role Bastionhost assumes to read ECS, VPC and RDS); ServiceName bastionhost.aliyuncs.com from the ' +
      'Alibaba Cloud Terraform team module ' +
      'https://github.com/alibabacloud-automation/terraform-alicloud-service-linked-role/blob/master/service_linked_role.tf. ' +
      'The multi-account page https://www.alibabacloud.com/help/en/bh/bastionhost/user-guide/unified-management-of-multiple-accounts ' +
      'names no role that Bastionhost creates in members; this is the role it documents for reading an account.',
  },
  {
    service: 'sls-audit',
    roleName: 'AliyunServiceRoleForSLSAudit',
    serviceName: 'audit.log.aliyuncs.com',
    source:
      'https://www.alibabacloud.com/help/en/sls/manage-the-aliyunserviceroleforslsaudit-service-linked-role ' +
      '(Log Audit Service assumes it to collect logs of cloud products; created when Simple Log Service is ' +
      'activated); ServiceName audit.log.aliyuncs.com: ' +
      'https://www.alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyforalblogdelivery ' +
      '(grants ram:CreateServiceLinkedRole for ram:ServiceName audit.log.aliyuncs.com) and the Terraform team ' +
      'module above; multi-account collection: https://www.alibabacloud.com/help/en/sls/user-guide/configure-multi-account-collection',
  },
];

/** Services that need no service-linked role in members, and why. */
export const SERVICES_WITHOUT_ROLES: Readonly<Partial<Record<ManagedService, string>>> = {
  'log-integration':
    'This project reads member Logstores itself, through the cross-account access role it assumes ' +
    '(ResourceDirectoryAccountAccessRole by default), not through an Alibaba Cloud service: no ' +
    "service-linked role is involved, and Simple Log Service documents none for reading another account's " +
    'Logstores. Add entries with ROLE_CATALOG_EXTRA if a deployment wants some checked.',
};

// RAM role names: 1 to 64 letters, digits, periods and hyphens.
const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;
// Service names as CreateServiceLinkedRole takes them: lowercase DNS labels under aliyuncs.com.
const SERVICE_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+aliyuncs\.com$/;

export const roleCatalogEntrySchema = z.strictObject({
  service: managedServiceSchema,
  roleName: z.string().regex(ROLE_NAME, {
    error: 'must be 1 to 64 letters, digits, periods (.) or hyphens (-)',
  }),
  serviceName: z.union(
    [
      z
        .string()
        .regex(SERVICE_NAME, { error: 'must be a service name such as rd.sas.aliyuncs.com' }),
      z.null(),
    ],
    {
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the ServiceName for CreateServiceLinkedRole, or null to check the role by name only'
          : 'must be a service name such as rd.sas.aliyuncs.com, or null',
    },
  ),
  source: z
    .string({ error: 'is required: where the entry comes from (a URL or a note)' })
    .trim()
    .min(1, { error: 'must not be empty: where the entry comes from (a URL or a note)' })
    .max(2000, { error: 'must be at most 2000 characters' }),
});

/** One problem in ROLE_CATALOG_EXTRA: which entry (index, -1 for the whole value) and field. */
export interface RoleCatalogProblem {
  index: number;
  field: string;
  message: string;
}

export class RoleCatalogError extends Error {
  override readonly name = 'RoleCatalogError';
  readonly variable = ROLE_CATALOG_EXTRA_VARIABLE;
  constructor(readonly problems: readonly RoleCatalogProblem[]) {
    super(problems.map((p) => `Configuration error: ${p.message}`).join('\n'));
  }
}

function roleKey(roleName: string): string {
  // RAM role names are case-insensitive (ARNs carry them in lower case).
  return roleName.toLowerCase();
}

function entryKey(entry: Pick<RoleCatalogEntry, 'service' | 'roleName'>): string {
  return `${entry.service}\u0000${roleKey(entry.roleName)}`;
}

function entryLabel(index: number, raw: unknown): string {
  const where = `${ROLE_CATALOG_EXTRA_VARIABLE}[${index}]`;
  if (raw === null || typeof raw !== 'object') return where;
  const { service, roleName } = raw as Record<string, unknown>;
  const parts = [
    typeof service === 'string' ? `service ${JSON.stringify(service)}` : undefined,
    typeof roleName === 'string' ? `roleName ${JSON.stringify(roleName)}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? `${where} (${parts.join(', ')})` : where;
}

/** Parses ROLE_CATALOG_EXTRA's value: a JSON array of entries. Empty or absent = no entries. */
export function parseRoleCatalogExtra(extraJson: string | undefined): RoleCatalogEntry[] {
  if (extraJson === undefined || extraJson.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(extraJson);
  } catch (error) {
    throw new RoleCatalogError([
      {
        index: -1,
        field: '',
        message: `${ROLE_CATALOG_EXTRA_VARIABLE} is not valid JSON (${(error as Error).message}); expected an array of {service, roleName, serviceName, source}`,
      },
    ]);
  }
  if (!Array.isArray(raw)) {
    throw new RoleCatalogError([
      {
        index: -1,
        field: '',
        message: `${ROLE_CATALOG_EXTRA_VARIABLE} must be a JSON array of {service, roleName, serviceName, source}`,
      },
    ]);
  }
  const problems: RoleCatalogProblem[] = [];
  const entries: RoleCatalogEntry[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item: unknown, index) => {
    const parsed = roleCatalogEntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.map(String).join('.');
        const message =
          issue.code === 'unrecognized_keys'
            ? `has unknown field(s) ${issue.keys.join(', ')} (allowed: service, roleName, serviceName, source)`
            : issue.message;
        problems.push({
          index,
          field,
          message: `${entryLabel(index, item)}${field ? `.${field}` : ''} ${message}`,
        });
      }
      return;
    }
    const key = entryKey(parsed.data);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({
        index,
        field: 'roleName',
        message: `${entryLabel(index, item)} repeats ${ROLE_CATALOG_EXTRA_VARIABLE}[${earlier}] (same service and roleName)`,
      });
      return;
    }
    seen.set(key, index);
    entries.push(parsed.data);
  });
  if (problems.length > 0) throw new RoleCatalogError(problems);
  return entries;
}

/** Two entries naming one role must not name two different ServiceNames. */
function checkServiceNames(entries: readonly RoleCatalogEntry[]): void {
  const byRole = new Map<string, RoleCatalogEntry>();
  const problems: RoleCatalogProblem[] = [];
  for (const entry of entries) {
    if (entry.serviceName === null) continue;
    const other = byRole.get(roleKey(entry.roleName));
    if (other && other.serviceName !== entry.serviceName) {
      problems.push({
        index: -1,
        field: 'serviceName',
        message: `role ${entry.roleName} has serviceName ${entry.serviceName} for ${entry.service} but ${other.serviceName} for ${other.service}; one role has one ServiceName`,
      });
      continue;
    }
    byRole.set(roleKey(entry.roleName), entry);
  }
  if (problems.length > 0) throw new RoleCatalogError(problems);
}

/**
 * The built-in catalog merged with ROLE_CATALOG_EXTRA's entries: an extra entry with the same
 * service and roleName replaces the built-in one (e.g. to supply a ServiceName once documented);
 * any other is added. Throws RoleCatalogError naming each bad entry and field.
 */
export function loadRoleCatalog(extraJson?: string): RoleCatalog {
  const extra = parseRoleCatalogExtra(extraJson);
  const entries = [...BUILT_IN_ROLE_CATALOG];
  for (const entry of extra) {
    const at = entries.findIndex((e) => entryKey(e) === entryKey(entry));
    if (at >= 0) entries[at] = entry;
    else entries.push(entry);
  }
  checkServiceNames(entries);
  return { entries };
}

/**
 * The roles the given services need, once per role name (case-insensitive): a role two services
 * need appears once, listing both. Catalog order; unknown service keys need nothing.
 */
export function rolesFor(catalog: RoleCatalog, services: readonly string[]): RoleEntry[] {
  const wanted = new Set(services);
  const byRole = new Map<string, RoleEntry>();
  for (const entry of catalog.entries) {
    if (!wanted.has(entry.service)) continue;
    const key = roleKey(entry.roleName);
    const found = byRole.get(key);
    if (!found) {
      byRole.set(key, {
        roleName: entry.roleName,
        serviceName: entry.serviceName,
        services: [entry.service],
        sources: [entry.source],
      });
      continue;
    }
    if (!found.services.includes(entry.service)) found.services.push(entry.service);
    if (!found.sources.includes(entry.source)) found.sources.push(entry.source);
    found.serviceName ??= entry.serviceName;
  }
  return [...byRole.values()];
}

/** The catalog as the service-linked-role use cases take it. */
export function roleCatalogPort(catalog: RoleCatalog): RoleCatalogPort {
  return { rolesFor: (services) => rolesFor(catalog, services) };
}

/** Every managed service with its roles (or why it has none): for documentation and the API. */
export function describeRoleCatalog(catalog: RoleCatalog): Array<{
  service: ManagedService;
  roles: RoleCatalogEntry[];
  withoutRoles?: string;
}> {
  return MANAGED_SERVICES.map((service) => {
    const roles = catalog.entries.filter((e) => e.service === service);
    const reason = SERVICES_WITHOUT_ROLES[service];
    return roles.length === 0 && reason
      ? { service, roles, withoutRoles: reason }
      : { service, roles };
  });
}
