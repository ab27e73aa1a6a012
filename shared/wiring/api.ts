// The API function's application: the token verifier, the routes, and the use cases they call,
// built from configuration once per process (FC cold start) and per invocation.

import { createFcInvoker } from '../cloud/fc/invoke';
import { storeFailureForApi } from '../cloud/tablestore';
import type { Config } from '../config';
import { createHttpApp, type RouteDefinition } from '../http/app';
import { createTokenVerifier, type TokenVerifier } from '../http/auth';
import { type DirectoryRouteDependencies, directoryRoutes } from '../http/directory-routes';
import { healthRoutes } from '../http/health-routes';
import { type LogRouteDependencies, logRoutes } from '../http/log-routes';
import { type MembershipRouteDependencies, membershipRoutes } from '../http/membership-routes';
import { openApiRoutes } from '../http/openapi-routes';
import { type RoleRouteDependencies, roleRoutes } from '../http/role-routes';
import { type SessionRouteDependencies, sessionRoutes } from '../http/session-routes';
import type { HttpFunctionDefinition } from '../runtime/function';
import type { HttpApplication } from '../runtime/http';
import { LOG_API_CONFIG_SECTIONS, logApiRuntime } from './logs';
import { directoryFor, MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from './membership';
import { requireCredentials } from './store';

/** The configuration sections the API function reads (and so the variables it requires). */
export const API_CONFIG_SECTIONS = [
  ...new Set([...MEMBERSHIP_CONFIG_SECTIONS, ...LOG_API_CONFIG_SECTIONS, 'auth'] as const),
];
type ApiSection = (typeof API_CONFIG_SECTIONS)[number];
export type ApiConfig = Config<ApiSection>;

export interface ApiRouteDependencies
  extends DirectoryRouteDependencies,
    MembershipRouteDependencies,
    RoleRouteDependencies,
    LogRouteDependencies,
    SessionRouteDependencies {}

/** What the routes call, over the cloud adapters. */
function cloudDependencies(config: ApiConfig): ApiRouteDependencies {
  const runtime = membershipRuntime(config, { memberSessions: 'api', fanOut: createFcInvoker });
  return {
    membership(invocation, logger) {
      const { membership, runs, queries } = runtime.forInvocation(invocation, logger);
      return { changes: membership, runs: runs(), queries };
    },
    roles(invocation, logger) {
      const { roles, roleReport, startSweep } = runtime.forInvocation(invocation, logger);
      return { roles, report: roleReport, startSweep };
    },
    sessions: (invocation, logger) => runtime.forInvocation(invocation, logger).sessions,
    directorySource: (invocation) =>
      directoryFor(config, invocation, requireCredentials(invocation)),
    logs: logApiRuntime(config),
  };
}

/** Every route of the API. */
export function apiRoutes(dependencies: ApiRouteDependencies): RouteDefinition[] {
  const routes: RouteDefinition[] = [
    ...healthRoutes(),
    ...directoryRoutes(dependencies),
    ...membershipRoutes(dependencies),
    ...roleRoutes(dependencies),
    ...logRoutes(dependencies),
    ...sessionRoutes(dependencies),
  ];
  // The document describes every route, its own included.
  routes.push(...openApiRoutes(() => routes));
  return routes;
}

export function createApi(
  config: ApiConfig,
  overrides: { verifier?: TokenVerifier; dependencies?: ApiRouteDependencies } = {},
): HttpApplication {
  const dependencies = overrides.dependencies ?? cloudDependencies(config);
  return createHttpApp({
    verifier: overrides.verifier ?? createTokenVerifier(config.auth),
    routes: apiRoutes(dependencies),
    directory: dependencies.directorySource,
    mapError: storeFailureForApi,
  });
}

/** The API function (HTTP trigger). */
export const apiFunction: HttpFunctionDefinition<ApiSection> = {
  name: 'api',
  trigger: 'http',
  config: API_CONFIG_SECTIONS,
  start: (config) => createApi(config),
};
