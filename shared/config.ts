// Environment -> typed configuration, in one place.
//
// Each function parses only the sections it uses (`loadConfig(env, ['cloud', 'auth'])`), so a
// function never demands variables it does not read. `readConfig` parses process.env once per
// process (FC cold start) and keeps the result; a missing or invalid variable throws a
// ConfigurationError whose message names the variable and what it should hold.

import { z } from 'zod';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type CloudProtocol = 'https' | 'http';

/** One environment variable: how to parse it and, for error messages, what it should hold. */
interface Variable<S extends z.ZodType = z.ZodType> {
  schema: S;
  expected: string;
}

function variable<S extends z.ZodType>(schema: S, expected: string): Variable<S> {
  return { schema, expected };
}

// host[:port] without scheme or path, as the OpenAPI SDKs take `endpoint`.
const endpointSchema = z
  .string()
  .refine((value) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(value), 'must not include a scheme')
  .refine(
    (value) => /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/.test(value),
    'must be host or host:port',
  );

// A region's Log Service endpoint with `{region}` standing for the region id: host[:port], or
// `<host name>@host:port` (localcloud: the client connects to what follows the `@`).
const slsEndpointTemplateSchema = z
  .string()
  .refine((value) => value.includes('{region}'), 'must contain {region}')
  .refine(
    (value) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(value),
    'must not include a scheme (CLOUD_PROTOCOL sets it)',
  )
  .refine(
    (value) =>
      /^([a-z0-9.-]+@)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/.test(
        value.replaceAll('{region}', 'cn-hangzhou'),
      ),
    'must be a host[:port] template such as {region}.log.aliyuncs.com',
  );

const httpUrlSchema = z
  .string()
  .refine(
    (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
    'must be an http(s) URL',
  );

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

const jwksUrlSchema = httpUrlSchema.refine((value) => {
  if (!URL.canParse(value)) return true; // reported by httpUrlSchema
  const url = new URL(value);
  return url.protocol === 'https:' || isLoopback(url);
}, 'must use https (plain http only on loopback)');

const jwksJsonSchema = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.object(
      { keys: z.array(z.looseObject({ kty: z.string() })).min(1, 'must hold at least one key') },
      'must be a JWKS object {"keys": [...]}',
    ),
  );

const variables = {
  CLOUD_PROTOCOL: variable(
    z.enum(['https', 'http']).default('https'),
    'https (default) or http (only for localcloud)',
  ),
  STS_ENDPOINT: variable(
    endpointSchema,
    'host[:port] of the STS API, e.g. sts-vpc.cn-hangzhou.aliyuncs.com',
  ),
  RESOURCEMANAGER_ENDPOINT: variable(
    endpointSchema,
    'host[:port] of the ResourceManager API, e.g. resourcemanager.aliyuncs.com',
  ),
  RAM_ENDPOINT: variable(endpointSchema, 'host[:port] of the RAM API, e.g. ram.aliyuncs.com'),
  FUNCTION_COMPUTE_ENDPOINT: variable(
    endpointSchema,
    'host[:port] of the Function Compute API, e.g. <account>.cn-hangzhou-internal.fc.aliyuncs.com',
  ),
  SLS_ENDPOINT: variable(
    slsEndpointTemplateSchema.default('{region}.log.aliyuncs.com'),
    "a region's Log Service endpoint, {region} standing for the region id (default {region}.log.aliyuncs.com)",
  ),
  SLS_OWN_REGION_ENDPOINT: variable(
    slsEndpointTemplateSchema.default('{region}-intranet.log.aliyuncs.com'),
    "Log Service's endpoint in the functions' own region (default {region}-intranet.log.aliyuncs.com)",
  ),
  STS_ASSUME_ROLE_RATE: variable(
    z.coerce.number().int().min(1).max(100).default(95),
    'AssumeRole calls a second each function instance allows itself per calling account (1-100, default 95; STS allows 100 per account)',
  ),
  TABLESTORE_ENDPOINT: variable(
    httpUrlSchema,
    'full URL of the Tablestore instance, e.g. https://rdgov.cn-hangzhou.vpc.tablestore.aliyuncs.com',
  ),
  TABLESTORE_INSTANCE: variable(
    z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{1,14}[A-Za-z0-9]$/,
        'must be 3-16 letters, digits or hyphens, starting with a letter',
      ),
    'the Tablestore instance name, e.g. rdgov',
  ),
  MEMBER_ACCESS_ROLE: variable(
    z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,64}$/, 'must be a RAM role name (1-64 letters, digits, . or -)')
      .default('ResourceDirectoryAccountAccessRole'),
    'the RAM role name assumed in each member (default ResourceDirectoryAccountAccessRole)',
  ),
  AUTH_ISSUER: variable(z.string(), 'the JWT issuer (iss) the API accepts'),
  AUTH_AUDIENCE: variable(z.string(), 'the JWT audience (aud) the API accepts'),
  AUTH_JWKS_URL: variable(
    jwksUrlSchema.optional(),
    "https URL of the issuer's JWKS (set this or AUTH_JWKS)",
  ),
  AUTH_JWKS: variable(
    jwksJsonSchema.optional(),
    'inline JWKS JSON {"keys": [...]} (set this or AUTH_JWKS_URL)',
  ),
  AUTH_ROLES_CLAIM: variable(
    z.string().default('roles'),
    'the JWT claim holding the roles viewer/operator (default roles)',
  ),
  AUTH_SCOPE_CLAIM: variable(
    z.string().min(1).default('rdgov_scope'),
    'the JWT claim listing the folder ids and account ids a token is limited to (default rdgov_scope; absent from a token: not limited)',
  ),
  AUTH_MAX_TOKEN_AGE_SECONDS: variable(
    z.coerce.number().int().min(1).max(31_536_000).optional(),
    'the oldest token the API accepts, in seconds since its iat (1-31536000; unset: no limit beyond exp)',
  ),
  DELEGATED_SERVICE_PRINCIPAL: variable(
    z
      .string()
      .regex(
        /^[a-z0-9.-]+\.aliyuncs\.com$/,
        'must be a service principal such as cloudfw.aliyuncs.com',
      )
      .optional(),
    'when deployed in a delegated administrator account: the service principal it holds',
  ),
  RECONCILE_CONCURRENCY: variable(
    z.coerce.number().int().min(1).max(64).default(16),
    'members onboarded at once by a reconcile, or by each lane of a scope change (1-64, default 16)',
  ),
  ONBOARDING_WORKER_FUNCTION: variable(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'must be an FC function name')
      .default('rdgov-onboarding-worker'),
    'the FC function scope changes fan their onboarding out to (default rdgov-onboarding-worker)',
  ),
  ONBOARDING_LANES: variable(
    z.coerce.number().int().min(1).max(16).default(4),
    'chunks of a scope change onboarded at once, each with its share of STS_ASSUME_ROLE_RATE (1-16, default 4)',
  ),
  ROLE_REPAIR_POLICY: variable(
    z.enum(['report', 'repair']).default('report'),
    'what a role check does with a missing service-linked role: report (default) or repair',
  ),
  ROLE_CATALOG_EXTRA: variable(
    z.string().optional(),
    'JSON array of extra role catalog entries ({service, roleName, serviceName, source})',
  ),
  ROLE_CHECK_WORKER_FUNCTION: variable(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'must be an FC function name')
      .default('rdgov-role-check-worker'),
    'the FC function a role sweep fans out to (default rdgov-role-check-worker)',
  ),
  LOG_CENTRAL_PROJECT: variable(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
        'must be a Log Service project name: 3-63 lower-case letters, digits and hyphens',
      ),
    "the central Log Service project in the functions' own account and region, e.g. rdgov-logs-<account>-cn-hangzhou",
  ),
  LOG_CENTRAL_LOGSTORE: variable(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/,
        'must be a Logstore name: 3-63 lower-case letters, digits, hyphens and underscores',
      )
      .default('rdgov-integrated-logs'),
    'the central Logstore integrated logs are forwarded to (default rdgov-integrated-logs)',
  ),
  LOG_REGIONS: variable(
    z
      .string()
      .transform((value) => [
        ...new Set(
          value
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'each must be a region id such as cn-hangzhou'),
          )
          .min(1, 'must name at least one region'),
      )
      .optional(),
    "comma-separated regions where members' product logs are looked for (default: the functions' region)",
  ),
  LOG_WORKER_FUNCTION: variable(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'must be an FC function name')
      .default('rdgov-log-worker'),
    'the FC function log planning fans out to (default rdgov-log-worker)',
  ),
  LOG_NO_DATA_MINUTES: variable(
    z.coerce.number().int().min(1).max(10_080).default(60),
    'minutes without new logs after which a data source shows no-data (1-10080, default 60)',
  ),
  LOG_WORKER_CONCURRENCY: variable(
    z.coerce.number().int().min(1).max(32).default(8),
    'shards one log worker instance reads at once (1-32, default 8)',
  ),
  LOG_SHARDS_PER_WORKER: variable(
    z.coerce.number().int().min(1).max(200).default(40),
    'shards per log worker invocation (1-200, default 40)',
  ),
  SESSION_RETENTION_DAYS: variable(
    z.coerce.number().int().min(1).max(3650).default(180),
    'days the session-audit index keeps a session and its events after their last write (1-3650, default 180; applied by setup:tables)',
  ),
  LOG_LEVEL: variable(z.enum(LOG_LEVELS).default('info'), 'debug, info (default), warn or error'),
} satisfies Record<string, Variable>;

type VariableName = keyof typeof variables;
type Values<N extends VariableName> = { [K in N]: z.output<(typeof variables)[K]['schema']> };

interface Section<N extends VariableName, R> {
  variables: readonly N[];
  /** Problems that involve more than one variable. */
  check?: (values: Values<N>) => ConfigProblem[];
  build: (values: Values<N>) => R;
}

function section<N extends VariableName, R>(definition: Section<N, R>): Section<N, R> {
  return definition;
}

export type JwksSource =
  | { kind: 'url'; url: string }
  | { kind: 'inline'; jwks: { keys: object[] } };

export interface AuthConfig {
  issuer: string;
  audience: string;
  jwks: JwksSource;
  rolesClaim: string;
  /** The claim listing the folders and accounts a token is limited to (see http/auth.ts). */
  scopeClaim?: string;
  /** Tokens whose `iat` is older are refused (and `iat` is then required); none when absent. */
  maxTokenAgeSeconds?: number;
}

const sections = {
  cloud: section({
    variables: ['CLOUD_PROTOCOL'],
    build: (v): { protocol: CloudProtocol } => ({ protocol: v.CLOUD_PROTOCOL }),
  }),
  resourceManager: section({
    variables: ['RESOURCEMANAGER_ENDPOINT'],
    build: (v) => ({ endpoint: v.RESOURCEMANAGER_ENDPOINT }),
  }),
  sts: section({
    variables: ['STS_ENDPOINT', 'MEMBER_ACCESS_ROLE', 'STS_ASSUME_ROLE_RATE'],
    build: (v) => ({
      endpoint: v.STS_ENDPOINT,
      memberAccessRole: v.MEMBER_ACCESS_ROLE,
      assumeRoleRatePerSecond: v.STS_ASSUME_ROLE_RATE,
    }),
  }),
  ram: section({ variables: ['RAM_ENDPOINT'], build: (v) => ({ endpoint: v.RAM_ENDPOINT }) }),
  sls: section({
    variables: ['SLS_ENDPOINT', 'SLS_OWN_REGION_ENDPOINT'],
    build: (v) => ({ endpoint: v.SLS_ENDPOINT, ownRegionEndpoint: v.SLS_OWN_REGION_ENDPOINT }),
  }),
  fc: section({
    variables: ['FUNCTION_COMPUTE_ENDPOINT'],
    build: (v) => ({ endpoint: v.FUNCTION_COMPUTE_ENDPOINT }),
  }),
  tablestore: section({
    variables: ['TABLESTORE_ENDPOINT', 'TABLESTORE_INSTANCE'],
    build: (v) => ({ endpoint: v.TABLESTORE_ENDPOINT, instance: v.TABLESTORE_INSTANCE }),
  }),
  auth: section({
    variables: [
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUTH_JWKS_URL',
      'AUTH_JWKS',
      'AUTH_ROLES_CLAIM',
      'AUTH_SCOPE_CLAIM',
      'AUTH_MAX_TOKEN_AGE_SECONDS',
    ],
    check: (v) => {
      if (v.AUTH_JWKS_URL !== undefined && v.AUTH_JWKS !== undefined) {
        return [
          {
            variable: 'AUTH_JWKS_URL',
            problem:
              'AUTH_JWKS_URL and AUTH_JWKS are both set; set exactly one (AUTH_JWKS_URL in the cloud, AUTH_JWKS for an inline key set)',
          },
        ];
      }
      if (v.AUTH_JWKS_URL === undefined && v.AUTH_JWKS === undefined) {
        return [
          {
            variable: 'AUTH_JWKS_URL',
            problem: `AUTH_JWKS_URL or AUTH_JWKS is required (${variables.AUTH_JWKS_URL.expected}; or ${variables.AUTH_JWKS.expected})`,
          },
        ];
      }
      return [];
    },
    build: (v): AuthConfig => ({
      issuer: v.AUTH_ISSUER,
      audience: v.AUTH_AUDIENCE,
      jwks:
        v.AUTH_JWKS !== undefined
          ? { kind: 'inline', jwks: v.AUTH_JWKS }
          : { kind: 'url', url: v.AUTH_JWKS_URL ?? '' },
      rolesClaim: v.AUTH_ROLES_CLAIM,
      scopeClaim: v.AUTH_SCOPE_CLAIM,
      ...(v.AUTH_MAX_TOKEN_AGE_SECONDS !== undefined
        ? { maxTokenAgeSeconds: v.AUTH_MAX_TOKEN_AGE_SECONDS }
        : {}),
    }),
  }),
  membership: section({
    variables: [
      'DELEGATED_SERVICE_PRINCIPAL',
      'RECONCILE_CONCURRENCY',
      'ONBOARDING_WORKER_FUNCTION',
      'ONBOARDING_LANES',
    ],
    build: (v) => ({
      delegatedServicePrincipal: v.DELEGATED_SERVICE_PRINCIPAL,
      reconcileConcurrency: v.RECONCILE_CONCURRENCY,
      workerFunction: v.ONBOARDING_WORKER_FUNCTION,
      lanes: v.ONBOARDING_LANES,
    }),
  }),
  roles: section({
    variables: ['ROLE_REPAIR_POLICY', 'ROLE_CATALOG_EXTRA', 'ROLE_CHECK_WORKER_FUNCTION'],
    build: (v) => ({
      repairPolicy: v.ROLE_REPAIR_POLICY,
      catalogExtra: v.ROLE_CATALOG_EXTRA,
      workerFunction: v.ROLE_CHECK_WORKER_FUNCTION,
    }),
  }),
  logs: section({
    variables: [
      'LOG_CENTRAL_PROJECT',
      'LOG_CENTRAL_LOGSTORE',
      'LOG_REGIONS',
      'LOG_WORKER_FUNCTION',
      'LOG_NO_DATA_MINUTES',
      'LOG_WORKER_CONCURRENCY',
      'LOG_SHARDS_PER_WORKER',
    ],
    build: (v) => ({
      centralProject: v.LOG_CENTRAL_PROJECT,
      centralLogstore: v.LOG_CENTRAL_LOGSTORE,
      /** Absent: the functions' own region. */
      regions: v.LOG_REGIONS,
      workerFunction: v.LOG_WORKER_FUNCTION,
      noDataAfterMs: v.LOG_NO_DATA_MINUTES * 60_000,
      workerConcurrency: v.LOG_WORKER_CONCURRENCY,
      shardsPerWorker: v.LOG_SHARDS_PER_WORKER,
    }),
  }),
  sessions: section({
    variables: ['SESSION_RETENTION_DAYS'],
    build: (v) => ({ retentionDays: v.SESSION_RETENTION_DAYS }),
  }),
  logging: section({
    variables: ['LOG_LEVEL'],
    build: (v): { level: LogLevel } => ({ level: v.LOG_LEVEL }),
  }),
};

export type ConfigSectionName = keyof typeof sections;
export type Config<N extends ConfigSectionName> = {
  [K in N]: ReturnType<(typeof sections)[K]['build']>;
};
export type CloudConfig = Config<'cloud'>['cloud'];
export type StsConfig = Config<'sts'>['sts'];

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `Configuration error: ${p.problem}`).join('\n'));
  }

  get variables(): string[] {
    return this.problems.map((p) => p.variable);
  }
}

function describeValue(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(shown);
}

/**
 * Parses the variables the named sections need. Pure: reads only `env`. An empty string counts
 * as unset (Serverless Devs renders an unset `vars` entry as an empty string).
 */
export function loadConfig<const N extends ConfigSectionName>(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly N[],
): Config<N> {
  const problems: ConfigProblem[] = [];
  const values: Partial<Record<VariableName, unknown>> = {};
  const wanted = new Set<VariableName>();
  for (const name of names) for (const v of sections[name].variables) wanted.add(v);

  for (const name of wanted) {
    const raw = env[name];
    const input = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    const { schema, expected } = variables[name];
    const parsed = schema.safeParse(input);
    if (parsed.success) {
      values[name] = parsed.data;
    } else if (input === undefined) {
      problems.push({ variable: name, problem: `${name} is required (${expected})` });
    } else {
      const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
      problems.push({
        variable: name,
        problem: `${name} is invalid: ${reason}; got ${describeValue(input)} (expected ${expected})`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const config: Partial<Record<ConfigSectionName, unknown>> = {};
  for (const name of names) {
    // The section's own variables were all parsed above; the cast restores their per-name types.
    const sectionValues = values as Values<VariableName>;
    const definition = sections[name] as Section<VariableName, unknown>;
    const crossProblems = definition.check?.(sectionValues) ?? [];
    problems.push(...crossProblems);
    if (crossProblems.length === 0) config[name] = definition.build(sectionValues);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return config as Config<N>;
}

const parsedOnce = new Map<string, unknown>();

/** `loadConfig(process.env, names)`, parsed once per process and kept (the FC cold start). */
export function readConfig<const N extends ConfigSectionName>(names: readonly N[]): Config<N> {
  const key = [...names].sort().join(',');
  let config = parsedOnce.get(key) as Config<N> | undefined;
  if (config === undefined) {
    config = loadConfig(process.env, names);
    parsedOnce.set(key, config);
  }
  return config;
}
