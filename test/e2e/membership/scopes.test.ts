// Management scope end to end: the api, directory-events and reconcile functions of s.yaml run in
// the local function host against localcloud; the tests act as a portal (HTTP), as localcloud's
// operator (controls), as EventBridge (events recorded by localcloud) and as the timer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACCESS_ROLE_NAME } from '../../../localcloud/index';
import { errorEnvelopeSchema } from '../../../shared/http/app';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import {
  activityResponseSchema,
  memberResponseSchema,
  membersResponseSchema,
  prerequisitesResponseSchema,
  reconcileRunsResponseSchema,
  reconcileStartedResponseSchema,
  reconcileSummarySchema,
  removableResponseSchema,
  runProgressSchema,
  scopeChangeResponseSchema,
} from '../../../shared/http/membership-routes';
import { invalidRequestDetailsSchema } from '../../../shared/http/validation';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { folderOf, memberId, testOrganization } from '../../support/organization';

const MEMBERS = 20;
let env: MembershipSystem;
let folders: Map<string, string>;

/** Member indexes whose folder is Production or below it (member 0, a delegated
 *  administrator, never becomes a member). */
const underProduction = Array.from({ length: MEMBERS }, (_, i) => i).filter(
  (i) => i !== 0 && folderOf(i).startsWith('Production'),
);

beforeAll(async () => {
  env = await startMembershipSystem(testOrganization({ members: MEMBERS }));
  const snapshot = env.system.cloud.organization.snapshot();
  folders = new Map(snapshot.folders.map((f) => [f.path, f.id]));
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

function folderId(path: string): string {
  const id = folders.get(path) ?? folders.get(`/${path}`) ?? folders.get(`Root/${path}`);
  if (!id) throw new Error(`no folder ${path} among ${[...folders.keys()].join(', ')}`);
  return id;
}

async function managedIds(): Promise<string[]> {
  return (await env.store.members.list()).map((m) => m.accountId).sort();
}

/** The run a change answered with, once the onboarding worker has carried it to its end. */
async function settled(res: { status: number; json: Record<string, unknown> }) {
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  const { run } = z.object({ run: runProgressSchema }).parse(res.json);
  await env.system.asyncInvocations.drain();
  const progress = await env.call('GET', `/v1/reconcile/runs/${run.runId}`);
  expect(progress.status).toBe(200);
  const finished = runProgressSchema.parse(progress.json);
  expect(finished.state).toBe('finished');
  if (!finished.summary) throw new Error('a finished run has a summary');
  return { ...finished, summary: finished.summary };
}

async function deliverNewEvents(since: number): Promise<number> {
  const events = env.system.cloud.events(since);
  for (const { event } of events) await env.system.host.publishEvent(event);
  return events.at(-1)?.seq ?? since;
}

describe('management scope through the function host', () => {
  it('refuses bad input with 400/404 and field details, writing nothing', async () => {
    const cases: Array<{ body?: unknown; rawBody?: string; status: number; field?: string }> = [
      {
        body: { kind: 'account', targetId: '12ab', services: ['bdrc'] },
        status: 400,
        field: 'targetId',
      },
      {
        body: { kind: 'folder', targetId: 'folder-1', services: ['bdrc'] },
        status: 400,
        field: 'targetId',
      },
      {
        body: { kind: 'folder', targetId: 'fd-abc', services: ['no-such'] },
        status: 400,
        field: 'services.0',
      },
      { body: { kind: 'galaxy', services: ['bdrc'] }, status: 400, field: 'kind' },
      { body: { kind: 'directory', services: 'bdrc' }, status: 400, field: 'services' },
      { body: { kind: 'directory', services: ['bdrc'], extra: 1 }, status: 400, field: 'extra' },
      {
        body: { kind: 'folder', targetId: `fd-${'x'.repeat(200)}`, services: ['bdrc'] },
        status: 400,
        field: 'targetId',
      },
      { rawBody: '', status: 400, field: '' },
      { rawBody: '{not json', status: 400, field: '' },
    ];
    for (const c of cases) {
      const res = await env.call('POST', '/v1/scopes', {
        ...(c.body !== undefined ? { body: c.body } : { rawBody: c.rawBody ?? '' }),
      });
      expect(res.status, JSON.stringify(c)).toBe(c.status);
      const error = errorEnvelopeSchema.parse(res.json);
      expect(error.code).toBe('InvalidRequest');
      const { issues } = invalidRequestDetailsSchema.parse(error.details);
      expect(issues.map((i) => i.field)).toContain(c.field);
    }
    const missing = await env.call('POST', '/v1/scopes', {
      body: { kind: 'folder', targetId: 'fd-doesnotexist1', services: ['bdrc'] },
    });
    expect(missing.status).toBe(404);
    expect(errorEnvelopeSchema.parse(missing.json).message).toContain('fd-doesnotexist1');
    const oversized = await env.call('POST', '/v1/scopes', {
      rawBody: JSON.stringify({
        kind: 'directory',
        services: ['bdrc'],
        pad: 'x'.repeat(2_000_000),
      }),
    });
    expect(oversized.status).toBe(413);
    expect(await env.store.scopes.list()).toEqual([]);
    expect((await env.store.activity.list({ limit: 10 })).items).toEqual([]);
    // Not even the lease: refused requests are turned away before it is taken.
    expect(await env.store.leases.current('membership')).toBeUndefined();
  });

  it('refuses the management account and a delegated administrator as members (400)', async () => {
    for (const accountId of [env.managementAccountId, memberId(0)]) {
      const res = await env.call('POST', '/v1/scopes', {
        body: { kind: 'account', targetId: accountId, services: ['bdrc'] },
      });
      expect(res.status).toBe(400);
      expect(errorEnvelopeSchema.parse(res.json).message).toContain(accountId);
    }
    expect(await env.store.scopes.list()).toEqual([]);
  });

  it('viewer tokens read but may not change scopes (403), no token gets 401', async () => {
    const body = { kind: 'directory', services: ['bdrc'] };
    const viewer = await env.call('POST', '/v1/scopes', {
      body,
      token: env.system.host.tokens.viewer,
    });
    expect(viewer.status).toBe(403);
    expect(errorEnvelopeSchema.parse(viewer.json).code).toBe('Forbidden');
    expect((await env.call('POST', '/v1/scopes', { body, token: null })).status).toBe(401);
    const read = await env.call('GET', '/v1/scopes', { token: env.system.host.tokens.viewer });
    expect(read.status).toBe(200);
  });

  it('reports the prerequisites as passing', async () => {
    const res = await env.call('GET', '/v1/prerequisites');
    expect(res.status).toBe(200);
    const report = prerequisitesResponseSchema.parse(res.json);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'resource-directory-enabled',
      'administrator-account',
      'member-access-role',
    ]);
  });

  it('a folder scope brings in every member under it, nested folders included', async () => {
    const res = await env.call('POST', '/v1/scopes', {
      body: { kind: 'folder', targetId: folderId('Production'), services: ['security-center'] },
    });
    expect(scopeChangeResponseSchema.parse(res.json)).toMatchObject({
      created: true,
      scope: { id: `folder:${folderId('Production')}` },
    });
    const expected = underProduction.map(memberId).sort();
    const { summary, total, done, pending } = await settled(res);
    expect({ total, done, pending }).toEqual({
      total: expected.length,
      done: expected.length,
      pending: 0,
    });
    expect(await managedIds()).toEqual(expected);
    expect([...summary.added].sort()).toEqual(expected);
    expect(summary.failed).toEqual([]);
    const one = await env.call('GET', `/v1/members/${expected[0]}`);
    expect(one.status).toBe(200);
    const { member, scopes } = memberResponseSchema.parse(one.json);
    expect(member.status).toBe('managed');
    // The folder path as GET /v1/directory writes it: names from the root, joined by '/'.
    expect(member.folderPath).toMatch(/^Root\/Production(\/|$)/);
    const directory = directoryResponseSchema.parse((await env.call('GET', '/v1/directory')).json);
    const listed = directory.members.find((m) => m.accountId === member.accountId);
    expect(listed?.folderPath).toBe(member.folderPath);
    expect(listed?.displayName).toBe(member.displayName);
    expect(scopes.map((s) => s.id)).toEqual([`folder:${folderId('Production')}`]);
  });

  it('pages through members with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await env.call('GET', `/v1/members?${query}`);
      expect(res.status).toBe(200);
      const page = membersResponseSchema.parse(res.json);
      expect(page.members.length).toBeLessThanOrEqual(3);
      seen.push(...page.members.map((m) => m.accountId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toEqual(await managedIds());
    expect(pages).toBeGreaterThan(1);
    const bad = await env.call('GET', '/v1/members?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
  });

  it('refuses to remove a folder-managed member on its own (409 naming the scope)', async () => {
    const accountId = memberId(underProduction[0] ?? 0);
    const res = await env.call('DELETE', `/v1/members/${accountId}`);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('ManagedByScope');
    expect(res.json.message).toContain(`folder:${folderId('Production')}`);
    expect(await managedIds()).toContain(accountId);
  });

  it('a member created in the folder is managed after its event', async () => {
    let seq = env.system.cloud.events().at(-1)?.seq ?? 0;
    const created = await env.control('POST', '/members', {
      name: 'late-joiner',
      folderId: folderId('Production/Retail'),
    });
    const accountId = String(created.id ?? '');
    expect(accountId).toMatch(/^\d{16}$/);
    expect(await managedIds()).not.toContain(accountId);
    seq = await deliverNewEvents(seq);
    expect(await managedIds()).toContain(accountId);
    const activity = await env.call('GET', `/v1/activity?accountId=${accountId}`);
    const { items } = activityResponseSchema.parse(activity.json);
    expect(items[0]).toMatchObject({ action: 'member.onboarded', cause: { kind: 'event' } });
  });

  it('without the event, the next reconcile picks a new member up', async () => {
    const created = await env.control('POST', '/members', {
      name: 'quiet-joiner',
      folderId: folderId('Production/Retail/Web'),
    });
    const accountId = String(created.id ?? '');
    expect(await managedIds()).not.toContain(accountId);
    const result = z
      .object({ reconciled: reconcileSummarySchema })
      .parse(await env.system.host.fireTimer('reconcile'));
    expect(result.reconciled.added).toEqual([accountId]);
    expect(await managedIds()).toContain(accountId);
  });

  it('a member moved out of the folder is offboarded and its records cleared', async () => {
    const accountId = memberId(underProduction[1] ?? 1);
    await env.store.roleChecks.recordAll([
      {
        accountId,
        roleName: 'AliyunServiceRoleForSasRd',
        state: 'present',
        checkedAt: new Date().toISOString(),
      },
    ]);
    const seq = env.system.cloud.events().at(-1)?.seq ?? 0;
    await env.control('POST', `/members/${accountId}/move`, { folderId: folderId('Sandbox') });
    await deliverNewEvents(seq);
    expect(await managedIds()).not.toContain(accountId);
    expect(await env.store.roleChecks.listForMember(accountId)).toEqual([]);
    const activity = await env.call('GET', `/v1/activity?accountId=${accountId}`);
    const latest = activityResponseSchema.parse(activity.json).items[0];
    expect(latest?.action).toBe('member.offboarded');
    expect(latest?.detail).toContain('kept until they are deleted explicitly');
  });

  it('an unreachable member is reported with its role ARN and reason while the others onboard', async () => {
    const broken = memberId(3); // Sandbox
    await env.control('PUT', `/accounts/${broken}/roles/${ACCESS_ROLE_NAME}/trust`, {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: ['acs:ram::1111111111111111:root'] },
        },
      ],
    });
    const res = await env.call('POST', '/v1/scopes', {
      body: { kind: 'folder', targetId: folderId('Sandbox'), services: ['bdrc'] },
    });
    const { summary, failed } = await settled(res);
    expect(failed).toBe(1);
    expect(summary.failed.map((f) => f.accountId)).toEqual([broken]);
    expect(summary.failed[0]?.roleArn).toBe(`acs:ram::${broken}:role/${ACCESS_ROLE_NAME}`);
    const member = await env.call('GET', `/v1/members/${broken}`);
    expect(memberResponseSchema.parse(member.json).member).toMatchObject({
      status: 'unreachable',
      failure: { roleArn: `acs:ram::${broken}:role/${ACCESS_ROLE_NAME}` },
    });
    const others = (await env.store.members.list()).filter(
      (m) => m.scopeIds.includes(`folder:${folderId('Sandbox')}`) && m.accountId !== broken,
    );
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((m) => m.status === 'managed')).toBe(true);
  });

  it('the delegated administrator guard lists what the deployment manages', async () => {
    const res = await env.call('GET', '/v1/delegated-administrator/removable');
    expect(res.status).toBe(200);
    const answer = removableResponseSchema.parse(res.json);
    expect(answer.removable).toBe(false);
    expect(answer.managedMembers.length).toBe((await managedIds()).length);
  });

  it('removing a scope offboards the members only it covered', async () => {
    const sandbox = `folder:${folderId('Sandbox')}`;
    const covered = (await env.store.members.listCoveredBy(sandbox)).map((m) => m.accountId);
    expect(covered.length).toBeGreaterThan(0);
    const res = await env.call('DELETE', `/v1/scopes/${sandbox}`);
    expect(scopeChangeResponseSchema.parse(res.json).scope.id).toBe(sandbox);
    const { summary } = await settled(res);
    expect(summary.removed.map((r) => r.accountId).sort()).toEqual([...covered].sort());
    expect(summary.note).toContain('kept until they are deleted explicitly');
    const remaining = await managedIds();
    for (const id of covered) expect(remaining).not.toContain(id);
  });

  it("a reconcile asked for through the API runs as a run too, and is listed with the timer's", async () => {
    const res = await env.call('POST', '/v1/reconcile');
    const parsed = reconcileStartedResponseSchema.parse(res.json);
    expect(parsed.run.reason).toBe('reconcile');
    const { runId, summary } = await settled(res);
    expect(summary.kind).toBe('full');
    const runs = reconcileRunsResponseSchema.parse(
      (await env.call('GET', '/v1/reconcile/runs')).json,
    );
    expect(runs.runs.map((r) => r.runId)).toContain(runId);
    expect((await env.call('GET', '/v1/reconcile/runs/not-a-run')).status).toBe(400);
    const unknown = await env.call(
      'GET',
      '/v1/reconcile/runs/00000000-0000-4000-8000-000000000000',
    );
    expect(unknown.status).toBe(404);
    expect(errorEnvelopeSchema.parse(unknown.json).code).toBe('NotFound');
  });
});

describe('a scope change answers the truth, quickly', () => {
  it('ResourceManager failing while the run plans: the scope is stored (202), the run says what failed and who takes it up, and the timer onboards once it recovers', async () => {
    const root = env.system.cloud.organization.snapshot().rootFolderId;
    await env.control('POST', '/faults', {
      service: 'resourcemanager',
      action: 'ListAccounts',
      kind: 'error5xx',
      rate: 1,
    });
    let runId = '';
    try {
      const res = await env.call('POST', '/v1/scopes', {
        body: { kind: 'folder', targetId: root, services: ['bdrc'] },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(202);
      runId = scopeChangeResponseSchema.parse(res.json).run.runId;
      await env.system.asyncInvocations.drain();
    } finally {
      await env.control('DELETE', '/faults');
    }
    expect(await env.store.scopes.get(`folder:${root}`)).toBeDefined();
    const run = runProgressSchema.parse(
      (await env.call('GET', `/v1/reconcile/runs/${runId}`)).json,
    );
    expect(run.state).toBe('abandoned');
    expect(run.total).toBeNull();
    expect(run.note).toContain('next reconcile');
    expect(run.note).toContain('ServiceUnavailable');
    expect(await managedIds()).not.toContain(memberId(4)); // in Root: only this scope covers it

    const result = z
      .object({ reconciled: reconcileSummarySchema })
      .parse(await env.system.host.fireTimer('reconcile'));
    expect(result.reconciled.added).toContain(memberId(4));
    expect(await managedIds()).toContain(memberId(4));
  });

  it('answers 202 at once with its run, whose progress lists the members not yet done; a second change meanwhile is Busy with nothing stored', async () => {
    // Each AssumeRole (onboarding the Sandbox members again) takes 8 s: the run is still going
    // while the test looks.
    await env.control('POST', '/faults', {
      service: 'sts',
      action: 'AssumeRole',
      kind: 'latency',
      rate: 1,
      latencyMs: 8_000,
    });
    try {
      const started = performance.now();
      const res = await env.call('POST', '/v1/scopes', {
        body: { kind: 'directory', services: ['bdrc'] },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(202);
      expect(performance.now() - started).toBeLessThan(5_000);
      const { run } = scopeChangeResponseSchema.parse(res.json);
      expect(run.state).toBe('planning');
      expect(await env.store.scopes.get(run.scopeId ?? '')).toBeDefined();

      // Another scope change finds the lease held by the run: 503 Busy within a few seconds,
      // and nothing of it is stored.
      const busyStarted = performance.now();
      const busy = await env.call('POST', '/v1/scopes', {
        body: { kind: 'account', targetId: memberId(4), services: ['bdrc'] },
      });
      expect(busy.status).toBe(503);
      expect(errorEnvelopeSchema.parse(busy.json).code).toBe('Busy');
      expect(performance.now() - busyStarted).toBeLessThan(5_000);
      expect(await env.store.scopes.get(`account:${memberId(4)}`)).toBeUndefined();

      const seen = runProgressSchema.parse(
        (await env.call('GET', `/v1/reconcile/runs/${run.runId}`)).json,
      );
      expect(seen.state).toBe('running');
      expect(seen.total).toBeGreaterThan(0);
      expect(seen.pending).toBeGreaterThan(0);
      expect(seen.pendingAccountIds).toHaveLength(seen.pending ?? -1);
      expect(seen.pendingAccountIds).toContain(memberId(3)); // a Sandbox member
    } finally {
      await env.control('DELETE', '/faults');
    }
    await env.system.asyncInvocations.drain();
    expect(await managedIds()).toContain(memberId(3));
  });
});
