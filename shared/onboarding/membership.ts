// Use cases of the management scope: reconcile all or some accounts against the directory,
// remove a member, record what a role check found about reaching one, and the steps of a scope
// change that onboarding runs (runs.ts) carry on asynchronously: store or delete the scope, plan
// the accounts, apply one account's plan. Every change runs under the `membership` lease (a run
// holds it until its last chunk is done), so a scope change, a directory event and a reconcile
// never decide from each other's half-written state; and every one ends in the same pure rules
// (coverage.ts), which is why duplicated and reordered events converge to what a full reconcile
// produces. Each account's plan is applied with writes conditional on the record's version; a
// record that moved on meanwhile is read again and planned again.

import { randomUUID } from 'node:crypto';
import type { AccountPlacement, DirectoryRoot, DirectorySource } from '../directory/ports';
import type { ActivityAction } from '../domain/activity';
import { type Caller, describeCause } from '../domain/caller';
import { type Clock, isoNow, systemClock } from '../domain/clock';
import { type LeaseGuard, LeaseLost, runUnderLease } from '../domain/lease';
import { ConcurrentModification, RecordAlreadyExists } from '../domain/records';
import { InvalidRequest, NotFound } from '../errors';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { Logger } from '../runtime/logger';
import {
  type AccountPlan,
  type Administration,
  coveringScopes,
  desiredState,
  ineligibility,
  placeAll,
  planAccount,
  type ScopeRule,
  sameFailure,
} from './coverage';
import { ManagedByScope } from './errors';
import {
  type DesiredMember,
  type ManagedMember,
  type MemberFailure,
  type MemberOutcome,
  type MemberStatus,
  NotAManagedMember,
  type PlannedAccount,
  type ReconcileSummary,
  type ReconcileTarget,
  type Scope,
  type ScopeKind,
  scopeIdFor,
} from './model';
import type { MemberProbe, MembershipStore, OnboardingStep, Reachability } from './ports';
import {
  checkPrerequisites,
  type PrerequisiteSettings,
  PrerequisitesNotMet,
} from './prerequisites';

export const MEMBERSHIP_LEASE = 'membership';
/** Above this many accounts a reconcile lists the whole directory instead of reading each. */
export const PARTIAL_READ_LIMIT = 25;
export const DATA_SOURCES_KEPT =
  'Data sources of offboarded members are kept until they are deleted explicitly.';

export interface MembershipDeps {
  store: MembershipStore;
  directory: DirectorySource;
  probe: MemberProbe;
  settings: PrerequisiteSettings;
  steps?: readonly OnboardingStep[];
  /** Members onboarded at once. Default 16. */
  concurrency?: number;
  /** Lease TTL and how long a caller waits for a running change. */
  lease?: { ttlMs?: number; waitMs?: number };
  clock?: Clock;
  logger?: Logger;
}

export interface ScopeInput {
  kind: ScopeKind;
  /** Account or folder id; the Resource Directory id (or nothing) for kind directory. */
  targetId?: string;
  /** Services to enable; absent: none for a new scope, unchanged for an existing one. */
  services?: string[];
}

/** An account as a reconcile plans it: what it should be and its record as read. */
export interface AccountToPlan extends PlannedAccount {
  current: ManagedMember | undefined;
  /** What applying the plan would do now (`none`: not a member and should not be one). */
  action: AccountPlan['action'];
  /** Whether applying the plan changes anything. */
  needsWork: boolean;
}

/** Attempts at one account's plan when its record moves on under it. */
const APPLY_ATTEMPTS = 3;

export class Membership {
  private readonly clock: Clock;
  private readonly steps: readonly OnboardingStep[];

  constructor(private readonly deps: MembershipDeps) {
    this.clock = deps.clock ?? systemClock;
    this.steps = deps.steps ?? [];
  }

  /** Every scope against the whole directory (timer, POST /v1/reconcile). */
  reconcile(caller: Caller, options: { waitMs?: number } = {}): Promise<ReconcileSummary> {
    return this.underLease('A reconcile', options.waitMs, (guard) =>
      this.reconcileTarget(guard, caller, { kind: 'full' }, true),
    );
  }

  /** Only the named accounts (a directory event); no ids = every account. */
  reconcileAccounts(caller: Caller, accountIds: readonly string[]): Promise<ReconcileSummary> {
    const target: ReconcileTarget =
      accountIds.length === 0
        ? { kind: 'full' }
        : { kind: 'accounts', accountIds: [...new Set(accountIds)] };
    return this.underLease('A membership change', undefined, (guard) =>
      this.reconcileTarget(guard, caller, target, target.kind === 'full'),
    );
  }

  /**
   * Stores a scope (created, or its services updated), holding the membership lease; logs the
   * change. A failure to log after the scope is stored is logged, not thrown: the change stands.
   */
  async storeScope(
    guard: LeaseGuard,
    input: ScopeInput,
    targetId: string,
    caller: Caller,
  ): Promise<{ scope: Scope; created: boolean }> {
    const id = scopeIdFor(input.kind, targetId);
    const existing = await this.deps.store.scopes.get(id);
    // Services are optional: a new scope without them manages none yet; an existing one keeps its own.
    const services = [...new Set(input.services ?? existing?.services ?? [])].sort();
    guard.stillHeld();
    if (!existing) {
      const scope = await this.deps.store.scopes.create({
        id,
        kind: input.kind,
        targetId,
        services,
        createdBy: describeCause(caller.cause),
      });
      await this.logAfterChange(caller, 'scope.added', { scope: id }, describeServices(services));
      return { scope, created: true };
    }
    if (existing.services.join() !== services.join()) {
      const scope = await this.deps.store.scopes.update({ ...existing, services });
      await this.logAfterChange(caller, 'scope.updated', { scope: id }, describeServices(services));
      return { scope, created: false };
    }
    return { scope: existing, created: false };
  }

  /** The scope `scopeId`, NotFound when there is none. */
  async requireScope(scopeId: string): Promise<Scope> {
    const scope = await this.deps.store.scopes.get(scopeId);
    if (!scope) throw new NotFound(`There is no scope ${scopeId}`, { details: { scopeId } });
    return scope;
  }

  /** Deletes a scope, holding the membership lease; logs it (as storeScope does). */
  async deleteScope(guard: LeaseGuard, scope: Scope, caller: Caller): Promise<void> {
    guard.stillHeld();
    await this.deps.store.scopes.delete(scope.id, scope.version);
    await this.logAfterChange(caller, 'scope.removed', { scope: scope.id });
  }

  /**
   * Removes one member from management. Refused with 409 when a folder or directory scope covers
   * it (change that scope instead); otherwise its account scope goes, and with it the member.
   */
  async removeMember(
    accountId: string,
    caller: Caller,
  ): Promise<{ scope: Scope; summary: ReconcileSummary }> {
    return this.underLease('A membership change', undefined, async (guard) => {
      await this.requirePrerequisites();
      const member = await this.deps.store.members.get(accountId);
      if (!member) throw new NotAManagedMember(accountId);
      const scopes = await Promise.all(member.scopeIds.map((id) => this.deps.store.scopes.get(id)));
      const wide = scopes.filter((s): s is Scope => s !== undefined && s.kind !== 'account');
      if (wide.length > 0) {
        await this.log(
          caller,
          'member.removal-refused',
          { member: accountId },
          'refused',
          `managed through ${wide.map((s) => s.id).join(', ')}`,
          accountId,
        );
        throw new ManagedByScope(accountId, wide);
      }
      const own = scopeIdFor('account', accountId);
      return this.removeScopeHeld(guard, own, caller);
    });
  }

  private async removeScopeHeld(guard: LeaseGuard, scopeId: string, caller: Caller) {
    const scope = await this.requireScope(scopeId);
    const covered = await this.deps.store.members.listCoveredBy(scopeId);
    await this.deleteScope(guard, scope, caller);
    const summary = await this.reconcileTarget(
      guard,
      caller,
      { kind: 'accounts', accountIds: covered.map((m) => m.accountId) },
      false,
    );
    return { scope, summary };
  }

  /** The directory's root; PrerequisitesNotMet (409, nothing written) while a check fails. */
  async requirePrerequisites(): Promise<DirectoryRoot> {
    const report = await checkPrerequisites(this.deps.directory, this.deps.settings);
    if (!report.ok || !report.root) throw new PrerequisitesNotMet(report);
    return report.root;
  }

  /** The scope's target as stored; 404 for what is not in the directory, 400 for admins. */
  async resolveTarget(input: ScopeInput, root: DirectoryRoot): Promise<string> {
    const field = [{ location: 'body' as const, field: 'targetId' }];
    switch (input.kind) {
      case 'directory':
        if (input.targetId !== undefined && input.targetId !== root.resourceDirectoryId) {
          throw new NotFound(
            `Resource directory ${input.targetId} is not this deployment's directory (${root.resourceDirectoryId})`,
            { details: { targetId: input.targetId } },
          );
        }
        return root.resourceDirectoryId;
      case 'folder': {
        const folderId = input.targetId ?? '';
        const folder = await this.deps.directory.readFolder(folderId);
        if (!folder) {
          throw new NotFound(
            `Folder ${folderId} does not exist in resource directory ${root.resourceDirectoryId}`,
            { details: { folderId } },
          );
        }
        return folder.id;
      }
      case 'account': {
        const accountId = input.targetId ?? '';
        const excluded = ineligibility(accountId, root);
        if (excluded) {
          throw new InvalidRequest(
            `Account ${accountId} cannot be onboarded as a member: ${excluded}. Assets flow from members to the administrator, never back.`,
            field.map((f) => ({ ...f, message: excluded })),
          );
        }
        const placement = await this.deps.directory.readAccount(accountId);
        if (!placement) {
          throw new NotFound(
            `Account ${accountId} is not a member of resource directory ${root.resourceDirectoryId}`,
            { details: { accountId } },
          );
        }
        return accountId;
      }
    }
  }

  private underLease<T>(
    what: string,
    waitMs: number | undefined,
    work: (guard: LeaseGuard) => Promise<T>,
  ): Promise<T> {
    return runUnderLease(
      this.deps.store.leases,
      MEMBERSHIP_LEASE,
      {
        ownerPrefix: 'membership',
        what,
        ttlMs: this.deps.lease?.ttlMs ?? 60_000,
        waitMs: waitMs ?? this.deps.lease?.waitMs ?? 20_000,
      },
      work,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Reconcile

  private async reconcileTarget(
    guard: LeaseGuard,
    caller: Caller,
    target: ReconcileTarget,
    keepSummary: boolean,
  ): Promise<ReconcileSummary> {
    const startedAt = this.isoNow();
    const { accounts, skipped } = await this.planTarget(target);
    const work = accounts.filter((a) => a.needsWork);
    const outcomes = await mapWithConcurrency(work, this.deps.concurrency ?? 16, (account) =>
      this.applyDesired(guard, caller, account, account.current ?? null),
    );
    const summary = summarize({
      runId: randomUUID(),
      kind: target.kind === 'full' ? 'full' : 'accounts',
      cause: caller.cause,
      startedAt,
      finishedAt: this.isoNow(),
      outcomes,
      unchanged: accounts.filter((a) => a.action === 'unchanged').length,
      skipped,
    });
    if (keepSummary) {
      await this.deps.store.reconcileRuns.record('reconcile', {
        runId: summary.runId,
        startedAt: summary.startedAt,
        finishedAt: summary.finishedAt,
        summary,
      });
    }
    this.deps.logger?.info('reconcile finished', {
      kind: summary.kind,
      added: summary.added.length,
      removed: summary.removed.length,
      moved: summary.moved.length,
      updated: summary.updated.length,
      unchanged: summary.unchanged,
      failed: summary.failed.length,
    });
    return summary;
  }

  /**
   * What a reconcile of `target` would do: each account it looks at, what it should be and its
   * record as read, and the accounts a scope covers that can never be members. Reads only.
   */
  async planTarget(target: ReconcileTarget): Promise<{
    accounts: AccountToPlan[];
    skipped: Array<{ accountId: string; reason: string }>;
  }> {
    const resolved: Exclude<ReconcileTarget, { kind: 'covered-by' }> =
      target.kind === 'covered-by'
        ? {
            kind: 'accounts',
            accountIds: (await this.deps.store.members.listCoveredBy(target.scopeId)).map(
              (m) => m.accountId,
            ),
          }
        : target;
    const scopes: ScopeRule[] = await this.deps.store.scopes.list();
    const view = await this.readView(resolved);
    const accounts = view.accountIds.map((accountId): AccountToPlan => {
      const desired = desiredState(accountId, view.placements.get(accountId), scopes, view.admin);
      const current = view.current.get(accountId);
      const action = planAccount(accountId, desired, current).action;
      return {
        accountId,
        desired,
        current,
        action,
        needsWork: action !== 'none' && action !== 'unchanged',
      };
    });
    const skipped = view.accountIds.flatMap((accountId) => {
      const placement = view.placements.get(accountId);
      const reason = ineligibility(accountId, view.admin);
      return placement && reason && coveringScopes(scopes, placement).length > 0
        ? [{ accountId, reason }]
        : [];
    });
    return { accounts, skipped };
  }

  /**
   * Brings one account to what it should be, with writes conditional on its record's version:
   * when the record moved on under the write (another writer, or an earlier attempt of the same
   * run), it is read again and planned again. `current` is the record as the caller read it
   * (null: read none); absent, it is read here. LeaseLost stops the whole run.
   */
  async applyDesired(
    guard: LeaseGuard,
    caller: Caller,
    account: PlannedAccount,
    current?: ManagedMember | null,
  ): Promise<MemberOutcome> {
    const { accountId, desired } = account;
    let record =
      current === undefined ? await this.deps.store.members.get(accountId) : (current ?? undefined);
    const planned = planAccount(accountId, desired, record);
    for (let attempt = 1; ; attempt++) {
      const plan = attempt === 1 ? planned : planAccount(accountId, desired, record);
      try {
        guard.stillHeld();
        const outcome = await this.apply(caller, plan);
        return { accountId, ...(outcome.kind === 'unchanged' ? doneBefore(planned) : outcome) };
      } catch (error) {
        // The lease moved on: stop the whole run, a newer one owns the members now.
        if (error instanceof LeaseLost) throw error;
        const conflict =
          error instanceof ConcurrentModification || error instanceof RecordAlreadyExists;
        if (conflict && attempt < APPLY_ATTEMPTS) {
          record = await this.deps.store.members.get(accountId);
          continue;
        }
        const reason = conflict
          ? `its record changed while it was being ${plan.action === 'offboard' ? 'offboarded' : 'onboarded'}; the next reconcile takes it up again`
          : error instanceof Error
            ? error.message
            : String(error);
        this.deps.logger?.warn('member change failed', { accountId, reason });
        return { accountId, kind: 'failed', failure: { accountId, reason } };
      }
    }
  }

  /** The directory and the records for the accounts a reconcile looks at. */
  private async readView(target: Exclude<ReconcileTarget, { kind: 'covered-by' }>): Promise<{
    accountIds: string[];
    admin: Administration;
    placements: Map<string, AccountPlacement | undefined>;
    current: Map<string, ManagedMember>;
  }> {
    const { directory, store } = this.deps;
    if (target.kind === 'accounts' && target.accountIds.length <= PARTIAL_READ_LIMIT) {
      const ids = target.accountIds;
      const [root, placements, records] = await Promise.all([
        directory.readRoot(),
        mapWithConcurrency(ids, 8, (id) => directory.readAccount(id)),
        mapWithConcurrency(ids, 8, (id) => store.members.get(id)),
      ]);
      return {
        accountIds: ids,
        admin: root,
        placements: new Map(ids.map((id, i) => [id, placements[i]])),
        current: new Map(
          records.flatMap((m): Array<[string, ManagedMember]> => (m ? [[m.accountId, m]] : [])),
        ),
      };
    }
    const [snapshot, records] = await Promise.all([directory.readSnapshot(), store.members.list()]);
    const admin: Administration = {
      managementAccountId: snapshot.managementAccountId,
      delegations: snapshot.delegations,
    };
    const placements: Map<string, AccountPlacement | undefined> = placeAll(
      snapshot.folders,
      snapshot.members,
    );
    const current = new Map(records.map((m) => [m.accountId, m]));
    const accountIds =
      target.kind === 'full'
        ? [...new Set([...placements.keys(), ...current.keys()])].sort()
        : target.accountIds;
    return { accountIds, admin, placements, current };
  }

  /** One plan, applied; a write that finds the record moved on throws (applyDesired retries). */
  private async apply(caller: Caller, plan: AccountPlan): Promise<Outcome> {
    switch (plan.action) {
      case 'none':
      case 'unchanged':
        return { kind: 'unchanged' };
      case 'onboard':
        return this.onboard(caller, plan.desired);
      case 'retry':
        return this.retry(caller, plan.desired, plan.current);
      case 'update':
        return this.update(caller, plan.desired, plan.current, plan.moved);
      case 'offboard':
        return this.offboard(caller, plan.current, plan.reason);
    }
  }

  /** AssumeRole into the member, then the registered steps: the status it ends in. */
  private async admit(
    member: ManagedMember | DesiredMember,
  ): Promise<{ status: MemberStatus; failure?: Omit<MemberFailure, 'at'> }> {
    const probe = await this.deps.probe.probe(member.accountId);
    if (!probe.ok) return { status: 'unreachable', failure: probe.failure };
    return this.runSteps(member);
  }

  /** The registered steps, in order: `managed`, or `onboarding` with the failing step's reason. */
  private async runSteps(
    member: ManagedMember | DesiredMember,
  ): Promise<{ status: MemberStatus; failure?: Omit<MemberFailure, 'at'> }> {
    for (const step of this.steps) {
      try {
        await step.onboard({ ...asMember(member), status: 'onboarding' });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return {
          status: 'onboarding',
          failure: { reason: `onboarding step ${step.name} failed: ${message}` },
        };
      }
    }
    return { status: 'managed' };
  }

  private async onboard(caller: Caller, desired: DesiredMember): Promise<Outcome> {
    const { status, failure } = await this.admit(desired);
    const now = this.isoNow();
    await this.deps.store.members.create({
      ...desired,
      status,
      lastReconcileAt: now,
      ...(failure ? { failure: { ...failure, at: now } } : {}),
    });
    await this.log(
      caller,
      failure ? 'member.onboarding-failed' : 'member.onboarded',
      { member: desired.accountId },
      failure ? 'failed' : 'succeeded',
      failure ? describeFailure(status, failure) : `scopes: ${desired.scopeIds.join(', ')}`,
      desired.accountId,
    );
    return failure
      ? { kind: 'added', failure: { accountId: desired.accountId, ...failure } }
      : { kind: 'added' };
  }

  private async retry(
    caller: Caller,
    desired: DesiredMember,
    current: ManagedMember,
  ): Promise<Outcome> {
    const { status, failure } = await this.admit(desired);
    const now = this.isoNow();
    const unchanged =
      status === current.status &&
      sameFailure(failure && { ...failure, at: now }, current.failure) &&
      planAccount(
        current.accountId,
        { covered: true, member: desired },
        {
          ...current,
          status: 'managed',
        },
      ).action === 'unchanged';
    if (unchanged) {
      // Still failing the same way: nothing to write, and no noise in the activity log.
      return failure
        ? { kind: 'failed', failure: { accountId: current.accountId, ...failure } }
        : { kind: 'unchanged' };
    }
    const next: ManagedMember = {
      ...current,
      ...desired,
      status,
      lastReconcileAt: now,
    };
    if (failure) next.failure = { ...failure, at: now };
    else delete next.failure;
    await this.deps.store.members.update(next);
    await this.log(
      caller,
      failure ? 'member.onboarding-failed' : 'member.onboarded',
      { member: current.accountId },
      failure ? 'failed' : 'succeeded',
      failure ? describeFailure(status, failure) : `was ${current.status}`,
      current.accountId,
    );
    return failure
      ? { kind: 'failed', failure: { accountId: current.accountId, ...failure } }
      : { kind: 'updated' };
  }

  private async update(
    caller: Caller,
    desired: DesiredMember,
    current: ManagedMember,
    moved: { fromFolderId: string | undefined; toFolderId: string } | undefined,
  ): Promise<Outcome> {
    const next: ManagedMember = { ...current, ...desired, lastReconcileAt: this.isoNow() };
    if (desired.joinMethod === undefined) delete next.joinMethod;
    await this.deps.store.members.update(next);
    const from = moved?.fromFolderId ?? null;
    await this.log(
      caller,
      moved ? 'member.moved' : 'member.updated',
      { member: current.accountId },
      'succeeded',
      moved
        ? `moved from ${from ?? 'an unknown folder'} to ${moved.toFolderId}; scopes: ${desired.scopeIds.join(', ')}`
        : `scopes: ${desired.scopeIds.join(', ')}`,
      current.accountId,
    );
    return moved
      ? { kind: 'updated', moved: { fromFolderId: from, toFolderId: moved.toFolderId } }
      : { kind: 'updated' };
  }

  /**
   * Marks the member offboarding, has every step clear what it kept for the member, then
   * removes its record.
   */
  private async offboard(caller: Caller, current: ManagedMember, reason: string): Promise<Outcome> {
    const { members } = this.deps.store;
    const marked =
      current.status === 'offboarding'
        ? current
        : await members.update({ ...current, status: 'offboarding' });
    for (const step of this.steps) await step.offboard?.(current.accountId);
    await members.delete(current.accountId, marked.version);
    await this.log(
      caller,
      'member.offboarded',
      { member: current.accountId },
      'succeeded',
      `${reason}. ${DATA_SOURCES_KEPT}`,
      current.accountId,
    );
    return { kind: 'removed', reason };
  }

  /**
   * What a role check or sweep found about reaching a member (item: a member that cannot be
   * reached must not stay `managed`). Found unreachable: the member becomes `unreachable` with
   * the role ARN and the refusal. Reached again after being `unreachable`: its onboarding steps
   * run again (they are idempotent; a member unreachable since it joined never ran them) and it
   * becomes `managed`, or stays `onboarding` with the failing step's reason. Neither takes the
   * membership lease: the write is conditional on the version read, and a record that moved on
   * meanwhile is read again (a reconcile that changed it has the last word).
   */
  async recordReachability(
    accountId: string,
    observation: Reachability,
    caller: Caller,
  ): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const member = await this.deps.store.members.get(accountId);
      if (!member || member.status === 'offboarding') return;
      let next: ManagedMember;
      let entry: { action: ActivityAction; outcome: 'succeeded' | 'failed'; detail: string };
      if (!observation.reachable) {
        const failure = { ...observation.refusal, at: this.isoNow() };
        if (member.status === 'unreachable' && sameFailure(failure, member.failure)) return;
        next = { ...member, status: 'unreachable', failure };
        entry = {
          action: 'member.unreachable',
          outcome: 'failed',
          detail: `${describeFailure('unreachable', observation.refusal)} (was ${member.status})`,
        };
      } else {
        if (member.status !== 'unreachable') return;
        const { status, failure } = await this.runSteps(member);
        next = { ...member, status };
        if (failure) next.failure = { ...failure, at: this.isoNow() };
        else delete next.failure;
        entry = failure
          ? {
              action: 'member.onboarding-failed',
              outcome: 'failed',
              detail: describeFailure(status, failure),
            }
          : { action: 'member.onboarded', outcome: 'succeeded', detail: 'reachable again' };
      }
      try {
        await this.deps.store.members.update(next);
      } catch (error) {
        if (error instanceof ConcurrentModification) continue;
        throw error;
      }
      await this.log(
        caller,
        entry.action,
        { member: accountId },
        entry.outcome,
        entry.detail,
        accountId,
      );
      return;
    }
  }

  /** Logs a change already made: a failure to log is reported, never thrown over the change. */
  private async logAfterChange(
    caller: Caller,
    action: ActivityAction,
    target: { scope: string } | { member: string },
    detail?: string,
  ): Promise<void> {
    try {
      await this.log(caller, action, target, 'succeeded', detail);
    } catch (error) {
      this.deps.logger?.error('activity not logged after a change', {
        action,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async log(
    caller: Caller,
    action: ActivityAction,
    target: { scope: string } | { member: string },
    outcome: 'succeeded' | 'failed' | 'refused',
    detail?: string,
    accountId?: string,
  ): Promise<void> {
    await this.deps.store.activity.append({
      cause: caller.cause,
      action,
      target:
        'scope' in target
          ? { type: 'scope', id: target.scope }
          : { type: 'member', id: target.member },
      outcome,
      ...(accountId ? { accountId } : {}),
      ...(detail ? { detail } : {}),
      ...(caller.requestId ? { requestId: caller.requestId } : {}),
    });
  }

  private isoNow(): string {
    return isoNow(this.clock);
  }
}

function asMember(member: ManagedMember | DesiredMember): ManagedMember {
  if ('version' in member) return member;
  const now = new Date(0).toISOString();
  return { ...member, status: 'onboarding', version: 0, createdAt: now, updatedAt: now };
}

function describeServices(services: readonly string[]): string {
  return `services: ${services.length > 0 ? services.join(', ') : 'none'}`;
}

function describeFailure(status: MemberStatus, failure: Omit<MemberFailure, 'at'>): string {
  const role = failure.roleArn ? ` (role ${failure.roleArn})` : '';
  return `${status}${role}: ${failure.code ? `${failure.code}: ` : ''}${failure.reason}`;
}

/** What applying one plan did (MemberOutcome without the account). */
type Outcome = DistributiveOmit<MemberOutcome, 'accountId'>;

/**
 * The outcome of a change found already made when its record was read again: an earlier attempt
 * of the same run made it (an FC retry of a chunk whose outcomes were not stored; no other writer
 * creates, moves or removes members while the run holds the lease), so the run's summary counts
 * it as made. A plan with nothing to make stays unchanged.
 */
function doneBefore(planned: AccountPlan): Outcome {
  switch (planned.action) {
    case 'onboard':
      return { kind: 'added' };
    case 'update':
      return planned.moved
        ? {
            kind: 'updated',
            moved: {
              fromFolderId: planned.moved.fromFolderId ?? null,
              toFolderId: planned.moved.toFolderId,
            },
          }
        : { kind: 'updated' };
    case 'offboard':
      return { kind: 'removed', reason: planned.reason };
    default:
      return { kind: 'unchanged' };
  }
}
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A reconcile's summary from what it did per account. */
export function summarize(run: {
  runId: string;
  kind: ReconcileSummary['kind'];
  cause: ReconcileSummary['cause'];
  startedAt: string;
  finishedAt: string;
  outcomes: readonly MemberOutcome[];
  /** Accounts the plan found nothing to do for. */
  unchanged: number;
  skipped: ReconcileSummary['skipped'];
}): ReconcileSummary {
  const summary: ReconcileSummary = {
    runId: run.runId,
    kind: run.kind,
    cause: run.cause,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    added: [],
    removed: [],
    moved: [],
    updated: [],
    unchanged: run.unchanged,
    failed: [],
    skipped: run.skipped,
  };
  for (const outcome of run.outcomes) {
    switch (outcome.kind) {
      case 'added':
        summary.added.push(outcome.accountId);
        if (outcome.failure) summary.failed.push(outcome.failure);
        break;
      case 'updated':
        if (outcome.moved) summary.moved.push({ accountId: outcome.accountId, ...outcome.moved });
        else summary.updated.push(outcome.accountId);
        break;
      case 'removed':
        summary.removed.push({ accountId: outcome.accountId, reason: outcome.reason });
        break;
      case 'unchanged':
        summary.unchanged++;
        break;
      case 'failed':
        summary.failed.push(outcome.failure);
        break;
    }
  }
  if (summary.removed.length > 0) summary.note = DATA_SOURCES_KEPT;
  return summary;
}
