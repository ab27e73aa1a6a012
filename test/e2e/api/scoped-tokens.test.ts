// Tokens limited to a folder (the rdgov_scope claim) through the function host: every route of
// the API, enumerated from the API's own list, answers a token scoped to Root/Production/Retail
// without one account id from outside that folder tree (JSON, CSV and text bodies); every change
// aimed outside is 403 OutsideTokenScope naming what is outside and writes nothing; changes
// inside are logged with the token's sub and scope; an account moved out is no longer visible.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../../../shared/http/openapi';
import { ensureStoreSearchIndexes } from '../../../shared/store/tables';
import { apiRoutes } from '../../../shared/wiring/api';
import { storeDigest } from '../../support/api-fuzz';
import { managementTablestore } from '../../support/local-store';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { testOrganization } from '../../support/organization';

const SCOPE_PATH = 'Root/Production/Retail';

let env: MembershipSystem;
let folderId: string;
let inside: string[];
let outside: string[];
let viewer: string;
let operator: string;
/** The run of the folder scope's addition (for a route that reads one run). */
let runId: string;

/** Every route, as METHOD + hono path (the API's own list; dependencies are never called). */
const routes = apiRoutes({} as never).map((r) => ({ method: r.method, path: r.path }));

beforeAll(async () => {
  env = await startMembershipSystem(testOrganization({ members: 10 }));
  const snapshot = env.system.cloud.organization.snapshot();
  const folder = snapshot.folders.find((f) => f.path === SCOPE_PATH || f.path === `/${SCOPE_PATH}`);
  if (!folder) throw new Error(`no folder ${SCOPE_PATH}`);
  folderId = folder.id;
  // As setup:tables does: the search indexes exist (the session search answers, empty).
  await ensureStoreSearchIndexes(managementTablestore(env.system.env));
  // Everything managed, role checks and reconcile runs recorded, with the unscoped operator; the
  // folder's own scope gives a run a scoped token may read (its change is inside the scope).
  const accepted = async (method: string, path: string, body?: unknown) => {
    const answer = await env.call(method, path, body !== undefined ? { body } : {});
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    await env.system.asyncInvocations.drain();
    return (answer.json as { run: { runId: string } }).run.runId;
  };
  await accepted('POST', '/v1/scopes', { kind: 'directory', services: ['security-center'] });
  runId = await accepted('POST', '/v1/scopes', { kind: 'folder', targetId: folderId });
  await accepted('POST', '/v1/reconcile');
  const directory = (await env.call('GET', '/v1/directory')).json as {
    managementAccountId: string;
    members: Array<{ accountId: string; folderPath: string }>;
    delegatedAdministrators: Array<{ accountId: string }>;
  };
  inside = directory.members
    .filter((m) => m.folderPath === SCOPE_PATH || m.folderPath.startsWith(`${SCOPE_PATH}/`))
    .map((m) => m.accountId);
  outside = [
    directory.managementAccountId,
    ...directory.members.map((m) => m.accountId),
    ...directory.delegatedAdministrators.map((d) => d.accountId),
  ].filter((id) => !inside.includes(id));
  for (const accountId of [...inside, ...outside.slice(0, 3)]) {
    await env.call('POST', `/v1/members/${accountId}/roles/check`);
  }
  const mint = env.system.host.tokens.mint;
  viewer = await mint({ sub: 'bu-retail-viewer', roles: ['viewer'], rdgov_scope: [folderId] });
  operator = await mint({
    sub: 'bu-retail-operator',
    roles: ['operator'],
    rdgov_scope: [folderId],
  });
}, 120_000);
afterAll(async () => {
  await env?.stop();
});

async function raw(
  method: string,
  path: string,
  token: string,
  init: { body?: unknown; accept?: string } = {},
) {
  const response = await fetch(new URL(path, env.system.host.apiUrl), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.accept ? { accept: init.accept } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, text: await response.text() };
}

/** A request for each route aimed inside the scope, by its path parameters. */
function insidePath(path: string): string {
  return openApiPath(path).replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'accountId') return inside[0] ?? '';
    if (name === 'scopeId') return `folder:${folderId}`;
    if (name === 'runId' || name === 'id') return runId;
    if (name === 'templateId') return 'waf';
    if (name === 'name') return dataSourceOf(inside[0] ?? '');
    if (name === 'ownerAccountId') return inside[0] ?? '';
    if (name === 'sessionId') return 'no-such-session';
    throw new Error(`no value for {${name}} in ${path}: add one to this test`);
  });
}

/** A data source name of a member (none exists in this system: its reads answer 404). */
const dataSourceOf = (accountId: string) => `WAF_cn-hangzhou_${accountId}`;

/** Reads of one record this system has none of: 404 inside the scope (403 outside). */
const ABSENT_RECORDS = [
  '/v1/data-sources/:name',
  '/v1/data-sources/:name/diagnosis',
  '/v1/sessions/:ownerAccountId/:sessionId',
  '/v1/sessions/:ownerAccountId/:sessionId/events',
];

/** Reads about the whole organization: a scoped token is refused them (403 OutsideTokenScope). */
const ORGANIZATION_WIDE = ['/v1/prerequisites', '/v1/delegated-administrator/removable'];

/** What each route is sent with a scoped token: a body where it takes one. */
const BODIES: Record<string, unknown> = {
  'POST /v1/scopes': { kind: 'folder', targetId: '<folder>' },
};

/** What each change is sent aimed outside (the frame refuses a missing body with 400 first). */
const OUTSIDE_BODIES = (target: string): Record<string, Array<Record<string, unknown>>> => ({
  'POST /v1/scopes': [{ kind: 'account', targetId: target }, { kind: 'directory' }],
  'POST /v1/log-templates/:templateId/accounts': [{ accountIds: [target], enabled: true }],
  'PATCH /v1/log-templates/:templateId/accounts/:accountId': [{ enabled: false }],
  // A batch without accountIds reaches every member: a scoped token is refused it.
  'POST /v1/log-integration/batch': [
    { mode: 'increment', accountIds: [target] },
    { mode: 'increment' },
  ],
});

describe('a token scoped to one folder', () => {
  it('the scope holds accounts, and others exist outside it', () => {
    expect(inside.length).toBeGreaterThanOrEqual(2);
    expect(outside.length).toBeGreaterThanOrEqual(4);
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: no account id from outside the folder in any answer',
    async (_name, route) => {
      const body = BODIES[`${route.method} ${route.path}`];
      const token = route.method === 'GET' ? viewer : operator;
      const answers = [];
      for (const accept of ['application/json', 'text/csv', 'text/plain']) {
        answers.push(
          await raw(route.method, insidePath(route.path), token, {
            accept,
            ...(body !== undefined
              ? { body: JSON.parse(JSON.stringify(body).replace('<folder>', folderId)) }
              : {}),
          }),
        );
        if (route.method !== 'GET') break;
      }
      for (const answer of answers) {
        expect(answer.status, answer.text).toBeLessThan(500);
        // Reads answer (what the grep looks at is a real answer), but for the organization-wide ones.
        if (route.method === 'GET' && ABSENT_RECORDS.includes(route.path)) {
          expect([200, 404], answer.text).toContain(answer.status);
        } else if (route.method === 'GET' && !ORGANIZATION_WIDE.includes(route.path)) {
          expect(answer.status, answer.text).toBe(200);
        }
        const found = outside.filter((id) => answer.text.includes(id));
        expect(
          found,
          `${route.method} ${route.path} -> ${answer.status} ${answer.text.slice(0, 300)}`,
        ).toEqual([]);
      }
    },
  );

  it('every change aimed outside is 403 naming what is outside, and writes nothing', async () => {
    const client = managementTablestore(env.system.env);
    const keys = new Map<string, string[]>();
    const target = outside.find((id) => id !== outside[0]) ?? '';
    const writes = routes.filter((r) => r.method !== 'GET');
    const sent: string[] = [];
    for (const route of writes) {
      const path = openApiPath(route.path).replace(/\{(\w+)\}/g, (_, name: string) => {
        if (name === 'accountId') return target;
        if (name === 'scopeId') return `account:${target}`;
        if (name === 'templateId') return 'waf';
        if (name === 'name') return dataSourceOf(target);
        return `unknown-${name}`;
      });
      const bodies = OUTSIDE_BODIES(target)[`${route.method} ${route.path}`] ?? [undefined];
      for (const body of bodies) {
        const before = await storeDigest(client, keys);
        const answer = await raw(route.method, path, operator, body !== undefined ? { body } : {});
        sent.push(`${route.method} ${path}`);
        expect(answer.status, `${route.method} ${path}: ${answer.text}`).toBe(403);
        const error = JSON.parse(answer.text) as {
          code: string;
          details: { outside: string[]; tokenScope: string[] };
        };
        expect(error.code).toBe('OutsideTokenScope');
        expect(error.details.tokenScope).toEqual([folderId]);
        // A directory scope, a batch of every member and a reconcile reach the whole organization.
        const wholeOrganization =
          body?.kind === 'directory' ||
          (body !== undefined && path.endsWith('/batch') && !('accountIds' in body)) ||
          /reconcile|sweep/.test(path);
        if (!wholeOrganization) {
          expect(error.details.outside).toEqual([target]);
        }
        expect(await storeDigest(client, keys), `${route.method} ${path} wrote`).toEqual(before);
      }
    }
    expect(sent.length).toBeGreaterThanOrEqual(writes.length);
  });

  it('a change inside is logged with the token sub and scope', async () => {
    const added = await raw('POST', '/v1/scopes', operator, {
      body: { kind: 'account', targetId: inside[0] },
    });
    expect(added.status, added.text).toBe(202);
    await env.system.asyncInvocations.drain();
    const activity = (await env.call('GET', '/v1/activity?limit=20')).json as {
      items: Array<{ action: string; cause: { identity?: string; scope?: string[] } }>;
    };
    const entry = activity.items.find(
      (i) => i.action === 'scope.added' && i.cause.identity === 'bu-retail-operator',
    );
    expect(entry?.cause.scope).toEqual([folderId]);
  });

  it('an account moved out of the folder is no longer visible', async () => {
    const moved = inside[0] ?? '';
    const before = await raw('GET', `/v1/members/${moved}`, viewer);
    expect(before.status).toBe(200);
    const snapshot = env.system.cloud.organization.snapshot();
    const elsewhere = snapshot.folders.find((f) => f.path.endsWith('Sandbox'));
    await env.control('POST', `/members/${moved}/move`, { folderId: elsewhere?.id });
    expect((await raw('GET', `/v1/members/${moved}`, viewer)).status).toBe(404);
    const members = await raw('GET', '/v1/members', viewer);
    expect(members.text).not.toContain(moved);
    expect(members.text).toContain(inside[1] ?? 'another inside account');
    expect((await raw('POST', `/v1/members/${moved}/roles/check`, operator)).status).toBe(403);
  });

  it('a token whose scope claim is not folder or account ids is refused, naming the claim', async () => {
    const token = await env.system.host.tokens.mint({
      sub: 'x',
      roles: ['viewer'],
      rdgov_scope: ['Production'],
    });
    const answer = await raw('GET', '/v1/members', token);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text).details).toEqual({ claim: 'rdgov_scope' });
  });
});
