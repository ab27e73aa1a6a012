// Log integration end to end on `npm start`'s demo organization, through the API, the log-planner
// timer and its FC async fan-out to log-worker, as deployed (the tables and the central Logstore
// made as the post-deploy actions make them; demo.test.ts runs those actions themselves); batch increment then full (with a dry run), manual
// enable/disable/remove, data source names and their survival, auto-add of a new Logstore, the
// diagnosis stopping at steps 1, 2 and 3, and logs written in members appearing in the central
// Logstore with their provenance tags.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSystem } from '../../../localcloud/system';
import type { FolderNode } from '../../../shared/directory/model';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import {
  batchResultSchema,
  dataSourceDetailSchema,
  diagnosisSchema,
  policyResultSchema,
  summarySchema,
  templateSchema,
} from '../../../shared/http/log-routes';
import { activityResponseSchema } from '../../../shared/http/membership-routes';
import { managementStore } from '../../support/local-store';

const REGION = 'cn-hangzhou';
let system: Awaited<ReturnType<typeof startLocalSystem>>;
const ids: Record<string, string> = {};
let paymentsFolder = '';
let managementId = '';

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(new URL(path, system.host.apiUrl), {
    method,
    headers: {
      authorization: `Bearer ${system.host.tokens.operator}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

async function control(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(new URL(`/__localcloud/sls${path}`, system.cloud.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await response.json();
  if (!response.ok) throw new Error(`control ${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** One planning run and every worker it fanned out to. */
async function planAndPull(): Promise<void> {
  await system.host.fireTimer('log-planner');
  await system.asyncInvocations.drain();
}

interface StoredGroup {
  tags: Record<string, string> | Array<{ key: string; value: string }>;
  logs: Array<{ contents: Record<string, string> | Array<{ key: string; value: string }> }>;
}

const asRecord = (
  value: Record<string, string> | Array<{ key: string; value: string }>,
): Record<string, string> =>
  Array.isArray(value) ? Object.fromEntries(value.map((p) => [p.key, p.value])) : value;

/** The central Logstore's logs, each with its group's tags. */
async function centralLogs(): Promise<
  Array<{ tags: Record<string, string>; contents: Record<string, string> }>
> {
  const project = `rdgov-logs-${managementId}-${REGION}`;
  const read = (await control(
    'GET',
    `/projects/${project}/logstores/rdgov-integrated-logs/logs`,
  )) as { groups: StoredGroup[] };
  return read.groups.flatMap((group) =>
    group.logs.map((log) => ({ tags: asRecord(group.tags), contents: asRecord(log.contents) })),
  );
}

function folderByPath(node: FolderNode, path: string): FolderNode | undefined {
  if (node.path === path) return node;
  for (const child of node.children) {
    const found = folderByPath(child, path);
    if (found) return found;
  }
  return undefined;
}

beforeAll(async () => {
  system = await startLocalSystem({
    port: 0,
    envFile: false,
    // The post-deploy actions (npm run setup:tables, setup:logs) are what test/e2e/api/demo.test.ts
    // runs; here the tables and the central Logstore are made in process, as they would.
    deployActions: false,
    log: () => {},
    forwardDirectoryEvents: false,
    host: {
      schedule: false,
      log: process.env.RDG_E2E_LOG ? (line) => process.stdout.write(`${line}\n`) : () => {},
    },
  });
  const management = system.env.accounts.find((a) => a.kind === 'management');
  managementId = management?.id ?? '';
  await managementStore(system.env);
  const { model } = system.cloud.sls;
  const central = model.createProject({
    region: REGION,
    name: `rdgov-logs-${managementId}-${REGION}`,
    owner: managementId,
  });
  model.createLogstore(central, { name: 'rdgov-integrated-logs', shardCount: 2, ttl: 30 });
  const directory = directoryResponseSchema.parse((await call('GET', '/v1/directory')).json);
  for (const member of directory.members) ids[member.displayName] = member.accountId;
  paymentsFolder = folderByPath(directory.root, 'Root/Production/Retail/Payments')?.id ?? '';
  expect(paymentsFolder).not.toBe('');
  // Payments under a folder scope (Bastionhost's roles checked); Storefront by its own account.
  const folder = await call('POST', '/v1/scopes', {
    kind: 'folder',
    targetId: paymentsFolder,
    services: ['log-integration', 'bastionhost'],
  });
  expect(folder.status, JSON.stringify(folder.json)).toBe(202);
  // Each scope's run onboards its members in rdgov-onboarding-worker.
  await system.asyncInvocations.drain();
  const account = await call('POST', '/v1/scopes', {
    kind: 'account',
    targetId: ids['Storefront Production'],
    services: ['log-integration'],
  });
  expect(account.status, JSON.stringify(account.json)).toBe(202);
  await system.asyncInvocations.drain();
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

const name = (template: string, display: string) => `${template}_${REGION}_${ids[display]}`;

describe('log integration on the demo organization', () => {
  it('lists the preset templates; none can be changed', async () => {
    const list = await call('GET', '/v1/log-templates');
    expect(list.status).toBe(200);
    const templates = (list.json.templates as unknown[]).map((t) => templateSchema.parse(t));
    expect(templates.map((t) => t.id).sort()).toEqual([
      'actiontrail',
      'bastionhost',
      'cloudfirewall',
      'sas-alerts',
      'waf',
    ]);
    // No route changes a template: the path answers reads only.
    for (const method of ['PATCH', 'PUT', 'DELETE']) {
      expect((await call(method, '/v1/log-templates/waf', {})).status, method).toBe(405);
    }
  });

  it('batch increment, then full with a dry run first', async () => {
    const payments = ids['Payments Production'] ?? '';
    const storefront = ids['Storefront Production'] ?? '';
    const increment = await call('POST', '/v1/log-integration/batch', {
      mode: 'increment',
      accountIds: [payments, storefront],
      templateIds: ['waf', 'cloudfirewall', 'bastionhost'],
    });
    expect(increment.status, JSON.stringify(increment.json)).toBe(200);
    const added = batchResultSchema.parse(increment.json);
    expect(added.enabled).toHaveLength(6);
    expect(added.dataSourcesCreated).toContain(name('WAF', 'Payments Production'));
    expect(added.dataSourcesCreated).toContain(name('CloudFirewall', 'Storefront Production'));

    const body = { mode: 'full', accountIds: [payments, storefront], templateIds: ['waf'] };
    const dry = batchResultSchema.parse(
      (await call('POST', '/v1/log-integration/batch?dryRun=true', body)).json,
    );
    expect(dry.dryRun).toBe(true);
    expect(dry.disabled.map((p) => `${p.templateId}/${p.accountId}`).sort()).toEqual(
      [
        `bastionhost/${payments}`,
        `bastionhost/${storefront}`,
        `cloudfirewall/${payments}`,
        `cloudfirewall/${storefront}`,
      ].sort(),
    );
    // Nothing changed.
    const still = await call(
      'GET',
      `/v1/data-sources/${name('Bastionhost', 'Payments Production')}`,
    );
    expect(dataSourceDetailSchema.parse(still.json).dataSource.enabled).toBe(true);

    const full = batchResultSchema.parse(
      (await call('POST', '/v1/log-integration/batch', body)).json,
    );
    expect(full.dryRun).toBe(false);
    expect(full.disabled).toEqual(dry.disabled);
    const after = await call(
      'GET',
      `/v1/data-sources/${name('Bastionhost', 'Payments Production')}`,
    );
    expect(dataSourceDetailSchema.parse(after.json).dataSource).toMatchObject({
      enabled: false,
      status: 'disabled',
    });
    // Enabled and not pulled yet: the diagnosis stops at step 4.
    const waiting = diagnosisSchema.parse(
      (await call('GET', `/v1/data-sources/${name('WAF', 'Storefront Production')}/diagnosis`))
        .json,
    );
    expect(waiting).toMatchObject({ ok: false, failedStep: 4, status: 'initializing' });
    expect(waiting.steps.map((s) => s.check)).toEqual([
      'log-service-enabled',
      'in-management-scope',
      'service-linked-roles',
      'initialized',
    ]);
    // A bad mode is a 4xx naming the field.
    const bad = await call('POST', '/v1/log-integration/batch', { mode: 'all' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('mode');
  });

  it('manual add, enable, disable and remove; its data source survives', async () => {
    const gateway = ids['Payments Gateway'] ?? '';
    const path = '/v1/log-templates/bastionhost/accounts';
    const added = await call('POST', path, { accountIds: [gateway], enabled: false });
    expect(added.status, JSON.stringify(added.json)).toBe(201);
    const [result] = (added.json.added as unknown[]).map((r) => policyResultSchema.parse(r));
    expect(result?.policy.enabled).toBe(false);
    expect(result?.dataSources).toEqual([name('Bastionhost', 'Payments Gateway')]);
    expect((await call('POST', path, { accountIds: [gateway], enabled: true })).status).toBe(409);

    expect((await call('PATCH', `${path}/${gateway}`, { enabled: true })).status).toBe(200);
    const refused = await call('DELETE', `${path}/${gateway}`);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('PolicyEnabled');
    expect((await call('PATCH', `${path}/${gateway}`, { enabled: false })).status).toBe(200);
    const removed = await call('DELETE', `${path}/${gateway}`);
    expect(removed.status).toBe(200);
    expect(removed.json.dataSourcesKept).toEqual([name('Bastionhost', 'Payments Gateway')]);
    const kept = await call('GET', `/v1/data-sources/${name('Bastionhost', 'Payments Gateway')}`);
    expect(kept.status).toBe(200);
  });

  it('forwards logs written in members after integration, with their provenance tags', async () => {
    const payments = ids['Payments Production'] ?? '';
    const waf = { project: `waf-project-${payments}-${REGION}`, logstore: 'waf-logstore' };
    // The first run reads from the shards' ends (real time): logs before it are not forwarded.
    await planAndPull();
    const marker = `e2e-${Date.now()}`;
    await control('POST', `/projects/${waf.project}/logstores/${waf.logstore}/logs`, {
      topic: 'e2e',
      logs: Array.from({ length: 25 }, (_, i) => ({ contents: { marker, i: String(i) } })),
    });
    let forwarded: Awaited<ReturnType<typeof centralLogs>> = [];
    for (let round = 0; round < 5 && forwarded.length < 25; round++) {
      await planAndPull();
      forwarded = (await centralLogs()).filter((l) => l.contents.marker === marker);
    }
    expect(forwarded.map((l) => Number(l.contents.i)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    );
    expect(forwarded[0]?.tags).toMatchObject({
      rdgov_owner_account: payments,
      rdgov_template: 'waf',
      rdgov_region: REGION,
      rdgov_source_project: waf.project,
      rdgov_source_logstore: waf.logstore,
    });
    expect(forwarded[0]?.tags.rdgov_source_shard).toMatch(/^\d+$/);
    expect(forwarded[0]?.tags.rdgov_batch_id).toMatch(/^[0-9a-f]{32}$/);
    const detail = dataSourceDetailSchema.parse(
      (await call('GET', `/v1/data-sources/${name('WAF', 'Payments Production')}`)).json,
    );
    expect(detail.dataSource.status).toBe('normal');
    expect(detail.dataSource.logsForwarded).toBeGreaterThanOrEqual(25);
    // Pulled once: every check of the diagnosis passes.
    const healthy = diagnosisSchema.parse(
      (await call('GET', `/v1/data-sources/${name('WAF', 'Storefront Production')}/diagnosis`))
        .json,
    );
    expect(healthy.ok, JSON.stringify(healthy.steps)).toBe(true);
    expect(healthy.steps.map((s) => s.ok)).toEqual([true, true, true, true]);
    const summary = summarySchema.parse((await call('GET', '/v1/log-integration/summary')).json);
    expect(summary.total.dataSources).toBeGreaterThanOrEqual(7);
  });

  it('adds a new Logstore matching the template by itself, and records it', async () => {
    const payments = ids['Payments Production'] ?? '';
    const added = await call('POST', '/v1/log-templates/actiontrail/accounts', {
      accountIds: [payments],
      enabled: true,
      autoAddNewLogstores: true,
    });
    expect(added.status, JSON.stringify(added.json)).toBe(201);
    await planAndPull();
    const source = name('ActionTrail', 'Payments Production');
    const before = dataSourceDetailSchema.parse(
      (await call('GET', `/v1/data-sources/${source}`)).json,
    );
    const project = before.dataSource.logstores[0]?.project ?? '';
    expect(before.dataSource.logstores.map((l) => l.logstore)).toEqual(['actiontrail_default']);
    await control('POST', `/projects/${project}/logstores`, { logstoreName: 'actiontrail_audit' });
    await planAndPull();
    const after = dataSourceDetailSchema.parse(
      (await call('GET', `/v1/data-sources/${source}`)).json,
    );
    expect(after.dataSource.logstores.map((l) => l.logstore).sort()).toEqual([
      'actiontrail_audit',
      'actiontrail_default',
    ]);
    const activity = activityResponseSchema.parse(
      (await call('GET', `/v1/activity?accountId=${payments}`)).json,
    );
    expect(
      activity.items.some(
        (e) =>
          e.action === 'log-integration.logstore-added' && e.detail?.includes('actiontrail_audit'),
      ),
    ).toBe(true);
  });

  it('diagnoses a member whose product logging is disabled at step 1', async () => {
    const storefront = ids['Storefront Production'] ?? '';
    await control('DELETE', `/products/${storefront}/cloudfirewall`);
    const diagnosis = diagnosisSchema.parse(
      (
        await call(
          'GET',
          `/v1/data-sources/${name('CloudFirewall', 'Storefront Production')}/diagnosis`,
        )
      ).json,
    );
    expect(diagnosis.failedStep).toBe(1);
    expect(diagnosis.steps).toHaveLength(1);
    expect(diagnosis.steps[0]?.check).toBe('log-service-enabled');
    expect(diagnosis.steps[0]?.fix).toContain('Cloud Firewall');
  });

  it('diagnoses a member missing its service-linked roles at step 3', async () => {
    // Payments Production has Bastionhost's logs but not its role; its scope enables bastionhost.
    const diagnosis = diagnosisSchema.parse(
      (
        await call(
          'GET',
          `/v1/data-sources/${name('Bastionhost', 'Payments Production')}/diagnosis`,
        )
      ).json,
    );
    expect(diagnosis.steps.map((s) => s.ok)).toEqual([true, true, false]);
    expect(diagnosis.failedStep).toBe(3);
    expect(diagnosis.steps[2]?.evidence.join(' ')).toContain('AliyunServiceRoleForBastionhost');
  });

  it('diagnoses a member removed from the scope at step 2; its data sources survive', async () => {
    const storefront = ids['Storefront Production'] ?? '';
    expect((await call('DELETE', `/v1/scopes/account:${storefront}`)).status).toBe(202);
    await system.asyncInvocations.drain();
    const source = name('WAF', 'Storefront Production');
    const diagnosis = diagnosisSchema.parse(
      (await call('GET', `/v1/data-sources/${source}/diagnosis`)).json,
    );
    expect(diagnosis.failedStep).toBe(2);
    expect(diagnosis.steps[1]?.check).toBe('in-management-scope');
    expect(diagnosis.status).toBe('failed');
    const listed = await call('GET', `/v1/data-sources?accountId=${storefront}`);
    expect((listed.json.dataSources as Array<{ name: string }>).map((d) => d.name)).toContain(
      source,
    );
  });
});
