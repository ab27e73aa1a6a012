// Integrating members with log templates: batch (increment or full, with a dry run), manual add,
// enable/disable, removal, and the data sources every (template, region, member) gets. Changes run
// one at a time under a lease (a full batch must not interleave with another change); every
// policy and data source write is conditional on the version read.
//
// Only managed members whose scope enables `log-integration` can be integrated (the management
// account and delegated administrators are never managed members). Enabling a policy starts a
// new generation: its shards are read from the logs received at or after `consumeFrom`, the
// moment it was enabled (real time: the shard's end then), or the start time the caller gave.

import type { Caller } from '../domain/caller';
import { describeCause } from '../domain/caller';
import { type Clock, isoNow } from '../domain/clock';
import { runUnderLease } from '../domain/lease';
import { ConcurrentModification, RecordAlreadyExists } from '../domain/records';
import { InvalidRequest } from '../errors';
import type { ManagedMember, Scope } from '../onboarding/model';
import {
  AlreadyIntegrated,
  NotIntegrable,
  type NotIntegrableAccount,
  PolicyEnabled,
  PolicyNotFound,
  UnknownTemplate,
  UnknownTemplateIds,
} from './errors';
import {
  DATA_SOURCE_TYPE,
  type DataSource,
  dataSourceName,
  type IntegrationPolicy,
  type LogTemplate,
  policyKey,
} from './model';
import type { LogIntegrationStore } from './ports';
import { findTemplate, LOG_TEMPLATES, recommendedTemplateIds } from './templates';

export const LOG_INTEGRATION_SERVICE = 'log-integration';

export interface LogIntegrationSettings {
  /** The regions a member's products are looked for in (LOG_REGIONS). */
  regions: readonly string[];
  /** The account the functions run in (never integrated). */
  functionsAccountId: string;
}

export interface LogIntegrationDeps {
  store: LogIntegrationStore;
  settings: LogIntegrationSettings;
  clock: Clock;
}

export type Integrability =
  | { ok: true; member: ManagedMember }
  | { ok: false; reason: string; member?: ManagedMember };

/** Which members can be integrated, and why the others cannot. */
export class IntegrableMembers {
  private constructor(
    private readonly members: Map<string, ManagedMember>,
    private readonly scopes: Map<string, Scope>,
    private readonly functionsAccountId: string,
  ) {}

  static async read(
    store: Pick<LogIntegrationStore, 'management'>,
    functionsAccountId: string,
  ): Promise<IntegrableMembers> {
    const [members, scopes] = await Promise.all([
      store.management.members.list(),
      store.management.scopes.list(),
    ]);
    return new IntegrableMembers(
      new Map(members.map((m) => [m.accountId, m])),
      new Map(scopes.map((s) => [s.id, s])),
      functionsAccountId,
    );
  }

  check(accountId: string): Integrability {
    if (accountId === this.functionsAccountId) {
      return {
        ok: false,
        reason:
          'the account the functions run in (the management account or a delegated administrator) is never integrated',
      };
    }
    const member = this.members.get(accountId);
    if (!member) {
      return {
        ok: false,
        reason:
          'not a managed member (the management account and delegated administrators never are): add a scope that covers it',
      };
    }
    if (member.status === 'onboarding' || member.status === 'offboarding') {
      return { ok: false, reason: `the member is ${member.status}`, member };
    }
    const enabling = member.scopeIds.filter((id) =>
      this.scopes.get(id)?.services.includes(LOG_INTEGRATION_SERVICE),
    );
    if (enabling.length === 0) {
      return {
        ok: false,
        reason: `no scope covering it (${member.scopeIds.join(', ') || 'none'}) enables the ${LOG_INTEGRATION_SERVICE} service`,
        member,
      };
    }
    return { ok: true, member };
  }

  /** Every integrable member, in account order. */
  all(): ManagedMember[] {
    return [...this.members.values()]
      .filter((m) => this.check(m.accountId).ok)
      .sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  scopesOf(accountId: string): Scope[] {
    const member = this.members.get(accountId);
    return (member?.scopeIds ?? []).flatMap((id) => {
      const scope = this.scopes.get(id);
      return scope ? [scope] : [];
    });
  }
}

export interface PolicyRef {
  templateId: string;
  accountId: string;
}

export interface BatchInput {
  mode: 'increment' | 'full';
  /** Absent: every integrable member. */
  accountIds?: readonly string[];
  /** Absent: the recommended templates. */
  templateIds?: readonly string[];
  /** For the selected policies; absent: new ones auto-add, existing ones keep theirs. */
  autoAddNewLogstores?: boolean;
  /** ISO 8601: read from this time instead of from now, for the policies this enables. */
  startTime?: string;
}

export interface BatchResult {
  mode: 'increment' | 'full';
  dryRun: boolean;
  accountIds: string[];
  templateIds: string[];
  /** Enabled by this batch (new, or disabled before). */
  enabled: PolicyRef[];
  /** Selected and already enabled. */
  kept: PolicyRef[];
  /** Enabled before and not selected: disabled by a full batch. Always empty for increment. */
  disabled: PolicyRef[];
  /** Data sources this batch created (or, in a dry run, would create). */
  dataSourcesCreated: string[];
}

export interface AddAccountsInput {
  accountIds: readonly string[];
  enabled: boolean;
  autoAddNewLogstores?: boolean;
  startTime?: string;
}

export interface PolicyChange {
  enabled?: boolean;
  autoAddNewLogstores?: boolean;
  /** Read again from this time (a new generation), enabled or not before. */
  startTime?: string;
}

export interface PolicyResult {
  policy: IntegrationPolicy;
  dataSources: string[];
}

const CHANGE_LEASE = 'log-integration-changes';
const CHANGE_LEASE_TTL_MS = 60_000;
const CHANGE_LEASE_WAIT_MS = 20_000;

export class LogIntegration {
  constructor(private readonly deps: LogIntegrationDeps) {}

  templates(): readonly LogTemplate[] {
    return LOG_TEMPLATES;
  }

  template(id: string): LogTemplate {
    const template = findTemplate(id);
    if (!template)
      throw new UnknownTemplate(
        id,
        LOG_TEMPLATES.map((t) => t.id),
      );
    return template;
  }

  async batch(
    input: BatchInput,
    caller: Caller,
    options: { dryRun: boolean },
  ): Promise<BatchResult> {
    const templateIds = [...new Set(input.templateIds ?? recommendedTemplateIds())];
    const unknown = templateIds.filter((id) => !findTemplate(id));
    if (unknown.length > 0)
      throw new UnknownTemplateIds(
        unknown,
        LOG_TEMPLATES.map((t) => t.id),
      );
    this.checkStartTime(input.startTime);
    const plan = async (): Promise<BatchResult> => {
      const integrable = await IntegrableMembers.read(
        this.deps.store,
        this.deps.settings.functionsAccountId,
      );
      const accountIds =
        input.accountIds === undefined
          ? integrable.all().map((m) => m.accountId)
          : [...new Set(input.accountIds)].sort();
      this.requireIntegrable(integrable, accountIds);
      const policies = new Map(
        (await this.deps.store.policies.list()).map((p) => [
          policyKey(p.templateId, p.accountId),
          p,
        ]),
      );
      const selected = new Set<string>();
      const result: BatchResult = {
        mode: input.mode,
        dryRun: options.dryRun,
        accountIds,
        templateIds,
        enabled: [],
        kept: [],
        disabled: [],
        dataSourcesCreated: [],
      };
      const existingSources = new Set(
        (await this.deps.store.dataSources.list()).map((d) => d.name),
      );
      const writes: Array<() => Promise<void>> = [];
      for (const templateId of templateIds) {
        const template = this.template(templateId);
        for (const accountId of accountIds) {
          const key = policyKey(templateId, accountId);
          selected.add(key);
          const current = policies.get(key);
          const member = integrable.check(accountId).member;
          if (current?.enabled) {
            result.kept.push({ templateId, accountId });
            if (
              input.autoAddNewLogstores !== undefined &&
              input.autoAddNewLogstores !== current.autoAddNewLogstores
            ) {
              writes.push(() =>
                this.changePolicy(
                  current,
                  { autoAddNewLogstores: input.autoAddNewLogstores },
                  caller,
                  member,
                ),
              );
            }
          } else {
            result.enabled.push({ templateId, accountId });
            writes.push(() =>
              current
                ? this.changePolicy(current, { enabled: true, ...pick(input) }, caller, member)
                : this.addPolicy(
                    template,
                    accountId,
                    { enabled: true, ...pick(input) },
                    caller,
                    member,
                  ),
            );
          }
          const missing = this.deps.settings.regions
            .map((region) => dataSourceName(template, region, accountId))
            .filter((name) => !existingSources.has(name));
          result.dataSourcesCreated.push(...missing);
          if (current?.enabled && missing.length > 0) {
            // A region added to LOG_REGIONS since: its data source comes with this batch.
            writes.push(async () => {
              await this.syncDataSources(template, current, member);
            });
          }
        }
      }
      if (input.mode === 'full') {
        for (const [key, policy] of policies) {
          if (!policy.enabled || selected.has(key)) continue;
          result.disabled.push({ templateId: policy.templateId, accountId: policy.accountId });
          writes.push(() =>
            this.changePolicy(
              policy,
              { enabled: false },
              caller,
              integrable.check(policy.accountId).member,
            ),
          );
        }
      }
      if (!options.dryRun) for (const write of writes) await write();
      return result;
    };
    return options.dryRun ? plan() : this.underChangeLease(plan);
  }

  async addAccounts(
    templateId: string,
    input: AddAccountsInput,
    caller: Caller,
  ): Promise<PolicyResult[]> {
    const template = this.template(templateId);
    this.checkStartTime(input.startTime);
    return this.underChangeLease(async () => {
      const integrable = await IntegrableMembers.read(
        this.deps.store,
        this.deps.settings.functionsAccountId,
      );
      const accountIds = [...new Set(input.accountIds)].sort();
      this.requireIntegrable(integrable, accountIds);
      const existing = await Promise.all(
        accountIds.map((accountId) =>
          this.deps.store.policies.get(policyKey(templateId, accountId)),
        ),
      );
      const taken = accountIds.filter((_, i) => existing[i] !== undefined);
      if (taken.length > 0) throw new AlreadyIntegrated(templateId, taken);
      const results: PolicyResult[] = [];
      for (const accountId of accountIds) {
        const member = integrable.check(accountId).member;
        await this.addPolicy(template, accountId, input, caller, member);
        results.push(await this.policyResult(template, accountId));
      }
      return results;
    });
  }

  async updatePolicy(
    templateId: string,
    accountId: string,
    change: PolicyChange,
    caller: Caller,
  ): Promise<PolicyResult> {
    const template = this.template(templateId);
    this.checkStartTime(change.startTime);
    return this.underChangeLease(async () => {
      const policy = await this.deps.store.policies.get(policyKey(templateId, accountId));
      if (!policy) throw new PolicyNotFound(templateId, accountId);
      if (change.enabled === true || (change.startTime !== undefined && change.enabled !== false)) {
        // Enabling needs an integrable member; disabling never does.
        const integrable = await IntegrableMembers.read(
          this.deps.store,
          this.deps.settings.functionsAccountId,
        );
        this.requireIntegrable(integrable, [accountId]);
        await this.changePolicy(policy, change, caller, integrable.check(accountId).member);
      } else {
        const member = await this.deps.store.management.members.get(accountId);
        await this.changePolicy(policy, change, caller, member);
      }
      return this.policyResult(template, accountId);
    });
  }

  /** Removes a member from a template (409 while its policy is enabled); data sources stay. */
  async removeAccount(
    templateId: string,
    accountId: string,
    caller: Caller,
  ): Promise<{ templateId: string; accountId: string; dataSourcesKept: string[] }> {
    const template = this.template(templateId);
    return this.underChangeLease(async () => {
      const key = policyKey(templateId, accountId);
      const policy = await this.deps.store.policies.get(key);
      if (!policy) throw new PolicyNotFound(templateId, accountId);
      if (policy.enabled) {
        await this.record(
          caller,
          'log-integration.removal-refused',
          'refused',
          accountId,
          key,
          'the policy is enabled: disable it first',
        );
        throw new PolicyEnabled(templateId, accountId);
      }
      await this.deps.store.policies.delete(key, policy.version);
      const kept = await this.existingDataSources(template, accountId);
      await this.record(
        caller,
        'log-integration.removed',
        'succeeded',
        accountId,
        key,
        `data sources kept: ${kept.join(', ') || 'none'}`,
      );
      return { templateId, accountId, dataSourcesKept: kept };
    });
  }

  // ----------------------------------------------------------------------------------------

  private async addPolicy(
    template: LogTemplate,
    accountId: string,
    input: {
      enabled: boolean;
      autoAddNewLogstores?: boolean | undefined;
      startTime?: string | undefined;
    },
    caller: Caller,
    member: ManagedMember | undefined,
  ): Promise<void> {
    const policy = await this.deps.store.policies.create({
      templateId: template.id,
      accountId,
      enabled: input.enabled,
      autoAddNewLogstores: input.autoAddNewLogstores ?? true,
      consumeFrom: input.startTime ?? isoNow(this.deps.clock),
      generation: 1,
      changedBy: describeCause(caller.cause),
    });
    const sources = await this.syncDataSources(template, policy, member);
    await this.record(
      caller,
      'log-integration.added',
      'succeeded',
      accountId,
      policyKey(template.id, accountId),
      `${input.enabled ? 'enabled' : 'disabled'}; reading from ${policy.consumeFrom}; data sources: ${sources.join(', ')}`,
    );
  }

  private async changePolicy(
    policy: IntegrationPolicy,
    change: PolicyChange,
    caller: Caller,
    member: ManagedMember | undefined,
  ): Promise<void> {
    const template = this.template(policy.templateId);
    const enable = change.enabled ?? policy.enabled;
    const restart = enable && (!policy.enabled || change.startTime !== undefined);
    const next: IntegrationPolicy = {
      ...policy,
      enabled: enable,
      autoAddNewLogstores: change.autoAddNewLogstores ?? policy.autoAddNewLogstores,
      changedBy: describeCause(caller.cause),
      ...(restart
        ? {
            generation: policy.generation + 1,
            consumeFrom: change.startTime ?? isoNow(this.deps.clock),
          }
        : {}),
    };
    const stored = await this.deps.store.policies.update(next);
    await this.syncDataSources(template, stored, member);
    const key = policyKey(policy.templateId, policy.accountId);
    if (restart) {
      await this.record(
        caller,
        'log-integration.enabled',
        'succeeded',
        policy.accountId,
        key,
        `generation ${stored.generation}: reading from ${stored.consumeFrom}`,
      );
    } else if (policy.enabled && !enable) {
      await this.record(
        caller,
        'log-integration.disabled',
        'succeeded',
        policy.accountId,
        key,
        'its data sources stop being read; they and their checkpoints are kept',
      );
    }
  }

  /** Makes the policy's data sources (one per configured region) follow it; returns their names. */
  private async syncDataSources(
    template: LogTemplate,
    policy: IntegrationPolicy,
    member: ManagedMember | undefined,
  ): Promise<string[]> {
    const names: string[] = [];
    for (const region of this.deps.settings.regions) {
      const name = dataSourceName(template, region, policy.accountId);
      names.push(name);
      await ensureDataSource(this.deps.store, {
        name,
        type: DATA_SOURCE_TYPE,
        templateId: template.id,
        accountId: policy.accountId,
        ...(member?.displayName ? { accountName: member.displayName } : {}),
        region,
        enabled: policy.enabled,
        autoAddNewLogstores: policy.autoAddNewLogstores,
        generation: policy.generation,
        consumeFrom: policy.consumeFrom,
        logstores: [],
      });
    }
    return names;
  }

  private async policyResult(template: LogTemplate, accountId: string): Promise<PolicyResult> {
    const policy = await this.deps.store.policies.get(policyKey(template.id, accountId));
    if (!policy) throw new PolicyNotFound(template.id, accountId);
    return { policy, dataSources: await this.existingDataSources(template, accountId) };
  }

  private async existingDataSources(template: LogTemplate, accountId: string): Promise<string[]> {
    const names = (await this.deps.store.dataSources.list())
      .filter((d) => d.templateId === template.id && d.accountId === accountId)
      .map((d) => d.name);
    return names;
  }

  private requireIntegrable(integrable: IntegrableMembers, accountIds: readonly string[]): void {
    const refused: NotIntegrableAccount[] = [];
    for (const accountId of accountIds) {
      const verdict = integrable.check(accountId);
      if (!verdict.ok) refused.push({ accountId, reason: verdict.reason });
    }
    if (refused.length > 0) throw new NotIntegrable(refused);
  }

  private checkStartTime(startTime: string | undefined): void {
    if (startTime === undefined) return;
    if (Date.parse(startTime) > this.deps.clock.now()) {
      throw new InvalidRequest('startTime is in the future', [
        {
          location: 'body',
          field: 'startTime',
          message: `${startTime} is later than now: reading cannot start in the future`,
        },
      ]);
    }
  }

  private underChangeLease<T>(work: () => Promise<T>): Promise<T> {
    return runUnderLease(
      this.deps.store.leases,
      CHANGE_LEASE,
      {
        ownerPrefix: 'log-integration',
        what: 'Another log integration change',
        ttlMs: CHANGE_LEASE_TTL_MS,
        waitMs: CHANGE_LEASE_WAIT_MS,
        clock: this.deps.clock,
      },
      () => work(),
    );
  }

  private async record(
    caller: Caller,
    action:
      | 'log-integration.added'
      | 'log-integration.enabled'
      | 'log-integration.disabled'
      | 'log-integration.removed'
      | 'log-integration.removal-refused',
    outcome: 'succeeded' | 'refused',
    accountId: string,
    key: string,
    detail: string,
  ): Promise<void> {
    await this.deps.store.activity.append({
      action,
      outcome,
      accountId,
      cause: caller.cause,
      target: { type: 'log-policy', id: key },
      detail,
      ...(caller.requestId ? { requestId: caller.requestId } : {}),
    });
  }
}

function pick(input: {
  autoAddNewLogstores?: boolean | undefined;
  startTime?: string | undefined;
}): PolicyChange {
  return {
    ...(input.autoAddNewLogstores !== undefined
      ? { autoAddNewLogstores: input.autoAddNewLogstores }
      : {}),
    ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
  };
}

const ENSURE_ATTEMPTS = 5;

/**
 * Creates the data source, or makes an existing one follow its policy (enabled, generation,
 * start, auto-add, the member's name), keeping its Logstores. Retries a write that lost to a
 * concurrent one (the planner adding a Logstore).
 */
export async function ensureDataSource(
  store: Pick<LogIntegrationStore, 'dataSources'>,
  wanted: Omit<DataSource, 'version' | 'createdAt' | 'updatedAt'>,
): Promise<DataSource> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.dataSources.get(wanted.name);
    try {
      if (!current) return await store.dataSources.create(wanted);
      const next: DataSource = {
        ...current,
        enabled: wanted.enabled,
        autoAddNewLogstores: wanted.autoAddNewLogstores,
        generation: wanted.generation,
        consumeFrom: wanted.consumeFrom,
        ...(wanted.accountName ? { accountName: wanted.accountName } : {}),
      };
      const same =
        next.enabled === current.enabled &&
        next.autoAddNewLogstores === current.autoAddNewLogstores &&
        next.generation === current.generation &&
        next.consumeFrom === current.consumeFrom &&
        next.accountName === current.accountName;
      return same ? current : await store.dataSources.update(next);
    } catch (error) {
      const lost = error instanceof ConcurrentModification || error instanceof RecordAlreadyExists;
      if (!lost || attempt >= ENSURE_ATTEMPTS) throw error;
    }
  }
}
