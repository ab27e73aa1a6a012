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
  PolicyNotFound,
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
    expect((await entries()).find((e) => e.action === 'log-integration.removed')?.detail).toBe(
      `data sources kept: WAF_cn-hangzhou_${A}, WAF_cn-shanghai_${A}`,
    );
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

/** The activity entries written so far, oldest first (entries of one millisecond: any order). */
async function entries() {
  return (await f.store.activity.list({ limit: 100, order: 'oldest-first' })).items;
}

describe('what a change carries and records', () => {
  it('batch: deduplicated, sorted selections; start time and auto-add reach new policies and data sources', async () => {
    const start = new Date(f.clock.now() - 600_000).toISOString();
    const result = await integration.batch(
      {
        mode: 'increment',
        accountIds: [B, A, B],
        templateIds: ['waf', 'waf'],
        autoAddNewLogstores: false,
        startTime: start,
      },
      caller,
      { dryRun: false },
    );
    expect(result).toMatchObject({ mode: 'increment', dryRun: false, accountIds: [A, B] });
    expect(result.templateIds).toEqual(['waf']);
    expect(await f.logs.policies.get(`waf/${A}`)).toMatchObject({
      enabled: true,
      autoAddNewLogstores: false,
      consumeFrom: start,
      generation: 1,
      changedBy: 'user:alice',
    });
    expect(await f.logs.dataSources.get(`WAF_cn-shanghai_${B}`)).toMatchObject({
      autoAddNewLogstores: false,
      consumeFrom: start,
    });
    const added = (await entries()).filter((e) => e.accountId === A);
    expect(added).toEqual([
      expect.objectContaining({
        action: 'log-integration.added',
        outcome: 'succeeded',
        requestId: 'r-1',
        cause: caller.cause,
        target: { type: 'log-policy', id: `waf/${A}` },
        detail: `enabled; reading from ${start}; data sources: WAF_cn-hangzhou_${A}, WAF_cn-shanghai_${A}`,
      }),
    ]);
  });

  it('batch: an enabled policy keeps running; only a different auto-add setting is written', async () => {
    await integration.batch({ mode: 'increment', templateIds: ['waf'], accountIds: [A] }, caller, {
      dryRun: false,
    });
    const first = await f.logs.policies.get(`waf/${A}`);
    f.clock.advance(60_000);
    const same = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A], autoAddNewLogstores: true },
      caller,
      { dryRun: false },
    );
    expect(refs(same.kept)).toEqual([`waf/${A}`]);
    expect(same.enabled).toEqual([]);
    expect(same.dataSourcesCreated).toEqual([]);
    expect(await f.logs.policies.get(`waf/${A}`)).toEqual(first);

    const off = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A], autoAddNewLogstores: false },
      caller,
      { dryRun: false },
    );
    expect(refs(off.kept)).toEqual([`waf/${A}`]);
    const changed = await f.logs.policies.get(`waf/${A}`);
    // Still the same generation, reading from where it was: only auto-add changed.
    expect(changed).toMatchObject({
      enabled: true,
      autoAddNewLogstores: false,
      generation: 1,
      consumeFrom: first?.consumeFrom,
    });
    expect((await f.logs.dataSources.get(`WAF_cn-hangzhou_${A}`))?.autoAddNewLogstores).toBe(false);
    // A batch that says nothing of auto-add writes nothing to a running policy.
    await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A] },
      { cause: { kind: 'timer' } },
      { dryRun: false },
    );
    expect(await f.logs.policies.get(`waf/${A}`)).toEqual(changed);
    // Neither kept run is recorded as an enabling or a disabling.
    expect((await entries()).map((e) => e.action)).toEqual(['log-integration.added']);
  });

  it('batch: re-enabling a disabled policy starts a new generation from now', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: false }, caller);
    f.clock.advance(60_000);
    const result = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A] },
      caller,
      { dryRun: false },
    );
    expect(refs(result.enabled)).toEqual([`waf/${A}`]);
    expect(result.kept).toEqual([]);
    // Its data sources existed since it was added disabled.
    expect(result.dataSourcesCreated).toEqual([]);
    const now = new Date(f.clock.now()).toISOString();
    expect(await f.logs.policies.get(`waf/${A}`)).toMatchObject({
      enabled: true,
      generation: 2,
      consumeFrom: now,
      autoAddNewLogstores: true,
    });
    const enabled = (await entries()).filter((e) => e.action === 'log-integration.enabled');
    expect(enabled.map((e) => e.detail)).toEqual([`generation 2: reading from ${now}`]);
  });

  it('batch: a region added since gets its data source on the next batch', async () => {
    const oneRegion = new LogIntegration({
      store: f.logs,
      settings: { regions: ['cn-hangzhou'], functionsAccountId: MANAGEMENT },
      clock: f.clock,
    });
    await oneRegion.batch({ mode: 'increment', templateIds: ['waf'], accountIds: [A] }, caller, {
      dryRun: false,
    });
    expect((await f.logs.dataSources.list()).map((d) => d.name)).toEqual([`WAF_cn-hangzhou_${A}`]);
    const dry = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A] },
      caller,
      { dryRun: true },
    );
    expect(dry.dataSourcesCreated).toEqual([`WAF_cn-shanghai_${A}`]);
    expect(await f.logs.dataSources.get(`WAF_cn-shanghai_${A}`)).toBeUndefined();
    const real = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A] },
      caller,
      { dryRun: false },
    );
    expect(refs(real.kept)).toEqual([`waf/${A}`]);
    expect(real.dataSourcesCreated).toEqual([`WAF_cn-shanghai_${A}`]);
    const policy = await f.logs.policies.get(`waf/${A}`);
    expect(await f.logs.dataSources.get(`WAF_cn-shanghai_${A}`)).toMatchObject({
      enabled: true,
      accountName: 'Member 01',
      generation: policy?.generation,
      consumeFrom: policy?.consumeFrom,
    });
  });

  it('full: disabled policies that were not selected stay as they are and are not listed', async () => {
    await integration.addAccounts('waf', { accountIds: [B], enabled: false }, caller);
    await integration.addAccounts('bastionhost', { accountIds: [B], enabled: true }, caller);
    const before = await f.logs.policies.get(`waf/${B}`);
    const result = await integration.batch(
      { mode: 'full', templateIds: ['actiontrail'], accountIds: [A] },
      caller,
      { dryRun: false },
    );
    expect(refs(result.disabled)).toEqual([`bastionhost/${B}`]);
    expect(await f.logs.policies.get(`waf/${B}`)).toEqual(before);
    expect(await f.logs.policies.get(`bastionhost/${B}`)).toMatchObject({ enabled: false });
    const disabled = (await entries()).filter((e) => e.action === 'log-integration.disabled');
    expect(disabled).toEqual([
      expect.objectContaining({
        accountId: B,
        target: { type: 'log-policy', id: `bastionhost/${B}` },
        detail: 'its data sources stop being read; they and their checkpoints are kept',
      }),
    ]);
  });

  it('increment never disables what it did not select', async () => {
    await integration.addAccounts('bastionhost', { accountIds: [B], enabled: true }, caller);
    const result = await integration.batch(
      { mode: 'increment', templateIds: ['waf'], accountIds: [A] },
      caller,
      { dryRun: false },
    );
    expect(result.disabled).toEqual([]);
    expect(await f.logs.policies.get(`bastionhost/${B}`)).toMatchObject({ enabled: true });
  });

  it('a dry run answers while another change holds the lease; a real change waits, then is refused', async () => {
    const held = await f.logs.leases.acquire('log-integration-changes', 'other/1', {
      ttlMs: 600_000,
    });
    expect(held.acquired).toBe(true);
    const dry = await integration.batch({ mode: 'full' }, caller, { dryRun: true });
    expect(dry).toMatchObject({ mode: 'full', dryRun: true });
    expect(dry.enabled).toHaveLength(8);
    // The wait (20 s) is measured on the application's clock: move it while the change waits.
    const ticking = setInterval(() => f.clock.advance(5_000), 10);
    try {
      await expect(
        integration.batch({ mode: 'full' }, caller, { dryRun: false }),
      ).rejects.toMatchObject({
        code: 'Busy',
        holder: 'other/1',
        message: expect.stringMatching(/^Another log integration change is already running/),
      });
    } finally {
      clearInterval(ticking);
    }
    expect(await f.logs.policies.list()).toEqual([]);
  });

  it('a start time may be now, never later', async () => {
    const now = new Date(f.clock.now()).toISOString();
    await integration.addAccounts(
      'waf',
      { accountIds: [A], enabled: true, startTime: now },
      caller,
    );
    expect((await f.logs.policies.get(`waf/${A}`))?.consumeFrom).toBe(now);
    const later = new Date(f.clock.now() + 1).toISOString();
    const refused = integration.updatePolicy('waf', A, { startTime: later }, caller);
    await expect(refused).rejects.toMatchObject({
      status: 400,
      message: 'startTime is in the future',
      details: {
        issues: [
          {
            location: 'body',
            field: 'startTime',
            message: `${later} is later than now: reading cannot start in the future`,
          },
        ],
      },
    });
    await expect(
      integration.addAccounts(
        'bastionhost',
        { accountIds: [A], enabled: true, startTime: later },
        caller,
      ),
    ).rejects.toBeInstanceOf(InvalidRequest);
    expect(await f.logs.policies.get(`bastionhost/${A}`)).toBeUndefined();
  });

  it('manual add: auto-add defaults on, reading from now; only this template and account are answered', async () => {
    await integration.addAccounts('bastionhost', { accountIds: [A], enabled: true }, caller);
    const added = await integration.addAccounts(
      'waf',
      { accountIds: [A, B, A], enabled: false },
      caller,
    );
    expect(added).toHaveLength(2);
    expect(added[0]?.policy).toMatchObject({
      templateId: 'waf',
      accountId: A,
      enabled: false,
      autoAddNewLogstores: true,
      consumeFrom: new Date(f.clock.now()).toISOString(),
    });
    // Each answer names its own template's and account's data sources only.
    expect(added[0]?.dataSources).toEqual([`WAF_cn-hangzhou_${A}`, `WAF_cn-shanghai_${A}`]);
    expect(added[1]?.dataSources).toEqual([`WAF_cn-hangzhou_${B}`, `WAF_cn-shanghai_${B}`]);
    const detail = (await entries()).find(
      (e) => e.action === 'log-integration.added' && e.target?.id === `waf/${B}`,
    )?.detail;
    expect(detail).toMatch(/^disabled; reading from /);
    // One account already integrated refuses the whole request.
    await expect(
      integration.addAccounts('waf', { accountIds: [OUTSIDE, A], enabled: true }, caller),
    ).rejects.toBeInstanceOf(NotIntegrable);
    const taken = integration.addAccounts(
      'bastionhost',
      { accountIds: [B, A], enabled: true },
      caller,
    );
    await expect(taken).rejects.toBeInstanceOf(AlreadyIntegrated);
    await taken.catch((error: AlreadyIntegrated) => expect(error.message).toContain(A));
    expect(await f.logs.policies.get(`bastionhost/${B}`)).toBeUndefined();
  });

  it('a new start time on a disabled policy, kept disabled, neither restarts it nor needs an integrable member', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: false }, caller);
    const member = await f.store.members.get(A);
    if (!member) throw new Error('member');
    await f.store.members.update({ ...member, scopeIds: ['folder:fd-plain'] });
    const start = new Date(f.clock.now() - 1_000).toISOString();
    const kept = await integration.updatePolicy(
      'waf',
      A,
      { enabled: false, startTime: start },
      caller,
    );
    expect(kept.policy).toMatchObject({ enabled: false, generation: 1 });
    // A new start alone enables it again, which needs an integrable member.
    await expect(
      integration.updatePolicy('waf', A, { startTime: start }, caller),
    ).rejects.toBeInstanceOf(NotIntegrable);
    // Disabling twice records one disabling (none here: it never ran).
    expect((await entries()).map((e) => e.action)).toEqual(['log-integration.added']);
  });

  it('auto-add alone changes the policy and its data sources without a new generation', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    const changed = await integration.updatePolicy(
      'waf',
      A,
      { autoAddNewLogstores: false },
      { cause: { kind: 'timer' } },
    );
    expect(changed.policy).toMatchObject({
      enabled: true,
      generation: 1,
      autoAddNewLogstores: false,
      changedBy: 'timer:reconcile',
    });
    expect(changed.dataSources).toEqual([`WAF_cn-hangzhou_${A}`, `WAF_cn-shanghai_${A}`]);
    expect((await f.logs.dataSources.get(`WAF_cn-shanghai_${A}`))?.autoAddNewLogstores).toBe(false);
    // Neither an enabling nor a disabling.
    expect((await entries()).map((e) => e.action)).toEqual(['log-integration.added']);
    await expect(
      integration.updatePolicy('bastionhost', A, { enabled: false }, caller),
    ).rejects.toBeInstanceOf(PolicyNotFound);
    // Not an enabling: a member that left the scope may still have its auto-add changed.
    const member = await f.store.members.get(A);
    if (!member) throw new Error('member');
    await f.store.members.update({ ...member, scopeIds: ['folder:fd-plain'] });
    const back = await integration.updatePolicy('waf', A, { autoAddNewLogstores: true }, caller);
    expect(back.policy).toMatchObject({ autoAddNewLogstores: true, generation: 1 });
  });

  it('disabling records without a request id when the caller had none; removal says what was kept', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    const timer: Caller = { cause: { kind: 'timer', trigger: 'nightly' } };
    await integration.updatePolicy('waf', A, { enabled: false }, timer);
    const disabled = (await entries()).find((e) => e.action === 'log-integration.disabled');
    expect(disabled).toBeDefined();
    expect(disabled).not.toHaveProperty('requestId');
    expect(disabled?.cause).toEqual(timer.cause);
    for (const source of await f.logs.dataSources.list()) {
      await f.logs.dataSources.delete(source.name, source.version);
    }
    const removed = await integration.removeAccount('waf', A, caller);
    expect(removed).toEqual({ templateId: 'waf', accountId: A, dataSourcesKept: [] });
    const entry = (await entries()).find((e) => e.action === 'log-integration.removed');
    expect(entry).toMatchObject({
      accountId: A,
      target: { type: 'log-policy', id: `waf/${A}` },
      detail: 'data sources kept: none',
    });
    await expect(integration.removeAccount('waf', A, caller)).rejects.toBeInstanceOf(
      PolicyNotFound,
    );
  });

  it('a refused removal names the policy and its reason', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    await expect(integration.removeAccount('waf', A, caller)).rejects.toBeInstanceOf(PolicyEnabled);
    expect((await entries()).find((e) => e.outcome === 'refused')).toMatchObject({
      action: 'log-integration.removal-refused',
      accountId: A,
      target: { type: 'log-policy', id: `waf/${A}` },
      detail: 'the policy is enabled: disable it first',
    });
    expect(integration.template('waf').id).toBe('waf');
    expect(integration.templates().map((t) => t.id)).toContain('bastionhost');
  });

  it('holds the change lease, as a log-integration owner, while it writes', async () => {
    const holders: string[] = [];
    const watched = new LogIntegration({
      store: {
        ...f.logs,
        activity: {
          async append(entry) {
            const look = await f.logs.leases.acquire('log-integration-changes', 'probe/1', {
              ttlMs: 1_000,
            });
            holders.push(look.acquired ? 'free' : look.holder);
            return f.logs.activity.append(entry);
          },
        },
      },
      settings: { regions: REGIONS, functionsAccountId: MANAGEMENT },
      clock: f.clock,
    });
    await watched.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatch(/^log-integration\//);
    // Released afterwards.
    expect(
      (await f.logs.leases.acquire('log-integration-changes', 'probe/2', { ttlMs: 1_000 }))
        .acquired,
    ).toBe(true);
  });

  it('disables a policy whose member is gone, keeping what its data sources knew of it', async () => {
    await integration.addAccounts('waf', { accountIds: [A], enabled: true }, caller);
    const member = await f.store.members.get(A);
    if (!member) throw new Error('member');
    await f.store.members.delete(A, member.version);
    const result = await integration.updatePolicy('waf', A, { enabled: false }, caller);
    expect(result.policy.enabled).toBe(false);
    expect(await f.logs.dataSources.get(`WAF_cn-hangzhou_${A}`)).toMatchObject({
      enabled: false,
      accountName: 'Member 01',
    });
  });

  it('an unknown template is refused naming the known ones', async () => {
    const known = integration.templates().map((t) => t.id);
    expect(() => integration.template('nope')).toThrow(
      `There is no log template nope; the templates are ${known.join(', ')}`,
    );
    await expect(
      integration.batch({ mode: 'increment', templateIds: ['nope'] }, caller, { dryRun: true }),
    ).rejects.toMatchObject({ message: 'Unknown template ids: nope' });
    await expect(
      integration.batch({ mode: 'increment', templateIds: ['nope'] }, caller, { dryRun: true }),
    ).rejects.toMatchObject({
      details: {
        issues: [expect.objectContaining({ message: expect.stringContaining(known.join(', ')) })],
      },
    });
  });
});
