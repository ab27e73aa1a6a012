// The OpenAPI document: valid OpenAPI 3.1 by a standard validator, generated from the routes (so a
// route the document does not describe, or an operation no route serves, fails here), committed
// as generated (docs/openapi.json and the client's types), served without a token, and saying
// what every answer carries: the error envelope per status, x-request-id, Retry-After on 503.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  apiDocument,
  CLIENT_TYPES_FILE,
  clientTypesText,
  DOCUMENT_FILE,
  documentText,
} from '../../../scripts/openapi';
import {
  createHttpApp,
  defineRoute,
  NO_QUERY,
  type RouteDefinition,
} from '../../../shared/http/app';
import { createTokenVerifier } from '../../../shared/http/auth';
import { errorStatusesOf, openApiDocument, openApiPath } from '../../../shared/http/openapi';
import { API_INFO } from '../../../shared/http/openapi-routes';
import { type ApiRouteDependencies, apiRoutes } from '../../../shared/wiring/api';
import { bindings } from '../../support/invocation';
import { createTestIssuer } from '../../support/tokens';

const notCalled = (): never => {
  throw new Error('not called');
};
const dependencies: ApiRouteDependencies = {
  directorySource: notCalled,
  membership: notCalled,
  roles: notCalled,
  logs: notCalled,
  sessions: notCalled,
};
const routes = apiRoutes(dependencies);
const document = apiDocument();
const repositoryFile = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

type Operation = {
  responses: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
};
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    key: `${method.toUpperCase()} ${path}`,
    operation: operation as unknown as Operation,
  })),
);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('holds JSON Schemas (2020-12) that compile, every reference resolving', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
    for (const name of Object.keys(document.components.schemas)) {
      expect(() => ajv.getSchema(`doc#/components/schemas/${name}`), name).not.toThrow();
    }
    const refs = JSON.stringify(document).match(/"#\/components\/[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, , section, name] = JSON.parse(ref).split('/') as string[];
      const components = document.components as unknown as Record<string, Record<string, unknown>>;
      expect(components[section ?? '']?.[name ?? ''], ref).toBeDefined();
    }
  });

  it('describes every route, and nothing else', () => {
    const fromRoutes = routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort();
    const documented = operations.map((o) => o.key).sort();
    expect(
      documented.filter((k) => !fromRoutes.includes(k)),
      'operations no route serves',
    ).toEqual([]);
    expect(
      fromRoutes.filter((k) => !documented.includes(k)),
      'routes not described',
    ).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  it('is committed as generated: docs/openapi.json and the client types (npm run openapi)', async () => {
    // When this fails after a route changed, run `npm run openapi` and commit what it writes.
    const committed = JSON.parse(repositoryFile(DOCUMENT_FILE)) as typeof document;
    const missing = operations
      .map((o) => o.key)
      .filter((key) => {
        const [method, path] = key.split(' ') as [string, string];
        return !(committed.paths[path] as Record<string, unknown> | undefined)?.[
          method.toLowerCase()
        ];
      });
    expect(missing, `routes ${DOCUMENT_FILE} does not describe`).toEqual([]);
    expect(repositoryFile(DOCUMENT_FILE)).toBe(documentText(document));
    expect(repositoryFile(CLIENT_TYPES_FILE)).toBe(await clientTypesText(document));
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: parameters, body and every answer described',
    (_name, route) => {
      const operation = operations.find(
        (o) => o.key === `${route.method} ${openApiPath(route.path)}`,
      )?.operation as Operation;
      const inPath = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(inPath.sort()).toEqual([...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]).sort());
      const inQuery = (operation.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => p.name);
      expect(inQuery.sort()).toEqual(Object.keys(route.query.shape).sort());
      expect(operation.requestBody !== undefined).toBe(route.body !== undefined);
      const statuses = Object.keys(operation.responses).map(Number);
      expect(statuses).toEqual(
        expect.arrayContaining([
          ...Object.keys(route.responses).map(Number),
          ...errorStatusesOf(route),
        ]),
      );
      for (const status of statuses) {
        const answer = operation.responses[String(status)] ?? {};
        const resolved = answer.$ref
          ? (document.components.responses[answer.$ref.split('/').pop() ?? ''] as typeof answer)
          : answer;
        expect(resolved.headers, `${status}`).toHaveProperty('x-request-id');
        if (status === 503) expect(resolved.headers).toHaveProperty('Retry-After');
        if (status >= 400) {
          expect(JSON.stringify(resolved)).toContain('"#/components/schemas/Error"');
        }
      }
    },
  );

  it('describes the error envelope as the frame builds it', () => {
    expect(document.components.schemas.Error).toEqual({
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          anyOf: [
            { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} },
            { type: 'null' },
          ],
        },
        requestId: { type: 'string' },
      },
      required: ['code', 'message', 'details', 'requestId'],
      additionalProperties: false,
    });
  });

  it('describes the CSV and text answers beside JSON', () => {
    const report = document.paths['/v1/roles/report']?.get?.responses['200'] as {
      content: Record<string, unknown>;
    };
    expect(Object.keys(report.content).sort()).toEqual(['application/json', 'text/csv']);
    const directory = document.paths['/v1/directory']?.get?.responses['200'] as {
      content: Record<string, unknown>;
    };
    expect(Object.keys(directory.content).sort()).toEqual(['application/json', 'text/plain']);
  });

  it('refuses to describe a route whose path parameters its schema does not declare', () => {
    const undeclared: RouteDefinition = defineRoute({
      method: 'GET',
      path: '/v1/things/:thingId',
      summary: 'a thing',
      access: 'viewer',
      query: NO_QUERY,
      responses: { 200: { description: 'the thing', json: z.strictObject({}) } },
      handle: notCalled,
    });
    expect(() => openApiDocument([undeclared], API_INFO)).toThrow(/thingId/);
    expect(() => createHttpApp({ routes: [undeclared], verifier: { verify: notCalled } })).toThrow(
      /thingId/,
    );
  });
});

describe('GET /v1/openapi.json', () => {
  it('serves the document without a token', async () => {
    const issuer = await createTestIssuer();
    const app = createHttpApp({ routes, verifier: createTokenVerifier(issuer.config) });
    const response = await app.fetch(new Request('https://api.test/v1/openapi.json'), bindings());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
