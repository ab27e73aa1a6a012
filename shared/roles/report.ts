// The organization-wide report: per service and role, how many managed members have it, which
// miss it, which could not be reached or checked. Pure: built from the stored records.

import { csvLine } from '../domain/csv';
import type { ManagedMember, Scope } from '../onboarding/model';
import type { RoleCheck } from './model';
import type { RoleCatalogPort, RoleStore } from './ports';

export interface RoleReportEntry {
  service: string;
  roleName: string;
  serviceName: string | null;
  /** Managed members whose scopes enable the service. */
  members: number;
  present: number;
  missing: string[];
  unreachable: string[];
  errors: Array<{ accountId: string; reason: string }>;
  /** Never checked yet. */
  unchecked: string[];
}

export interface RoleReport {
  generatedAt: string;
  entries: RoleReportEntry[];
}

export interface RoleReportLine {
  service: string;
  roleName: string;
  accountId: string;
  state: RoleCheck['state'] | 'unchecked';
  reason: string;
  checkedAt: string;
}

export function buildRoleReport(
  members: readonly ManagedMember[],
  scopes: readonly Scope[],
  checks: readonly RoleCheck[],
  catalog: RoleCatalogPort,
  now: string,
): { report: RoleReport; lines: RoleReportLine[] } {
  const scopeById = new Map(scopes.map((s) => [s.id, s]));
  const checkOf = new Map(checks.map((c) => [`${c.accountId}\n${c.roleName}`, c]));
  const services = [...new Set(scopes.flatMap((s) => s.services))].sort();
  const entries: RoleReportEntry[] = [];
  const lines: RoleReportLine[] = [];
  for (const service of services) {
    const needing = members
      .filter((m) => m.scopeIds.some((id) => scopeById.get(id)?.services.includes(service)))
      .sort((a, b) => a.accountId.localeCompare(b.accountId));
    for (const role of catalog.rolesFor([service])) {
      const entry: RoleReportEntry = {
        service,
        roleName: role.roleName,
        serviceName: role.serviceName,
        members: needing.length,
        present: 0,
        missing: [],
        unreachable: [],
        errors: [],
        unchecked: [],
      };
      for (const member of needing) {
        const check = checkOf.get(`${member.accountId}\n${role.roleName}`);
        // A member onboarding found unreachable has had no role check: its roles could not be read.
        const state =
          check?.state ?? (member.status === 'unreachable' ? 'unreachable' : 'unchecked');
        const reason =
          check?.reason ??
          (member.status === 'unreachable' && member.failure
            ? `${member.failure.roleArn ?? 'access role'}: ${member.failure.reason}`
            : '');
        if (state === 'present') entry.present++;
        else if (state === 'missing') entry.missing.push(member.accountId);
        else if (state === 'unreachable') entry.unreachable.push(member.accountId);
        else if (state === 'error')
          entry.errors.push({ accountId: member.accountId, reason: check?.reason ?? '' });
        else entry.unchecked.push(member.accountId);
        lines.push({
          service,
          roleName: role.roleName,
          accountId: member.accountId,
          state,
          reason,
          checkedAt: check?.checkedAt ?? '',
        });
      }
      entries.push(entry);
    }
  }
  return { report: { generatedAt: now, entries }, lines };
}

/** Reads the members, scopes and checks, and builds the report from them. */
export async function readRoleReport(
  store: Pick<RoleStore, 'members' | 'scopes' | 'roleChecks'>,
  catalog: RoleCatalogPort,
  now: string,
  /** The accounts the report covers (a token limited to some folders); all when absent. */
  visible: (accountId: string) => boolean = () => true,
): Promise<{ report: RoleReport; lines: RoleReportLine[] }> {
  const [allMembers, scopes, allChecks] = await Promise.all([
    store.members.list(),
    store.scopes.list(),
    (async () => {
      const out: RoleCheck[] = [];
      for await (const check of store.roleChecks.all()) out.push(check);
      return out;
    })(),
  ]);
  const members = allMembers.filter((m) => visible(m.accountId));
  const checks = allChecks.filter((c) => visible(c.accountId));
  return buildRoleReport(members, scopes, checks, catalog, now);
}

const CSV_COLUMNS = ['service', 'roleName', 'accountId', 'state', 'reason', 'checkedAt'] as const;

/** The report as CSV (shared/domain/csv.ts: RFC 4180, formula cells defused). */
export function toCsv(lines: readonly RoleReportLine[]): string {
  return [CSV_COLUMNS, ...lines.map((l) => CSV_COLUMNS.map((c) => l[c]))]
    .map((cells) => csvLine(cells))
    .join('');
}
