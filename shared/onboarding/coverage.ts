// Which scopes cover an account, and what its managed-member record should say. Pure rules: the
// same functions decide for a full reconcile, a directory event and a scope change, which is
// what makes them converge.

import type { DelegationRecord, FolderRecord, MemberRecord } from '../directory/model';
import type { AccountPlacement } from '../directory/ports';
import type {
  Desired,
  DesiredMember,
  JoinMethod,
  ManagedMember,
  MemberFailure,
  ScopeKind,
} from './model';

export interface ScopeRule {
  id: string;
  kind: ScopeKind;
  /** Account id, folder id, or Resource Directory id. */
  targetId: string;
}

export interface Administration {
  managementAccountId: string;
  delegations: readonly DelegationRecord[];
}

/**
 * Why an account can never be a managed member, or undefined. Assets flow from members to the
 * administrator, never back: the management account and delegated administrators are excluded.
 */
export function ineligibility(accountId: string, admin: Administration): string | undefined {
  if (accountId === admin.managementAccountId) {
    return `account ${accountId} is the management account of the Resource Directory`;
  }
  const delegated = admin.delegations.filter((d) => d.accountId === accountId);
  if (delegated.length > 0) {
    const services = [...new Set(delegated.map((d) => d.servicePrincipal))].sort().join(', ');
    return `account ${accountId} is a delegated administrator (${services})`;
  }
  return undefined;
}

/** The ids of the scopes that cover an account placed in the directory, sorted. */
export function coveringScopes(
  scopes: readonly ScopeRule[],
  placement: AccountPlacement,
): string[] {
  const folderIds = new Set(placement.folders.map((f) => f.id));
  return scopes
    .filter((scope) =>
      scope.kind === 'account'
        ? scope.targetId === placement.member.accountId
        : scope.kind === 'folder'
          ? folderIds.has(scope.targetId)
          : true,
    )
    .map((scope) => scope.id)
    .sort();
}

export function desiredState(
  accountId: string,
  placement: AccountPlacement | undefined,
  scopes: readonly ScopeRule[],
  admin: Administration,
): Desired {
  if (!placement) return { covered: false, reason: 'left the Resource Directory' };
  const excluded = ineligibility(accountId, admin);
  if (excluded) return { covered: false, reason: excluded };
  const scopeIds = coveringScopes(scopes, placement);
  if (scopeIds.length === 0) return { covered: false, reason: 'no scope covers it' };
  const { member, folders } = placement;
  return {
    covered: true,
    member: {
      accountId,
      displayName: member.displayName,
      scopeIds,
      folderId: member.folderId,
      folderPath: folders.map((f) => ({ id: f.id, name: f.name })),
      ...joinMethodOf(member),
    },
  };
}

function joinMethodOf(member: MemberRecord): { joinMethod?: JoinMethod } {
  return member.joinMethod === 'created' || member.joinMethod === 'invited'
    ? { joinMethod: member.joinMethod }
    : {};
}

/** Places every member of a directory listing: its folders from the root down. */
export function placeAll(
  folders: readonly FolderRecord[],
  members: readonly MemberRecord[],
): Map<string, AccountPlacement> {
  const byId = new Map(folders.map((f) => [f.id, f]));
  const chains = new Map<string, FolderRecord[]>();
  const chainOf = (folderId: string): FolderRecord[] => {
    const known = chains.get(folderId);
    if (known) return known;
    const chain: FolderRecord[] = [];
    const seen = new Set<string>();
    for (
      let f = byId.get(folderId);
      f && !seen.has(f.id);
      f = f.parentId ? byId.get(f.parentId) : undefined
    ) {
      seen.add(f.id);
      chain.unshift(f);
    }
    chains.set(folderId, chain);
    return chain;
  };
  return new Map(members.map((m) => [m.accountId, { member: m, folders: chainOf(m.folderId) }]));
}

/** What a reconcile does for one account. */
export type AccountPlan =
  | { action: 'none'; accountId: string }
  | { action: 'onboard'; accountId: string; desired: DesiredMember }
  /** Covered, but unreachable or not fully onboarded: try again. */
  | { action: 'retry'; accountId: string; desired: DesiredMember; current: ManagedMember }
  | {
      action: 'update';
      accountId: string;
      desired: DesiredMember;
      current: ManagedMember;
      moved?: { fromFolderId: string | undefined; toFolderId: string };
    }
  | { action: 'offboard'; accountId: string; current: ManagedMember; reason: string }
  | { action: 'unchanged'; accountId: string; current: ManagedMember };

export function planAccount(
  accountId: string,
  desired: Desired,
  current: ManagedMember | undefined,
): AccountPlan {
  if (!desired.covered) {
    return current
      ? { action: 'offboard', accountId, current, reason: desired.reason }
      : { action: 'none', accountId };
  }
  const want = desired.member;
  if (!current) return { action: 'onboard', accountId, desired: want };
  if (current.status !== 'managed') return { action: 'retry', accountId, desired: want, current };
  if (!sameRecord(want, current)) {
    return current.folderId !== want.folderId
      ? {
          action: 'update',
          accountId,
          desired: want,
          current,
          moved: { fromFolderId: current.folderId, toFolderId: want.folderId },
        }
      : { action: 'update', accountId, desired: want, current };
  }
  return { action: 'unchanged', accountId, current };
}

function sameRecord(want: DesiredMember, current: ManagedMember): boolean {
  return (
    current.displayName === want.displayName &&
    current.folderId === want.folderId &&
    current.joinMethod === want.joinMethod &&
    sameList(current.scopeIds, want.scopeIds) &&
    sameList(
      (current.folderPath ?? []).map((f) => `${f.id}\n${f.name}`),
      want.folderPath.map((f) => `${f.id}\n${f.name}`),
    )
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** True when two failures say the same thing (the time they were seen aside). */
export function sameFailure(a: MemberFailure | undefined, b: MemberFailure | undefined): boolean {
  return a?.reason === b?.reason && a?.code === b?.code && a?.roleArn === b?.roleArn;
}
