// Everything the host does to run one function: picks or starts a warm instance, gives it the
// role's credentials, enforces the timeout, and swaps instances when a new build lands.

import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { LocalCloudEnv } from '../core/contracts';
import type { BuildState } from './bundler';
import {
  AssumeRoleFailedError,
  type FunctionCredentials,
  type RoleCredentialProvider,
} from './credentials';
import { type AuthSettings, functionEnvironment } from './environment';
import { FunctionInstance, FunctionInvocationError } from './instance';
import type { InvocationContextData } from './runtime/protocol';
import type { FunctionSpec } from './s-yaml';

export interface FunctionRuntimeOptions {
  fn: FunctionSpec;
  cloud: LocalCloudEnv;
  auth: AuthSettings;
  credentials: RoleCredentialProvider | undefined;
  bootstrapPath: string;
  /** Local cap on instances per function (FC scales further). */
  maxInstances: number;
  environment: Record<string, string>;
  /** Time role credentials expire against (the local cloud's clock). */
  now: () => number;
  log: (line: string) => void;
}

export interface InvocationResult {
  requestId: string;
  value: unknown;
  /** True when this invocation started a new instance. */
  coldStart: boolean;
  durationMs: number;
}

interface Waiter {
  resolve: () => void;
}

export class FunctionRuntime {
  private build: BuildState = { ok: false, error: 'not built yet', version: 0 };
  private instances: FunctionInstance[] = [];
  private waiters: Waiter[] = [];
  private stopped = false;

  constructor(private readonly options: FunctionRuntimeOptions) {}

  get name(): string {
    return this.options.fn.name;
  }

  /** A new build: running instances finish what they have and are replaced. */
  setBuild(state: BuildState): void {
    const { log } = this.options;
    if (!state.ok) {
      log(
        this.build.ok
          ? `build failed; still serving the previous build:\n${state.error}`
          : `build failed:\n${state.error}`,
      );
      if (!this.build.ok) this.build = state;
      return;
    }
    const reloaded = this.build.ok;
    this.build = state;
    if (reloaded) log('sources changed: rebuilt, new invocations get a fresh instance');
    for (const instance of this.instances) this.retire(instance);
  }

  private retire(instance: FunctionInstance): void {
    instance.retired = true;
    if (instance.inFlight === 0) instance.kill();
  }

  async invoke(event: Buffer, requestId: string = randomUUID()): Promise<InvocationResult> {
    const { fn } = this.options;
    const started = Date.now();
    if (this.stopped) throw this.setupError('HostStopped', 'the function host is stopping');
    const build = this.build;
    if (!build.ok) {
      throw this.setupError('BuildFailed', `the function does not build:\n${build.error}`);
    }
    const credentials = await this.roleCredentials();
    const deadline = started + fn.timeoutSeconds * 1000;
    const { instance, coldStart } = await this.acquire(build.bundlePath, credentials);
    const context: InvocationContextData = {
      requestId,
      credentials: {
        accessKeyId: credentials?.accessKeyId ?? '',
        accessKeySecret: credentials?.accessKeySecret ?? '',
        securityToken: credentials?.securityToken ?? '',
      },
      function: {
        name: fn.name,
        handler: fn.handler,
        memory: fn.memorySize,
        timeout: fn.timeoutSeconds,
      },
      region: this.options.cloud.region,
      accountId: this.options.cloud.managementAccountId,
    };
    try {
      const value = await instance.invoke(event, context, deadline, fn.timeoutSeconds);
      return { requestId, value, coldStart, durationMs: Date.now() - started };
    } catch (error) {
      if (error instanceof FunctionInvocationError && error.kind !== 'unhandled') {
        this.options.log(
          `${error.payload.errorType}: ${error.payload.errorMessage} (request ${requestId})`,
        );
      }
      throw error;
    } finally {
      instance.inFlight--;
      if (instance.retired && instance.inFlight === 0) instance.kill();
      this.wakeOne();
    }
  }

  private setupError(errorType: string, errorMessage: string): FunctionInvocationError {
    return new FunctionInvocationError(this.name, 'setup', {
      errorType,
      errorMessage,
      stackTrace: [],
    });
  }

  private async roleCredentials(): Promise<FunctionCredentials | undefined> {
    const { fn, credentials } = this.options;
    if (!fn.role) return undefined;
    if (!credentials) {
      throw this.setupError('AssumeRoleFailed', 'the host has no STS access to assume roles');
    }
    try {
      return await credentials.forRole(fn.role, fn.name);
    } catch (error) {
      const message = error instanceof AssumeRoleFailedError ? error.message : String(error);
      this.options.log(message);
      throw this.setupError('AssumeRoleFailed', message);
    }
  }

  private usable(instance: FunctionInstance): boolean {
    if (instance.retired || instance.exited) return false;
    const expiresAt = instance.credentialsExpireAt;
    // Role credentials in the environment are fixed at start; an instance whose credentials
    // are about to lapse is replaced rather than handed more work.
    if (expiresAt !== undefined && expiresAt - this.options.now() < 5 * 60_000) {
      this.retire(instance);
      return false;
    }
    return true;
  }

  private async acquire(
    bundlePath: string,
    credentials: FunctionCredentials | undefined,
  ): Promise<{ instance: FunctionInstance; coldStart: boolean }> {
    const { fn, maxInstances } = this.options;
    for (;;) {
      if (this.stopped) throw this.setupError('HostStopped', 'the function host is stopping');
      const live = this.instances.filter((i) => this.usable(i));
      const free = live.find((i) => i.inFlight < fn.instanceConcurrency);
      if (free) {
        free.inFlight++;
        return { instance: free, coldStart: false };
      }
      if (this.instances.filter((i) => !i.exited).length < maxInstances) {
        const instance = this.spawn(bundlePath, credentials);
        instance.inFlight++;
        return { instance, coldStart: true };
      }
      await new Promise<void>((resolve) => this.waiters.push({ resolve }));
    }
  }

  private wakeOne(): void {
    this.waiters.shift()?.resolve();
  }

  private spawn(
    bundlePath: string,
    credentials: FunctionCredentials | undefined,
  ): FunctionInstance {
    const { fn, log } = this.options;
    const instanceId = randomUUID();
    const env = functionEnvironment({
      fn,
      cloud: this.options.cloud,
      auth: this.options.auth,
      credentials,
      instanceId,
      codePath: dirname(bundlePath),
      overrides: this.options.environment,
    });
    const instance = new FunctionInstance({
      functionName: fn.name,
      bootstrapPath: this.options.bootstrapPath,
      modulePath: bundlePath,
      exportName: fn.handlerExport,
      env,
      cwd: dirname(bundlePath),
      memorySize: fn.memorySize,
      onOutput: (line) => log(line),
      onExit: (exited) => {
        this.instances = this.instances.filter((i) => i !== exited);
        this.wakeOne();
      },
    });
    instance.credentialsExpireAt = credentials?.expiresAt;
    this.instances.push(instance);
    instance.ready.then(
      () =>
        log(
          `cold start: instance ${instance.id.slice(0, 8)} loaded in ${Math.round(instance.initMs ?? 0)} ms`,
        ),
      () => undefined,
    );
    return instance;
  }

  /** Number of live instances (for tests and diagnostics). */
  instanceCount(): number {
    return this.instances.filter((i) => !i.exited).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    await Promise.all(this.instances.map((i) => i.stop()));
    this.instances = [];
  }
}
