import { beforeAll, describe, expect, it } from 'vitest';
import { type FailureClass, TablestoreError } from '../../../shared/cloud/tablestore';
import type { DirectorySource } from '../../../shared/directory/ports';
import { CloudApiError } from '../../../shared/errors';
import { createTokenVerifier } from '../../../shared/http/auth';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import type { HttpApplication } from '../../../shared/runtime/http';
import { type ApiConfig, createApi } from '../../../shared/wiring/api';
import { sampleSnapshot } from '../../support/directory';
import { bindings } from '../../support/invocation';
import { createTestIssuer, type TestIssuer } from '../../support/tokens';

let issuer: TestIssuer;
let source: Pick<DirectorySource, 'readSnapshot'>;
let app: HttpApplication;
let viewer: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const config: ApiConfig = {
    cloud: { protocol: 'http' },
    resourceManager: { endpoint: '127.0.0.1:1' },
    sts: {
      endpoint: '127.0.0.1:1',
      memberAccessRole: 'ResourceDirectoryAccountAccessRole',
      assumeRoleRatePerSecond: 95,
    },
    tablestore: { endpoint: 'http://127.0.0.1:1', instance: 'rdgov' },
    ram: { endpoint: '127.0.0.1:1' },
    fc: { endpoint: '127.0.0.1:1' },
    membership: {
      delegatedServicePrincipal: undefined,
      reconcileConcurrency: 16,
      workerFunction: 'rdgov-onboarding-worker',
      lanes: 4,
    },
    roles: {
      repairPolicy: 'report',
      catalogExtra: undefined,
      workerFunction: 'rdgov-role-check-worker',
    },
    sls: {
      endpoint: '{region}.log.aliyuncs.com',
      ownRegionEndpoint: '{region}-intranet.log.aliyuncs.com',
    },
    logs: {
      centralProject: 'rdgov-logs-test',
      centralLogstore: 'rdgov-integrated-logs',
      regions: undefined,
      workerFunction: 'rdgov-log-worker',
      noDataAfterMs: 3_600_000,
      workerConcurrency: 8,
      shardsPerWorker: 40,
    },
    auth: issuer.config,
    logging: { level: 'info' },
  };
  source = { readSnapshot: async () => sampleSnapshot() };
  app = createApi(config, {
    verifier: createTokenVerifier(issuer.config),
    dependencies: {
      directorySource: () => source,
      membership: () => {
        throw new Error('these tests call only the directory routes');
      },
      roles: () => {
        throw new Error('these tests call only the directory routes');
      },
      logs: () => {
        throw new Error('these tests call only the directory routes');
      },
      sessions: () => {
        throw new Error('these tests call only the directory routes');
      },
    },
  });
  viewer = await issuer.mint({ roles: ['viewer'] });
});

/** The parts of answers these tests look at (directory or error envelope). */
interface Answer {
  code?: string;
  status?: string;
  details?: { issues?: Array<{ field: string }>; requiredRole?: string };
  root?: { name: string };
  members?: unknown[];
}

async function get(path: string, token?: string): Promise<{ status: number; json: Answer }> {
  const response = await app.fetch(
    new Request(`https://api.test${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
    bindings(),
  );
  return { status: response.status, json: (await response.json()) as Answer };
}

describe('GET /v1/directory', () => {
  it('returns the directory as a tree for a viewer', async () => {
    const res = await get('/v1/directory', viewer);
    expect(res.status).toBe(200);
    const body = directoryResponseSchema.parse(res.json);
    expect(body.resourceDirectoryId).toBe('rd-abc123');
    expect(body.managementAccountId).toBe('1000000000000001');
    expect(body.root.children.map((c) => c.name)).toEqual(['Production', 'Sandbox']);
    expect(body.members).toHaveLength(4);
    expect(body.delegatedAdministrators[0]?.services).toEqual([
      'bastionhost.aliyuncs.com',
      'sas.aliyuncs.com',
    ]);
  });

  it('narrows to a folder with ?folderId', async () => {
    const res = await get('/v1/directory?folderId=fd-prod', viewer);
    expect(res.status).toBe(200);
    expect(res.json.root?.name).toBe('Production');
    expect(res.json.members).toHaveLength(2);
    expect((await get('/v1/directory?folderId=fd-unknown', viewer)).status).toBe(404);
  });

  it.each([
    ['/v1/directory?folderId=not%20a%20folder', 'folderId'],
    ['/v1/directory?folderId=fd-a&folderId=fd-b', 'folderId'],
    ['/v1/directory?depth=2', 'depth'],
  ])('400 with field details for %s', async (path, field) => {
    const res = await get(path, viewer);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('InvalidRequest');
    expect(res.json.details?.issues?.map((i) => i.field)).toEqual([field]);
  });

  it('with Accept: text/plain, a table of folder ids and paths a shell can pick from', async () => {
    const response = await app.fetch(
      new Request('https://api.test/v1/directory', {
        headers: { authorization: `Bearer ${viewer}`, accept: 'text/plain' },
      }),
      bindings(),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe(
      [
        'FOLDER ID   PATH                 MEMBERS',
        'r-root01    Root                 1',
        'fd-prod     Root/Production      0',
        'fd-web      Root/Production/Web  2',
        'fd-sandbox  Root/Sandbox         1',
        '',
      ].join('\n'),
    );
    // JSON stays the default, and wins when the client lists it first.
    for (const accept of [undefined, '*/*', 'application/json, text/plain']) {
      const json = await app.fetch(
        new Request('https://api.test/v1/directory?folderId=fd-prod', {
          headers: { authorization: `Bearer ${viewer}`, ...(accept ? { accept } : {}) },
        }),
        bindings(),
      );
      expect(json.headers.get('content-type')).toContain('application/json');
    }
  });

  it('401 without a token, 403 for a token without the viewer role', async () => {
    expect((await get('/v1/directory')).status).toBe(401);
    const roleless = await issuer.mint({ roles: ['auditor'] });
    const res = await get('/v1/directory', roleless);
    expect(res.status).toBe(403);
    expect(res.json.details).toEqual({ requiredRole: 'viewer', grantedRoles: [] });
  });

  it('reports a refused cloud call as CloudAccessDenied naming the API and account', async () => {
    const saved = source;
    source = {
      readSnapshot: async () => {
        throw new CloudApiError({
          service: 'ResourceManager',
          api: 'ListAccounts',
          accountId: '1000000000000001',
          kind: 'denied',
          cloudCode: 'NoPermission',
          cloudMessage: 'You are not authorized',
          cloudRequestId: 'AB-1',
        });
      },
    };
    try {
      const res = await get('/v1/directory', viewer);
      expect(res.status).toBe(502);
      expect(res.json).toMatchObject({
        code: 'CloudAccessDenied',
        details: {
          service: 'ResourceManager',
          api: 'ListAccounts',
          accountId: '1000000000000001',
          cloudCode: 'NoPermission',
        },
      });
    } finally {
      source = saved;
    }
  });
});

describe('store failures', () => {
  const storeError = (code: string, serverMessage: string, failureClass: FailureClass) =>
    new TablestoreError({
      code,
      serverMessage,
      httpStatus: failureClass === 'final' ? 400 : 503,
      requestId: 'ots-1',
      operation: 'GetRange',
      table: 'rdg_members',
      failureClass,
    });

  async function answerTo(error: TablestoreError) {
    const saved = source;
    source = {
      readSnapshot: async () => {
        throw error;
      },
    };
    try {
      const response = await app.fetch(
        new Request('https://api.test/v1/directory', {
          headers: { authorization: `Bearer ${viewer}` },
        }),
        bindings(),
      );
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        json: (await response.json()) as { code: string; message: string; details: unknown },
      };
    } finally {
      source = saved;
    }
  }

  it('a missing table is 503 StoreNotReady naming it and the setup to run', async () => {
    const res = await answerTo(
      storeError('OTSObjectNotExist', 'Requested table does not exist.', 'final'),
    );
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBe('30');
    expect(res.json.code).toBe('StoreNotReady');
    expect(res.json.details).toEqual({ operation: 'GetRange', missing: 'table rdg_members' });
    expect(res.json.message).toContain('npm run setup:tables');
  });

  it("a missing search index (Search's OTSParameterInvalid) is StoreNotReady naming the index", async () => {
    const res = await answerTo(
      storeError(
        'OTSParameterInvalid',
        'index [sessions_v1] does not exist in table [rdg_sessions].',
        'final',
      ),
    );
    expect(res.status).toBe(503);
    expect(res.json.details).toEqual({ operation: 'GetRange', missing: 'index sessions_v1' });
  });

  it('a store still busy after the retries is 503 StoreUnavailable with Retry-After', async () => {
    const res = await answerTo(storeError('OTSServerBusy', 'Server is busy.', 'not-applied'));
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBe('2');
    expect(res.json).toMatchObject({
      code: 'StoreUnavailable',
      details: { operation: 'GetRange', table: 'rdg_members', storeCode: 'OTSServerBusy' },
    });
  });

  it('any other refusal is a bug: 500 InternalError, its message not shown', async () => {
    const res = await answerTo(
      storeError('OTSParameterInvalid', 'Invalid column name: x.', 'final'),
    );
    expect(res.status).toBe(500);
    expect(res.json.code).toBe('InternalError');
    expect(res.json.message).not.toContain('column');
  });
});

describe('GET /v1/health', () => {
  it('answers without a token and says nothing else', async () => {
    expect(await get('/v1/health')).toEqual({ status: 200, json: { status: 'ok' } });
  });

  it('POST /v1/directory is 405', async () => {
    const response = await app.fetch(
      new Request('https://api.test/v1/directory', { method: 'POST' }),
      bindings(),
    );
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});
