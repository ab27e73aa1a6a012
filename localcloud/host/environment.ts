// The environment a function instance starts with. In the cloud it is s.yaml's
// environmentVariables plus what the FC runtime adds (FC_* and, with a role, the role's
// ALIBABA_CLOUD_* credentials). Locally the host also points every endpoint at the local cloud
// and hands over the local issuer's JWKS — overriding s.yaml — per the runtime contract.
// Nothing from the host's own environment leaks in except what node itself needs.

import type { LocalCloudEnv } from '../core/contracts';
import { DEFAULT_TABLESTORE_INSTANCE } from '../core/defaults';
import type { FunctionCredentials } from './credentials';
import type { FunctionSpec } from './s-yaml';

export interface AuthSettings {
  issuer: string;
  audience: string;
  rolesClaim: string;
  jwks: unknown;
}

export interface EnvironmentInputs {
  fn: FunctionSpec;
  cloud: LocalCloudEnv;
  auth: AuthSettings;
  credentials: FunctionCredentials | undefined;
  instanceId: string;
  /** Where the instance's code lives (FC_FUNC_CODE_PATH). */
  codePath: string;
  /** Applied last: tests and the CLI may set e.g. LOG_LEVEL. */
  overrides?: Record<string, string>;
  /** The host's environment, for PATH/HOME/TMPDIR only. */
  hostEnv?: Record<string, string | undefined>;
}

/**
 * Where the local cloud's services are, as the project's variables name them. Log Service
 * endpoints are templates over the region: `<real host name>@<localcloud>` makes the SLS SDK
 * connect to localcloud and send `<project>.<region>.log.aliyuncs.com@...` as Host, from which
 * localcloud reads the project and the region (localcloud/README.md, "SLS").
 */
export function localCloudEndpoints(cloud: LocalCloudEnv): Record<string, string> {
  return {
    CLOUD_PROTOCOL: 'http',
    SLS_ENDPOINT: `{region}.log.aliyuncs.com@${cloud.endpoints.sls}`,
    SLS_OWN_REGION_ENDPOINT: `{region}-intranet.log.aliyuncs.com@${cloud.endpoints.sls}`,
    STS_ENDPOINT: cloud.endpoints.sts,
    RESOURCEMANAGER_ENDPOINT: cloud.endpoints.resourcemanager,
    RAM_ENDPOINT: cloud.endpoints.ram,
    FUNCTION_COMPUTE_ENDPOINT: cloud.endpoints.fc,
    TABLESTORE_ENDPOINT: `http://${cloud.endpoints.tablestore}`,
    TABLESTORE_INSTANCE: DEFAULT_TABLESTORE_INSTANCE,
  };
}

/** Variables the local cloud decides, whatever s.yaml says. */
export function localCloudVariables(
  cloud: LocalCloudEnv,
  auth: AuthSettings,
): Record<string, string> {
  return {
    ...localCloudEndpoints(cloud),
    AUTH_ISSUER: auth.issuer,
    AUTH_AUDIENCE: auth.audience,
    AUTH_JWKS: JSON.stringify(auth.jwks),
    AUTH_ROLES_CLAIM: auth.rolesClaim,
  };
}

export function functionEnvironment(inputs: EnvironmentInputs): Record<string, string> {
  const { fn, cloud, credentials } = inputs;
  const hostEnv = inputs.hostEnv ?? process.env;
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = hostEnv[key];
    if (value) env[key] = value;
  }
  // FC instances run in UTC.
  env.TZ = 'UTC';
  Object.assign(env, fn.environmentVariables);
  // Exactly one JWKS source: the local issuer's inline JWKS replaces a configured URL.
  delete env.AUTH_JWKS_URL;
  Object.assign(env, localCloudVariables(cloud, inputs.auth));
  Object.assign(env, {
    FC_FUNCTION_NAME: fn.name,
    FC_FUNCTION_HANDLER: fn.handler,
    FC_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    FC_REGION: cloud.region,
    FC_ACCOUNT_ID: cloud.managementAccountId,
    FC_INSTANCE_ID: inputs.instanceId,
    FC_QUALIFIER: 'LATEST',
    FC_FUNC_CODE_PATH: inputs.codePath,
  });
  if (credentials) {
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = credentials.accessKeyId;
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = credentials.accessKeySecret;
    env.ALIBABA_CLOUD_SECURITY_TOKEN = credentials.securityToken;
  }
  Object.assign(env, inputs.overrides ?? {});
  return env;
}
