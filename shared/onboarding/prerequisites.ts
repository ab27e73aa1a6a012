// Prerequisites of managing members: checked by GET /v1/prerequisites and before every scope
// change. Each failed check says what is wrong and how to fix it.

import type { DirectoryRoot, DirectorySource } from '../directory/ports';
import { CloudApiError, Conflict } from '../errors';

export type PrerequisiteName =
  | 'resource-directory-enabled'
  | 'administrator-account'
  | 'member-access-role';

export interface PrerequisiteCheck {
  name: PrerequisiteName;
  ok: boolean;
  message: string;
  /** How to fix it, when it failed. */
  fix?: string;
}

export interface PrerequisiteReport {
  ok: boolean;
  checks: PrerequisiteCheck[];
}

export interface PrerequisiteSettings {
  /** The account the functions run in. */
  callerAccountId: string;
  /** The service principal a delegated administrator must hold (DELEGATED_SERVICE_PRINCIPAL). */
  servicePrincipal?: string;
  /** MEMBER_ACCESS_ROLE. */
  memberAccessRole: string;
}

const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;

export async function checkPrerequisites(
  directory: Pick<DirectorySource, 'readRoot'>,
  settings: PrerequisiteSettings,
): Promise<PrerequisiteReport & { root?: DirectoryRoot }> {
  const checks: PrerequisiteCheck[] = [];
  let root: DirectoryRoot | undefined;
  try {
    root = await directory.readRoot();
    checks.push({
      name: 'resource-directory-enabled',
      ok: true,
      message: `Resource Directory ${root.resourceDirectoryId} is enabled (management account ${root.managementAccountId})`,
    });
  } catch (error) {
    if (!(error instanceof CloudApiError)) throw error;
    const { kind, cloudCode } = error.failure;
    // Throttling and outages are not a verdict on the prerequisites: the caller retries.
    if (kind === 'throttled' || kind === 'unavailable') throw error;
    checks.push({
      name: 'resource-directory-enabled',
      ok: false,
      message:
        cloudCode === 'EntityNotExists.ResourceDirectory'
          ? `Resource Directory is not enabled for account ${settings.callerAccountId}`
          : `The Resource Directory could not be read as account ${settings.callerAccountId}: ${error.message}`,
      fix:
        cloudCode === 'EntityNotExists.ResourceDirectory'
          ? 'Enable Resource Directory in the management account (Resource Management console, or EnableResourceDirectory), or deploy in an account of an enabled directory.'
          : "Grant the function's role resourcemanager:GetResourceDirectory and resourcemanager:ListDelegatedAdministrators (deploy/function-role-policy.json).",
    });
  }

  if (!root) {
    checks.push({
      name: 'administrator-account',
      ok: false,
      message: 'Cannot tell whether this account administers the directory: it could not be read',
      fix: 'Fix resource-directory-enabled first.',
    });
  } else if (settings.callerAccountId === root.managementAccountId) {
    checks.push({
      name: 'administrator-account',
      ok: true,
      message: `The functions run in the management account ${root.managementAccountId}`,
    });
  } else {
    const held = root.delegations
      .filter((d) => d.accountId === settings.callerAccountId)
      .map((d) => d.servicePrincipal);
    const wanted = settings.servicePrincipal;
    const ok = wanted !== undefined && held.includes(wanted);
    checks.push({
      name: 'administrator-account',
      ok,
      message: ok
        ? `Account ${settings.callerAccountId} is a delegated administrator for ${wanted}`
        : wanted === undefined
          ? `Account ${settings.callerAccountId} is not the management account (${root.managementAccountId}) and no DELEGATED_SERVICE_PRINCIPAL is configured`
          : `Account ${settings.callerAccountId} is not a delegated administrator for ${wanted}${held.length > 0 ? ` (it is for ${held.join(', ')})` : ''}`,
      ...(ok
        ? {}
        : {
            fix: `Deploy in the management account ${root.managementAccountId}, or have it run RegisterDelegatedAdministrator for account ${settings.callerAccountId} and service principal ${wanted ?? '<DELEGATED_SERVICE_PRINCIPAL>'} and set DELEGATED_SERVICE_PRINCIPAL.`,
          }),
    });
  }

  const roleOk = ROLE_NAME.test(settings.memberAccessRole);
  checks.push({
    name: 'member-access-role',
    ok: roleOk,
    message: roleOk
      ? `Members are reached through role ${settings.memberAccessRole} (acs:ram::<member>:role/${settings.memberAccessRole})`
      : `MEMBER_ACCESS_ROLE ${JSON.stringify(settings.memberAccessRole)} is not a RAM role name`,
    ...(roleOk
      ? {}
      : { fix: 'Set MEMBER_ACCESS_ROLE to the role every member trusts the administrator with.' }),
  });
  const report = { ok: checks.every((c) => c.ok), checks };
  return root ? { ...report, root } : report;
}

/** Scope changes are refused while a prerequisite fails. */
export class PrerequisitesNotMet extends Conflict {
  constructor(report: PrerequisiteReport) {
    const failed = report.checks.filter((c) => !c.ok);
    super(
      'PrerequisitesNotMet',
      `Scope changes are refused until the prerequisites pass: ${failed.map((c) => `${c.name}: ${c.message}`).join('; ')}. See GET /v1/prerequisites.`,
      { failed },
    );
  }
}
