// Diagnosis of a data source: the four checks in the product's order, stopping at the first that
// fails, each with its evidence and, when it fails, its fix; the data source's live status beside
// them. The member's Log Service and its role checks are in-memory fakes; the store is the real
// repositories over the in-memory Tablestore double.

import { beforeEach, describe, expect, it } from 'vitest';
import { CloudApiError } from '../../../shared/errors';
import { type DiagnosisDeps, diagnoseIntegration } from '../../../shared/logs/diagnosis';
import { DataSourceNotFound } from '../../../shared/logs/errors';
import { DATA_SOURCE_TYPE, type ShardCheckpoint } from '../../../shared/logs/model';
import type { MemberLogsResult, MemberRoleStatus } from '../../../shared/logs/ports';
import { InMemoryMemberLogs, logFailure } from '../../support/log-member-fakes';
import { type LogStoreFixture, logStoreFixture } from '../../support/log-store';

const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const REGION = 'cn-hangzhou';
const SAS = `SecurityCenter_${REGION}_${A}`;
const CONSUME_FROM = '2026-01-01T00:00:00.000Z';

let f: LogStoreFixture;
let logs: InMemoryMemberLogs;
let access: MemberLogsResult;
let roles: MemberRoleStatus;
let roleQueries: Array<{ accountId: string; services: readonly string[] }>;
let deps: DiagnosisDeps;

beforeEach(async () => {
  f = await logStoreFixture();
  f.clock.advance(Date.parse('2026-01-02T00:00:00.000Z') - f.clock.now());
  await f.scope('folder:fd-logs', ['security-center', 'log-integration']);
  await f.scope('folder:fd-plain', ['security-center']);
  await f.scope('folder:fd-empty', []);
  logs = new InMemoryMemberLogs(A, REGION).add(`sas-log-${A}-${REGION}`, ['sas-log']);
  access = { ok: true, logs };
  roles = { needed: [], checks: [] };
  roleQueries = [];
  deps = {
    store: f.logs,
    memberLogs: async (accountId, region) => {
      expect([accountId, region]).toEqual([A, REGION]);
      return access;
    },
    roles: async (accountId, services) => {
      roleQueries.push({ accountId, services });
      return roles;
    },
    clock: f.clock,
    settings: { functionsAccountId: MANAGEMENT, noDataAfterMs: 3_600_000 },
  };
});

async function dataSource(templateId = 'sas-alerts', name = SAS, enabled = true) {
  await f.logs.dataSources.create({
    name,
    type: DATA_SOURCE_TYPE,
    templateId,
    accountId: A,
    region: REGION,
    enabled,
    autoAddNewLogstores: true,
    generation: 1,
    consumeFrom: CONSUME_FROM,
    logstores: [],
  });
}

async function pulledAt(lastPullAt: string) {
  const checkpoint: ShardCheckpoint = {
    dataSource: SAS,
    project: `sas-log-${A}-${REGION}`,
    logstore: 'sas-log',
    shardId: 0,
    generation: 1,
    pullCount: 100,
    finished: false,
    fenceToken: 1n,
    positionTime: 0,
    logsForwarded: 1,
    bytesForwarded: 10,
    lastPullAt,
    lastDataAt: lastPullAt,
    window: [],
    failures: 0,
    gaps: [],
  };
  expect(await f.logs.checkpoints.create(checkpoint)).toBe(true);
}

describe('what is diagnosed', () => {
  it('refuses a data source that does not exist, or whose template is gone', async () => {
    await expect(diagnoseIntegration(deps, SAS)).rejects.toBeInstanceOf(DataSourceNotFound);
    await dataSource('retired', 'Retired_cn-hangzhou_2000000000000001');
    await expect(diagnoseIntegration(deps, 'Retired_cn-hangzhou_2000000000000001')).rejects.toThrow(
      'There is no data source Retired_cn-hangzhou_2000000000000001',
    );
  });
});

describe('all checks passing', () => {
  it('runs the four checks in order and reports ok with the live status', async () => {
    await f.member(A, ['folder:fd-logs', 'folder:fd-plain']);
    await dataSource();
    await pulledAt('2026-01-01T23:30:00.000Z');
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toEqual({
      dataSource: SAS,
      status: 'normal',
      ok: true,
      steps: [
        {
          step: 1,
          check: 'log-service-enabled',
          ok: true,
          evidence: [
            `project sas-log-${A}-${REGION}, Logstore sas-log: found (10 shards, TTL 30 days)`,
          ],
        },
        {
          step: 2,
          check: 'in-management-scope',
          ok: true,
          evidence: [
            `member ${A} is managed; scopes: folder:fd-logs (services: security-center, log-integration); folder:fd-plain (services: security-center)`,
          ],
        },
        {
          step: 3,
          check: 'service-linked-roles',
          ok: true,
          evidence: [
            'no service-linked role is needed for services log-integration, security-center',
          ],
        },
        {
          step: 4,
          check: 'initialized',
          ok: true,
          evidence: ['last pulled at 2026-01-01T23:30:00.000Z; status normal'],
        },
      ],
      checkedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(roleQueries).toEqual([
      { accountId: A, services: ['log-integration', 'security-center'] },
    ]);
  });

  it('reports no-data once nothing arrived for noDataAfterMs, still ok', async () => {
    await f.member(A, ['folder:fd-logs']);
    await dataSource();
    await pulledAt('2026-01-01T22:59:59.000Z');
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.status).toBe('no-data');
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.steps[3]?.evidence).toEqual([
      'last pulled at 2026-01-01T22:59:59.000Z; status no-data',
    ]);
  });
});

describe('step 1: the log service is enabled', () => {
  beforeEach(async () => {
    await f.member(A, ['folder:fd-logs']);
  });

  it('fails when the member cannot be reached, with the role to fix, and stops there', async () => {
    await dataSource();
    access = {
      ok: false,
      roleArn: `acs:ram::${A}:role/rdg-access`,
      reason: 'not trusted',
      code: 'NoPermission',
    };
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({ ok: false, failedStep: 1, status: 'initializing' });
    expect(diagnosis).not.toHaveProperty('error');
    expect(diagnosis.steps).toEqual([
      {
        step: 1,
        check: 'log-service-enabled',
        ok: false,
        evidence: [
          `the member's Log Service could not be read: AssumeRole into acs:ram::${A}:role/rdg-access failed (NoPermission: not trusted)`,
        ],
        fix: `Make sure acs:ram::${A}:role/rdg-access exists in member ${A} and trusts the account the functions run in; then diagnose again.`,
      },
    ]);
    expect(roleQueries).toEqual([]);
  });

  it('fails when no default-named Logstore exists, naming the one the product creates', async () => {
    logs = new InMemoryMemberLogs(A, REGION);
    access = { ok: true, logs };
    await dataSource();
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.failedStep).toBe(1);
    expect(diagnosis.steps).toEqual([
      {
        step: 1,
        check: 'log-service-enabled',
        ok: false,
        evidence: [`project sas-log-${A}-${REGION}: not found`],
        fix: `Enable Security Center's log delivery to Log Service in member ${A}, region ${REGION}: it creates project sas-log-${A}-${REGION} and Logstore sas-log.`,
      },
    ]);
  });

  it('names the first default name of a template with several', async () => {
    logs = new InMemoryMemberLogs(A, REGION);
    access = { ok: true, logs };
    await dataSource('waf', `WAF_${REGION}_${A}`);
    const diagnosis = await diagnoseIntegration(deps, `WAF_${REGION}_${A}`);
    expect(diagnosis.steps[0]?.evidence).toHaveLength(3);
    expect(diagnosis.steps[0]?.fix).toBe(
      `Enable Web Application Firewall's log delivery to Log Service in member ${A}, region ${REGION}: it creates project waf-project-${A}-${REGION} and Logstore waf-logstore.`,
    );
  });

  it('for a discovered template, points at where its Logstores come from', async () => {
    await dataSource('actiontrail', `ActionTrail_${REGION}_${A}`);
    const diagnosis = await diagnoseIntegration(deps, `ActionTrail_${REGION}_${A}`);
    expect(diagnosis.steps).toHaveLength(1);
    expect(diagnosis.steps[0]?.fix).toBe(
      `Enable ActionTrail's log delivery to Log Service in member ${A}, region ${REGION} (Simple Log Service, "ActionTrail events": a trail delivers to a custom project and a dedicated Logstore actiontrail_<trail name>).`,
    );
    expect(diagnosis.steps[0]?.evidence).toEqual([
      `1 project(s) in ${REGION}; Logstores matching ^actiontrail_.+$: none`,
    ]);
  });

  it('says to wait when Log Service throttles, and what to allow when it refuses', async () => {
    await dataSource();
    const throttled = new CloudApiError(
      logFailure('GetLogStore', 'throttled', 'Throttling.User', A),
    );
    logs.getLogstore = async () => {
      throw throttled;
    };
    let diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.steps[0]).toMatchObject({
      ok: false,
      evidence: [`the member's Log Service could not be read: ${throttled.message}`],
      fix: 'Log Service is throttling the member: diagnose again in a minute.',
    });
    logs.getLogstore = async () => {
      throw new CloudApiError(logFailure('GetLogStore', 'denied', 'Unauthorized', A));
    };
    diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.steps[0]?.fix).toBe(
      'Check that the member access role allows log:ListProject, log:GetProject, log:ListLogStores and log:GetLogStore; then diagnose again.',
    );
    logs.getLogstore = async () => {
      throw 'socket hang up';
    };
    diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.steps[0]).toMatchObject({
      evidence: ["the member's Log Service could not be read: socket hang up"],
      fix: expect.stringMatching(/^Check that the member access role allows/),
    });
    expect(diagnosis.failedStep).toBe(1);
  });
});

describe('step 2: in a management scope enabling log-integration', () => {
  it('fails for an account that is not a managed member: bring it under management', async () => {
    await dataSource();
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({
      ok: false,
      failedStep: 2,
      status: 'failed',
      error: {
        code: 'NotIntegrable',
        message: expect.stringMatching(/^not a managed member/),
        at: '2026-01-02T00:00:00.000Z',
      },
    });
    expect(diagnosis.steps.map((s) => s.ok)).toEqual([true, false]);
    expect(diagnosis.steps[1]).toEqual({
      step: 2,
      check: 'in-management-scope',
      ok: false,
      evidence: [
        `member ${A}: not a managed member (the management account and delegated administrators never are): add a scope that covers it`,
      ],
      fix: `Bring account ${A} under management with a scope whose services include "log-integration" (POST /v1/scopes).`,
    });
  });

  it('fails for a member whose scopes do not enable it: enable the service, naming the scopes', async () => {
    await f.member(A, ['folder:fd-plain', 'folder:fd-empty']);
    await dataSource();
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.failedStep).toBe(2);
    expect(diagnosis.steps[1]).toEqual({
      step: 2,
      check: 'in-management-scope',
      ok: false,
      evidence: [
        `member ${A}: no scope covering it (folder:fd-plain, folder:fd-empty) enables the log-integration service`,
        'scopes covering it: folder:fd-plain (services: security-center); folder:fd-empty (services: none)',
      ],
      fix: `Enable the log-integration service on a scope covering member ${A} (POST /v1/scopes with the scope's kind, target and services including "log-integration").`,
    });
    expect(roleQueries).toEqual([]);
  });

  it('a disabled data source of a member that left is disabled, not failed', async () => {
    await dataSource('sas-alerts', SAS, false);
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.status).toBe('disabled');
    expect(diagnosis).not.toHaveProperty('error');
    expect(diagnosis.failedStep).toBe(2);
  });
});

describe('step 3: service-linked roles', () => {
  beforeEach(async () => {
    await f.member(A, ['folder:fd-logs']);
  });

  it("asks for the roles of the member's scopes' services and the template's, sorted", async () => {
    logs.add(`bastionhost-project-${A}-${REGION}`, ['bastionhost-audit-logstore']);
    await dataSource('bastionhost', `Bastionhost_${REGION}_${A}`);
    await diagnoseIntegration(deps, `Bastionhost_${REGION}_${A}`);
    expect(roleQueries).toEqual([
      { accountId: A, services: ['bastionhost', 'log-integration', 'security-center'] },
    ]);
  });

  it('fails on a role found missing, naming it with the repair and check routes', async () => {
    await dataSource();
    roles = {
      needed: [
        { roleName: 'AliyunServiceRoleForSas', services: ['security-center'] },
        { roleName: 'AliyunServiceRoleForLog', services: ['log-integration', 'other'] },
        { roleName: 'AliyunServiceRoleForNew', services: ['new'] },
      ],
      checks: [
        {
          roleName: 'AliyunServiceRoleForLog',
          state: 'present',
          checkedAt: '2026-01-01T10:00:00.000Z',
        },
        {
          roleName: 'AliyunServiceRoleForSas',
          state: 'missing',
          reason: 'EntityNotExist.Role',
          checkedAt: '2026-01-01T11:00:00.000Z',
        },
      ],
    };
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({ ok: false, failedStep: 3 });
    expect(diagnosis.steps).toHaveLength(3);
    expect(diagnosis.steps[2]).toEqual({
      step: 3,
      check: 'service-linked-roles',
      ok: false,
      evidence: [
        'AliyunServiceRoleForSas (security-center): missing (EntityNotExist.Role), checked 2026-01-01T11:00:00.000Z',
        'AliyunServiceRoleForLog (log-integration, other): present, checked 2026-01-01T10:00:00.000Z',
        'AliyunServiceRoleForNew (new): not checked yet',
      ],
      fix: `Create AliyunServiceRoleForSas in member ${A}: POST /v1/members/${A}/roles/repair (or set ROLE_REPAIR_POLICY=repair); check again with POST /v1/members/${A}/roles/check.`,
    });
  });

  it('names every failing role; a role not checked yet does not fail the step', async () => {
    await dataSource();
    roles = {
      needed: [
        { roleName: 'R1', services: ['a'] },
        { roleName: 'R2', services: ['b'] },
        { roleName: 'R3', services: ['c'] },
      ],
      checks: [
        { roleName: 'R1', state: 'unknown', checkedAt: 't1' },
        { roleName: 'R2', state: 'missing', checkedAt: 't2' },
      ],
    };
    let diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.steps[2]?.fix).toMatch(/^Create R1, R2 in member /);
    expect(diagnosis.steps[2]?.evidence[0]).toBe('R1 (a): unknown, checked t1');
    roles = { needed: [{ roleName: 'R3', services: ['c', 'd'] }], checks: [] };
    diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis.steps[2]).toEqual({
      step: 3,
      check: 'service-linked-roles',
      ok: true,
      evidence: ['R3 (c, d): not checked yet'],
    });
    expect(diagnosis.failedStep).toBe(4);
  });
});

describe('step 4: initialized', () => {
  beforeEach(async () => {
    await f.member(A, ['folder:fd-logs']);
  });

  it('fails while the integration is disabled: enable it', async () => {
    await dataSource('sas-alerts', SAS, false);
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({ status: 'disabled', ok: false, failedStep: 4 });
    expect(diagnosis.steps[3]).toEqual({
      step: 4,
      check: 'initialized',
      ok: false,
      evidence: ['the integration is disabled'],
      fix: `Enable it: PATCH /v1/log-templates/sas-alerts/accounts/${A} with {"enabled": true}.`,
    });
  });

  it('fails until the first pull: wait for the planner', async () => {
    await dataSource();
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({ status: 'initializing', ok: false, failedStep: 4 });
    expect(diagnosis.steps[3]).toEqual({
      step: 4,
      check: 'initialized',
      ok: false,
      evidence: [`enabled, reading from ${CONSUME_FROM}; not pulled yet (status initializing)`],
      fix: 'Wait for the next planning run (every minute): it reads the shards from the logs received since the integration was enabled.',
    });
  });

  it("carries the planner's error into the status", async () => {
    await dataSource();
    await pulledAt('2026-01-01T23:59:00.000Z');
    const planningError = {
      code: 'LogStoreNotExist',
      message: 'gone',
      at: '2026-01-01T23:59:30.000Z',
    };
    await f.logs.snapshots.put({
      name: SAS,
      at: '2026-01-01T23:59:30.000Z',
      generation: 1,
      shards: 1,
      shardsFinished: 0,
      logsPerMinute: 0,
      bytesPerMinute: 0,
      logsForwarded: 0,
      gapCount: 0,
      planningError,
    });
    const diagnosis = await diagnoseIntegration(deps, SAS);
    expect(diagnosis).toMatchObject({ status: 'failed', error: planningError, ok: true });
    expect(diagnosis.steps[3]?.evidence).toEqual([
      'last pulled at 2026-01-01T23:59:00.000Z; status failed',
    ]);
  });
});
