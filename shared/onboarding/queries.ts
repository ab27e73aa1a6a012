// What the management scope answers when asked: prerequisites, scopes and the members they
// cover, managed members (paged and one at a time), the last reconcile runs, the activity log and
// whether this account could give up its delegation. Reads only; changes are in membership.ts.

import type { DirectorySource } from '../directory/ports';
import type { ActivityEntry, ActivityLog, ActivityQuery } from '../domain/activity';
import {
  type AccountFilter,
  EVERY_ACCOUNT,
  filteredPage,
  type Page,
  type PageRequest,
} from '../domain/paging';
import { NotFound } from '../errors';
import { delegatedAdministratorRemovable, type RemovableAnswer } from './delegated-administrator';

import {
  type ManagedMember,
  type MemberStatus,
  NotAManagedMember,
  type ReconcileSummary,
  type Scope,
} from './model';
import type { MemberRepository, ReconcileRunLog, ScopeRepository } from './ports';
import {
  checkPrerequisites,
  type PrerequisiteReport,
  type PrerequisiteSettings,
} from './prerequisites';

export interface MembershipQueriesDeps {
  store: {
    scopes: Pick<ScopeRepository, 'get' | 'list'>;
    members: Pick<MemberRepository, 'get' | 'list' | 'listCoveredBy' | 'page'>;
    reconcileRuns: Pick<ReconcileRunLog, 'page'>;
    activity: Pick<ActivityLog, 'list'>;
  };
  directory: Pick<DirectorySource, 'readRoot'>;
  settings: PrerequisiteSettings;
}

export interface MemberListQuery {
  limit: number;
  cursor?: string;
  /** Filters apply within a page: a page may hold fewer than `limit` members. */
  status?: MemberStatus;
  scopeId?: string;
}

export class MembershipQueries {
  constructor(private readonly deps: MembershipQueriesDeps) {}

  async prerequisites(): Promise<PrerequisiteReport> {
    const { ok, checks } = await checkPrerequisites(this.deps.directory, this.deps.settings);
    return { ok, checks };
  }

  scopes(): Promise<Scope[]> {
    return this.deps.store.scopes.list();
  }

  /** A scope and the ids of the members it covers; NotFound for an unknown scope. */
  async scope(scopeId: string): Promise<{ scope: Scope; members: string[] }> {
    const { scopes, members } = this.deps.store;
    const scope = await scopes.get(scopeId);
    if (!scope) throw new NotFound(`There is no scope ${scopeId}`, { details: { scopeId } });
    const covered = await members.listCoveredBy(scopeId);
    return { scope, members: covered.map((m) => m.accountId) };
  }

  /**
   * One page of managed members in account order, by status and scope, of the accounts `admits`
   * lets through: the filters are applied before paging (filteredPage).
   */
  async members(
    query: MemberListQuery,
    admits: AccountFilter = EVERY_ACCOUNT,
  ): Promise<{ members: ManagedMember[]; nextCursor?: string }> {
    const page = await filteredPage(
      { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) },
      (request) => this.deps.store.members.page(request),
      (items) =>
        items.filter(
          (m) =>
            admits(m.accountId) &&
            (query.status === undefined || m.status === query.status) &&
            (query.scopeId === undefined || m.scopeIds.includes(query.scopeId)),
        ),
    );
    const members = page.items;
    return page.nextCursor === undefined ? { members } : { members, nextCursor: page.nextCursor };
  }

  /** A managed member and the scopes that cover it; NotAManagedMember otherwise. */
  async member(accountId: string): Promise<{ member: ManagedMember; scopes: Scope[] }> {
    const { scopes, members } = this.deps.store;
    const member = await members.get(accountId);
    if (!member) throw new NotAManagedMember(accountId);
    const covering = await Promise.all(member.scopeIds.map((id) => scopes.get(id)));
    return { member, scopes: covering.filter((s) => s !== undefined) };
  }

  /** The summaries of full reconciles, newest first, one page at a time. */
  async reconcileRuns(
    request: PageRequest,
  ): Promise<{ runs: ReconcileSummary[]; nextCursor?: string }> {
    const page = await this.deps.store.reconcileRuns.page<ReconcileSummary>('reconcile', request);
    const runs = page.items.map((run) => run.summary);
    return page.nextCursor === undefined ? { runs } : { runs, nextCursor: page.nextCursor };
  }

  /** The activity log, of the accounts `admits` lets through, filtered before paging. */
  activity(
    query: ActivityQuery,
    admits: AccountFilter = EVERY_ACCOUNT,
  ): Promise<Page<ActivityEntry>> {
    return filteredPage(
      query,
      (request) => this.deps.store.activity.list({ ...query, ...request }),
      (items) => items.filter((entry) => admits(entry.accountId)),
    );
  }

  /** Whether `accountId` (the account the functions run in) could give up its delegation. */
  delegatedAdministratorRemovable(accountId: string): Promise<RemovableAnswer> {
    return delegatedAdministratorRemovable(this.deps.directory, this.deps.store.members, accountId);
  }
}
