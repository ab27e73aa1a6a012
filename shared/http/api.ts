// The API function's application: configuration, logger, token verifier, routes and the
// adapters they read through. Built once per process (FC cold start).

import { createFcInvoker } from '../cloud/fc/invoke';
import { createResourceManagerDirectory } from '../cloud/resourcemanager/directory-source';
import { type Config, readConfig } from '../config';
import type { DirectorySource } from '../directory/ports';
import { FunctionMisconfigured } from '../errors';
import type { Invocation } from '../runtime/context';
import type { HttpApplication } from '../runtime/http';
import { createLogger, type Logger } from '../runtime/logger';
import { MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from '../wiring/membership';
import { createHttpApp } from './app';
import { createTokenVerifier, type TokenVerifier } from './auth';
import { directoryRoutes } from './directory-routes';
import { healthRoutes } from './health-routes';
import { type MembershipRouteDependencies, membershipRoutes } from './membership-routes';
import { type RoleRouteDependencies, roleRoutes } from './role-routes';

/** The configuration sections the API function reads (and so the variables it requires). */
export const API_CONFIG_SECTIONS = [...MEMBERSHIP_CONFIG_SECTIONS, 'auth'] as const;
export type ApiConfig = Config<(typeof API_CONFIG_SECTIONS)[number]>;

export interface ApiPorts extends MembershipRouteDependencies, RoleRouteDependencies {
  directorySource(invocation: Invocation): Pick<DirectorySource, 'readSnapshot'>;
}

export function cloudPorts(config: ApiConfig): ApiPorts {
  const membership = membershipRuntime(config, { fanOut: createFcInvoker });
  return {
    membership: (invocation, logger) => membership.forInvocation(invocation, logger),
    roles: (invocation, logger) => membership.forInvocation(invocation, logger),
    directorySource(invocation) {
      if (!invocation.credentials) {
        throw new FunctionMisconfigured(
          `Function ${invocation.functionName} has no role credentials; set "role" in s.yaml to a role that may read the Resource Directory`,
        );
      }
      return createResourceManagerDirectory({
        endpoint: config.resourceManager.endpoint,
        protocol: config.cloud.protocol,
        credentials: invocation.credentials,
        accountId: invocation.accountId,
      });
    },
  };
}

export function createApi(
  config: ApiConfig,
  overrides: { verifier?: TokenVerifier; ports?: ApiPorts } = {},
): HttpApplication {
  const ports = overrides.ports ?? cloudPorts(config);
  return createHttpApp({
    verifier: overrides.verifier ?? createTokenVerifier(config.auth),
    routes: [
      ...healthRoutes(),
      ...directoryRoutes(ports),
      ...membershipRoutes(ports),
      ...roleRoutes(ports),
    ],
  });
}

export interface ApiFunction {
  app: HttpApplication;
  logger: Logger;
}

/** Reads the configuration from the environment (once) and builds the application. */
export function apiFunction(): ApiFunction {
  const config = readConfig(API_CONFIG_SECTIONS);
  return {
    app: createApi(config),
    logger: createLogger({ level: config.logging.level, fields: { function: 'api' } }),
  };
}
