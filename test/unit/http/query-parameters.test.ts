// One rule for the query string on every route of the API: a parameter the route does not take
// is refused (400 InvalidRequest naming it), before the route does anything. The routes are
// enumerated from the API's own list, so a route added later is checked without editing this;
// and the README's API table lists each route with the parameters it takes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type RouteDefinition } from '../../../shared/http/app';
import { createTokenVerifier } from '../../../shared/http/auth';
import { invalidRequestDetailsSchema } from '../../../shared/http/validation';
import { type ApiRouteDependencies, apiRoutes } from '../../../shared/wiring/api';
import { bindings } from '../../support/invocation';
import { createTestIssuer } from '../../support/tokens';

/** Raised by every use case: reaching one means the route accepted the request. */
class Reached extends Error {}

const reached = () => {
  throw new Reached('the route called its use case');
};
const unreachable = new Proxy(
  {},
  {
    get: () => reached,
  },
);
const dependencies: ApiRouteDependencies = {
  directorySource: () => ({ readSnapshot: reached }),
  membership: () => ({ changes: unreachable, queries: unreachable }) as never,
  roles: () => ({ roles: unreachable, report: reached, startSweep: reached }) as never,
  logs: () => ({ integration: unreachable, queries: unreachable, diagnose: reached }) as never,
  sessions: () => unreachable as never,
};

/** A value for each path parameter the API uses (valid, so only the query can be refused). */
const PATH_PARAMETERS: Record<string, string> = {
  accountId: '2000000000000001',
  scopeId: 'account:2000000000000001',
  runId: '00000000-0000-4000-8000-000000000000',
  templateId: 'waf',
  name: 'WAF_cn-hangzhou_2000000000000001',
  ownerAccountId: '2000000000000001',
  sessionId: 'b7f3c2a1-0000-4000-8000-000000000000',
};

function concretePath(route: RouteDefinition): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = PATH_PARAMETERS[name];
    if (value === undefined) throw new Error(`no sample value for :${name} in ${route.path}`);
    return value;
  });
}

const routes = apiRoutes(dependencies);
let app: ReturnType<typeof createHttpApp>;
let operator: string;

beforeAll(async () => {
  const issuer = await createTestIssuer();
  app = createHttpApp({ routes, verifier: createTokenVerifier(issuer.config) });
  operator = await issuer.mint({ roles: ['operator'] });
});

describe('unknown query parameters', () => {
  it('the API has the routes this test is about', () => {
    expect(routes.length).toBeGreaterThanOrEqual(19);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('GET /v1/prerequisites');
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s refuses ?x=1 with 400 naming x',
    async (_name, route) => {
      const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
      const response = await app.fetch(
        new Request(`https://api.test${concretePath(route)}?x=1`, {
          method: route.method,
          headers: {
            authorization: `Bearer ${operator}`,
            ...(hasBody ? { 'content-type': 'application/json' } : {}),
          },
          ...(hasBody ? { body: JSON.stringify({ kind: 'directory' }) } : {}),
        }),
        bindings(),
      );
      const body = (await response.json()) as { code: string; details: unknown };
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(body.code).toBe('InvalidRequest');
      expect(invalidRequestDetailsSchema.parse(body.details).issues).toEqual([
        { location: 'query', field: 'x', message: 'unknown query parameter "x"' },
      ]);
    },
  );
});

describe('the README API table', () => {
  /** `METHOD /path` -> the query parameters the README lists for it (`[?a=&b=]`). */
  function documentedRoutes(): Map<string, string[]> {
    const readme = readFileSync(
      fileURLToPath(new URL('../../../README.md', import.meta.url)),
      'utf8',
    );
    const section = readme.slice(
      readme.indexOf('\n## API\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## API\n') + 1),
    );
    const routes = new Map<string, string[]>();
    for (const line of section.split('\n')) {
      if (!line.startsWith('| `')) continue;
      const cell = line.split(' | ')[0] ?? '';
      for (const [, method, path, query] of cell.matchAll(
        /`(GET|POST|PUT|PATCH|DELETE) ([^`[]+)(?:\[\?([^\]]*)\])?`/g,
      )) {
        const names = (query ?? '')
          .split('&')
          .filter(Boolean)
          .map((p) => p.replace(/=$/, ''));
        routes.set(`${method} ${path}`, names);
      }
    }
    return routes;
  }

  it('lists every route with exactly the query parameters it takes', () => {
    const documented = documentedRoutes();
    const actual = new Map(
      routes.map((route) => [
        `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`,
        Object.keys(route.query.shape).sort(),
      ]),
    );
    expect([...documented.keys()].sort()).toEqual([...actual.keys()].sort());
    for (const [route, parameters] of actual) {
      expect(documented.get(route)?.sort(), route).toEqual(parameters);
    }
  });
});
