// The local function host: runs every fc3 function of s.yaml against the local cloud, as FC
// would. HTTP triggers each get a loopback port of their own (`httpUrls`; the first one, or the
// one on `port`, is `apiUrl`), timers fire on their cron and on demand, EventBridge events are
// delivered when they match the trigger's rule, and every invocation runs in an isolated, warm
// instance process with the function's role credentials from the local cloud's STS.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCloudEnv } from '../core/contracts';
import { createLocalIssuer, type LocalTokens } from './auth';
import { buildBootstrap, FunctionBuilder } from './bundler';
import { RoleCredentialProvider } from './credentials';
import { parseFcCron } from './cron';
import { checkFunctionEnvironment } from './environment-rules';
import { matchesEventPattern } from './eventbridge-pattern';
import { FunctionRuntime, type InvocationResult } from './function-runtime';
import { fcTimestamp } from './http-event';
import { type HttpTriggerServer, startHttpTrigger } from './http-trigger';
import { FunctionInvocationError } from './instance';
import { type LogTriggerRun, LogTriggerRunner, type LogTriggerSource } from './log-trigger';
import {
  type EventBridgeTriggerSpec,
  type FunctionSpec,
  type HttpTriggerSpec,
  loadServerlessSpec,
  type TimerTriggerSpec,
} from './s-yaml';
import { type SchedulerClock, systemSchedulerClock, TimerScheduler } from './scheduler';

export type { LocalTokens, TokenClaims } from './auth';
export { FunctionInvocationError } from './instance';
export type { LogTriggerEvent, LogTriggerRun, LogTriggerSource } from './log-trigger';
export type { FunctionSpec } from './s-yaml';
export { ManualSchedulerClock, type SchedulerClock } from './scheduler';

export interface FunctionHostOptions {
  sYamlPath: string;
  cloud: LocalCloudEnv;
  /** Port for the API's HTTP trigger (the first HTTP-triggered function, or `apiFunction`);
   *  0 or absent = ephemeral. Other HTTP triggers always get ephemeral ports. */
  port?: number;
  /** Which function `port` and `apiUrl` belong to (default: the first with an HTTP trigger). */
  apiFunction?: string;
  auth?: { issuer?: string; audience?: string };
  /** Rebuild and restart a function when its sources change (npm start). Default false. */
  watch?: boolean;
  /** Fire enabled timer triggers on their cron. Default true. */
  schedule?: boolean;
  /** Time source for cron timers; tests pass a ManualSchedulerClock. */
  clock?: SchedulerClock;
  /** Where host and function output goes, one line at a time (default: stdout). */
  log?: (line: string) => void;
  /** Extra environment for every function, applied last (e.g. LOG_LEVEL). */
  environment?: Record<string, string>;
  /** What s.yaml's `${env('X')}` reads (default: process.env). */
  sYamlEnv?: Record<string, string | undefined>;
  /** The local cloud's time (epoch ms), which STS token expiry follows; default Date.now. */
  now?: () => number;
  /** Local cap on concurrent instances per function. Default 4. */
  maxInstancesPerFunction?: number;
  /** The SLS that log triggers read (the local cloud's); without it log triggers do not run. */
  logs?: LogTriggerSource;
}

export interface FunctionHost {
  /** Base URL of the API function's HTTP trigger ('' when s.yaml has none). */
  apiUrl: string;
  /** Base URL per HTTP-triggered function name. */
  httpUrls: Record<string, string>;
  tokens: LocalTokens;
  /** What functions see as AUTH_ISSUER / AUTH_AUDIENCE / AUTH_JWKS. */
  auth: { issuer: string; audience: string; jwks: { keys: unknown[] } };
  functions: FunctionSpec[];
  /** Functions are named by FC function name or by their s.yaml resource key.
   *  Invokes a function directly (as InvokeFunction would) and returns the handler's result.
   *  A Buffer or string payload is passed as is; anything else as its JSON. */
  invoke(functionName: string, eventPayload: unknown): Promise<unknown>;
  /** Fires a timer trigger now (the first timer of the function when no name is given). */
  fireTimer(functionName: string, triggerName?: string): Promise<unknown>;
  /** Delivers CloudEvent(s) through the function's EventBridge trigger: only events matching the
   *  trigger's eventRuleFilterPattern reach the handler; none matching is an error. */
  deliverEvent(
    functionName: string,
    cloudEventOrArray: unknown,
    triggerName?: string,
  ): Promise<unknown>;
  /** Publishes one CloudEvent to the event bus, as EventBridge routes it: every enabled
   *  EventBridge trigger whose eventRuleFilterPattern matches delivers it to its function (a
   *  function with no matching trigger is not invoked). Resolves with the functions it reached;
   *  rejects, after every delivery has settled, when one of them failed. */
  publishEvent(cloudEvent: unknown): Promise<{ delivered: string[] }>;
  /** Runs a log trigger now (the first of the function when no name is given): one invocation
   *  per shard with new data since the last success. Scheduled runs follow triggerInterval. */
  runLogTrigger(functionName: string, triggerName?: string): Promise<LogTriggerRun>;
  /** When each scheduled timer fires next, keyed `<function>/<trigger>`. */
  nextTimerFires(): Record<string, Date>;
  stop(): Promise<void>;
}

export class TriggerNotFoundError extends Error {
  constructor(functionName: string, kind: string, triggerName: string | undefined) {
    super(
      triggerName
        ? `function ${functionName} has no ${kind} trigger named ${triggerName}`
        : `function ${functionName} has no ${kind} trigger`,
    );
    this.name = 'TriggerNotFoundError';
  }
}

export class EventPublishError extends Error {
  constructor(
    readonly delivered: string[],
    readonly failures: Array<{ functionName: string; error: unknown }>,
  ) {
    super(
      `event delivery failed for ${failures
        .map(
          (f) =>
            `${f.functionName} (${f.error instanceof Error ? f.error.message : String(f.error)})`,
        )
        .join(', ')}`,
    );
    this.name = 'EventPublishError';
  }
}

export class EventNotDeliveredError extends Error {
  constructor(functionName: string, trigger: EventBridgeTriggerSpec, reason: string) {
    super(`event not delivered to ${functionName} through trigger ${trigger.name}: ${reason}`);
    this.name = 'EventNotDeliveredError';
  }
}

function defaultLog(line: string): void {
  process.stdout.write(`${line}\n`);
}

function encodePayload(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(JSON.stringify(payload ?? null), 'utf8');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Build directories of hosts that are no longer running. */
function removeStaleBuildDirs(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    const pid = Number(entry.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const log = options.log ?? defaultLog;
  const hostLog = (line: string) => log(`[host] ${line}`);
  const cloud = options.cloud;
  const spec = loadServerlessSpec(options.sYamlPath, {
    env: options.sYamlEnv ?? process.env,
    config: { AccountID: cloud.managementAccountId },
  });
  for (const fn of spec.functions) {
    // What FC would refuse at deploy time stops the host too.
    checkFunctionEnvironment(fn.name, fn.environmentVariables);
    for (const trigger of fn.triggers) {
      if (trigger.type === 'http' && trigger.authType !== 'anonymous') {
        throw new Error(
          `${fn.name}: HTTP trigger ${trigger.name} uses authType ${trigger.authType}; the local host serves only anonymous HTTP triggers (the API authenticates requests itself)`,
        );
      }
      if (trigger.type === 'unsupported') {
        hostLog(`${fn.name}: trigger ${trigger.name} (${trigger.triggerType}) is not run locally`);
      }
    }
  }

  const issuer = await createLocalIssuer(options.auth);
  const auth = {
    issuer: issuer.issuer,
    audience: issuer.audience,
    rolesClaim: issuer.rolesClaim,
    jwks: issuer.jwks,
  };
  const needsRoles = spec.functions.some((fn) => fn.role);
  const credentials = needsRoles
    ? new RoleCredentialProvider({ cloud, ...(options.now ? { now: options.now } : {}) })
    : undefined;

  const buildRoot = join(spec.projectDir, '.localcloud', 'host-build');
  removeStaleBuildDirs(buildRoot);
  const buildDir = join(buildRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(buildDir, { recursive: true });

  const runtimes = new Map<string, FunctionRuntime>();
  const builders: FunctionBuilder[] = [];
  const servers: HttpTriggerServer[] = [];
  const scheduler = new TimerScheduler(options.clock);
  const httpUrls: Record<string, string> = {};
  let apiUrl = '';

  const logTriggers: LogTriggerRunner[] = [];
  const stop = async (): Promise<void> => {
    scheduler.stop();
    for (const runner of logTriggers) runner.stop();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(builders.map((b) => b.stop()));
    await Promise.all([...runtimes.values()].map((r) => r.stop()));
    rmSync(buildDir, { recursive: true, force: true });
    // Leave no empty directories behind (other hosts' builds or env.json keep them).
    for (const dir of [buildRoot, join(spec.projectDir, '.localcloud')]) {
      try {
        rmdirSync(dir);
      } catch {
        break;
      }
    }
  };

  try {
    const bootstrapPath = await buildBootstrap(buildDir);
    for (const fn of spec.functions) {
      const fnLog = (line: string) => {
        for (const part of line.split('\n')) log(`[${fn.name}] ${part}`);
      };
      runtimes.set(
        fn.name,
        new FunctionRuntime({
          fn,
          cloud,
          auth,
          credentials,
          bootstrapPath,
          maxInstances: options.maxInstancesPerFunction ?? 4,
          now: options.now ?? Date.now,
          environment: options.environment ?? {},
          log: fnLog,
        }),
      );
    }

    const initialBuilds = await Promise.all(
      spec.functions.map(async (fn) => {
        const runtime = runtimes.get(fn.name);
        const builder = new FunctionBuilder(fn, buildDir, (state) => runtime?.setBuild(state));
        builders.push(builder);
        return { fn, state: await builder.start(options.watch === true) };
      }),
    );
    if (!options.watch) {
      const failed = initialBuilds.filter((b) => !b.state.ok);
      if (failed.length > 0) {
        throw new Error(
          failed
            .map((b) => `${b.fn.name} does not build:\n${b.state.ok ? '' : b.state.error}`)
            .join('\n'),
        );
      }
    }

    const apiFunction =
      options.apiFunction ??
      spec.functions.find((fn) => fn.triggers.some((t) => t.type === 'http'))?.name;
    for (const fn of spec.functions) {
      const trigger = fn.triggers.find((t): t is HttpTriggerSpec => t.type === 'http');
      const runtime = runtimes.get(fn.name);
      if (!trigger || !runtime) continue;
      const port = fn.name === apiFunction ? (options.port ?? 0) : 0;
      let server: HttpTriggerServer;
      try {
        server = await startHttpTrigger({
          runtime,
          trigger,
          accountId: cloud.managementAccountId,
          port,
          log: hostLog,
        });
      } catch (error) {
        throw new Error(
          `cannot serve the HTTP trigger of ${fn.name} on 127.0.0.1:${port}: ${(error as Error).message}`,
        );
      }
      servers.push(server);
      httpUrls[fn.name] = server.url;
      if (fn.name === apiFunction) apiUrl = server.url;
    }
  } catch (error) {
    await stop();
    throw error;
  }

  // Functions are addressed by FC function name; the s.yaml resource key works too.
  const canonicalName = (name: string): string =>
    spec.functions.find((f) => f.name === name || f.resourceName === name)?.name ?? name;
  const runtimeFor = (functionName: string): FunctionRuntime => {
    const runtime = runtimes.get(canonicalName(functionName));
    if (!runtime) {
      throw new Error(
        `no function named ${functionName} in ${spec.path} (functions: ${[...runtimes.keys()].join(', ')})`,
      );
    }
    return runtime;
  };
  const specFor = (functionName: string): FunctionSpec => {
    const fn = spec.functions.find((f) => f.name === canonicalName(functionName));
    if (!fn) runtimeFor(functionName);
    return fn as FunctionSpec;
  };

  const invokeValue = async (functionName: string, payload: Buffer): Promise<unknown> => {
    const result: InvocationResult = await runtimeFor(functionName).invoke(payload);
    return result.value;
  };

  const timerEvent = (trigger: TimerTriggerSpec, time: Date): Buffer =>
    encodePayload({
      triggerTime: fcTimestamp(time),
      triggerName: trigger.name,
      payload: trigger.payload,
    });

  const findTimer = (functionName: string, triggerName?: string): TimerTriggerSpec => {
    const trigger = specFor(functionName).triggers.find(
      (t): t is TimerTriggerSpec => t.type === 'timer' && (!triggerName || t.name === triggerName),
    );
    if (!trigger) throw new TriggerNotFoundError(functionName, 'timer', triggerName);
    return trigger;
  };

  if (options.schedule !== false) {
    for (const fn of spec.functions) {
      for (const trigger of fn.triggers) {
        if (trigger.type !== 'timer') continue;
        if (!trigger.enable) {
          hostLog(`${fn.name}: timer ${trigger.name} is disabled (enable: false); not scheduled`);
          continue;
        }
        scheduler.add(`${fn.name}/${trigger.name}`, parseFcCron(trigger.cronExpression), (time) => {
          invokeValue(fn.name, timerEvent(trigger, time)).then(
            () => hostLog(`${fn.name}: timer ${trigger.name} fired for ${fcTimestamp(time)}`),
            (error: unknown) =>
              hostLog(
                `${fn.name}: timer ${trigger.name} (${fcTimestamp(time)}) failed: ${error instanceof FunctionInvocationError ? error.message : String(error)}`,
              ),
          );
        });
      }
    }
  } else {
    // Still validate every cron expression, so a bad one fails at start as deployment would.
    for (const fn of spec.functions) {
      for (const t of fn.triggers) if (t.type === 'timer') parseFcCron(t.cronExpression);
    }
  }

  for (const fn of spec.functions) {
    for (const trigger of fn.triggers) {
      if (trigger.type !== 'log') continue;
      if (!options.logs) {
        hostLog(`${fn.name}: log trigger ${trigger.name} has no SLS to read in this host; not run`);
        continue;
      }
      const runner = new LogTriggerRunner(
        fn.name,
        trigger,
        options.logs,
        (event) => invokeValue(fn.name, encodePayload(event)),
        options.clock ?? systemSchedulerClock,
        hostLog,
        cloud.region,
      );
      logTriggers.push(runner);
      if (!trigger.enable) {
        hostLog(
          `${fn.name}: log trigger ${trigger.name} is disabled (enable: false); not scheduled`,
        );
      }
      runner.start(options.schedule !== false && trigger.enable);
    }
  }

  return {
    apiUrl,
    httpUrls,
    tokens: issuer.tokens,
    auth: { issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks },
    functions: spec.functions,
    invoke: (functionName, eventPayload) => invokeValue(functionName, encodePayload(eventPayload)),
    fireTimer: async (functionName, triggerName) => {
      const trigger = findTimer(functionName, triggerName);
      if (!trigger.enable) {
        throw new Error(
          `timer ${trigger.name} of ${functionName} is disabled (enable: false); use invoke() to run the function anyway`,
        );
      }
      return invokeValue(functionName, timerEvent(trigger, new Date()));
    },
    deliverEvent: async (functionName, cloudEventOrArray, triggerName) => {
      const trigger = specFor(functionName).triggers.find(
        (t): t is EventBridgeTriggerSpec =>
          t.type === 'eventbridge' && (!triggerName || t.name === triggerName),
      );
      if (!trigger) throw new TriggerNotFoundError(functionName, 'eventbridge', triggerName);
      if (!trigger.enable) {
        throw new EventNotDeliveredError(functionName, trigger, 'the trigger is disabled');
      }
      const matches = (event: unknown) => matchesEventPattern(trigger.filterPattern, event);
      let payload: unknown;
      if (Array.isArray(cloudEventOrArray)) {
        payload = cloudEventOrArray.filter(matches);
        if ((payload as unknown[]).length === 0) {
          throw new EventNotDeliveredError(
            functionName,
            trigger,
            'no event matches the eventRuleFilterPattern',
          );
        }
      } else {
        if (!matches(cloudEventOrArray)) {
          throw new EventNotDeliveredError(
            functionName,
            trigger,
            'the event does not match the eventRuleFilterPattern',
          );
        }
        payload = cloudEventOrArray;
      }
      return invokeValue(functionName, encodePayload(payload));
    },
    publishEvent: async (cloudEvent) => {
      if (typeof cloudEvent !== 'object' || cloudEvent === null || Array.isArray(cloudEvent)) {
        throw new TypeError('publishEvent takes one CloudEvent object');
      }
      const targets = spec.functions.flatMap((fn) =>
        fn.triggers
          .filter(
            (t): t is EventBridgeTriggerSpec =>
              t.type === 'eventbridge' &&
              t.enable &&
              matchesEventPattern(t.filterPattern, cloudEvent),
          )
          .map(() => fn.name),
      );
      const payload = encodePayload(cloudEvent);
      const outcomes = await Promise.allSettled(
        targets.map((functionName) => invokeValue(functionName, payload)),
      );
      const delivered: string[] = [];
      const failures: Array<{ functionName: string; error: unknown }> = [];
      outcomes.forEach((outcome, index) => {
        const functionName = targets[index] as string;
        if (outcome.status === 'rejected') failures.push({ functionName, error: outcome.reason });
        else if (!delivered.includes(functionName)) delivered.push(functionName);
      });
      if (failures.length > 0) throw new EventPublishError(delivered, failures);
      return { delivered };
    },
    runLogTrigger: async (functionName, triggerName) => {
      const name = canonicalName(functionName);
      specFor(functionName);
      const runner = logTriggers.find(
        (r) =>
          r.functionName === name && (triggerName === undefined || r.spec.name === triggerName),
      );
      if (!runner) throw new TriggerNotFoundError(functionName, 'log', triggerName);
      return runner.run();
    },
    nextTimerFires: () => scheduler.nextFireTimes(),
    stop,
  };
}
