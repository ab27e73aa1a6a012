// What log integration answers when asked: the policies of a template, data sources (paged and
// filtered, or one with its shards and gaps), the summary by status per account and template,
// and the explicit deletion of a data source. A data source's status is computed here from its
// policy state, its planner snapshot and whether its member can still be integrated.

import type { Caller } from '../domain/caller';
import type { Clock } from '../domain/clock';
import {
  type AccountFilter,
  EVERY_ACCOUNT,
  filteredPage,
  type Page,
  type PageRequest,
} from '../domain/paging';
import { DataSourceInUse, DataSourceNotFound } from './errors';
import { IntegrableMembers } from './integration';
import {
  DATA_SOURCE_STATUSES,
  type DataSource,
  type DataSourceSnapshot,
  type DataSourceStatus,
  type IntegrationPolicy,
  type LogError,
  type LogGap,
  policyKey,
} from './model';
import type { LogIntegrationStore } from './ports';
import { dataSourceStatus, liveSnapshot } from './status';
import { findTemplate } from './templates';

export interface LogQuerySettings {
  functionsAccountId: string;
  /** A data source whose pulls find nothing new for this long is `no-data`. */
  noDataAfterMs: number;
}

export interface DataSourceView {
  name: string;
  type: DataSource['type'];
  templateId: string;
  product: string;
  accountId: string;
  accountName?: string;
  region: string;
  enabled: boolean;
  status: DataSourceStatus;
  error?: LogError;
  /** ISO 8601: reading starts from the logs received at or after this time (real time: when
   *  the integration was enabled). */
  consumeFrom: string;
  autoAddNewLogstores: boolean;
  logstores: Array<{ project: string; logstore: string }>;
  shards: number;
  lastPullAt?: string;
  lastDataAt?: string;
  /** Seconds behind the end of its most lagging shard at the last pull. */
  lagSeconds?: number;
  logsPerMinute: number;
  bytesPerMinute: number;
  logsForwarded: number;
  gapCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface ShardProgress {
  project: string;
  logstore: string;
  shardId: number;
  finished: boolean;
  logsForwarded: number;
  lastPullAt?: string;
  lagSeconds?: number;
  lastError?: LogError;
  backoffUntil?: string;
}

export interface DataSourceDetail {
  dataSource: DataSourceView;
  shards: ShardProgress[];
  gaps: LogGap[];
}

export interface DataSourceQuery extends PageRequest {
  accountId?: string;
  templateId?: string;
  status?: DataSourceStatus;
}

type StatusCounts = Record<DataSourceStatus, number>;

export interface IntegrationSummary {
  generatedAt: string;
  total: StatusCounts & { dataSources: number };
  byAccount: Array<{ accountId: string; accountName?: string; counts: StatusCounts }>;
  byTemplate: Array<{ templateId: string; counts: StatusCounts }>;
}

function emptyCounts(): StatusCounts {
  return Object.fromEntries(DATA_SOURCE_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

export class LogIntegrationQueries {
  constructor(
    private readonly deps: {
      store: LogIntegrationStore;
      settings: LogQuerySettings;
      clock: Clock;
    },
  ) {}

  /** A template's policies of the accounts `admits` lets through, full pages (filteredPage). */
  policies(
    templateId: string,
    page: PageRequest,
    admits: AccountFilter = EVERY_ACCOUNT,
  ): Promise<Page<IntegrationPolicy>> {
    return filteredPage(
      page,
      (request) => this.deps.store.policies.pageForTemplate(templateId, request),
      (items) => items.filter((policy) => admits(policy.accountId)),
    );
  }

  /**
   * Data sources by account, template and status, of the accounts `admits` lets through: the
   * filters are applied before paging (filteredPage), so a page is full unless it says more may
   * follow.
   */
  async dataSources(
    query: DataSourceQuery,
    admits: AccountFilter = EVERY_ACCOUNT,
  ): Promise<Page<DataSourceView>> {
    const integrable = await this.integrable();
    return filteredPage(
      query,
      (request) => this.deps.store.dataSources.page(request),
      async (items) => {
        const candidates = items.filter(
          (d) =>
            admits(d.accountId) &&
            (query.accountId === undefined || d.accountId === query.accountId) &&
            (query.templateId === undefined || d.templateId === query.templateId),
        );
        const snapshots = await Promise.all(
          candidates.map((d) => this.deps.store.snapshots.get(d.name)),
        );
        return candidates
          .map((d, i) => this.view(d, snapshots[i], integrable))
          .filter((v) => query.status === undefined || v.status === query.status);
      },
    );
  }

  async dataSource(name: string): Promise<DataSourceDetail> {
    const source = await this.deps.store.dataSources.get(name);
    if (!source) throw new DataSourceNotFound(name);
    const [snapshot, integrable, checkpoints] = await Promise.all([
      this.deps.store.snapshots.get(name),
      this.integrable(),
      this.deps.store.checkpoints.listForDataSource(name),
    ]);
    const shards = checkpoints
      .filter((c) => c.generation === source.generation)
      .map((c): ShardProgress => {
        const shard: ShardProgress = {
          project: c.project,
          logstore: c.logstore,
          shardId: c.shardId,
          finished: c.finished,
          logsForwarded: c.logsForwarded,
        };
        if (c.lastPullAt !== undefined) shard.lastPullAt = c.lastPullAt;
        if (c.lagSeconds !== undefined) shard.lagSeconds = c.lagSeconds;
        if (c.lastError !== undefined) shard.lastError = c.lastError;
        if (c.backoffUntil !== undefined) shard.backoffUntil = c.backoffUntil;
        return shard;
      });
    const gaps = checkpoints
      .flatMap((c) => c.gaps)
      .sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : 1));
    const live = liveSnapshot(source, snapshot, checkpoints, this.deps.clock.now());
    return { dataSource: this.view(source, live, integrable), shards, gaps };
  }

  async summary(): Promise<IntegrationSummary> {
    const [sources, snapshots, integrable] = await Promise.all([
      this.deps.store.dataSources.list(),
      this.deps.store.snapshots.list(),
      this.integrable(),
    ]);
    const byName = new Map(snapshots.map((s) => [s.name, s]));
    const total = { ...emptyCounts(), dataSources: sources.length };
    const accounts = new Map<string, { accountName?: string; counts: StatusCounts }>();
    const templates = new Map<string, StatusCounts>();
    for (const source of sources) {
      const { status } = this.view(source, byName.get(source.name), integrable);
      total[status]++;
      const account = accounts.get(source.accountId) ?? {
        ...(source.accountName ? { accountName: source.accountName } : {}),
        counts: emptyCounts(),
      };
      account.counts[status]++;
      accounts.set(source.accountId, account);
      const template = templates.get(source.templateId) ?? emptyCounts();
      template[status]++;
      templates.set(source.templateId, template);
    }
    return {
      generatedAt: new Date(this.deps.clock.now()).toISOString(),
      total,
      byAccount: [...accounts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([accountId, entry]) => ({ accountId, ...entry })),
      byTemplate: [...templates.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([templateId, counts]) => ({ templateId, counts })),
    };
  }

  /**
   * Deletes a data source, its snapshot and its checkpoints. Logs already forwarded stay in the
   * central Logstore. Refused while its member's integration is enabled (the next planning run
   * would make it again).
   */
  async deleteDataSource(
    name: string,
    caller: Caller,
  ): Promise<{ name: string; deleted: true; forwardedLogsKept: true; checkpointsDeleted: number }> {
    const { store } = this.deps;
    const source = await store.dataSources.get(name);
    if (!source) throw new DataSourceNotFound(name);
    const policy = await store.policies.get(policyKey(source.templateId, source.accountId));
    const target = { type: 'data-source', id: name };
    if (policy?.enabled) {
      await store.activity.append({
        action: 'data-source.deletion-refused',
        outcome: 'refused',
        accountId: source.accountId,
        cause: caller.cause,
        target,
        detail: `the integration with ${source.templateId} is enabled: disable it first`,
        ...(caller.requestId ? { requestId: caller.requestId } : {}),
      });
      throw new DataSourceInUse(name, source.templateId, source.accountId);
    }
    await store.dataSources.delete(name, source.version);
    await store.snapshots.delete(name);
    const checkpointsDeleted = await store.checkpoints.deleteForDataSource(name);
    await store.activity.append({
      action: 'data-source.deleted',
      outcome: 'succeeded',
      accountId: source.accountId,
      cause: caller.cause,
      target,
      detail: `${checkpointsDeleted} shard checkpoints deleted; logs already forwarded stay in the central Logstore`,
      ...(caller.requestId ? { requestId: caller.requestId } : {}),
    });
    return { name, deleted: true, forwardedLogsKept: true, checkpointsDeleted };
  }

  private integrable(): Promise<IntegrableMembers> {
    return IntegrableMembers.read(this.deps.store, this.deps.settings.functionsAccountId);
  }

  private view(
    source: DataSource,
    snapshot: DataSourceSnapshot | undefined,
    integrable: IntegrableMembers,
  ): DataSourceView {
    const verdict = integrable.check(source.accountId);
    const { status, error } = dataSourceStatus(
      source,
      snapshot,
      verdict.ok ? { ok: true } : { ok: false, reason: verdict.reason },
      this.deps.clock.now(),
      this.deps.settings.noDataAfterMs,
    );
    const current = snapshot?.generation === source.generation ? snapshot : undefined;
    const view: DataSourceView = {
      name: source.name,
      type: source.type,
      templateId: source.templateId,
      product: findTemplate(source.templateId)?.product ?? source.templateId,
      accountId: source.accountId,
      region: source.region,
      enabled: source.enabled,
      status,
      consumeFrom: source.consumeFrom,
      autoAddNewLogstores: source.autoAddNewLogstores,
      logstores: source.logstores,
      shards: current?.shards ?? 0,
      logsPerMinute: current?.logsPerMinute ?? 0,
      bytesPerMinute: current?.bytesPerMinute ?? 0,
      logsForwarded: current?.logsForwarded ?? 0,
      gapCount: snapshot?.gapCount ?? 0,
      createdAt: source.createdAt,
      updatedAt: source.updatedAt,
    };
    if (source.accountName !== undefined) view.accountName = source.accountName;
    if (error) view.error = error;
    if (current?.lastPullAt !== undefined) view.lastPullAt = current.lastPullAt;
    if (current?.lastDataAt !== undefined) view.lastDataAt = current.lastDataAt;
    if (current?.lagSeconds !== undefined) view.lagSeconds = current.lagSeconds;
    return view;
  }
}
