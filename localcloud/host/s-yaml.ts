// Reads s.yaml (Serverless Devs 3, component fc3) into the functions and triggers the host runs.
// s.yaml is the source of truth: the build and the host both discover functions from it.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { functionBundleFile, functionSourceEntry } from '../../bundling/function-bundle';
import { type InterpolationScope, interpolateValue } from './interpolation';

export interface HttpTriggerSpec {
  type: 'http';
  name: string;
  /** Upper-case methods the trigger accepts. */
  methods: string[];
  authType: string;
}

export interface TimerTriggerSpec {
  type: 'timer';
  name: string;
  /** FC cron: `CRON_TZ=Zone s m h dom mon dow`, 6 fields with seconds, or `@every 5m`. */
  cronExpression: string;
  enable: boolean;
  payload: string;
}

export interface EventBridgeTriggerSpec {
  type: 'eventbridge';
  name: string;
  enable: boolean;
  /** Parsed `eventRuleFilterPattern`; undefined means every event matches. */
  filterPattern: unknown;
  eventSourceType: string | undefined;
  eventSourceParameters: Record<string, unknown>;
}

/** An SLS (Log Service) trigger: invokes the function per shard with the cursor range of data
 *  that arrived since the last successful invocation. */
export interface LogTriggerSpec {
  type: 'log';
  name: string;
  enable: boolean;
  /** From `sourceArn: acs:log:<region>:<account>:project/<project>`. */
  project: string;
  region: string | undefined;
  logstore: string;
  /** Seconds between runs (FC: 3 to 600). */
  triggerInterval: number;
  /** Retries of a failed invocation within one run (FC: 0 to 100). */
  maxRetryTime: number;
  /** Where the trigger's own run logs go. */
  logConfig: { project: string; logstore: string };
  /** Passed to the function as the event's `parameter`. */
  functionParameter: Record<string, unknown>;
}

export interface OtherTriggerSpec {
  type: 'unsupported';
  name: string;
  triggerType: string;
}

export type TriggerSpec =
  | HttpTriggerSpec
  | TimerTriggerSpec
  | EventBridgeTriggerSpec
  | LogTriggerSpec
  | OtherTriggerSpec;

export interface FunctionSpec {
  /** The key under `resources`. */
  resourceName: string;
  /** FC function name (`props.functionName`). */
  name: string;
  region: string | undefined;
  runtime: string;
  /** As written, e.g. `index.handler`. */
  handler: string;
  /** Module path inside the code directory, without extension: `index`. */
  handlerModule: string;
  /** Exported function name: `handler`. */
  handlerExport: string;
  /** `props.code` resolved against the s.yaml directory: what `s deploy` uploads. */
  codeDir: string;
  /** The TypeScript source the host builds and runs locally (functions/<name>/<module>.ts when
   *  code is ./dist/<name>), or undefined when no source exists for the code path. */
  sourceEntry: string | undefined;
  /** Where the build writes the bundle: <codeDir>/<module>.mjs. */
  bundleFile: string;
  timeoutSeconds: number;
  memorySize: number;
  instanceConcurrency: number;
  /** Role ARN the function runs as, or undefined when none is configured. */
  role: string | undefined;
  environmentVariables: Record<string, string>;
  triggers: TriggerSpec[];
}

/** A `run` action of a resource (`actions.pre-deploy` / `actions.post-deploy`). */
export interface DeployAction {
  resourceName: string;
  hook: 'pre-deploy' | 'post-deploy';
  run: string;
  /** Working directory, resolved against the s.yaml directory. */
  cwd: string;
}

export interface ServerlessSpec {
  path: string;
  /** Directory of s.yaml: code paths are relative to it. */
  projectDir: string;
  vars: Record<string, unknown>;
  functions: FunctionSpec[];
  /** Shell `run` actions in s.yaml order (component and plugin actions are not run locally). */
  deployActions: DeployAction[];
}

export class ServerlessSpecError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ServerlessSpecError';
  }
}

export interface LoadOptions {
  /** What `${env('X')}` reads; process.env when absent. */
  env?: Record<string, string | undefined>;
  /** What `${config('X')}` reads, e.g. { AccountID }. */
  config?: Record<string, string | undefined>;
  /** `keep` leaves unresolvable interpolations as written (for the build). */
  onUnresolved?: 'throw' | 'keep';
}

const FC3_DEFAULT_TIMEOUT_SECONDS = 3;
const FC3_DEFAULT_MEMORY_MB = 512;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function splitHandler(handler: string, where: string, file: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    throw new ServerlessSpecError(
      file,
      `${where}.handler "${handler}" must be <module>.<export>, e.g. index.handler`,
    );
  }
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

function parseTrigger(raw: unknown, where: string, file: string): TriggerSpec {
  if (!isRecord(raw)) throw new ServerlessSpecError(file, `${where} must be a mapping`);
  const name = optionalString(raw.triggerName);
  const type = optionalString(raw.triggerType);
  if (!name || !type) {
    throw new ServerlessSpecError(file, `${where} needs triggerName and triggerType`);
  }
  const config = isRecord(raw.triggerConfig) ? raw.triggerConfig : {};
  switch (type) {
    case 'http': {
      const methods = Array.isArray(config.methods)
        ? config.methods.map((m) => String(m).toUpperCase())
        : ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];
      return {
        type: 'http',
        name,
        methods,
        authType: optionalString(config.authType) ?? 'anonymous',
      };
    }
    case 'timer': {
      const cronExpression = optionalString(config.cronExpression);
      if (!cronExpression) {
        throw new ServerlessSpecError(file, `${where}.triggerConfig.cronExpression is required`);
      }
      return {
        type: 'timer',
        name,
        cronExpression,
        enable: config.enable !== false,
        payload: optionalString(config.payload) ?? '',
      };
    }
    case 'eventbridge': {
      const patternText = optionalString(config.eventRuleFilterPattern);
      let filterPattern: unknown;
      if (patternText) {
        try {
          filterPattern = JSON.parse(patternText);
        } catch (error) {
          throw new ServerlessSpecError(
            file,
            `${where}.triggerConfig.eventRuleFilterPattern is not JSON: ${(error as Error).message}`,
          );
        }
      }
      const source = isRecord(config.eventSourceConfig) ? config.eventSourceConfig : {};
      return {
        type: 'eventbridge',
        name,
        enable: config.triggerEnable !== false,
        filterPattern,
        eventSourceType: optionalString(source.eventSourceType),
        eventSourceParameters: isRecord(source.eventSourceParameters)
          ? source.eventSourceParameters
          : {},
      };
    }
    case 'log':
      return parseLogTrigger(raw, config, name, where, file);
    default:
      return { type: 'unsupported', name, triggerType: type };
  }
}

function boundedInteger(
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  where: string,
  file: string,
): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ServerlessSpecError(file, `${where} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function parseLogTrigger(
  raw: Record<string, unknown>,
  config: Record<string, unknown>,
  name: string,
  where: string,
  file: string,
): LogTriggerSpec {
  const arn = optionalString(raw.sourceArn) ?? '';
  const match = /^acs:log:([^:]*):[^:]*:project\/([^/]+)$/.exec(arn);
  if (!match) {
    throw new ServerlessSpecError(
      file,
      `${where}.sourceArn must be acs:log:<region>:<account>:project/<project> (got '${arn}')`,
    );
  }
  const source = isRecord(config.sourceConfig) ? config.sourceConfig : {};
  const logstore = optionalString(source.logstore);
  if (!logstore) {
    throw new ServerlessSpecError(file, `${where}.triggerConfig.sourceConfig.logstore is required`);
  }
  const job = isRecord(config.jobConfig) ? config.jobConfig : {};
  const logConfig = isRecord(config.logConfig) ? config.logConfig : {};
  const logProject = optionalString(logConfig.project);
  const logLogstore = optionalString(logConfig.logstore);
  if (!logProject || !logLogstore) {
    throw new ServerlessSpecError(
      file,
      `${where}.triggerConfig.logConfig needs project and logstore`,
    );
  }
  return {
    type: 'log',
    name,
    enable: config.enable !== false,
    project: match[2] as string,
    region: match[1] === '' ? undefined : match[1],
    logstore,
    triggerInterval: boundedInteger(
      job.triggerInterval,
      60,
      3,
      600,
      `${where}.triggerConfig.jobConfig.triggerInterval`,
      file,
    ),
    maxRetryTime: boundedInteger(
      job.maxRetryTime,
      3,
      0,
      100,
      `${where}.triggerConfig.jobConfig.maxRetryTime`,
      file,
    ),
    logConfig: { project: logProject, logstore: logLogstore },
    functionParameter: isRecord(config.functionParameter) ? config.functionParameter : {},
  };
}

function positiveInteger(value: unknown, fallback: number, where: string, file: string): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ServerlessSpecError(
      file,
      `${where} must be a positive integer, got ${String(value)}`,
    );
  }
  return n;
}

const DEPLOY_HOOKS = ['pre-deploy', 'post-deploy'] as const;

function readDeployActions(
  rawActions: unknown,
  projectDir: string,
  file: string,
  scope: InterpolationScope,
): DeployAction[] {
  if (!isRecord(rawActions)) return [];
  const actions: DeployAction[] = [];
  for (const hook of DEPLOY_HOOKS) {
    const entries = rawActions[hook];
    if (entries === undefined) continue;
    const where = `resources.${scope.resourceName}.actions.${hook}`;
    if (!Array.isArray(entries)) throw new ServerlessSpecError(file, `${where} must be a list`);
    entries.forEach((entry, i) => {
      const action = interpolateValue(entry, scope, `${where}[${i}]`);
      if (!isRecord(action))
        throw new ServerlessSpecError(file, `${where}[${i}] must be a mapping`);
      const run = optionalString(action.run);
      if (run === undefined) return; // component: / plugin: actions need Serverless Devs itself
      const path = optionalString(action.path) ?? './';
      actions.push({
        resourceName: scope.resourceName ?? '',
        hook,
        run,
        cwd: resolve(projectDir, path),
      });
    });
  }
  return actions;
}

/** Turns a parsed s.yaml document into function specs. Pure apart from probing source files. */
export function readServerlessSpec(
  document: unknown,
  path: string,
  options: LoadOptions = {},
): ServerlessSpec {
  const file = resolve(path);
  const projectDir = dirname(file);
  if (!isRecord(document)) throw new ServerlessSpecError(file, 'is not a YAML mapping');
  const env = options.env ?? process.env;
  const config = options.config ?? {};
  const onUnresolved = options.onUnresolved ?? 'throw';

  const rawVars = isRecord(document.vars) ? document.vars : {};
  // vars may use env() and config(), and refer to other vars.
  let vars = rawVars;
  for (let pass = 0; pass < 4; pass++) {
    vars = interpolateValue(rawVars, { vars, env, config, onUnresolved: 'keep' }, 'vars') as Record<
      string,
      unknown
    >;
  }
  vars = interpolateValue(rawVars, { vars, env, config, onUnresolved }, 'vars') as Record<
    string,
    unknown
  >;

  const resources = isRecord(document.resources) ? document.resources : {};
  const functions: FunctionSpec[] = [];
  const deployActions: DeployAction[] = [];
  for (const [resourceName, rawResource] of Object.entries(resources)) {
    if (!isRecord(rawResource)) continue;
    deployActions.push(
      ...readDeployActions(rawResource.actions, projectDir, file, {
        vars,
        env,
        config,
        resourceName,
        onUnresolved,
      }),
    );
    const component = optionalString(rawResource.component);
    if (component !== 'fc3' && !component?.startsWith('fc3@')) continue;
    const where = `resources.${resourceName}.props`;
    const scope: InterpolationScope = { vars, env, config, resourceName, onUnresolved };
    const props = interpolateValue(rawResource.props ?? {}, scope, where);
    if (!isRecord(props)) throw new ServerlessSpecError(file, `${where} must be a mapping`);

    const name = optionalString(props.functionName);
    if (!name) throw new ServerlessSpecError(file, `${where}.functionName is required`);
    const runtime = optionalString(props.runtime) ?? '';
    const handler = optionalString(props.handler) ?? 'index.handler';
    const [handlerModule, handlerExport] = splitHandler(handler, where, file);
    const code = optionalString(props.code);
    if (!code) {
      throw new ServerlessSpecError(
        file,
        `${where}.code is required (a local directory such as ./dist/${name})`,
      );
    }
    const codeDir = isAbsolute(code) ? code : resolve(projectDir, code);

    const environmentVariables: Record<string, string> = {};
    if (isRecord(props.environmentVariables)) {
      for (const [key, value] of Object.entries(props.environmentVariables)) {
        if (value !== undefined && value !== null) environmentVariables[key] = String(value);
      }
    }
    const triggers = Array.isArray(props.triggers)
      ? props.triggers.map((t, i) => parseTrigger(t, `${where}.triggers[${i}]`, file))
      : [];

    functions.push({
      resourceName,
      name,
      region: optionalString(props.region),
      runtime,
      handler,
      handlerModule,
      handlerExport,
      codeDir,
      sourceEntry: functionSourceEntry(projectDir, code, handlerModule),
      bundleFile: functionBundleFile(codeDir, handlerModule),
      timeoutSeconds: positiveInteger(
        props.timeout,
        FC3_DEFAULT_TIMEOUT_SECONDS,
        `${where}.timeout`,
        file,
      ),
      memorySize: positiveInteger(
        props.memorySize,
        FC3_DEFAULT_MEMORY_MB,
        `${where}.memorySize`,
        file,
      ),
      instanceConcurrency: positiveInteger(
        props.instanceConcurrency,
        1,
        `${where}.instanceConcurrency`,
        file,
      ),
      role: optionalString(props.role),
      environmentVariables,
      triggers,
    });
  }

  const names = new Set<string>();
  for (const fn of functions) {
    if (names.has(fn.name)) {
      throw new ServerlessSpecError(file, `functionName ${fn.name} is declared twice`);
    }
    names.add(fn.name);
  }
  return { path: file, projectDir, vars, functions, deployActions };
}

/** Reads and parses s.yaml from disk. */
export function loadServerlessSpec(path: string, options: LoadOptions = {}): ServerlessSpec {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ServerlessSpecError(file, `cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ServerlessSpecError(file, `is not valid YAML: ${(error as Error).message}`);
  }
  return readServerlessSpec(document, file, options);
}
