// What log integration answers: a data source's view (status, snapshot figures of its current
// generation only, optional fields present only when known), the detail with its shards and gaps
// in order, the summary by status per account and template, and the deletion with its refusal
// and activity entries.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../shared/domain/caller';
import { DataSourceInUse, DataSourceNotFound } from '../../../shared/logs/errors';
import {
  DATA_SOURCE_TYPE,
  type DataSourceSnapshot,
  type LogGap,
  type ShardCheckpoint,
} from '../../../shared/logs/model';
import { LogIntegrationQueries } from '../../../shared/logs/queries';
import { freshCheckpoint, type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const B = '2000000000000002';
const REGION = 'cn-hangzhou';
const SAS = `SecurityCenter_${REGION}_${A}`;
const NOW = Date.parse('2026-01-02T00:00:00.000Z');
const caller: Caller = { cause: { kind: 'user', identity: 'alice' }, requestId: 'r-9' };

let f: LogStoreFixture;
let queries: LogIntegrationQueries;

beforeEach(async () => {
  f = await logStoreFixture();
  f.clock.advance(NOW - f.clock.now());
  await f.scope('folder:fd-logs', ['log-integration']);
  await f.member(A, ['folder:fd-logs']);
  queries = new LogIntegrationQueries({
    store: f.logs,
    settings: { functionsAccountId: MANAGEMENT, noDataAfterMs: 3_600_000 },
    clock: f.clock,
  });
});

async function source(name: string, templateId: string, accountId: string, extra = {}) {
  return f.logs.dataSources.create({
    name,
    type: DATA_SOURCE_TYPE,
    templateId,
    accountId,
    region: REGION,
    enabled: true,
    autoAddNewLogstores: true,
    generation: 2,
    consumeFrom: '2026-01-01T00:00:00.000Z',
    logstores: [{ project: 'p', logstore: 'l' }],
    ...extra,
  });
}

const snapshot = (extra: Partial<DataSourceSnapshot> = {}): DataSourceSnapshot => ({
  name: SAS,
  at: new Date(NOW).toISOString(),
  generation: 2,
  shards: 3,
  shardsFinished: 1,
  logsPerMinute: 1.5,
  bytesPerMinute: 20,
  logsForwarded: 40,
  gapCount: 2,
  ...extra,
});

const gap = (recordedAt: string): LogGap => ({
  project: 'p',
  logstore: 'l',
  shardId: 0,
  from: 1,
  to: 2,
  estimatedCount: null,
  recordedAt,
});

const checkpoint = (shardId: number, extra: Partial<ShardCheckpoint> = {}): ShardCheckpoint =>
  freshCheckpoint(
    { dataSource: SAS, project: 'p', logstore: 'l', shardId },
    { generation: 2, cursor: 'c', pullCount: 16, ...extra },
  );

describe('data source views', () => {
  it("shows the current generation's figures and only the fields known", async () => {
    const created = await source(SAS, 'sas-alerts', A, { accountName: 'Alpha' });
    await f.logs.snapshots.put(
      snapshot({
        lastPullAt: '2026-01-01T23:59:00.000Z',
        lastDataAt: '2026-01-01T23:58:00.000Z',
        lagSeconds: 4,
      }),
    );
    const page = await queries.dataSources({ limit: 10 });
    expect(page).toEqual({
      items: [
        {
          name: SAS,
          type: DATA_SOURCE_TYPE,
          templateId: 'sas-alerts',
          product: 'Security Center',
          accountId: A,
          accountName: 'Alpha',
          region: REGION,
          enabled: true,
          status: 'normal',
          consumeFrom: '2026-01-01T00:00:00.000Z',
          autoAddNewLogstores: true,
          logstores: [{ project: 'p', logstore: 'l' }],
          shards: 3,
          lastPullAt: '2026-01-01T23:59:00.000Z',
          lastDataAt: '2026-01-01T23:58:00.000Z',
          lagSeconds: 4,
          logsPerMinute: 1.5,
          bytesPerMinute: 20,
          logsForwarded: 40,
          gapCount: 2,
          createdAt: created.createdAt,
          updatedAt: created.updatedAt,
        },
      ],
    });
  });

  it("an older generation's snapshot gives no figures but its gap count; an unknown template shows its id", async () => {
    await source(SAS, 'retired', A);
    await f.logs.snapshots.put(
      snapshot({ generation: 1, lastPullAt: '2026-01-01T23:59:00.000Z', lagSeconds: 4 }),
    );
    const [view] = (await queries.dataSources({ limit: 10 })).items;
    expect(view).toMatchObject({
      product: 'retired',
      status: 'initializing',
      shards: 0,
      logsPerMinute: 0,
      bytesPerMinute: 0,
      logsForwarded: 0,
      gapCount: 2,
    });
    expect(view).not.toHaveProperty('lastPullAt');
    expect(view).not.toHaveProperty('lagSeconds');
    expect(view).not.toHaveProperty('accountName');
    expect(view).not.toHaveProperty('error');
  });

  it('filters by account, template and status; keeps the page cursor', async () => {
    await source(SAS, 'sas-alerts', A);
    await source(`WAF_${REGION}_${A}`, 'waf', A, { enabled: false });
    await source(`WAF_${REGION}_${B}`, 'waf', B);
    const names = async (q: object) =>
      (await queries.dataSources({ limit: 10, ...q })).items.map((v) => v.name);
    expect(await names({ accountId: A })).toEqual([SAS, `WAF_${REGION}_${A}`]);
    expect(await names({ templateId: 'waf' })).toEqual([
      `WAF_${REGION}_${A}`,
      `WAF_${REGION}_${B}`,
    ]);
    expect(await names({ accountId: A, templateId: 'waf' })).toEqual([`WAF_${REGION}_${A}`]);
    expect(await names({ status: 'failed' })).toEqual([`WAF_${REGION}_${B}`]);
    const failed = await queries.dataSources({ limit: 10, status: 'failed' });
    expect(failed.items[0]?.error).toMatchObject({
      code: 'NotIntegrable',
      message: expect.stringMatching(/^not a managed member/),
    });
    expect(failed).not.toHaveProperty('nextCursor');
    const first = await queries.dataSources({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
  });

  it('applies filters and the accounts admitted before paging: full pages, each item once', async () => {
    const C = '2000000000000003';
    // In name order: A's, B's and C's sources interleave across the templates.
    for (const template of ['SecurityCenter', 'WAF', 'ActionTrail']) {
      for (const account of [A, B, C]) {
        await source(`${template}_${REGION}_${account}`, template.toLowerCase(), account);
      }
    }
    const admitsAC = (accountId: string | undefined) => accountId === A || accountId === C;
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.dataSources({ limit: 2, ...(cursor ? { cursor } : {}) }, admitsAC);
      pages.push(page.items.map((v) => v.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
    expect(pages.flat()).toEqual(
      ['ActionTrail', 'SecurityCenter', 'WAF'].flatMap((t) =>
        [A, C].map((a) => `${t}_${REGION}_${a}`),
      ),
    );
    // A filter on top: C's WAF only, found past rows that do not match, on one full page.
    const waf = await queries.dataSources({ limit: 1, templateId: 'waf' }, (a) => a === C);
    expect(waf.items.map((v) => v.name)).toEqual([`WAF_${REGION}_${C}`]);
  });
});

describe('one data source', () => {
  it('refuses a name that is not one', async () => {
    await expect(queries.dataSource('nope')).rejects.toBeInstanceOf(DataSourceNotFound);
  });

  it("lists its current generation's shards with what is known, and every gap oldest first", async () => {
    await source(SAS, 'sas-alerts', A);
    const error = { code: 'Throttling', message: 'slow', at: '2026-01-01T23:00:00.000Z' };
    await f.logs.checkpoints.create(
      checkpoint(0, {
        finished: true,
        logsForwarded: 7,
        lastPullAt: '2026-01-01T23:59:00.000Z',
        lagSeconds: 2,
        lastError: error,
        backoffUntil: '2026-01-02T00:01:00.000Z',
        gaps: [gap('2026-01-01T12:00:00.000Z')],
      }),
    );
    await f.logs.checkpoints.create(
      checkpoint(1, { gaps: [gap('2026-01-01T09:00:00.000Z'), gap('2026-01-01T03:00:00.000Z')] }),
    );
    await f.logs.checkpoints.create(
      checkpoint(2, { generation: 1, gaps: [gap('2026-01-01T06:00:00.000Z')] }),
    );
    const detail = await queries.dataSource(SAS);
    expect(detail.shards).toEqual([
      {
        project: 'p',
        logstore: 'l',
        shardId: 0,
        finished: true,
        logsForwarded: 7,
        lastPullAt: '2026-01-01T23:59:00.000Z',
        lagSeconds: 2,
        lastError: error,
        backoffUntil: '2026-01-02T00:01:00.000Z',
      },
      { project: 'p', logstore: 'l', shardId: 1, finished: false, logsForwarded: 0 },
    ]);
    // Fields not known are absent, not undefined.
    expect(Object.keys(detail.shards[1] ?? {}).sort()).toEqual([
      'finished',
      'logsForwarded',
      'logstore',
      'project',
      'shardId',
    ]);
    expect(detail.gaps.map((g) => g.recordedAt)).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T06:00:00.000Z',
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
    // Live from the checkpoints: two shards of generation 2, pulled.
    expect(detail.dataSource).toMatchObject({
      shards: 2,
      logsForwarded: 7,
      lastPullAt: '2026-01-01T23:59:00.000Z',
      gapCount: 4,
    });
  });
});

describe('policies', () => {
  it("pages a template's policies", async () => {
    await f.logs.policies.create({
      templateId: 'waf',
      accountId: A,
      enabled: false,
      autoAddNewLogstores: true,
      consumeFrom: '2026-01-01T00:00:00.000Z',
      generation: 1,
      changedBy: 'user:alice',
    });
    const page = await queries.policies('waf', { limit: 10 });
    expect(page.items.map((p) => `${p.templateId}/${p.accountId}`)).toEqual([`waf/${A}`]);
    expect((await queries.policies('sas-alerts', { limit: 10 })).items).toEqual([]);
  });

  it('pages only the accounts admitted, full pages', async () => {
    const accounts = [
      '2000000000000001',
      '2000000000000002',
      '2000000000000003',
      '2000000000000004',
    ];
    for (const accountId of accounts) {
      await f.logs.policies.create({
        templateId: 'waf',
        accountId,
        enabled: true,
        autoAddNewLogstores: true,
        consumeFrom: '2026-01-01T00:00:00.000Z',
        generation: 1,
        changedBy: 'user:alice',
      });
    }
    const even = (accountId: string | undefined) =>
      accountId?.endsWith('2') || accountId?.endsWith('4') || false;
    const first = await queries.policies('waf', { limit: 1 }, even);
    expect(first.items.map((p) => p.accountId)).toEqual(['2000000000000002']);
    const second = await queries.policies('waf', { limit: 5, cursor: first.nextCursor }, even);
    expect(second.items.map((p) => p.accountId)).toEqual(['2000000000000004']);
    expect(second).not.toHaveProperty('nextCursor');
  });
});

describe('summary', () => {
  it('counts data sources by status, per account and per template, in id order', async () => {
    await f.member(B, ['folder:fd-logs']);
    await source(`WAF_${REGION}_${B}`, 'waf', B, { accountName: 'Beta' });
    // Listed first by name, counted under a later account and template.
    await source(`Aaa_${REGION}_${B}`, 'zeta', B, { accountName: 'Beta' });
    await source(SAS, 'sas-alerts', A);
    await f.logs.snapshots.put(
      snapshot({ lastPullAt: '2026-01-01T23:59:00.000Z', lastDataAt: '2026-01-01T23:59:00.000Z' }),
    );
    await source(`WAF_${REGION}_${A}`, 'waf', A, { enabled: false });
    const summary = await queries.summary();
    const counts = (c: Partial<Record<string, number>>) => ({
      disabled: 0,
      failed: 0,
      initializing: 0,
      'no-data': 0,
      normal: 0,
      ...c,
    });
    expect(summary).toEqual({
      generatedAt: '2026-01-02T00:00:00.000Z',
      total: { ...counts({ initializing: 2, normal: 1, disabled: 1 }), dataSources: 4 },
      byAccount: [
        { accountId: A, counts: counts({ normal: 1, disabled: 1 }) },
        { accountId: B, accountName: 'Beta', counts: counts({ initializing: 2 }) },
      ],
      byTemplate: [
        { templateId: 'sas-alerts', counts: counts({ normal: 1 }) },
        { templateId: 'waf', counts: counts({ initializing: 1, disabled: 1 }) },
        { templateId: 'zeta', counts: counts({ initializing: 1 }) },
      ],
    });
  });
});

describe('deleting a data source', () => {
  it('is refused while its integration is enabled, and says so in the activity log', async () => {
    await source(SAS, 'sas-alerts', A);
    await f.logs.policies.create({
      templateId: 'sas-alerts',
      accountId: A,
      enabled: true,
      autoAddNewLogstores: true,
      consumeFrom: '2026-01-01T00:00:00.000Z',
      generation: 2,
      changedBy: 'user:alice',
    });
    await expect(queries.deleteDataSource(SAS, caller)).rejects.toBeInstanceOf(DataSourceInUse);
    expect(await f.logs.dataSources.get(SAS)).toBeDefined();
    expect(f.appended).toEqual([
      {
        action: 'data-source.deletion-refused',
        outcome: 'refused',
        accountId: A,
        cause: caller.cause,
        target: { type: 'data-source', id: SAS },
        detail: 'the integration with sas-alerts is enabled: disable it first',
        requestId: 'r-9',
      },
    ]);
  });

  it('deletes it with its snapshot and checkpoints, keeping forwarded logs', async () => {
    await source(SAS, 'sas-alerts', A);
    await f.logs.snapshots.put(snapshot());
    await f.logs.checkpoints.create(checkpoint(0));
    await f.logs.checkpoints.create(checkpoint(1));
    const result = await queries.deleteDataSource(SAS, caller);
    expect(result).toEqual({
      name: SAS,
      deleted: true,
      forwardedLogsKept: true,
      checkpointsDeleted: 2,
    });
    expect(await f.logs.dataSources.get(SAS)).toBeUndefined();
    expect(await f.logs.snapshots.get(SAS)).toBeUndefined();
    expect(await f.logs.checkpoints.listForDataSource(SAS)).toEqual([]);
    expect(f.appended).toEqual([
      {
        action: 'data-source.deleted',
        outcome: 'succeeded',
        accountId: A,
        cause: caller.cause,
        target: { type: 'data-source', id: SAS },
        detail: '2 shard checkpoints deleted; logs already forwarded stay in the central Logstore',
        requestId: 'r-9',
      },
    ]);
    await expect(queries.deleteDataSource(SAS, caller)).rejects.toBeInstanceOf(DataSourceNotFound);
  });
});
