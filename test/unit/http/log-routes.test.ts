// The log routes over HTTP, with the real use cases on the in-memory store: bad input is a 4xx
// {code, message, details, requestId} naming the field, conflicts are 409 with the code that says
// what to do, unknown things are 404, and answers match the schemas the routes export.

import { beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../shared/http/app';
import { createTokenVerifier } from '../../../shared/http/auth';
import {
  batchResultSchema,
  dataSourceDetailSchema,
  logRoutes,
  policyResultSchema,
} from '../../../shared/http/log-routes';
import { invalidRequestDetailsSchema } from '../../../shared/http/validation';
import { LogIntegration } from '../../../shared/logs/integration';
import { LogIntegrationQueries } from '../../../shared/logs/queries';
import { bindings } from '../../support/invocation';
import { logStoreFixture } from '../../support/log-store';
import { createTestIssuer } from '../../support/tokens';

const MANAGEMENT = '1000000000000000';
const A = '2000000000000001';
const OUTSIDE = '2000000000000003';

let app: ReturnType<typeof createHttpApp>;
let operator: string;

beforeEach(async () => {
  const f = await logStoreFixture();
  await f.scope('folder:fd-logs', ['log-integration']);
  await f.scope('folder:fd-plain', ['security-center']);
  await f.member(A, ['folder:fd-logs']);
  await f.member(OUTSIDE, ['folder:fd-plain']);
  const settings = {
    regions: ['cn-hangzhou'],
    functionsAccountId: MANAGEMENT,
    noDataAfterMs: 3_600_000,
  };
  const integration = new LogIntegration({ store: f.logs, settings, clock: f.clock });
  const queries = new LogIntegrationQueries({ store: f.logs, settings, clock: f.clock });
  const routes = logRoutes({
    logs: () => ({
      integration,
      queries,
      diagnose: () => Promise.reject(new Error('not used here')),
    }),
  });
  const issuer = await createTestIssuer();
  app = createHttpApp({ routes, verifier: createTokenVerifier(issuer.config) });
  operator = await issuer.mint({ roles: ['operator'] });
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await app.fetch(
    new Request(`https://api.test${path}`, {
      method,
      headers: {
        authorization: `Bearer ${operator}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    bindings(),
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The fields a 400 names. */
function fieldsOf(json: Record<string, unknown>): string[] {
  expect(json).toMatchObject({ code: 'InvalidRequest' });
  expect(typeof json.message).toBe('string');
  expect(typeof json.requestId).toBe('string');
  return invalidRequestDetailsSchema.parse(json.details).issues.map((i) => i.field);
}

describe('the log routes refuse bad input, naming the field', () => {
  it.each([
    ['POST', '/v1/log-integration/batch', { mode: 'all' }, ['mode']],
    ['POST', '/v1/log-integration/batch', { mode: 'full', accountIds: ['12'] }, ['accountIds.0']],
    ['POST', '/v1/log-integration/batch', { mode: 'full', templateIds: [] }, ['templateIds']],
    ['POST', '/v1/log-integration/batch', { mode: 'full', colour: 'red' }, ['colour']],
    ['POST', '/v1/log-integration/batch', { mode: 'full', startTime: 'yesterday' }, ['startTime']],
    ['POST', '/v1/log-templates/waf/accounts', { accountIds: [A] }, ['enabled']],
    [
      'POST',
      '/v1/log-templates/waf/accounts',
      { accountIds: [A, A], enabled: true },
      ['accountIds'],
    ],
    [
      'POST',
      '/v1/log-templates/Not_A_Slug/accounts',
      { accountIds: [A], enabled: true },
      ['templateId'],
    ],
    ['PATCH', `/v1/log-templates/waf/accounts/${A}`, {}, ['']],
    ['PATCH', '/v1/log-templates/waf/accounts/123', { enabled: true }, ['accountId']],
    ['GET', '/v1/data-sources/not-a-name', undefined, ['name']],
    ['GET', '/v1/data-sources?status=sleeping', undefined, ['status']],
    ['GET', '/v1/data-sources?limit=0', undefined, ['limit']],
    ['POST', '/v1/log-integration/batch?dryRun=yes', { mode: 'full' }, ['dryRun']],
  ] as const)('%s %s %j: 400 naming %j', async (method, path, body, fields) => {
    const { status, json } = await call(method, path, body);
    expect(status, JSON.stringify(json)).toBe(400);
    expect(fieldsOf(json)).toEqual(fields);
  });

  it('an unknown template id in a batch is a 400 naming templateIds', async () => {
    const { status, json } = await call('POST', '/v1/log-integration/batch', {
      mode: 'increment',
      templateIds: ['nope'],
    });
    expect(status).toBe(400);
    expect(fieldsOf(json)).toEqual(['templateIds']);
  });
});

describe('the log routes answer conflicts and unknown things', () => {
  it('404 for an unknown template or data source', async () => {
    expect((await call('GET', '/v1/log-templates/nope')).status).toBe(404);
    expect((await call('GET', `/v1/data-sources/WAF_cn-hangzhou_${A}`)).status).toBe(404);
  });

  it('409 NotIntegrable for a member without log-integration, 409 AlreadyIntegrated, 409 PolicyEnabled', async () => {
    const refused = await call('POST', '/v1/log-templates/waf/accounts', {
      accountIds: [OUTSIDE],
      enabled: true,
    });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ code: 'NotIntegrable' });
    expect(JSON.stringify(refused.json.details)).toContain(OUTSIDE);

    const added = await call('POST', '/v1/log-templates/waf/accounts', {
      accountIds: [A],
      enabled: true,
    });
    expect(added.status).toBe(201);
    const [first] = (added.json.added as unknown[]).map((r) => policyResultSchema.parse(r));
    expect(first?.dataSources).toEqual([`WAF_cn-hangzhou_${A}`]);
    const again = await call('POST', '/v1/log-templates/waf/accounts', {
      accountIds: [A],
      enabled: false,
    });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'AlreadyIntegrated' });

    const remove = await call('DELETE', `/v1/log-templates/waf/accounts/${A}`);
    expect(remove.status).toBe(409);
    expect(remove.json).toMatchObject({ code: 'PolicyEnabled' });
    expect(String(remove.json.message)).toContain('disable it first');
    const deleteSource = await call('DELETE', `/v1/data-sources/WAF_cn-hangzhou_${A}`);
    expect(deleteSource.status).toBe(409);
    expect(deleteSource.json).toMatchObject({ code: 'DataSourceInUse' });

    const detail = await call('GET', `/v1/data-sources/WAF_cn-hangzhou_${A}`);
    expect(dataSourceDetailSchema.parse(detail.json).dataSource.status).toBe('initializing');
  });

  it('a full batch dry run answers what it would disable and changes nothing', async () => {
    await call('POST', '/v1/log-integration/batch', { mode: 'increment', accountIds: [A] });
    const dry = batchResultSchema.parse(
      (
        await call('POST', '/v1/log-integration/batch?dryRun=true', {
          mode: 'full',
          templateIds: ['waf'],
        })
      ).json,
    );
    expect(dry.dryRun).toBe(true);
    expect(dry.disabled.map((p) => p.templateId).sort()).toEqual([
      'bastionhost',
      'cloudfirewall',
      'sas-alerts',
    ]);
    const source = await call('GET', `/v1/data-sources/Bastionhost_cn-hangzhou_${A}`);
    expect(dataSourceDetailSchema.parse(source.json).dataSource.enabled).toBe(true);
  });
});
