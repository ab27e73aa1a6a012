// GET /v1/directory end to end: localcloud + the local function host running the api function
// from s.yaml, called over HTTP like a portal would.
//
// A token that grants no role gets 403 on this viewer route; a viewer token on an operator route
// (POST /v1/scopes) gets 403 in test/e2e/membership/scopes.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSystem } from '../../../localcloud/system';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import { folderOf, memberId, testOrganization } from '../../support/organization';

const MEMBERS = 30;
let system: Awaited<ReturnType<typeof startLocalSystem>>;
const statuses: number[] = [];

beforeAll(async () => {
  system = await startLocalSystem({
    organization: testOrganization({ members: MEMBERS }),
    port: 0,
  });
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

async function call(path: string, init: { token?: string; method?: string } = {}) {
  const response = await fetch(new URL(path, system.host.apiUrl), {
    method: init.method ?? 'GET',
    headers: init.token ? { authorization: `Bearer ${init.token}` } : {},
  });
  statuses.push(response.status);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('GET /v1/directory through the function host', () => {
  it('returns the organization as a folder tree for the operator token', async () => {
    const res = await call('/v1/directory', { token: system.host.tokens.operator });
    expect(res.status).toBe(200);
    const directory = directoryResponseSchema.parse(res.json);
    expect(directory.managementAccountId).toBe(system.env.managementAccountId);
    const ids = new Set(directory.members.map((m) => m.accountId));
    for (let i = 0; i < MEMBERS; i++) expect(ids.has(memberId(i))).toBe(true);
    const member = directory.members.find((m) => m.accountId === memberId(2));
    expect(member?.folderPath).toBe(`${directory.root.name}/${folderOf(2)}`);
    expect(directory.root.children.map((f) => f.name)).toEqual(['Production', 'Sandbox']);
    expect(directory.delegatedAdministrators.map((d) => d.accountId)).toEqual([memberId(0)]);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('serves the viewer token too, and narrows to a folder', async () => {
    const all = await call('/v1/directory', { token: system.host.tokens.viewer });
    const production = directoryResponseSchema
      .parse(all.json)
      .root.children.find((f) => f.name === 'Production');
    const res = await call(`/v1/directory?folderId=${production?.id}`, {
      token: system.host.tokens.viewer,
    });
    expect(res.status).toBe(200);
    const { root, members } = directoryResponseSchema.parse(res.json);
    expect(root.name).toBe('Production');
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((m) => m.folderPath.includes('/Production'))).toBe(true);
  });

  it('401 without a token', async () => {
    const res = await call('/v1/directory');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.json).toMatchObject({ code: 'Unauthenticated', details: null });
    expect(res.json.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('401 with a token signed by another key', async () => {
    const [header, payload] = system.host.tokens.viewer.split('.');
    const res = await call('/v1/directory', { token: `${header}.${payload}.${'A'.repeat(86)}` });
    expect(res.status).toBe(401);
  });

  it('400 with field details for a malformed query', async () => {
    const bad = await call('/v1/directory?folderId=../etc', { token: system.host.tokens.viewer });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: 'InvalidRequest',
      details: { issues: [{ location: 'query', field: 'folderId' }] },
    });
    const unknown = await call('/v1/directory?depth=3', { token: system.host.tokens.viewer });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      details: { issues: [{ location: 'query', field: 'depth' }] },
    });
  });

  it('403 for a valid token that grants no role', async () => {
    const token = await system.host.tokens.mint({ sub: 'no-role-user', roles: [] });
    const res = await call('/v1/directory', { token });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({
      code: 'Forbidden',
      details: { requiredRole: 'viewer', grantedRoles: [] },
    });
  });

  it('404 for an unknown folder and route, 405 for another method, health without a token', async () => {
    expect(
      (await call('/v1/directory?folderId=fd-doesnotexist1', { token: system.host.tokens.viewer }))
        .status,
    ).toBe(404);
    expect((await call('/v1/nothing-here', { token: system.host.tokens.viewer })).status).toBe(404);
    const post = await call('/v1/directory', {
      token: system.host.tokens.operator,
      method: 'POST',
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await call('/v1/health')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('answered nothing with a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(8);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
