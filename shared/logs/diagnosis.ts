// The troubleshooting checks of a data source, in the product's order, stopping at the first that
// fails; each with what it found (evidence) and, when it failed, what to do (fix):
//
//   1. the member's log service for the product is enabled: its project and Logstore exist in
//      the region (read live, through the member's access role)
//   2. the member is in a management scope that enables log-integration
//   3. the service-linked roles the member's services need exist (from the role checks)
//   4. the integration is no longer initializing (enabled, and pulled at least once)

import type { Clock } from '../domain/clock';
import { CloudApiError } from '../errors';
import { findLogstores } from './discovery';
import { DataSourceNotFound } from './errors';
import { IntegrableMembers } from './integration';
import type { DataSource, DataSourceStatus, LogError, LogTemplate } from './model';
import type { LogIntegrationStore, MemberLogAccess, MemberRoleStatusReader } from './ports';
import { dataSourceStatus, liveSnapshot } from './status';
import { findTemplate, resolveDefaultName } from './templates';

export const DIAGNOSIS_CHECKS = [
  'log-service-enabled',
  'in-management-scope',
  'service-linked-roles',
  'initialized',
] as const;
export type DiagnosisCheck = (typeof DIAGNOSIS_CHECKS)[number];

export interface DiagnosisStep {
  step: number;
  check: DiagnosisCheck;
  ok: boolean;
  evidence: string[];
  fix?: string;
}

export interface Diagnosis {
  dataSource: string;
  status: DataSourceStatus;
  error?: LogError;
  ok: boolean;
  /** The first check that failed; absent when all passed. */
  failedStep?: number;
  steps: DiagnosisStep[];
  checkedAt: string;
}

export interface DiagnosisDeps {
  store: LogIntegrationStore;
  memberLogs: MemberLogAccess;
  roles: MemberRoleStatusReader;
  clock: Clock;
  settings: { functionsAccountId: string; noDataAfterMs: number };
}

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function diagnoseIntegration(deps: DiagnosisDeps, name: string): Promise<Diagnosis> {
  const source = await deps.store.dataSources.get(name);
  if (!source) throw new DataSourceNotFound(name);
  const template = findTemplate(source.templateId);
  if (!template) throw new DataSourceNotFound(name);
  const [integrable, planned, checkpoints] = await Promise.all([
    IntegrableMembers.read(deps.store, deps.settings.functionsAccountId),
    deps.store.snapshots.get(name),
    deps.store.checkpoints.listForDataSource(name),
  ]);
  // As the data source's detail reads it: live from its checkpoints.
  const snapshot = liveSnapshot(source, planned, checkpoints, deps.clock.now());
  const verdict = integrable.check(source.accountId);
  const { status, error } = dataSourceStatus(
    source,
    snapshot,
    verdict.ok ? { ok: true } : { ok: false, reason: verdict.reason },
    deps.clock.now(),
    deps.settings.noDataAfterMs,
  );
  const checks: Array<() => Promise<Omit<DiagnosisStep, 'step' | 'check'>>> = [
    () => logServiceEnabled(deps, source, template),
    async () => inManagementScope(integrable, source),
    () => serviceLinkedRoles(deps, integrable, source, template),
    async () => initialized(source, status, snapshot.lastPullAt),
  ];
  const steps: DiagnosisStep[] = [];
  for (const [index, run] of checks.entries()) {
    const result = await run();
    steps.push({ step: index + 1, check: DIAGNOSIS_CHECKS[index] as DiagnosisCheck, ...result });
    if (!result.ok) break;
  }
  const failed = steps.find((s) => !s.ok);
  return {
    dataSource: name,
    status,
    ...(error ? { error } : {}),
    ok: failed === undefined,
    ...(failed ? { failedStep: failed.step } : {}),
    steps,
    checkedAt: new Date(deps.clock.now()).toISOString(),
  };
}

async function logServiceEnabled(
  deps: DiagnosisDeps,
  source: DataSource,
  template: LogTemplate,
): Promise<Omit<DiagnosisStep, 'step' | 'check'>> {
  const access = await deps.memberLogs(source.accountId, source.region);
  if (!access.ok) {
    return {
      ok: false,
      evidence: [
        `the member's Log Service could not be read: AssumeRole into ${access.roleArn} failed (${access.code}: ${access.reason})`,
      ],
      fix: `Make sure ${access.roleArn} exists in member ${source.accountId} and trusts the account the functions run in; then diagnose again.`,
    };
  }
  try {
    const { found, evidence } = await findLogstores(
      access.logs,
      template,
      source.accountId,
      source.region,
    );
    if (found.length > 0) return { ok: true, evidence };
    const rule = template.logstores;
    const where =
      rule.kind === 'default-name'
        ? `: it creates project ${resolveDefaultName(rule.names[0] as (typeof rule.names)[number], source.accountId, source.region).project} and Logstore ${(rule.names[0] as (typeof rule.names)[number]).logstore}`
        : ` (${rule.source})`;
    return {
      ok: false,
      evidence,
      fix: `Enable ${template.product}'s log delivery to Log Service in member ${source.accountId}, region ${source.region}${where}.`,
    };
  } catch (error) {
    const throttled = error instanceof CloudApiError && error.failure.kind === 'throttled';
    return {
      ok: false,
      evidence: [`the member's Log Service could not be read: ${describeError(error)}`],
      fix: throttled
        ? 'Log Service is throttling the member: diagnose again in a minute.'
        : 'Check that the member access role allows log:ListProject, log:GetProject, log:ListLogStores and log:GetLogStore; then diagnose again.',
    };
  }
}

function inManagementScope(
  integrable: IntegrableMembers,
  source: DataSource,
): Omit<DiagnosisStep, 'step' | 'check'> {
  const verdict = integrable.check(source.accountId);
  const scopes = integrable
    .scopesOf(source.accountId)
    .map((s) => `${s.id} (services: ${s.services.join(', ') || 'none'})`);
  if (verdict.ok) {
    return {
      ok: true,
      evidence: [
        `member ${source.accountId} is ${verdict.member.status}; scopes: ${scopes.join('; ')}`,
      ],
    };
  }
  return {
    ok: false,
    evidence: [
      `member ${source.accountId}: ${verdict.reason}`,
      ...(scopes.length > 0 ? [`scopes covering it: ${scopes.join('; ')}`] : []),
    ],
    fix: verdict.member
      ? `Enable the log-integration service on a scope covering member ${source.accountId} (POST /v1/scopes with the scope's kind, target and services including "log-integration").`
      : `Bring account ${source.accountId} under management with a scope whose services include "log-integration" (POST /v1/scopes).`,
  };
}

async function serviceLinkedRoles(
  deps: DiagnosisDeps,
  integrable: IntegrableMembers,
  source: DataSource,
  template: LogTemplate,
): Promise<Omit<DiagnosisStep, 'step' | 'check'>> {
  const services = [
    ...new Set([
      ...integrable.scopesOf(source.accountId).flatMap((s) => s.services),
      ...template.roleServices,
    ]),
  ].sort();
  const status = await deps.roles(source.accountId, services);
  if (status.needed.length === 0) {
    return {
      ok: true,
      evidence: [`no service-linked role is needed for services ${services.join(', ') || 'none'}`],
    };
  }
  const evidence: string[] = [];
  const failing: string[] = [];
  for (const role of status.needed) {
    const check = status.checks.find((c) => c.roleName === role.roleName);
    if (!check) {
      evidence.push(`${role.roleName} (${role.services.join(', ')}): not checked yet`);
      continue;
    }
    const reason = check.reason ? ` (${check.reason})` : '';
    evidence.push(
      `${role.roleName} (${role.services.join(', ')}): ${check.state}${reason}, checked ${check.checkedAt}`,
    );
    if (check.state !== 'present') failing.push(role.roleName);
  }
  if (failing.length === 0) return { ok: true, evidence };
  return {
    ok: false,
    evidence,
    fix: `Create ${failing.join(', ')} in member ${source.accountId}: POST /v1/members/${source.accountId}/roles/repair (or set ROLE_REPAIR_POLICY=repair); check again with POST /v1/members/${source.accountId}/roles/check.`,
  };
}

function initialized(
  source: DataSource,
  status: DataSourceStatus,
  lastPullAt: string | undefined,
): Omit<DiagnosisStep, 'step' | 'check'> {
  if (!source.enabled) {
    return {
      ok: false,
      evidence: ['the integration is disabled'],
      fix: `Enable it: PATCH /v1/log-templates/${source.templateId}/accounts/${source.accountId} with {"enabled": true}.`,
    };
  }
  if (lastPullAt === undefined) {
    return {
      ok: false,
      evidence: [`enabled, reading from ${source.consumeFrom}; not pulled yet (status ${status})`],
      fix: 'Wait for the next planning run (every minute): it reads the shards from the logs received since the integration was enabled.',
    };
  }
  return {
    ok: true,
    evidence: [`last pulled at ${lastPullAt}; status ${status}`],
  };
}
