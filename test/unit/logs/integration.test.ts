// Integration policies and data sources through the use cases, on the real repositories over the
// in-memory Tablestore double: batch increment and full (dry run first), manual add, enable and
// disable, removal (409 while enabled), who can be integrated, data source names and survival,
// and what the queries answer about them.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import { InvalidRequest } from '../../../shared/errors';
import {
  AlreadyIntegrated,
  DataSourceInUse,
  NotIntegrable,
  PolicyEnabled,
  UnknownTemplate,
  UnknownTemplateIds,
} from '../../../shared/logs/errors';
import { LogIntegration } from '../../../shared/logs/integration';
import { LogIntegrationQueries } from '../../../shared/logs/queries';
import { type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const caller: Caller = { cause: { kind: 'user', identity: 'alice' }, requestId: 'r-1' };
const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const B = '2000000000000002';
const OUTSIDE = '2000000000000003';
const REGIONS = ['cn-hangzhou', 'cn-shanghai'];

let f: LogStoreFixture;
let integration: LogIntegration;
let queries: LogIntegrationQueries;

beforeEach(async () => {
  f = await logStoreFixture();
  await f.scope('folder:fd-logs', ['security-center', 'log-integration']);
  await f.scope('folder:fd-plain', ['security-center']);
  await f.member(A, ['folder:fd-logs']);
  await f.member(B, ['folder:fd-logs', 'folder:fd-plain']);
  await f.member(OUTSIDE, ['folder:fd-plain']);
  const settings = { regions: REGIONS, functionsAccountId: MANAGEMENT, noDataAfterMs: 3_600_000 };
  integration = new LogIntegration({ store: f.logs, settings, clock: f.clock });
  queries = new LogIntegrationQueries({ store: f.logs, settings, clock: f.clock });
});

const refs = (list: Array<{ templateId: string; accountId: string }>) =>
  list.map((r) => `${r.templateId}/${r.accountId}`).sort();

describe('batch integration', () => {
  it('increment: every integrable member x the recommended templates, a data source per region', async () => {
    const result = await integration.batch({ mode: 'increment' }, caller, { dryRun: false });
    expect(result.accountIds).toEqual([A, B]);
    expect(result.templateIds).toEqual(['waf', 'cloudfirewall', 'sas-alerts', 'bastionhost']);
    expect(result.enabled).toHaveLength(8);
    expect(result.disabled).toEqual([]);
    expect(result.dataSourcesCreated).toHaveLength(16);
    expect(result.dataSourcesCreated).toContain(`WAF_cn-shanghai_${A}`);
    const sources = await f.logs.dataSources.list();
    expect(sources.map((d) => d.name).sort()).toEqual([...result.dataSourcesCreated].sort());
    expect(sources.every((d) => d.enabled && d.type === 'custom-log-service')).toBe(true);
    expect(sources.find((d) => d.name === `Bastionhost_cn-hangzhou_${B}`)).toMatchObject({
      accountId: B,
      accountName: 'Member 02',
      region: 'cn-hangzhou',
      templateId: 'bastionhost',
      generation: 1,
      consumeFrom: new Date(f.clock.now()).toISOString(),
      logstores: [],
    });
    // A second increment keeps what runs and adds the selected.
    const again = await integration.batch(
      { mode: 'increment', templateIds: ['actiontrail'], accountIds: [A] },
      caller,
      { dryRun: false },
    );
    expect(refs(again.enabled)).toEqual([`actiontrail/${A}`]);
    expect((await f.logs.policies.list()).filter((p) => p.enabled)).toHaveLength(9);
  });

  it('full: a dry run says what would be enabled and disabled and changes nothing; the real one does it', async () => {
    await integration.batch({ mode: 'increment' }, caller, { dryRun: false });
    const before = await f.logs.policies.list();
    const dry = await integration.batch(
      { mode: 'full', accountIds: [A], templateIds: ['waf', 'actiontrail'] },
      caller,
      { dryRun: true },
    );
    expect(dry.dryRun).toBe(true);
    expect(refs(dry.enabled)).toEqual([`actiontrail/${A}`]);
    expect(refs(dry.kept)).toEqual([`waf/${A}`]);
    expect(refs(dry.disabled)).toEqual([
      `bastionhost/${A}`,
      `bastionhost/${B}`,
      `cloudfirewall/${A}`,
      `cloudfirewall/${B}`,
      `sas-alerts/${A}`,
      `sas-alerts/${B}`,
      `waf/${B}`,
    ]);
    expect(dry.dataSourcesCreated.sort()).toEqual([
      `ActionTrail_cn-hangzhou_${A}`,
      `ActionTrail_cn-shanghai_${A}`,
    ]);
    expect(await f.logs.policies.list()).toEqual(before);

    const real = await integration.batch(
      { mode: 'full', accountIds: [A], templateIds: ['waf', 'actiontrail'] },
      caller,
      { dryRun: false },
    );
    expect(refs(real.disabled)).toEqual(refs(dry.disabled));
    const enabled = (await f.logs.policies.list()).filter((p) => p.enabled);
    expect(refs(enabled)).toEqual([`actiontrail/${A}`, `waf/${A}`]);
    // Disabled integrations keep their data sources, disabled.
    const waf = await f.logs.dataSources.get(`WAF_cn-hangzhou_${B}`);
    expect(waf?.enabled).toBe(false);
    const actions = (await f.store.activity.list({ limit: 100 })).items.map((e) => e.action);
    expect(actions.filter((a) => a === 'log-integration.disabled')).toHaveLength(7);
  });

  it('refuses members that cannot be integrated, and unknown templates, changing nothing', async () => {
    const attempt = integration.batch(
      { mode: 'increment', accountIds: [A, OUTSIDE, MANAGEMENT, '2999999999999999'] },
      caller,
      { dryRun: false },
    );
    await expect(attempt).rejects.toBeInstanceOf(NotIntegrable);
    await attempt.catch((error: NotIntegrable) => {
      expect(error.status).toBe(409);
      const accounts = (error.details as { accounts: Array<{ accountId: string; reason: string }> })
        .accounts;
      expect(accounts.map((a) => a.accountId)).toEqual(
        ['2999999999999999', OUTSIDE, MANAGEMENT].sort(),
      );
      expect(accounts.find((a) => a.accountId === OUTSIDE)?.reason).toMatch(/log-integration/);
      expect(accounts.find((a) => a.accountId === MANAGEMENT)?.reason).toMatch(/never integrated/);
    });
    await expect(
      integration.batch({ mode: 'increment', templateIds: ['waf', 'nope'] }, caller, {
        dryRun: false,
      }),
    ).rejects.toBeInstanceOf(UnknownTemplateIds);
    await expect(
      integration.batch(
        { mode: 'increment', startTime: new Date(f.clock.now() + 60_000).toISOString() },
        caller,
        { dryRun: false },
      ),
    ).rejects.toBeInstanceOf(InvalidRequest);
    expect(await f.logs.policies.list()).toEqual([]);
    expect(await f.logs.dataSources.list()).toEqual([]);
  });
});

describe('manual integration', () => {
  it('adds accounts enabled or disabled, with their data sources; only accounts not yet integrated', async () => {
    const added = await integration.addAccounts(
      'bastionhost',
      { accountIds: [B, A], enabled: false },
      caller,
    );
    expect(added.map((r) => [r.policy.accountId, r.policy.enabled])).toEqual([
      [A, false],
      [B, false],
    ]);
    expect(added[0]?.dataSources).toEqual([
      `Bastionhost_cn-hangzhou_${A}`,
      `Bastionhost_cn-shanghai_${A}`,
    ]);
    const source = await f.logs.dataSources.get(`Bastionhost_cn-hangzhou_${A}`);
    expect(source?.enabled).toBe(false);
    await expect(
      integration.addAccounts('bastionhost', { accountIds: [A], enabled: true }, caller),
    ).rejects.toBeInstanceOf(AlreadyIntegrated);
    await expect(
      integration.addAccounts('nope', { accountIds: [A], enabled: true }, caller),
    ).rejects.toBeInstanceOf(UnknownTemplate);
  });

  it('enables (a new generation, reading from now or the given start), disables, then removes', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: false }, caller);
    f.clock.advance(60_000);
    const enabled = await integration.updatePolicy('waf', A, { enabled: true }, caller);
    expect(enabled.policy).toMatchObject({
      enabled: true,
      generation: 2,
      consumeFrom: new Date(f.clock.now()).toISOString(),
    });
    const start = new Date(f.clock.now() - 3_600_000).toISOString();
    const backfill = await integration.updatePolicy('waf', A, { startTime: start }, caller);
    expect(backfill.policy).toMatchObject({ generation: 3, consumeFrom: start });
    expect((await f.logs.dataSources.get(`WAF_cn-shanghai_${A}`))?.generation).toBe(3);

    await expect(integration.removeAccount('waf', A, caller)).rejects.toBeInstanceOf(PolicyEnabled);
    await integration.updatePolicy('waf', A, { enabled: false }, caller);
    const removed = await integration.removeAccount('waf', A, caller);
    expect(removed.dataSourcesKept).toEqual([`WAF_cn-hangzhou_${A}`, `WAF_cn-shanghai_${A}`]);
    expect(await f.logs.policies.get(`waf/${A}`)).toBeUndefined();
    expect(await f.logs.dataSources.get(`WAF_cn-hangzhou_${A}`)).toBeDefined();
    const actions = (await f.store.activity.list({ limit: 100, order: 'oldest-first' })).items.map(
      (e) => `${e.action} ${e.outcome}`,
    );
    // Entries of the same millisecond have no order among themselves.
    expect(actions.sort()).toEqual([
      'log-integration.added succeeded',
      'log-integration.disabled succeeded',
      'log-integration.enabled succeeded',
      'log-integration.enabled succeeded',
      'log-integration.removal-refused refused',
      'log-integration.removed succeeded',
    ]);
  });

  it('enabling needs an integrable member; disabling never does', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    const member = await f.store.members.get(A);
    if (!member) throw new Error('member');
    await f.store.members.update({ ...member, scopeIds: ['folder:fd-plain'] });
    await integration.updatePolicy('waf', A, { enabled: false }, caller);
    await expect(
      integration.updatePolicy('waf', A, { enabled: true }, caller),
    ).rejects.toBeInstanceOf(NotIntegrable);
  });
});

describe('data sources', () => {
  it('are listed with their status, filtered by account, template and status, and summed up', async () => {
    await integration.batch({ mode: 'increment', templateIds: ['waf', 'bastionhost'] }, caller, {
      dryRun: false,
    });
    await integration.updatePolicy('waf', B, { enabled: false }, caller);
    const all = await queries.dataSources({ limit: 100 });
    expect(all.items).toHaveLength(8);
    expect(
      (await queries.dataSources({ limit: 100, accountId: B, templateId: 'waf' })).items.map(
        (d) => [d.name, d.status],
      ),
    ).toEqual([
      [`WAF_cn-hangzhou_${B}`, 'disabled'],
      [`WAF_cn-shanghai_${B}`, 'disabled'],
    ]);
    expect((await queries.dataSources({ limit: 100, status: 'initializing' })).items).toHaveLength(
      6,
    );
    // A member that left the scope: its data sources stay, failed with the reason.
    const member = await f.store.members.get(A);
    if (!member) throw new Error('member');
    await f.store.members.update({ ...member, scopeIds: ['folder:fd-plain'] });
    const failed = await queries.dataSources({ limit: 100, status: 'failed' });
    expect(failed.items.map((d) => d.accountId)).toEqual([A, A, A, A]);
    expect(failed.items[0]?.error?.code).toBe('NotIntegrable');
    const summary = await queries.summary();
    expect(summary.total).toMatchObject({
      dataSources: 8,
      failed: 4,
      disabled: 2,
      initializing: 2,
    });
    expect(summary.byAccount.find((a) => a.accountId === B)?.counts).toMatchObject({
      disabled: 2,
      initializing: 2,
    });
    expect(summary.byTemplate.find((t) => t.templateId === 'waf')?.counts).toMatchObject({
      failed: 2,
      disabled: 2,
    });
  });

  it('pages in name order', async () => {
    await integration.batch({ mode: 'increment' }, caller, { dryRun: false });
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.dataSources({ limit: 5, ...(cursor ? { cursor } : {}) });
      names.push(...page.items.map((d) => d.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toHaveLength(16);
    expect(names).toEqual([...names].sort());
  });

  it('are deleted only explicitly, once their integration is disabled; forwarded logs stay', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    const name = `WAF_cn-hangzhou_${A}`;
    await expect(queries.deleteDataSource(name, caller)).rejects.toBeInstanceOf(DataSourceInUse);
    await integration.updatePolicy('waf', A, { enabled: false }, caller);
    await f.logs.checkpoints.create({
      dataSource: name,
      project: 'p',
      logstore: 'l',
      shardId: 0,
      generation: 1,
      cursor: 'MA==',
      pullCount: 16,
      finished: false,
      fenceToken: 1n,
      positionTime: 0,
      logsForwarded: 0,
      bytesForwarded: 0,
      window: [],
      failures: 0,
      gaps: [],
    });
    const deleted = await queries.deleteDataSource(name, caller);
    expect(deleted).toEqual({
      name,
      deleted: true,
      forwardedLogsKept: true,
      checkpointsDeleted: 1,
    });
    expect(await f.logs.dataSources.get(name)).toBeUndefined();
    expect(await f.logs.dataSources.get(`WAF_cn-shanghai_${A}`)).toBeDefined();
    const entries = (await f.store.activity.list({ limit: 10 })).items.map((e) => e.action);
    expect(entries).toContain('data-source.deleted');
    expect(entries).toContain('data-source.deletion-refused');
  });
});
