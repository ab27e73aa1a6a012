// Client-controlled input through the API function: paging cursors (edited, foreign, from another
// route or query) and activity time ranges. Each is the caller's mistake or an attack and must be
// answered 400 naming what was wrong, never 500, and never widen what a query may read.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityResponseSchema } from '../../../shared/http/membership-routes';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { memberId, testOrganization } from '../../support/organization';

let env: MembershipSystem;
/** A member with activity of its own (onboarded by the directory scope). */
const ACCOUNT = memberId(1);

beforeAll(async () => {
  env = await startMembershipSystem(testOrganization({ members: 8 }));
  const added = await env.call('POST', '/v1/scopes', {
    body: { kind: 'directory', services: ['security-center'] },
  });
  expect(added.status, JSON.stringify(added.json)).toBe(202);
  // The scope's run onboards the members in rdgov-onboarding-worker.
  await env.system.asyncInvocations.drain();
  // More activity of ACCOUNT's own (a refused removal is logged) and two reconcile runs, so that
  // each listing has a second page.
  for (let i = 0; i < 2; i++) {
    expect((await env.call('DELETE', `/v1/members/${ACCOUNT}`)).status).toBe(409);
    expect((await env.call('POST', '/v1/reconcile')).status).toBe(202);
    await env.system.asyncInvocations.drain();
  }
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

/** A cursor as the first cursor format spelled it (base64url JSON, no signature). */
function handMade(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

async function get(path: string) {
  return env.call('GET', path);
}

function expectInvalidCursor(res: { status: number; json: Record<string, unknown> }) {
  expect(res.status, JSON.stringify(res.json)).toBe(400);
  expect(res.json.code).toBe('InvalidCursor');
}

describe('paging cursors', () => {
  it('a members cursor whose key has another type is 400 InvalidCursor', async () => {
    const cursor = handMade({ q: 'members', k: [['accountId', 'i', '5']] });
    expectInvalidCursor(await get(`/v1/members?cursor=${cursor}`));
  });

  it('a cursor with a null key is 400 InvalidCursor', async () => {
    for (const body of [{ q: 'members', k: [null] }, { q: 'members', k: null }, null]) {
      expectInvalidCursor(await get(`/v1/members?cursor=${handMade(body)}`));
    }
  });

  it('an activity cursor whose start key lies outside the query range is 400 InvalidCursor', async () => {
    const binding = JSON.stringify(['activity', `account:${ACCOUNT}`, null, null, true]);
    const cursor = handMade({
      q: binding,
      k: [
        ['stream', 's', 'account:0000000000000000'],
        ['at', 'i', '0'],
        ['entryId', 's', ''],
      ],
    });
    expectInvalidCursor(await get(`/v1/activity?accountId=${ACCOUNT}&cursor=${cursor}`));
  });

  it("an edited activity cursor cannot widen ?accountId= to other accounts' entries", async () => {
    const binding = JSON.stringify(['activity', `account:${ACCOUNT}`, null, null, true]);
    const cursor = handMade({
      q: binding,
      k: [
        ['stream', 's', 'global'],
        ['at', 'i', String(Date.now() + 3_600_000)],
        ['entryId', 's', ''],
      ],
    });
    const res = await get(`/v1/activity?accountId=${ACCOUNT}&cursor=${cursor}`);
    if (res.status === 200) {
      // What the attack reads when it works: entries of other accounts (or of none).
      const { items } = activityResponseSchema.parse(res.json);
      expect(items.filter((e) => e.accountId !== ACCOUNT)).toEqual([]);
    }
    expectInvalidCursor(res);
  });

  it("another route's, another query's or a damaged cursor is 400 InvalidCursor", async () => {
    const members = await get('/v1/members?limit=2');
    expect(members.status).toBe(200);
    const membersCursor = String(members.json.nextCursor);
    const activity = await get(`/v1/activity?accountId=${ACCOUNT}&limit=1`);
    expect(activity.status).toBe(200);
    const activityCursor = String(activity.json.nextCursor);
    expect(activity.json.nextCursor).toBeDefined();
    const runs = await get('/v1/reconcile/runs?limit=1');
    expect(runs.status).toBe(200);
    const runsCursor = String(runs.json.nextCursor);
    expect(runs.json.nextCursor).toBeDefined();

    // Each genuine cursor works where it was issued.
    expect((await get(`/v1/members?limit=2&cursor=${membersCursor}`)).status).toBe(200);
    expect(
      (await get(`/v1/activity?accountId=${ACCOUNT}&limit=1&cursor=${activityCursor}`)).status,
    ).toBe(200);

    expect((await get(`/v1/reconcile/runs?limit=1&cursor=${runsCursor}`)).status).toBe(200);

    expectInvalidCursor(await get(`/v1/activity?cursor=${membersCursor}`));
    expectInvalidCursor(await get(`/v1/reconcile/runs?cursor=${membersCursor}`));
    expectInvalidCursor(await get(`/v1/members?cursor=${runsCursor}`));
    expectInvalidCursor(await get(`/v1/activity?cursor=${runsCursor}`));
    expectInvalidCursor(await get(`/v1/members?cursor=${activityCursor}`));
    expectInvalidCursor(
      await get(`/v1/activity?accountId=${memberId(2)}&cursor=${activityCursor}`),
    );
    expectInvalidCursor(await get(`/v1/activity?cursor=${activityCursor}`));
    expectInvalidCursor(
      await get(`/v1/activity?accountId=${ACCOUNT}&order=oldest-first&cursor=${activityCursor}`),
    );
    // One character changed anywhere in it, or cut short.
    for (let at = 0; at < activityCursor.length; at++) {
      const c = activityCursor[at] === 'A' ? 'B' : 'A';
      const damaged = `${activityCursor.slice(0, at)}${c}${activityCursor.slice(at + 1)}`;
      expectInvalidCursor(await get(`/v1/activity?accountId=${ACCOUNT}&cursor=${damaged}`));
    }
    expectInvalidCursor(
      await get(`/v1/activity?accountId=${ACCOUNT}&cursor=${activityCursor.slice(0, -1)}`),
    );
  });
});

describe('activity time ranges', () => {
  it('from later than to is 400 naming both fields', async () => {
    const res = await get('/v1/activity?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z');
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    expect(res.json.code).toBe('InvalidRequest');
    const issues = (res.json.details as { issues: Array<{ field: string }> }).issues;
    expect(issues.map((i) => i.field).sort()).toEqual(['from', 'to']);
  });

  it('from equal to to is an empty page', async () => {
    const res = await get('/v1/activity?from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:00Z');
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(activityResponseSchema.parse(res.json).items).toEqual([]);
  });
});
