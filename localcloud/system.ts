// The whole system on one machine: the local cloud plus the function host running the repo's
// s.yaml against it. Writes `.localcloud/env.json` with the API's URL and tokens filled in, so
// any client (curl, a test, another tool) finds everything in one file.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalCloudEnv } from './core/contracts';
import { NonceRegistry } from './core/pop';
import { runDeployActions } from './host/deploy-actions';
import { checkFunctionEnvironment } from './host/environment-rules';
import { type FunctionHost, type FunctionHostOptions, startFunctionHost } from './host/index';
import { loadServerlessSpec } from './host/s-yaml';
import { type LocalCloud, startLocalCloud } from './index';
import { type AsyncInvocations, createFcService, type FcService } from './services/fc';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_S_YAML = join(REPO_ROOT, 's.yaml');
export const DEFAULT_ENV_FILE = join(REPO_ROOT, '.localcloud', 'env.json');

type LocalCloudOptions = NonNullable<Parameters<typeof startLocalCloud>[0]>;

export interface LocalSystemOptions {
  /** Organization fixture (object or YAML path); the local cloud's default when absent. */
  organization?: LocalCloudOptions['organization'];
  /** Durable data directory; absent = in memory. */
  dataDir?: string;
  /** Port of the local cloud (0/absent = ephemeral). */
  port?: number;
  /** Port of the API's HTTP trigger (0/absent = ephemeral). */
  apiPort?: number;
  /** s.yaml to run (default: the repo's). */
  sYamlPath?: string;
  /** Where env.json goes (default .localcloud/env.json); false writes none. */
  envFile?: string | false;
  /** Rebuild functions when their sources change (npm start). Default false. */
  watch?: boolean;
  /** Run s.yaml's post-deploy `run` actions (e.g. table setup) before the functions serve, as
   *  `s deploy` does after a deployment (npm start). Default false. */
  deployActions?: boolean;
  /** Where deploy actions' output goes (default stdout). */
  log?: (line: string) => void;
  /** Passed through to the function host. */
  host?: Omit<FunctionHostOptions, 'sYamlPath' | 'cloud' | 'port' | 'watch' | 'now'>;
  /** Publish the ActionTrail events of the local cloud's directory changes to the function host
   *  as EventBridge would (each reaches the functions whose EventBridge trigger matches it, in
   *  order; a failed delivery is logged as one line). Default true; tests that deliver events
   *  themselves pass false. */
  forwardDirectoryEvents?: boolean;
  /** 'live': the members' products write logs every second (npm start); absent: only when
   *  ticked (`cloud.sls.products.tick()`), so tests control time. */
  productLogs?: 'live';
}

export interface LocalSystem {
  cloud: LocalCloud;
  host: FunctionHost;
  /** The local cloud's env with `api` filled in (what env.json holds). */
  readonly env: LocalCloudEnv;
  envFile: string | undefined;
  /** FC async invocations (InvokeFunction with x-fc-invocation-type: Async) queued for the host:
   *  `drain()` waits until every one (and any they queue in turn) has run. */
  asyncInvocations: AsyncInvocations;
  /** Cancels async invocations still waiting, stops the host (which ends running ones) and the
   *  local cloud. */
  stop(): Promise<void>;
}

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const envFile = options.envFile === false ? undefined : (options.envFile ?? DEFAULT_ENV_FILE);
  const cloud = await startLocalCloud({
    port: options.port ?? 0,
    ...(options.organization !== undefined ? { organization: options.organization } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(envFile !== undefined ? { envFile } : {}),
    ...(options.productLogs ? { productLogs: options.productLogs } : {}),
  });
  const sYamlPath = options.sYamlPath ?? DEFAULT_S_YAML;
  let host: FunctionHost;
  try {
    if (options.deployActions) {
      const spec = loadServerlessSpec(sYamlPath, {
        config: { AccountID: cloud.env.managementAccountId },
      });
      // `s deploy` would stop before its post-deploy actions on an environment FC refuses.
      for (const fn of spec.functions) checkFunctionEnvironment(fn.name, fn.environmentVariables);
      await runDeployActions(spec.deployActions, 'post-deploy', cloud.env, {
        ...(options.log ? { log: options.log } : {}),
      });
    }
    host = await startFunctionHost({
      ...options.host,
      sYamlPath,
      cloud: cloud.env,
      logs: cloud.sls.triggerSource,
      port: options.apiPort ?? 0,
      watch: options.watch ?? false,
      // STS tokens expire against the local cloud's clock, which tests may move forward.
      now: () => cloud.clock.now(),
    });
  } catch (error) {
    await cloud.stop();
    throw error;
  }
  const log = options.host?.log ?? options.log ?? defaultLog;
  // FC InvokeFunction is served by the host: functions fan out to each other through it.
  const fc = createFc(cloud, host, options.host?.maxInstancesPerFunction ?? 4, log);
  cloud.addService(fc);
  const stopForwarding =
    options.forwardDirectoryEvents === false
      ? async () => {}
      : forwardEvents(cloud, host, options.host?.log ?? options.log ?? defaultLog);
  const api = { url: host.apiUrl, token: host.tokens.operator, viewerToken: host.tokens.viewer };
  // The local cloud writes env.json (and serves it at /__localcloud/env) with the API filled in.
  cloud.publishApi(api);
  return {
    cloud,
    host,
    get env() {
      return cloud.env;
    },
    envFile,
    asyncInvocations: fc.asyncInvocations,
    stop: async () => {
      await stopForwarding();
      // No new async invocation is accepted and the waiting ones are cancelled; the running ones
      // end when the host stops their instances.
      const asyncSettled = fc.asyncInvocations.close();
      await host.stop();
      await asyncSettled;
      await cloud.stop();
    },
  };
}

/** The FC service of the local cloud, dispatching to the host's functions by FC function name. */
function createFc(
  cloud: LocalCloud,
  host: FunctionHost,
  concurrencyPerFunction: number,
  log: (line: string) => void,
): FcService {
  return createFcService({
    dispatcher: {
      invoke: (functionName, payload) => host.invoke(functionName, payload),
      has: (functionName) => host.functions.some((fn) => fn.name === functionName),
    },
    accountId: cloud.env.managementAccountId,
    region: cloud.env.region,
    nonces: new NonceRegistry(),
    wallNow: () => cloud.clock.wallNow(),
    asyncConcurrencyPerFunction: concurrencyPerFunction,
    log,
  });
}

function defaultLog(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Subscribes the host to the cloud's ActionTrail events; returns a stop that unsubscribes and
 *  waits for deliveries under way. Deliveries run one after another, in the order of the events. */
function forwardEvents(
  cloud: LocalCloud,
  host: FunctionHost,
  log: (line: string) => void,
): () => Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  const unsubscribe = cloud.onEvent((event) => {
    const name = `${event.data.eventName} ${event.id}`;
    queue = queue
      .then(() =>
        host.publishEvent(event).then(
          ({ delivered }) => {
            if (delivered.length > 0) log(`[eventbridge] ${name} -> ${delivered.join(', ')}`);
          },
          (error: unknown) =>
            log(
              `[eventbridge] ${name} not delivered: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
            ),
        ),
      )
      // Whatever happens (even a failing log), the next event is still delivered.
      .catch(() => undefined);
  });
  return async () => {
    unsubscribe();
    await queue;
  };
}
